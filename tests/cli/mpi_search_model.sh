#!/usr/bin/env bash
# bench/distributed/simulate (the work-stealing models of tools/mpi_search.h) on hand-made trees
# whose makespans are worked out by hand (unit costs). The earlier protocol (--protocol broker,
# rank 0 brokers every steal), latency 0: a complete binary tree of 15 domains takes 15 on one
# rank, 8 on two (rank 1 steals one half after the root), 5 on four (the root, one level, a
# 3-domain subtree each), 4 on eight (its depth); a latency of 0.5 per message makes two ranks
# take 8.5. Peer-to-peer stealing (the default): two ranks take 8 with latency 0 (rank 1's only
# victim is rank 0) and 9.5 with latency 0.5 (worked out below); a chain of 10 gains nothing from
# any number of ranks under either protocol, and a latency adds nothing to it; the span printed
# is 4. Ranks sharing cores (--cores, --background busy threads beside them): on one core any
# number of ranks takes the 15 of the work (latency 0: the core is never idle); one rank beside
# one busy thread on one core takes 30; two ranks on two cores beside one busy thread take 11.5
# (worked out below). A tree recorded by `chassis vnnlib --record-tree` replays on one rank in its
# recorded total, and --json's "ranks" gives that run's domains and bounding seconds (the tree's
# count and sum). Bad input: located errors. Needs python3 only.
# Usage: mpi_search_model.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
source "$(dirname "$0")/expect.sh"
sim=$src/bench/distributed/simulate
command -v python3 >/dev/null || { echo "SKIP: python3 not found"; exit 77; }
{
  echo id,parent,rank,seconds,outcome
  for i in $(seq 1 15); do echo "$i,$((i > 1 ? i / 2 : 0)),0,1,$([ $i -lt 8 ] && echo split || echo closed)"; done
} >"$tmp/binary.csv"
{
  echo id,parent,rank,seconds,outcome
  for i in $(seq 1 10); do echo "$i,$((i - 1)),0,1,split"; done
} >"$tmp/chain.csv"
row() { grep "^$2," <<<"$1" | cut -d, -f2; }
out=$(python3 "$sim" "$tmp/binary.csv" --protocol broker --latency 0 --ranks 1,2,4,8 --quiet) || fail "simulate binary: $out"
for want in 1:15.000000 2:8.000000 4:5.000000 8:4.000000; do
  [ "$(row "$out" "${want%%:*}")" = "${want#*:}" ] || fail "binary tree on ${want%%:*} ranks: $(row "$out" "${want%%:*}"), want ${want#*:}"
done
grep -q '^2,8.000000,1.875,0.938,1$' <<<"$out" || fail "binary tree, 2 ranks: speed-up row $(grep '^2,' <<<"$out")"
for protocol in broker peer; do
  out=$(python3 "$sim" "$tmp/chain.csv" --protocol $protocol --latency 0.5 --ranks 1,4,1024 --quiet) || fail "simulate chain: $out"
  for n in 1 4 1024; do [ "$(row "$out" $n)" = 10.000000 ] || fail "$protocol: chain on $n ranks: $(row "$out" $n)"; done
done
# Latency 0.5: rank 1's idle message reaches rank 0 at 0.5, the root ends at 1 and rank 0 sends
# one half, which arrives at 1.5: rank 1 ends at 8.5.
out=$(python3 "$sim" "$tmp/binary.csv" --protocol broker --latency 0.5 --ranks 2 --quiet)
[ "$(row "$out" 2)" = 8.500000 ] || fail "broker: binary tree, 2 ranks, latency 0.5: $(row "$out" 2), want 8.5"
# Peer to peer, latency 0: rank 1 asks rank 0 at 0 and is refused (the root is being bounded);
# the root ends at 1 and rank 1's next request takes the bottom half of [2, 3]: 7 domains each.
out=$(python3 "$sim" "$tmp/binary.csv" --latency 0 --ranks 1,2 --quiet)
[ "$(row "$out" 1)" = 15.000000 ] || fail "peer: binary tree, 1 rank: $(row "$out" 1), want 15"
grep -q '^2,8.000000,1.875,0.938,1$' <<<"$out" || fail "peer: binary tree, 2 ranks: $(grep '^2,' <<<"$out")"
# Latency 0.5: rank 1's request reaches rank 0 at 0.5 (refused, the refusal is back at 1), the
# second reaches it at 1.5 (domain 2 is pending since 1), domain 2 arrives at 2, rank 1 ends its
# 7 domains at 9 and its idle report reaches rank 0 at 9.5 (rank 0 ended domain 3's at 8).
out=$(python3 "$sim" "$tmp/binary.csv" --latency 0.5 --ranks 2 --quiet)
[ "$(row "$out" 2)" = 9.500000 ] || fail "peer: binary tree, 2 ranks, latency 0.5: $(row "$out" 2), want 9.5"
# Shared cores, latency 0. One core: whatever the ranks, the core bounds all 15 domains without
# a pause. One busy thread beside one rank on one core halves its speed: 30.
out=$(python3 "$sim" "$tmp/binary.csv" --latency 0 --cores 1 --ranks 1,2,4 --quiet) || fail "simulate --cores 1: $out"
for n in 1 2 4; do [ "$(row "$out" $n)" = 15.000000 ] || fail "binary tree, $n ranks on 1 core: $(row "$out" $n), want 15"; done
out=$(python3 "$sim" "$tmp/binary.csv" --latency 0 --cores 1 --background 1 --ranks 1 --quiet)
[ "$(row "$out" 1)" = 30.000000 ] || fail "binary tree, 1 rank and 1 busy thread on 1 core: $(row "$out" 1), want 30"
# Two ranks, two cores, one busy thread beside: the root alone (2 threads on 2 cores: full speed)
# ends at 1; rank 1 (refused at 0) takes domain 2 at 1, and the two 7-domain subtrees run side by
# side at 2/3 speed (3 threads on 2 cores): 1 + 7 / (2/3) = 11.5.
out=$(python3 "$sim" "$tmp/binary.csv" --latency 0 --cores 2 --background 1 --ranks 2 --quiet)
[ "$(row "$out" 2)" = 11.500000 ] || fail "binary tree, 2 ranks, 2 cores, 1 busy thread: $(row "$out" 2), want 11.5"
# A core per rank (--cores at least the ranks) is the model without --cores.
a=$(python3 "$sim" "$tmp/binary.csv" --latency 0.5 --ranks 2,4 --quiet)
b=$(python3 "$sim" "$tmp/binary.csv" --latency 0.5 --cores 4 --ranks 2,4 --quiet)
[ "$a" = "$b" ] || fail "--cores 4 on up to 4 ranks differs from a core each: $b vs $a"
# The span (costliest root-to-leaf path) bounds every speed-up: 4 of 15 on the binary tree.
out=$(python3 "$sim" "$tmp/binary.csv" --ranks 1)
grep -q '^# span (the costliest root-to-leaf path) 4.000 s: no number of ranks beats a speed-up of 3.8$' <<<"$out" ||
  fail "binary tree span: $out"
# Bad input.
printf 'id,parent,rank,seconds,outcome\n1,0,0,x,closed\n' >"$tmp/bad.csv"
python3 "$sim" "$tmp/bad.csv" >"$tmp/o" 2>"$tmp/e" && fail "bad seconds accepted"
grep -q "bad.csv:2:1: error" "$tmp/e" || fail "bad seconds: $(cat "$tmp/e")"
printf 'a,b\n' >"$tmp/bad2.csv"
python3 "$sim" "$tmp/bad2.csv" >"$tmp/o" 2>"$tmp/e" && fail "bad header accepted"
grep -q "bad2.csv:1:1: error: expected the header" "$tmp/e" || fail "bad header: $(cat "$tmp/e")"
python3 "$sim" "$tmp/binary.csv" --latency -1 >"$tmp/o" 2>"$tmp/e" && fail "negative latency accepted"
python3 "$sim" "$tmp/binary.csv" --cores 0 >"$tmp/o" 2>"$tmp/e" && fail "--cores 0 accepted"
grep -q "error: --cores takes an integer >= 1" "$tmp/e" || fail "--cores 0: $(cat "$tmp/e")"
python3 "$sim" "$tmp/binary.csv" --protocol broker --cores 2 >"$tmp/o" 2>"$tmp/e" && fail "--cores with broker accepted"
python3 "$sim" "$tmp/binary.csv" --protocol central >"$tmp/o" 2>"$tmp/e" && fail "unknown protocol accepted"
grep -q "error: --protocol takes peer or broker" "$tmp/e" || fail "unknown protocol: $(cat "$tmp/e")"
# The tree chassis records is what simulate reads: one process, then its replay on one rank
# gives back the recorded total.
"$chassis" vnnlib "$src/tests/data/acasxu/ACASXU_run2a_1_1_batch_2000.onnx" "$src/tests/data/vnnlib/prop_1.vnnlib" \
  --threads 1 --record-tree "$tmp/tree.csv" --json >"$tmp/o" 2>"$tmp/e" || fail "--record-tree: exit $? $(cat "$tmp/e")"
total=$(python3 -c "import csv,sys; print('%.6f' % sum(float(r['seconds']) for r in csv.DictReader(open(sys.argv[1]))))" "$tmp/tree.csv")
out=$(python3 "$sim" "$tmp/tree.csv" --ranks 1 --quiet) || fail "simulate recorded tree: $out"
[ "$(row "$out" 1)" = "$total" ] || fail "recorded tree on one rank: $(row "$out" 1), recorded total $total"
python3 - "$tmp/o" "$tmp/tree.csv" <<'PY' || fail "--json ranks of a recorded run: the checks above"
import csv, json, sys
r = json.load(open(sys.argv[1]))["results"][0]
rows = list(csv.DictReader(open(sys.argv[2])))
k = r["ranks"]
bad = []
if len(k) != 1 or k[0]["domains"] != len(rows) or r["domains"] != len(rows):
    bad.append(f"domains: ranks {k}, run {r['domains']}, tree {len(rows)}")
elif abs(k[0]["time"]["busy_seconds"] - sum(float(x["seconds"]) for x in rows)) > 1e-6 * (1 + len(rows)):
    bad.append(f"busy seconds {k[0]['time']['busy_seconds']} vs the tree's sum")
for b in bad: print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
expect 2 "--record-tree records the branch and bound" -- vnnlib "$src/tests/data/acasxu/ACASXU_run2a_1_1_batch_2000.onnx" \
  "$src/tests/data/vnnlib/prop_1.vnnlib" --naive --record-tree "$tmp/t.csv"

if ((failures)); then echo "$failures failure(s)"; exit 1; fi
echo "mpi_search_model: all checks passed"

#!/usr/bin/env bash
# A `sat` found first on a rank other than 0 stops the others (tools/mpi_search.h). The test-only
# option `vnnlib --roots-on-rank 1` puts the root domains on rank 1 (no attacks) and leaves rank 0
# bounding nothing, so by construction no counterexample can come from rank 0. The property has two
# input boxes on ACAS Xu 1_1: prop_3's (holds; tens of thousands of domains as one process) and a
# tiny box where every point violates. Under `mpirun --oversubscribe -np 2` and `-np 3`: the
# verdict is sat (exit 1) with a replayed counterexample, named as found by a rank >= 1; rank 0
# bounded no domain; every rank reported (--json "ranks": none lost, the finder "sat", the others
# "stopped" or "idle", never "incomplete"), their domain counts add up to the total, and each
# other rank bounded fewer domains than the holding box alone takes as one process (the end
# reached them before they finished it). Bad uses of the option are refused.
# Skipped (exit 77) when mpirun is absent or chassis has no MPI built in.
# Usage: mpi_search_late_sat.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
source "$(dirname "$0")/expect.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if ! command -v mpirun >/dev/null; then echo "SKIP: mpirun not found (Debian: openmpi-bin)"; exit 77; fi
if ! "$chassis" --version | grep -q '(MPI:'; then echo "SKIP: chassis built without MPI"; exit 77; fi
mpi=(timeout 200 mpirun --oversubscribe)
net=$src/tests/data/acasxu/ACASXU_run2a_1_1_batch_2000.onnx

python3 - "$tmp" <<'PY'
import sys
out = sys.argv[1]
decl = [f"(declare-const X_{i} Real)" for i in range(5)] + [f"(declare-const Y_{i} Real)" for i in range(5)]
held = [(-0.303531156, -0.298552812), (-0.009549297, 0.009549297), (0.493380324, 0.5), (0.3, 0.5), (0.3, 0.5)]
tiny = [(0.1, 0.1001)] + [(0.0, 0.0001)] * 4
def box(b): return " ".join(f"(>= X_{i} {lo}) (<= X_{i} {hi})" for i, (lo, hi) in enumerate(b))
holds = "(and " + box(held) + " (<= Y_0 Y_1) (<= Y_0 Y_2) (<= Y_0 Y_3) (<= Y_0 Y_4))"
with open(f"{out}/both.vnnlib", "w") as f:
    f.write("\n".join(decl) + f"\n(assert (or\n  {holds}\n  (and {box(tiny)} (<= Y_0 1000000))))\n")
with open(f"{out}/held.vnnlib", "w") as f:
    f.write("\n".join(decl) + f"\n(assert (or\n  {holds}))\n")
PY

# The holding box alone, as one process: its domain count.
"$chassis" vnnlib "$net" "$tmp/held.vnnlib" --threads 1 --timeout 120 --json >"$tmp/held.json" 2>"$tmp/held.err"
held=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print(r['domains'] if r['verdict']=='unsat' else -1)" "$tmp/held.json")
[ "${held:--1}" -gt 100 ] || fail "the holding box as one process: $(head -c 300 "$tmp/held.json") $(cat "$tmp/held.err")"

for np in 2 3; do
  "${mpi[@]}" -np $np "$chassis" vnnlib "$net" "$tmp/both.vnnlib" --threads 1 --timeout 120 \
    --roots-on-rank 1 --json >"$tmp/out.json" 2>"$tmp/err"
  rc=$?
  [ "$rc" = 1 ] || fail "-np $np: exit $rc, expected 1 (sat); $(head -c 300 "$tmp/out.json") $(head -5 "$tmp/err")"
  python3 - "$tmp/out.json" "$np" "$held" <<'PY' || fail "-np $np: see above"
import json, re, sys
path, np, held = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = json.load(open(path))["results"][0]
ranks = r.get("ranks", [])
print(f"-np {np}: {r['verdict']} ({r.get('reason')}), {r['domains']} domains; ranks: " +
      ", ".join(f"{k['rank']}: {k['domains']} {k['ended']}" for k in ranks))
assert r["verdict"] == "sat", r["verdict"]
assert "counterexample" in r and len(r["counterexample"]["x"]) == 5, "no counterexample"
m = re.match(r"rank (\d+):", r.get("reason", ""))
assert m and int(m.group(1)) >= 1, f"not found by a rank >= 1: {r.get('reason')}"
finder = int(m.group(1))
assert [k["rank"] for k in ranks] == list(range(np)), f"ranks reported: {ranks}"
assert ranks[0]["domains"] == 0, f"rank 0 bounded {ranks[0]['domains']} domains"
assert sum(k["domains"] for k in ranks) == r["domains"], "rank domain counts do not add up"
assert ranks[finder]["ended"] == "sat", ranks[finder]
for k in ranks[1:]:
    if k["rank"] == finder: continue
    assert k["ended"] in ("stopped", "idle"), f"rank {k['rank']} ended {k['ended']}"
    assert k["domains"] < held, f"rank {k['rank']} bounded {k['domains']} >= {held}: not stopped"
PY
done

# The option is for mpirun runs, within the world.
expect 2 "--roots-on-rank 1: there are only 1 rank" -- vnnlib "$net" "$tmp/both.vnnlib" --roots-on-rank 1
"${mpi[@]}" -np 2 "$chassis" vnnlib "$net" "$tmp/both.vnnlib" --roots-on-rank 5 >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 2 ] && grep -q -- "--roots-on-rank 5: there are only 2 rank" "$tmp/err" ||
  fail "-np 2 --roots-on-rank 5: exit $rc; $(head -3 "$tmp/err")"

if ((failures)); then echo "$failures failure(s)"; exit 1; fi
echo "mpi_search_late_sat: all checks passed"

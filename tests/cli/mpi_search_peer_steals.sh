#!/usr/bin/env bash
# Peer-to-peer work stealing in one instance's shared search (tools/mpi_search.h): under
# `mpirun --oversubscribe -np 3` (one worker thread per rank) on ACAS Xu 1_1 with prop_6 (it holds;
# thousands of domains as one process), the verdict is the one-process one (unsat) and --json's
# "ranks" shows the workers stealing from each other: domains received by a worker from the other
# worker (received_from_workers) > 0 summed over the two workers; every domain moved is accounted
# for (the domains received by all ranks equal those given, as a `holds` run must end with none
# in flight); the successful steals are at most the domains received; the per-rank domain counts
# add up to the run's total; no rank ended lost or incomplete; each rank's timing (--json "time",
# "cpu") is in order and its bounding seconds fit in its search window; on up to 3 cores rank 0's
# attack beside the search is throttled to 10% of a thread (no core is left for it). Repeated on a second instance whose
# tree is small (4_6 prop_1) for the accounting only (it may see no worker-to-worker steal).
# Skipped (exit 77) when mpirun is absent or chassis has no MPI built in.
# Usage: mpi_search_peer_steals.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
source "$(dirname "$0")/expect.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if ! command -v mpirun >/dev/null; then echo "SKIP: mpirun not found (Debian: openmpi-bin)"; exit 77; fi
if ! "$chassis" --version | grep -q '(MPI:'; then echo "SKIP: chassis built without MPI"; exit 77; fi
A=$src/tests/data/acasxu
P=$src/tests/data/vnnlib

check() { # NET PROP NEED_WORKER_STEALS
  local net=$A/ACASXU_run2a_$1_batch_2000.onnx prop=$P/$2.vnnlib
  "$chassis" vnnlib "$net" "$prop" --threads 1 --timeout 120 --json >"$tmp/one.json" 2>"$tmp/one.err" ||
    { fail "$1 $2 one process: exit $? $(cat "$tmp/one.err")"; return; }
  timeout 300 mpirun --oversubscribe -np 3 "$chassis" vnnlib "$net" "$prop" --threads 1 --timeout 120 --json \
    >"$tmp/many.json" 2>"$tmp/many.err" || { fail "$1 $2 -np 3: exit $? $(head -5 "$tmp/many.err")"; return; }
  python3 - "$tmp/one.json" "$tmp/many.json" "$3" <<'PY' || fail "$1 $2 -np 3: the checks above"
import json, os, sys
one = json.load(open(sys.argv[1]))["results"][0]
many = json.load(open(sys.argv[2]))["results"][0]
need = sys.argv[3] == "1"
bad = []
if one["verdict"] != "unsat": bad.append(f"one process: {one['verdict']}")
if many["verdict"] != one["verdict"]: bad.append(f"verdict {many['verdict']} vs one process {one['verdict']}")
ranks = many.get("ranks", [])
if [r["rank"] for r in ranks] != [0, 1, 2]: bad.append(f"ranks {ranks}")
else:
    if sum(r["domains"] for r in ranks) != many["domains"]: bad.append("rank domains do not add up")
    if sum(r["received"] for r in ranks) != sum(r["given"] for r in ranks):
        bad.append("domains received != domains given: " + str(ranks))
    if any(r["steals"] > r["received"] or r["received_from_workers"] > r["received"] for r in ranks):
        bad.append("steals or worker-to-worker counts exceed the domains received: " + str(ranks))
    if any(r["ended"] not in ("owner", "idle") for r in ranks): bad.append("ended: " + str(ranks))
    # Where each rank's time went: instants in order, busy seconds within the search window
    # (one worker thread), CPU clocks in order, the worker threads' CPU within the process's.
    for r in ranks:
        t, c = r["time"], r["cpu"]
        if not (t["ready"] <= t["search_start"] <= t["search_end"]) or (0 < t["started"] and not t["started"] <= t["ready"] + 0.02):
            bad.append(f"rank {r['rank']}: instants out of order: {t}")
        if r["domains"] > 0 and not (0 < t["busy_seconds"] <= t["search_end"] - t["search_start"] + 0.01):
            bad.append(f"rank {r['rank']}: busy {t['busy_seconds']} s outside its search window: {t}")
        if not (0 <= c["ready"] <= c["search_start"] <= c["search_end"]) or not (0 <= c["workers"] <= c["search_end"]):
            bad.append(f"rank {r['rank']}: CPU clocks out of order: {c}")
        if ("attack_duty" in r) != (r["rank"] == 0): bad.append(f"attack_duty on rank {r['rank']}")
    # 3 ranks of one worker thread on at most 3 cores leave no core for rank 0's attack beside
    # the search: it runs at 10% of a thread (tools/mpi_search.h).
    if os.cpu_count() <= 3 and ranks[0].get("attack_duty") != 0.1:
        bad.append(f"attack duty {ranks[0].get('attack_duty')} on {os.cpu_count()} cores, want 0.1")
    w2w = sum(r["received_from_workers"] for r in ranks[1:])
    if need and w2w == 0: bad.append("no domain moved between the workers: " + str(ranks))
    print(f"{many['domains']} domains; worker-to-worker domains {w2w}; ranks {ranks}")
for b in bad: print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
}
check 1_1 prop_6 1
check 4_6 prop_1 0

if ((failures)); then echo "$failures failure(s)"; exit 1; fi
echo "mpi_search_peer_steals: all checks passed"

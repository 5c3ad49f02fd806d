#!/usr/bin/env bash
# The shared search (tools/mpi_search.h) when a rank dies: rank 1 killed (SIGKILL) two seconds into
# a hard instance that holds (ACAS Xu 3_3 prop_2) under `mpirun -np 3`; rank 0 notices the silence
# (5 s without a heartbeat) and ends the run with `unknown` (never `unsat`: the dead rank's domains
# are not closed), a message naming rank 1, in --out too. Open MPI's mpirun ends the whole job when a
# rank dies unless told otherwise (--mca orte_abort_on_non_zero_status 0, as here). Skipped (exit
# 77) when mpirun is absent or chassis has no MPI built in.
# Usage: mpi_search_faults.sh CHASSIS SOURCE_DIR
set -u
chassis=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$2
source "$(dirname "$0")/expect.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if ! command -v mpirun >/dev/null; then echo "SKIP: mpirun not found (Debian: openmpi-bin)"; exit 77; fi
if ! "$chassis" --version | grep -q '(MPI:'; then echo "SKIP: chassis built without MPI"; exit 77; fi
net=$src/tests/data/acasxu/ACASXU_run2a_3_3_batch_2000.onnx
prop=$src/tests/data/vnnlib/prop_2.vnnlib

timeout 90 mpirun --oversubscribe --mca orte_abort_on_non_zero_status 0 -np 3 \
  "$chassis" vnnlib "$net" "$prop" --threads 1 --timeout 60 --out "$tmp/result.txt" >"$tmp/out" 2>"$tmp/err" &
job=$!
# Rank 1's process: the chassis whose environment says OMPI_COMM_WORLD_RANK=1.
victim=""
for _ in $(seq 100); do
  for p in $(pgrep -f "vnnlib $net" || true); do
    [ "$(basename "$(readlink "/proc/$p/exe" 2>/dev/null)")" = chassis ] || continue
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && victim=$p
  done
  [ -n "$victim" ] && break
  sleep 0.1
done
if [ -z "$victim" ]; then
  fail "rank 1's process not found"
else
  sleep 2
  kill -9 "$victim"
fi
wait $job
rc=$?
[ "$(head -1 "$tmp/out")" = unknown ] || fail "killed rank: verdict $(head -1 "$tmp/out") (exit $rc), expected unknown"
grep -q 'rank 1 stopped answering' "$tmp/out" || fail "killed rank: no message naming rank 1: $(cat "$tmp/out")"
# mpirun's exit status is the killed rank's (137) or rank 0's (3): never 0 (holds) or 1 (violated).
[ "$rc" = 3 ] || [ "$rc" = 137 ] || fail "killed rank: exit $rc, expected 3 or 137"
[ "$(cat "$tmp/result.txt" 2>/dev/null)" = unknown ] || fail "killed rank: --out has $(cat "$tmp/result.txt" 2>/dev/null)"

if ((failures)); then echo "$failures failure(s)"; exit 1; fi
echo "mpi_search_faults: all checks passed"

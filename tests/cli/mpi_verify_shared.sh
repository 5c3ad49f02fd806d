#!/usr/bin/env bash
# `mpirun -np N chassis verify FILE`: the ranks share each network property's branch and bound
# (tools/mpi_search.h, SharedNetworkEngine; verifier/net_props.h, setNetworkEngineRunner). Under
# `mpirun --oversubscribe -np 2` and `-np 3` the table of tests/data/verify/enc_acas_prop3.chs
# (ACAS Xu property 3 in .chs: holds on 1_2, violated on 1_7, a corner that holds) has the
# one-process verdicts, printed once (the workers print nothing), and the same exit code (1).
# The search is shared, not repeated: with rank 1 killed (SIGKILL) two seconds into a hard property
# that holds (ACAS Xu 3_3 property 2 in .chs) under -np 3, the property is `unknown` with a
# message naming rank 1, never `holds`. Skipped (exit 77) when mpirun is absent or chassis has no
# MPI built in.
# Usage: mpi_verify_shared.sh CHASSIS SOURCE_DIR
set -u
chassis=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
source "$(dirname "$0")/expect.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if ! command -v mpirun >/dev/null; then echo "SKIP: mpirun not found (Debian: openmpi-bin)"; exit 77; fi
if ! "$chassis" --version | grep -q '(MPI:'; then echo "SKIP: chassis built without MPI"; exit 77; fi
file=$src/tests/data/verify/enc_acas_prop3.chs
verdicts() { awk 'NR > 1 && !/^ / {print $1, $2}' "$1"; }

"$chassis" verify "$file" --timeout 60 >"$tmp/one" 2>"$tmp/one.err"
one_rc=$?
[ "$one_rc" = 1 ] || fail "one process: exit $one_rc; $(cat "$tmp/one.err")"
[ "$(verdicts "$tmp/one" | tr '\n' ' ')" = "prop3_1_2 holds prop3_1_7 violated prop3_1_2_corner holds " ] ||
  fail "one process: $(cat "$tmp/one")"
for np in 2 3; do
  timeout 200 mpirun --oversubscribe -np $np "$chassis" verify "$file" --timeout 60 >"$tmp/many" 2>"$tmp/many.err"
  rc=$?
  [ "$rc" = "$one_rc" ] || fail "-np $np: exit $rc, one process $one_rc; $(head -5 "$tmp/many.err")"
  [ "$(verdicts "$tmp/many")" = "$(verdicts "$tmp/one")" ] ||
    fail "-np $np: $(cat "$tmp/many"), one process: $(cat "$tmp/one")"
  [ "$(grep -c '^property ' "$tmp/many")" = 1 ] || fail "-np $np: the table printed more than once"
  grep -q 'served rank 0' "$tmp/many" && fail "-np $np: a worker's verdict printed"
done

# ACAS Xu property 2 on 3_3 (holds, hard: tens of seconds as one process).
N33=$src/tests/data/acasxu/ACASXU_run2a_3_3_batch_2000.onnx
cat >"$tmp/hard.chs" <<CHS
network N33(x: real[5]) -> (y: real[5]) = onnx("$N33");
property prop2_3_3:
    forall a in [0.6, 0.679857769], b in [-0.5, 0.5], c in [-0.5, 0.5], d in [0.45, 0.5],
           e in [-0.5, -0.45]:
        N33([a, b, c, d, e]).y[0] < N33([a, b, c, d, e]).y[1]
        || N33([a, b, c, d, e]).y[0] < N33([a, b, c, d, e]).y[2]
        || N33([a, b, c, d, e]).y[0] < N33([a, b, c, d, e]).y[3]
        || N33([a, b, c, d, e]).y[0] < N33([a, b, c, d, e]).y[4];
CHS
timeout 120 mpirun --oversubscribe --mca orte_abort_on_non_zero_status 0 -np 3 \
  "$chassis" verify "$tmp/hard.chs" --timeout 60 >"$tmp/out" 2>"$tmp/err" &
job=$!
victim=""
for _ in $(seq 100); do
  for p in $(pgrep -f "verify $tmp/hard.chs" || true); do
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
grep -q '^prop2_3_3 *unknown' "$tmp/out" || fail "killed rank: $(cat "$tmp/out") (exit $rc), expected unknown"
grep -q 'rank 1' "$tmp/out" || fail "killed rank: no message naming rank 1: $(cat "$tmp/out")"
[ "$rc" = 3 ] || [ "$rc" = 137 ] || fail "killed rank: exit $rc, expected 3 or 137"

if ((failures)); then echo "$failures failure(s)"; exit 1; fi
echo "mpi_verify_shared: all checks passed"

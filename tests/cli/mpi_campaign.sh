#!/usr/bin/env bash
# `chassis vnnlib --instances instances.csv --results results.csv`: a VNN-COMP campaign over
# tests/data/vnncomp and tests/data/acasxu instances (paths relative to the csv's folder). As one
# process: every row written, the verdicts the benchmarks expect; a --limit run keeps its rows and
# a re-run keeps them verbatim and runs only the rest; bad csv files are refused with located
# errors. Then under `mpirun --oversubscribe -np 2` and `-np 3`: the same verdicts; an
# interrupted campaign (--limit, or rank 0 killed after the first row) resumed under mpirun keeps
# the finished rows. The mpirun part is
# skipped (exit 77) when mpirun is absent or chassis has no MPI built in.
# Usage: mpi_campaign.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
source "$(dirname "$0")/expect.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

c=$tmp/campaign
mkdir -p "$c/sub"
ln -s "$src/tests/data/vnncomp/onnx" "$c/onnx"
ln -s "$src/tests/data/vnncomp/vnnlib" "$c/vnnlib"
ln -s "$src/tests/data/acasxu" "$c/acasxu"
ln -s "$src/tests/data/vnnlib" "$c/props"
cat >"$c/instances.csv" <<'CSV'
onnx/cartpole.onnx,vnnlib/cartpole_case_safe_73.vnnlib,30
onnx/cartpole.onnx,vnnlib/cartpole_case_safe_99.vnnlib,30
onnx/lunarlander.onnx,vnnlib/lunarlander_case_safe_25.vnnlib,40
onnx/dubinsrejoin.onnx,vnnlib/dubinsrejoin_case_unsafe_65.vnnlib,20
acasxu/ACASXU_run2a_1_2_batch_2000.onnx,props/prop_2.vnnlib,60
acasxu/ACASXU_run2a_1_3_batch_2000.onnx,props/prop_2.vnnlib,50
CSV
# What the benchmarks' expected.csv files say (holds = unsat, violated = sat).
want='unsat sat sat unsat sat sat'
verdicts() { cut -d, -f3 "$1" | tr '\n' ' ' | sed 's/ $//'; }
keys() { cut -d, -f1-3 "$1"; }

# One process, the whole campaign.
"$chassis" vnnlib --instances "$c/instances.csv" --results "$tmp/one.csv" >"$tmp/out" 2>"$tmp/err" ||
  fail "campaign: exit $?: $(cat "$tmp/err")"
[ "$(verdicts "$tmp/one.csv")" = "$want" ] || fail "campaign verdicts: $(verdicts "$tmp/one.csv")"
[ "$(cut -d, -f1,2 "$tmp/one.csv" | head -1)" = onnx/cartpole.onnx,vnnlib/cartpole_case_safe_73.vnnlib ] ||
  fail "results.csv does not name the instances as instances.csv does: $(head -1 "$tmp/one.csv")"
grep -qE '^[^,]+,[^,]+,[a-z]+,[0-9]+\.[0-9]{3}$' "$tmp/one.csv" || fail "row layout: $(head -1 "$tmp/one.csv")"
# Longest timeout first: the acasxu instance with 60 s ran first.
grep -q '^\[1/6\] acasxu/ACASXU_run2a_1_2' "$tmp/out" || fail "not longest timeout first: $(cat "$tmp/out")"
# The same verdict as the single-instance command.
"$chassis" vnnlib "$c/onnx/cartpole.onnx" "$c/vnnlib/cartpole_case_safe_99.vnnlib" >"$tmp/single" 2>&1
[ "$(head -1 "$tmp/single")" = sat ] || fail "single instance: $(head -1 "$tmp/single")"

# Interrupted: --limit 2 writes two rows; the re-run keeps them verbatim and adds the rest.
"$chassis" vnnlib --instances "$c/instances.csv" --results "$tmp/part.csv" --limit 2 >/dev/null 2>&1 ||
  fail "--limit 2: exit $?"
[ "$(wc -l <"$tmp/part.csv")" = 2 ] || fail "--limit 2 wrote $(wc -l <"$tmp/part.csv") rows"
cp "$tmp/part.csv" "$tmp/first_rows.csv"
echo 'other.onnx,other.vnnlib,unsat,1.000' >>"$tmp/part.csv" # another campaign's row: kept
"$chassis" vnnlib --instances "$c/instances.csv" --results "$tmp/part.csv" >"$tmp/out" 2>&1 ||
  fail "resume: exit $?"
grep -q ', 2 already in' "$tmp/out" || fail "resume did not count the kept rows: $(head -1 "$tmp/out")"
grep -q '4 to run' "$tmp/out" || fail "resume did not run just the rest: $(head -1 "$tmp/out")"
while read -r row; do grep -qxF -- "$row" "$tmp/part.csv" || fail "resume lost the row $row"; done <"$tmp/first_rows.csv"
grep -qxF 'other.onnx,other.vnnlib,unsat,1.000' "$tmp/part.csv" || fail "resume dropped another instance's row"
[ "$(grep -v '^other' "$tmp/part.csv" | cut -d, -f3 | tr '\n' ' ' | sed 's/ $//')" = "$want" ] ||
  fail "resumed verdicts: $(cat "$tmp/part.csv")"
# Everything done: a third run runs nothing and changes nothing.
cp "$tmp/part.csv" "$tmp/before.csv"
"$chassis" vnnlib --instances "$c/instances.csv" --results "$tmp/part.csv" >"$tmp/out" 2>&1 || fail "re-run: exit $?"
cmp -s "$tmp/part.csv" "$tmp/before.csv" || fail "a finished campaign's results.csv changed"

# Bad input: located errors, exit 2, results.csv untouched.
printf 'onnx/cartpole.onnx,vnnlib/cartpole_case_safe_73.vnnlib,30\nonnx/cartpole.onnx,vnnlib/x.vnnlib\n' >"$c/short.csv"
expect 2 "short.csv:2:1: error: expected 3 fields" -- vnnlib --instances "$c/short.csv" --results "$tmp/r.csv"
printf 'onnx/cartpole.onnx,vnnlib/cartpole_case_safe_73.vnnlib, soon\n' >"$c/t.csv"
expect 2 "t.csv:1:57: error: the timeout 'soon' is not a positive number" -- vnnlib --instances "$c/t.csv" --results "$tmp/r.csv"
printf 'onnx/cartpole.onnx,vnnlib/none.vnnlib,30\n' >"$c/missing.csv"
expect 2 "missing.csv:1:20: error: property 'vnnlib/none.vnnlib' not found" -- vnnlib --instances "$c/missing.csv" --results "$tmp/r.csv"
printf 'onnx/cartpole.onnx,vnnlib/cartpole_case_safe_73.vnnlib,30\nonnx/cartpole.onnx,vnnlib/cartpole_case_safe_73.vnnlib,10\n' >"$c/twice.csv"
expect 2 "twice.csv:2:1: error: the instance is listed twice (also on line 1)" -- vnnlib --instances "$c/twice.csv" --results "$tmp/r.csv"
[ ! -e "$tmp/r.csv" ] || fail "a refused campaign wrote results.csv"
echo 'not a results file' >"$tmp/bad_results.csv"
expect 2 "bad_results.csv:1:1: error: expected 4 fields" -- vnnlib --instances "$c/instances.csv" --results "$tmp/bad_results.csv"
[ "$(cat "$tmp/bad_results.csv")" = 'not a results file' ] || fail "a malformed results.csv was overwritten"
expect 2 "--instances needs --results" -- vnnlib --instances "$c/instances.csv"
expect 2 "give NETWORK PROPERTY (the network and the VNN-LIB property file), or a campaign" -- vnnlib
expect 2 "--out is for one instance" -- vnnlib --instances "$c/instances.csv" --results "$tmp/r.csv" --out "$tmp/o.txt"
expect 2 "NETWORK PROPERTY is for one instance" -- vnnlib "$c/onnx/cartpole.onnx" "$c/vnnlib/cartpole_case_safe_99.vnnlib" --instances "$c/instances.csv" --results "$tmp/r.csv"

if ((failures)); then echo "$failures failure(s)"; exit 1; fi

# Under mpirun.
if ! command -v mpirun >/dev/null; then echo "SKIP: mpirun not found (Debian: openmpi-bin)"; exit 77; fi
if ! "$chassis" --version | grep -q '(MPI:'; then
  # Without MPI built in, a campaign started as several processes is refused, not run N times.
  mpirun --oversubscribe -np 2 "$chassis" vnnlib --instances "$c/instances.csv" --results "$tmp/n.csv" \
    >/dev/null 2>"$tmp/err" && fail "a chassis without MPI ran a campaign under mpirun -np 2"
  grep -q 'this chassis has no MPI built in' "$tmp/err" || fail "no-MPI refusal: $(cat "$tmp/err")"
  [ ! -e "$tmp/n.csv" ] || fail "a chassis without MPI wrote results under mpirun"
  if ((failures)); then echo "$failures failure(s)"; exit 1; fi
  echo "SKIP: chassis built without MPI ($("$chassis" --version))"
  exit 77
fi
for np in 2 3; do
  mpirun --oversubscribe -np $np "$chassis" vnnlib --instances "$c/instances.csv" --results "$tmp/np$np.csv" \
    >"$tmp/out" 2>"$tmp/err" || fail "mpirun -np $np campaign: exit $?: $(cat "$tmp/err")"
  [ "$(keys "$tmp/np$np.csv")" = "$(keys "$tmp/one.csv")" ] ||
    fail "mpirun -np $np: rows differ from one process: $(cat "$tmp/np$np.csv")"
  grep -q "on $((np - 1)) worker rank(s)" "$tmp/out" || fail "mpirun -np $np: $(head -1 "$tmp/out")"
  grep -q ', rank [1-9])$' "$tmp/out" || fail "mpirun -np $np: no row from a worker rank"
done
# Interrupted under mpirun (--limit 3), resumed under mpirun -np 3: the first rows kept.
mpirun --oversubscribe -np 2 "$chassis" vnnlib --instances "$c/instances.csv" --results "$tmp/mp.csv" --limit 3 \
  >/dev/null 2>&1 || fail "mpirun --limit 3: exit $?"
[ "$(wc -l <"$tmp/mp.csv")" = 3 ] || fail "mpirun --limit 3 wrote $(wc -l <"$tmp/mp.csv") rows"
cp "$tmp/mp.csv" "$tmp/mp_first.csv"
mpirun --oversubscribe -np 3 "$chassis" vnnlib --instances "$c/instances.csv" --results "$tmp/mp.csv" \
  >"$tmp/out" 2>&1 || fail "mpirun resume: exit $?"
grep -q '3 to run' "$tmp/out" || fail "mpirun resume: $(head -1 "$tmp/out")"
while read -r row; do grep -qxF -- "$row" "$tmp/mp.csv" || fail "mpirun resume lost the row $row"; done <"$tmp/mp_first.csv"
[ "$(keys "$tmp/mp.csv")" = "$(keys "$tmp/one.csv")" ] || fail "mpirun resume rows: $(cat "$tmp/mp.csv")"
# Rank 0 killed (SIGKILL) after the first row: mpirun ends the job, the row stays, and a re-run
# keeps it and runs the rest (here with --timeout 1, which replaces the csv's timeouts).
cat >"$c/kill.csv" <<'CSV'
onnx/cartpole.onnx,vnnlib/cartpole_case_safe_73.vnnlib,100
acasxu/ACASXU_run2a_1_1_batch_2000.onnx,props/prop_3.vnnlib,90
CSV
mpirun --oversubscribe -np 2 "$chassis" vnnlib --instances "$c/kill.csv" --results "$tmp/kill_res.csv" \
  >"$tmp/kill_out" 2>&1 &
job=$!
for _ in $(seq 600); do # wait (at most 60 s) for the first row
  [ -s "$tmp/kill_res.csv" ] && break
  sleep 0.1
done
rank0=
for p in $(pgrep -P "$job"); do
  tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=0 && rank0=$p
done
if [ -z "$rank0" ]; then
  fail "rank 0 of the campaign not found (first row written: $(cat "$tmp/kill_res.csv" 2>/dev/null))"
  kill "$job" 2>/dev/null
else
  kill -KILL "$rank0"
fi
wait "$job" && fail "mpirun exited 0 although rank 0 was killed"
[ "$(wc -l <"$tmp/kill_res.csv")" = 1 ] && grep -q '^onnx/cartpole.onnx,vnnlib/cartpole_case_safe_73.vnnlib,unsat,' "$tmp/kill_res.csv" ||
  fail "after killing rank 0: $(cat "$tmp/kill_res.csv")"
cp "$tmp/kill_res.csv" "$tmp/kill_first.csv"
mpirun --oversubscribe -np 2 "$chassis" vnnlib --instances "$c/kill.csv" --results "$tmp/kill_res.csv" --timeout 1 \
  >"$tmp/out" 2>&1 || fail "resume after the kill: exit $?: $(cat "$tmp/out")"
[ "$(head -1 "$tmp/kill_res.csv")" = "$(cat "$tmp/kill_first.csv")" ] || fail "the kill's row changed on resume"
grep -q '^acasxu/ACASXU_run2a_1_1_batch_2000.onnx,props/prop_3.vnnlib,timeout,' "$tmp/kill_res.csv" ||
  fail "resume after the kill: $(cat "$tmp/kill_res.csv")"
# A bad instances file under mpirun: one located error, exit 2, no rank left waiting.
mpirun --oversubscribe -np 3 "$chassis" vnnlib --instances "$c/short.csv" --results "$tmp/r.csv" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 2 ] || fail "mpirun with a bad instances.csv: exit $rc"
[ "$(grep -c 'short.csv:2:1: error' "$tmp/err")" = 1 ] || fail "mpirun bad csv: $(cat "$tmp/err")"

if ((failures)); then echo "$failures failure(s)"; exit 1; fi
echo "mpi_campaign: all checks passed"

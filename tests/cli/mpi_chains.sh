#!/usr/bin/env bash
# `mpirun -np N chassis infer --method nuts|mh --chains K`: chain c runs on rank c mod N with the
# stream it has in one process, rank 0 gathers the draws, so the printed summary is byte-identical
# to one process at the same seed and the --output CSV files are too (apart from their timing
# comments, which differ between any two runs). Covered: nuts K=4 under -np 2 and -np 3, nuts K=2
# under -np 3 (a rank without chains), mh K=3 under -np 2 and -np 3; lw runs on rank 0 alone
# (same output, a note); a model error is reported once. Skipped (exit 77) when mpirun is absent
# or chassis has no MPI built in.
# Usage: mpi_chains.sh CHASSIS SOURCE_DIR
set -u
chassis=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # the tests change directory
src=$2
source "$(dirname "$0")/expect.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if ! command -v mpirun >/dev/null; then echo "SKIP: mpirun not found (Debian: openmpi-bin)"; exit 77; fi
if ! "$chassis" --version | grep -q '(MPI:'; then
  echo "SKIP: chassis built without MPI ($("$chassis" --version))"
  exit 77
fi
mpi=(mpirun --oversubscribe)
M=(infer "$src/examples/eight_schools.chs" EightSchools --data "$src/examples/eight_schools.data.json"
  --samples 200 --warmup 200)
I=("${M[@]}" --seed 11)
untimed() { grep -v -e 'Elapsed Time' -e 'seconds (' "$1"; }

# Runs `chassis ARGS` in directory $1 as one process and as N processes in $2; compares stdout.
compare() {
  local one=$1 many=$2 np=$3
  shift 3
  mkdir -p "$tmp/$one" "$tmp/$many"
  (cd "$tmp/$one" && "$chassis" "$@" >out.txt 2>err.txt) || fail "one process $*: exit $?: $(cat "$tmp/$one/err.txt")"
  (cd "$tmp/$many" && "${mpi[@]}" -np "$np" "$chassis" "$@" >out.txt 2>err.txt) ||
    fail "mpirun -np $np $*: exit $?: $(cat "$tmp/$many/err.txt")"
  cmp -s "$tmp/$one/out.txt" "$tmp/$many/out.txt" ||
    fail "mpirun -np $np $*: the summary differs: $(diff "$tmp/$one/out.txt" "$tmp/$many/out.txt" | head -5)"
}

for np in 2 3; do
  compare nuts1_$np nutsN_$np $np "${I[@]}" --method nuts --chains 4 --output draws.csv
  grep -q '^theta\[7\] ' "$tmp/nuts1_$np/out.txt" || fail "nuts: no summary table"
  for c in 1 2 3 4; do
    [ -f "$tmp/nutsN_$np/draws_$c.csv" ] || { fail "mpirun -np $np: draws_$c.csv not written"; continue; }
    [ "$(untimed "$tmp/nuts1_$np/draws_$c.csv" | md5sum)" = "$(untimed "$tmp/nutsN_$np/draws_$c.csv" | md5sum)" ] ||
      fail "mpirun -np $np: draws_$c.csv differs from one process's"
  done
  compare mh1_$np mhN_$np $np "${I[@]}" --method mh --chains 3
done
# More ranks than chains: rank 2 runs none.
compare nuts2a nuts2b 3 "${I[@]}" --method nuts --chains 2
# Another seed gives other draws (the comparison can fail).
(cd "$tmp/nuts2b" && "${mpi[@]}" -np 3 "$chassis" "${M[@]}" --seed 12 --method nuts --chains 2 >other.txt 2>&1)
cmp -s "$tmp/nuts2b/out.txt" "$tmp/nuts2b/other.txt" && fail "seed 12 printed what seed 11 did"
# lw is not split: rank 0 runs it, with a note.
compare lw1 lwN 2 "${I[@]}" --method lw
grep -q 'note: --method lw runs on rank 0 alone' "$tmp/lwN/err.txt" || fail "lw under mpirun: no note"
# A model error: reported once, exit 2 (as one process).
"${mpi[@]}" -np 3 "$chassis" infer "$tmp/none.chs" M --method nuts >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 2 ] || fail "missing model under mpirun: exit $rc"
[ "$(grep -c "none.chs: error: cannot open" "$tmp/err")" = 1 ] || fail "missing model: $(cat "$tmp/err")"

if ((failures)); then echo "$failures failure(s)"; exit 1; fi
echo "mpi_chains: all checks passed"

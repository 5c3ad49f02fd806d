#!/usr/bin/env bash
# `chassis verify --all FILE...`: one table (file, then each file's `verify` rows: property,
# verdict, time, counterexample) in the files' order, the combined exit code, a row `error` for a file that cannot be loaded (its
# diagnostic on stderr), --json as one envelope whose results are per file; several files without --all and --emit with --all
# are refused. Then under `mpirun --oversubscribe -np 2` and `-np 3`: the same table (the time
# column aside) and exit code. The mpirun part is skipped (exit 77) when mpirun is absent or
# chassis has no MPI built in.
# Usage: mpi_verify_all.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
source "$(dirname "$0")/expect.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
d=$src/tests/data/verify
files=("$d/braking_bug.chs" "$d/composition.chs" "$d/range_holds.chs" "$d/range_violated.chs" "$src/examples/braking.chs")
untimed() { sed -E 's/ +[0-9]+\.[0-9]{3}s  / T  /' "$1"; }

"$chassis" verify --all "${files[@]}" >"$tmp/one.txt" 2>"$tmp/err"
rc=$?
[ "$rc" = 1 ] || fail "verify --all: exit $rc (expected 1: some violated): $(cat "$tmp/err")"
head -1 "$tmp/one.txt" | grep -q '^file  *property  *verdict  *time  *counterexample$' || fail "header: $(head -1 "$tmp/one.txt")"
grep -qE "^$d/braking_bug.chs +brakes_when_close +violated .*reading = 9.0, speed = 6.0" "$tmp/one.txt" ||
  fail "braking_bug's row: $(cat "$tmp/one.txt")"
grep -qE "^$d/range_holds.chs +range@Safe:18:5 +holds " "$tmp/one.txt" || fail "range_holds' row"
grep -qE "^$src/examples/braking.chs +rarely_late +certified \[0, [0-9.e+-]+\] decides: holds" "$tmp/one.txt" ||
  fail "braking's interval row"
# The rows are each file's own `verify` rows (the time aside), in order, after the file column.
width=$(head -1 "$tmp/one.txt" | grep -o '^file *' | wc -c)
for f in "${files[@]}"; do
  "$chassis" verify "$f" 2>/dev/null | tail -n +2 >"$tmp/single.txt"
  grep -F "$f " "$tmp/one.txt" | cut -c"$width"- >"$tmp/rows.txt"
  [ "$(untimed "$tmp/single.txt")" = "$(untimed "$tmp/rows.txt")" ] ||
    fail "$f: --all's rows differ from verify's: $(diff <(untimed "$tmp/single.txt") <(untimed "$tmp/rows.txt") | head -4)"
done
# Exit code 0 when all hold; a bad file: its row says error, exit 2, its diagnostic on stderr.
"$chassis" verify --all "$d/range_holds.chs" "$src/examples/braking.chs" --property brakes_when_close \
  >/dev/null 2>&1 && fail "--property missing in one file should not exit 0"
"$chassis" verify --all "$d/range_holds.chs" "$d/range_holds.chs" >/dev/null 2>&1 || fail "all hold: exit $?"
"$chassis" verify --all "$tmp/none.chs" "$d/range_holds.chs" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 2 ] || fail "a missing file: exit $rc"
grep -qE "none.chs +- +error \(exit 2\)" "$tmp/out" || fail "missing file's row: $(cat "$tmp/out")"
grep -q "none.chs: error: cannot open" "$tmp/err" || fail "missing file's diagnostic: $(cat "$tmp/err")"
"$chassis" verify --all --json "$d/composition.chs" "$d/range_holds.chs" >"$tmp/j.json" 2>/dev/null
python3 -c "import json,sys; a=json.load(open(sys.argv[1]))['results']; assert [f['file'].split('/')[-1] for f in a]==['composition.chs','range_holds.chs'] and a[0]['exit']==1 and a[0]['results'][0]['property']=='agree'" "$tmp/j.json" ||
  fail "--all --json: $(head -c 300 "$tmp/j.json")"
expect 2 "several files" -- verify "$d/composition.chs" "$d/range_holds.chs"
expect 2 "--emit takes one file, not --all" -- verify --all "$d/composition.chs" --emit smt2

if ((failures)); then echo "$failures failure(s)"; exit 1; fi
if ! command -v mpirun >/dev/null; then echo "SKIP: mpirun not found (Debian: openmpi-bin)"; exit 77; fi
if ! "$chassis" --version | grep -q '(MPI:'; then
  echo "SKIP: chassis built without MPI ($("$chassis" --version))"
  exit 77
fi
for np in 2 3; do
  mpirun --oversubscribe -np $np "$chassis" verify --all "${files[@]}" >"$tmp/np.txt" 2>"$tmp/err"
  rc=$?
  [ "$rc" = 1 ] || fail "mpirun -np $np verify --all: exit $rc: $(cat "$tmp/err")"
  [ "$(untimed "$tmp/np.txt")" = "$(untimed "$tmp/one.txt")" ] ||
    fail "mpirun -np $np: the table differs: $(diff <(untimed "$tmp/one.txt") <(untimed "$tmp/np.txt") | head -5)"
done
mpirun --oversubscribe -np 3 "$chassis" verify --all "$tmp/none.chs" "$d/range_holds.chs" >"$tmp/out" 2>"$tmp/err"
[ "$(grep -c "none.chs: error: cannot open" "$tmp/err")" = 1 ] || fail "mpirun: a worker's diagnostic: $(cat "$tmp/err")"

if ((failures)); then echo "$failures failure(s)"; exit 1; fi
echo "mpi_verify_all: all checks passed"

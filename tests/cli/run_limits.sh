#!/usr/bin/env bash
# Stopping long runs (spec/run_control.h, tools/run_limits.h): SIGINT / SIGTERM to `verify` during
# a slow Z3 query prints the rows decided so far and the rest as `interrupted`, exit 130 / 143;
# --time-limit ends verify, vnnlib, infer, train and compare with the timeout reason (exit 124), --memory
# with the memory reason (exit 5); a stopped run writes no result file and leaves an existing one
# as it was; an output that cannot be written is refused before the run, and leaves nothing.
# Exit codes and output are asserted, never times; a watchdog kills a run that would hang.
# Usage: run_limits.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
slow=$src/tests/data/verify/slow_nonlinear.chs
source "$(dirname "$0")/expect.sh"

# Runs chassis ARGS in the background, sends SIGNAL after DELAY seconds, waits; sets rc. The run
# is killed (SIGKILL, exit 137: a failure) if it has not ended 60 s after the signal.
signal_after() {
  local sig=$1 delay=$2
  shift 2
  "$chassis" "$@" >"$tmp/out" 2>"$tmp/err" &
  local pid=$!
  sleep "$delay"
  kill -s "$sig" "$pid"
  ( s=; trap 'kill $s 2>/dev/null; exit 0' TERM
    sleep 60 >/dev/null 2>&1 & s=$!
    wait $s && kill -KILL "$pid" 2>/dev/null ) &
  local dog=$!
  wait "$pid"
  rc=$?
  kill "$dog" 2>/dev/null
  wait "$dog" 2>/dev/null
}

# Checks that the last run's file F (stdout or stderr) has a line matching the regex.
has() {
  grep -qE -- "$2" "$tmp/$1" || fail "$3: $1 lacks /$2/; stdout: $(cat "$tmp/out"); stderr: $(cat "$tmp/err")"
}

# --- SIGINT / SIGTERM during a slow Z3 query ---
signal_after INT 3 verify "$slow"
[ "$rc" = 130 ] || fail "verify + SIGINT: exit $rc, expected 130; $(cat "$tmp/err")"
has out '^quick +holds ' "verify + SIGINT: the row decided before"
has out '^stays_below +interrupted ' "verify + SIGINT: the row cut short"
has out '^later +interrupted ' "verify + SIGINT: the row not started"
has err 'chassis verify: stopped: interrupted \(SIGINT\)' "verify + SIGINT"

signal_after TERM 3 verify "$slow" --json
[ "$rc" = 143 ] || fail "verify + SIGTERM: exit $rc, expected 143; $(cat "$tmp/err")"
has out '"verdict": "holds"' "verify --json + SIGTERM: the decided row"
has out '"verdict": "interrupted"' "verify --json + SIGTERM: the rows cut short"
has err 'stopped: interrupted \(SIGTERM\)' "verify + SIGTERM"

# --- overall time limit ---
mkdir -p "$tmp/smt"
"$chassis" verify "$slow" --time-limit 1 --emit=smt2 --emit-dir "$tmp/smt" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 124 ] || fail "verify --time-limit 1: exit $rc, expected 124"
has out '^stays_below +timeout ' "verify --time-limit 1"
has err 'stopped: time limit of 1 s reached' "verify --time-limit 1"
[ -z "$(ls -A "$tmp/smt")" ] || fail "verify --time-limit: a stopped run wrote $(ls "$tmp/smt")"
# The per-property --timeout is not the overall one: undecided, exit 3.
"$chassis" verify "$slow" --property stays_below --timeout 1 >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 3 ] || fail "verify --timeout 1: exit $rc, expected 3"
has out 'unknown \(Z3: (timeout|canceled)\)' "verify --timeout 1 (per property)"

# 4_2 / prop_2: hard (minutes), not found violated by the attack
acas=$src/tests/data/acasxu/ACASXU_run2a_4_2_batch_2000.onnx
echo old >"$tmp/result.txt"
expect 124 "chassis vnnlib: stopped: time limit of 1 s reached" -- \
  vnnlib "$acas" "$src/tests/data/vnnlib/prop_2.vnnlib" --out "$tmp/result.txt" --time-limit 1
[ "$(cat "$tmp/result.txt")" = old ] || fail "vnnlib: a stopped run changed its --out file"

kid=(infer "$src/examples/kidiq.chs" KidIQ --data "$src/examples/kidiq.data.json")
for m in lw smc mh nuts; do
  expect 124 "chassis infer: stopped: time limit of 1 s reached" -- \
    "${kid[@]}" --method "$m" --samples 5000000 --timeout 1
done
expect 124 "stopped: time limit" -- "${kid[@]}" --method nuts --samples 5000000 --time-limit 1 \
  --chains 1 --output "$tmp/draws.csv"
[ ! -e "$tmp/draws.csv" ] || fail "infer: a stopped run wrote its --output file"

echo old >"$tmp/net.onnx"
expect 124 "chassis train: stopped: time limit of 1 s reached" -- \
  train "$src/examples/braking_task.chs" --inputs Controller --label Controller.brake \
  --samples 500 --widths 32,32 --epochs 1000000 -q --timeout 1 -o "$tmp/net.onnx" \
  --save-data "$tmp/data.csv"
[ "$(cat "$tmp/net.onnx")" = old ] || fail "train: a stopped run changed its -o file"
[ ! -e "$tmp/data.csv" ] || fail "train: a stopped run wrote --save-data"

expect 124 "chassis compare: stopped: time limit of 2 s reached" -- \
  compare "$src/examples/compare/braking.chs" -q --time-limit 2 --out-dir "$tmp/cmp" \
  --html "$tmp/cmp.html"
[ -z "$(ls -A "$tmp/cmp")" ] && [ ! -e "$tmp/cmp.html" ] ||
  fail "compare: a stopped run wrote $(ls -A "$tmp/cmp") $(ls "$tmp"/cmp.html 2>/dev/null)"

# --- memory limit (the process itself is above 1 MiB) ---
expect 5 "stopped: memory limit of 1 MiB reached" -- verify "$slow" --memory 1
has out '^later +memory ' "verify --memory 1"
expect 5 "chassis infer: stopped: memory limit" -- "${kid[@]}" --method mh --samples 5000000 --memory 1
# A sampler's draws that would not fit are refused before they are allocated.
expect 5 "memory limit of 300 MiB reached (an allocation would make it" -- \
  "${kid[@]}" --method lw --samples 30000000 --memory 300
expect 5 "chassis vnnlib: stopped: memory limit" -- \
  vnnlib "$acas" "$src/tests/data/vnnlib/prop_2.vnnlib" --out "$tmp/mem.txt" --memory 1
[ ! -e "$tmp/mem.txt" ] || fail "vnnlib --memory: a stopped run wrote its --out file"

# --- outputs that cannot be written: refused before the run, nothing left behind ---
mkdir -p "$tmp/adir"
expect 2 "is a directory" -- train "$src/examples/braking_task.chs" --inputs Controller \
  --label Controller.brake --samples 50 --epochs 1 -o "$tmp/adir"
expect 2 "cannot write here" -- train "$src/examples/braking_task.chs" --inputs Controller \
  --label Controller.brake --samples 50 --epochs 1 -o "$tmp/missing/net.onnx"
expect 2 "cannot write here" -- vnnlib "$acas" "$src/tests/data/vnnlib/prop_2.vnnlib" \
  --out "$tmp/missing/r.txt"
# compile-net: both files or neither (the circuit's place is taken by a directory).
expect 2 "is a directory" -- compile-net "$src/examples/compare/comparator.chs" Comparator \
  -o "$tmp/cn.onnx" --circuit "$tmp/adir"
[ ! -e "$tmp/cn.onnx" ] || fail "compile-net: the network was written without its circuit"
[ -z "$(ls -A "$tmp" | grep chassis_tmp)" ] || fail "temporary files left: $(ls -A "$tmp")"

# --help says which limit is which.
"$chassis" verify --help >"$tmp/out" 2>&1
has out '--time-limit' "verify --help"
has out 'seconds per property' "verify --help"
"$chassis" infer --help >"$tmp/out" 2>&1
has out '--time-limit,--timeout' "infer --help"
has out '--memory' "infer --help"

echo "run_limits: $failures failure(s)"
[ "$failures" = 0 ]

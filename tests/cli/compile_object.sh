#!/usr/bin/env bash
# `chassis compile`: the braking Controller compiled to an object file and a C header, a C program
# built against them with the system compiler, its outputs compared with `chassis run` (the
# interpreter and --backend=jit) at several inputs, and the error code of an out-of-range input;
# `--emit=llvm`; bad input (an unknown module, an unwritable output) exits 2 with a located error
# and leaves no file behind; `eval NET --backend jit` against `run --backend jit` and the default
# forward. (Random modules: compile_random_object.sh.)
# Usage: compile_object.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
source "$(dirname "$0")/expect.sh"
braking=$src/examples/braking.chs

"$chassis" compile "$braking" Controller -o "$tmp/controller.o" --header "$tmp/controller.h"
rc=$?
[ "$rc" = 0 ] || fail "compile Controller: exit $rc"
[ -s "$tmp/controller.o" ] || fail "no object written"
grep -qF "int chassis_Controller(const double* in, double* out);" "$tmp/controller.h" ||
  fail "header: no prototype"
ls -A "$tmp" | grep -q chassis_tmp && fail "a temporary file was left: $(ls -A "$tmp")"

cat > "$tmp/main.c" <<'C'
#include "controller.h"
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char** argv) {
  double in[CHASSIS_CONTROLLER_NUM_INPUTS], out[CHASSIS_CONTROLLER_NUM_OUTPUTS];
  if (argc != 3) return 100;
  in[CHASSIS_CONTROLLER_IN_reading] = atof(argv[1]);
  in[CHASSIS_CONTROLLER_IN_speed] = atof(argv[2]);
  int rc = chassis_Controller(in, out);
  if (rc != CHASSIS_OK) {
    printf("error %d\n", rc);
    return 0;
  }
  printf("brake = %s\n", out[CHASSIS_CONTROLLER_OUT_brake] != 0 ? "true" : "false");
  return 0;
}
C
cc -std=c11 -Wall -Werror -o "$tmp/main" "$tmp/main.c" "$tmp/controller.o" -I"$tmp" -lm ||
  fail "cc could not build against the object and header"

for pair in "3 20" "30 20" "43.3 20" "43.4 20" "80 20" "0 0" "200 40" "10 5" "11 5"; do
  set -- $pair
  want=$("$chassis" run "$braking" Controller --input reading=$1 --input speed=$2 | grep brake)
  jit=$("$chassis" run "$braking" Controller --input reading=$1 --input speed=$2 --backend=jit |
    grep brake)
  got=$("$tmp/main" "$1" "$2")
  [ -n "$want" ] && [ "$got" = "$want" ] || fail "at reading=$1 speed=$2: object '$got', interpreter '$want'"
  [ "$jit" = "$want" ] || fail "at reading=$1 speed=$2: jit '$jit', interpreter '$want'"
done
[ "$("$tmp/main" 250 20)" = "error 1" ] || fail "reading 250 (outside [0, 200]): $("$tmp/main" 250 20)"
[ "$("$tmp/main" 10 -1)" = "error 1" ] || fail "speed -1 (outside [0, 40]): $("$tmp/main" 10 -1)"

# --cpu host: an object for this machine's CPU, the same outputs as the generic one
"$chassis" compile "$braking" Controller -o "$tmp/controller_host.o" --cpu host ||
  fail "compile --cpu host"
cc -std=c11 -Wall -Werror -o "$tmp/main_host" "$tmp/main.c" "$tmp/controller_host.o" -I"$tmp" -lm ||
  fail "cc could not build against the host-CPU object"
for pair in "3 20" "43.3 20" "43.4 20" "200 40"; do
  set -- $pair
  [ "$("$tmp/main_host" "$1" "$2")" = "$("$tmp/main" "$1" "$2")" ] ||
    fail "at reading=$1 speed=$2: the host-CPU object differs from the generic one"
done

# A network compiles on its own (the Policy network of braking.chs): its outputs are those of
# `chassis eval` on the ONNX file in float64, to the last digit printed (%.17g)
"$chassis" compile "$braking" Policy -o "$tmp/policy.o" --header "$tmp/policy.h" ||
  fail "compile the Policy network"
cat > "$tmp/policy.c" <<'C'
#include "policy.h"
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char** argv) {
  double in[CHASSIS_POLICY_NUM_INPUTS], out[CHASSIS_POLICY_NUM_OUTPUTS];
  if (argc != 3) return 100;
  in[0] = atof(argv[1]);
  in[1] = atof(argv[2]);
  int rc = chassis_Policy(in, out);
  if (rc != CHASSIS_OK) return 101;
  printf("%.17g,%.17g\n", out[0], out[1]);
  return 0;
}
C
cc -std=c11 -Wall -Werror -o "$tmp/policy" "$tmp/policy.c" "$tmp/policy.o" -I"$tmp" -lm ||
  fail "cc could not build against the network's object"
for pair in "10 20" "0 0" "150 3.5" "42.25 17"; do
  set -- $pair
  want=$("$chassis" eval "$src/examples/braking_policy.onnx" --input "$1,$2")
  got=$("$tmp/policy" "$1" "$2")
  awk -v a="$want" -v b="$got" 'BEGIN { split(a, x, ","); split(b, y, ",");
    exit !(x[1] + 0 == y[1] + 0 && x[2] + 0 == y[2] + 0) }' ||
    fail "Policy at ($1, $2): object '$got', eval '$want'"
done

# --emit=llvm prints the IR
"$chassis" compile "$braking" Controller --emit=llvm | grep -q "define i32 @chassis_Controller" ||
  fail "--emit=llvm"

# bad input: exit 2, a located message, no file
bad() { # name expected-message-regex args...
  local name=$1 pattern=$2
  shift 2
  local err rc
  err=$("$chassis" compile "$@" 2>&1 >/dev/null)
  rc=$?
  [ "$rc" = 2 ] || fail "$name: exit $rc"
  echo "$err" | grep -Eq "$pattern" || fail "$name: message '$err'"
}
bad "unknown module" "braking.chs: error: unknown module or network 'Nope'" \
  "$braking" Nope -o "$tmp/nope.o" --header "$tmp/nope.h"
bad "unwritable output" "error: cannot write" "$braking" Controller -o "$tmp/missing/dir/c.o"
bad "unknown cpu" "error: --cpu takes generic or host, got 'arm'" \
  "$braking" Controller -o "$tmp/cpu.o" --cpu arm
mkdir "$tmp/ro" && chmod 555 "$tmp/ro"
if [ "$(id -u)" != 0 ]; then
  bad "read-only directory" "error: cannot write" "$braking" Controller -o "$tmp/ro/c.o"
fi
for f in nope.o nope.h missing ro/c.o cpu.o; do
  [ -e "$tmp/$f" ] && fail "a file was written for bad input: $f"
done
ls -A "$tmp" | grep -q chassis_tmp && fail "a temporary file was left: $(ls -A "$tmp")"

# `eval --backend jit`: a network file compiled by LLVM gives, row by row, the values of `run
# --backend jit` on the same network declared in a .chs file (the IR's sums: printed alike to the
# last digit), and the default forward's to rounding; the options it does not take say so.
policy=$src/examples/braking_policy.onnx
"$chassis" eval "$policy" --input 30,10 --input 5,25 --backend jit >"$tmp/eval_jit" ||
  fail "eval --backend jit: exit $?"
"$chassis" eval "$policy" --input 30,10 --input 5,25 >"$tmp/eval_interp" || fail "eval: exit $?"
[ "$(wc -l <"$tmp/eval_jit")" = 2 ] || fail "eval --backend jit: $(cat "$tmp/eval_jit")"
for row in "30,10 1" "5,25 2"; do
  set -- $row
  want=$("$chassis" run "$braking" Policy --input "x=[$1]" --backend jit |
    sed -n 's/^y = \[\(.*\)\]$/\1/p' | tr -d ' ')
  got=$(sed -n "${2}p" "$tmp/eval_jit" | awk -F, '{ printf "%.16g,%.16g", $1, $2 }')
  want=$(echo "$want" | awk -F, '{ printf "%.16g,%.16g", $1, $2 }')
  [ "$got" = "$want" ] || fail "eval --backend jit row $1: $got, run --backend jit: $want"
done
paste -d, "$tmp/eval_jit" "$tmp/eval_interp" | awk -F, '{
  for (k = 1; k <= 2; k++) { d = $k - $(k + 2); if (d < 0) d = -d; if (d > 1e-9 * (1 + ($k < 0 ? -$k : $k))) exit 1 } }' ||
  fail "eval --backend jit vs interp: $(paste "$tmp/eval_jit" "$tmp/eval_interp")"
expect 2 "--float32, --normalised, --csv and --task run on --backend interp" -- \
  eval "$policy" --input 30,10 --backend jit --float32
expect 2 "--backend takes interp or jit" -- eval "$policy" --input 30,10 --backend gpu

[ "$failures" = 0 ] && echo "compile_object: all checks passed"
exit $((failures > 0))

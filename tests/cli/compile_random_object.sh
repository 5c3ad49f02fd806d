#!/usr/bin/env bash
# `chassis compile` of random modules: the object, its header and its runtime archive linked into
# a C program with the system compiler; at several seeds the program's outputs and log weight are
# those `chassis run --seed` prints (the interpreter's stream, bit for bit: compared as the
# doubles they print), for the braking example's Braking and for a module with Gamma, Poisson,
# Beta, Normal and Bernoulli draws, observes, a factor, a condition and calls of random modules;
# a false condition returns CHASSIS_CONDITION_FAILED with the run's outputs; a run error returns
# its code where the interpreter fails; bad input (an unknown module, an unwritable object or
# runtime archive, --runtime for a deterministic module) exits 2 with a located error and writes
# no file.
# Usage: compile_random_object.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
source "$(dirname "$0")/expect.sh"
braking=$src/examples/braking.chs

cat >"$tmp/m.chs" <<'CHS'
module Noise(s: real) -> (e: real) {
    e ~ Normal(0.0, s);
}
module Track(y: real in [-10, 10]) -> (total: real, k: int, theta: real[2], hit: bool) {
    k ~ Poisson(1.5);
    var s: real = 0.0;
    for i in 0..2 {
        theta[i] ~ Normal(0.0, 1.0);
        let m = theta[i] + Noise(0.5).e;
        observe(Normal(m, 1.0), y);
        s = s + theta[i];
    }
    if k > 1 {
        extra ~ Gamma(2.0, 1.0);
        s = s + extra;
    }
    p ~ Beta(2.0, 3.0);
    hit ~ Bernoulli(p);
    observe(Poisson(1.0 + p), 2);
    factor(-0.5 * s * s);
    condition(s < 1.5);
    total = s;
}
module Fails(c: real) -> (y: real) {
    a ~ Normal(0.0, 1.0);
    y = log(a + c);
}
CHS

cat >"$tmp/m2.chs" <<'CHS'
network Net(x: real[2]) -> (y: real[2]) = onnx("missing.onnx");
module Uses() -> (y: real[2]) {
    a ~ Normal(0.0, 1.0);
    y = Net([a, a]).y;
}
CHS

# compile MODULE FILE NAME: m.o, m.h and m_runtime.a under $tmp/NAME*
compile() {
  "$chassis" compile "$1" "$2" -o "$tmp/$3.o" --header "$tmp/$3.h" ||
    fail "compile $2: exit $?"
  [ -s "$tmp/$3.o" ] && [ -s "$tmp/$3.h" ] && [ -s "$tmp/$3_runtime.a" ] ||
    fail "compile $2: the object, header or runtime archive is missing: $(ls "$tmp")"
}
compile "$braking" Braking braking
compile "$tmp/m.chs" Track track
compile "$tmp/m.chs" Fails fails
grep -qF "int chassis_Track(const double* in, double* out, uint64_t seed, double* log_weight);" \
  "$tmp/track.h" || fail "header: no seeded prototype"
grep -qF "CHASSIS_CONDITION_FAILED = 11" "$tmp/track.h" || fail "header: no condition code"
ls -A "$tmp" | grep -q chassis_tmp && fail "a temporary file was left: $(ls -A "$tmp")"

# A C program per module: argv = seed then the inputs; prints "rc", every output scalar (%.17g)
# and the log weight.
program() { # NAME SYMBOL
  cat >"$tmp/$1.c" <<C
#include "$1.h"
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char** argv) {
  double in[${2}_NUM_INPUTS + 1], out[${2}_NUM_OUTPUTS + 1], lw = 0;
  for (int i = 2; i < argc; ++i) in[i - 2] = atof(argv[i]);
  int rc = chassis_$1_entry(in, out, strtoull(argv[1], 0, 10), &lw);
  printf("rc %d\n", rc);
  if (rc != CHASSIS_OK && rc != CHASSIS_CONDITION_FAILED) return 0;
  for (int i = 0; i < ${2}_NUM_OUTPUTS; ++i) printf("%.17g\n", out[i]);
  printf("lw %.17g\n", lw);
  return 0;
}
C
}
program braking CHASSIS_BRAKING
program track CHASSIS_TRACK
program fails CHASSIS_FAILS
for m in braking:Braking track:Track fails:Fails; do
  name=${m%%:*}
  sed -i "s/chassis_${name}_entry/chassis_${m#*:}/" "$tmp/$name.c"
  cc -std=c11 -Wall -Werror -o "$tmp/$name" "$tmp/$name.c" "$tmp/$name.o" \
    "$tmp/${name}_runtime.a" -I"$tmp" -lstdc++ -lm ||
    fail "cc could not build $name against the object, header and runtime archive"
done

# The numbers `chassis run` prints: outputs in order (true 1, false 0, arrays expanded), then
# the log weight when the module has one.
interp_numbers() {
  grep -v '^seed = ' | sed -e 's/^[a-z_]* = //' -e 's/ (a condition failed)//' \
    -e 's/true/1/g' -e 's/false/0/g' -e 's/[][,]/ /g' | tr -s ' ' '\n' | grep -v '^$'
}
object_numbers() { grep -v '^rc ' | sed 's/^lw //'; }
same_numbers() { # FILE-A FILE-B: the same count of numbers, pairwise equal as doubles
  awk 'NR == FNR { a[n++] = $1; next } { b[m++] = $1 }
       END { if (n != m || n == 0) exit 1
             for (i = 0; i < n; ++i) if (a[i] != b[i] && a[i] + 0 != b[i] + 0) exit 1 }' "$1" "$2"
}
# check NAME WANT-NO-LOG-WEIGHT SEED FILE MODULE INPUT-ARGS... -- C-ARGS...
runs=0 failed_conditions=0
check() {
  local name=$1 seed=$2 file=$3 module=$4
  shift 4
  local cargs=() iargs=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do iargs+=("$1"); shift; done
  shift
  cargs=("$@")
  "$chassis" run "$file" "$module" --seed "$seed" "${iargs[@]}" >"$tmp/want" 2>"$tmp/want_err"
  local rc=$?
  "$tmp/$name" "$seed" "${cargs[@]}" >"$tmp/got"
  local code
  code=$(sed -n 's/^rc //p' "$tmp/got")
  if [ "$rc" != 0 ]; then
    [ -n "$code" ] && [ "$code" != 0 ] && [ "$code" != 11 ] ||
      fail "$module seed $seed: the interpreter fails ($(cat "$tmp/want_err")), the object returns '$code'"
    return
  fi
  grep -q "a condition failed" "$tmp/want" && {
    [ "$code" = 11 ] || fail "$module seed $seed: a condition failed, the object returns '$code'"
    failed_conditions=$((failed_conditions + 1))
  }
  grep -q "a condition failed" "$tmp/want" || [ "$code" = 0 ] ||
    fail "$module seed $seed: the object returns '$code', the interpreter runs: $(cat "$tmp/want")"
  interp_numbers <"$tmp/want" >"$tmp/want_n"
  object_numbers <"$tmp/got" >"$tmp/got_n"
  # A module without observe/factor/condition has no weight: `chassis run` prints none (the
  # object's is 0)
  if ! grep -q '^log_weight = ' "$tmp/want"; then
    [ "$(tail -1 "$tmp/got_n")" = 0 ] || fail "$module seed $seed: log weight $(tail -1 "$tmp/got_n")"
    sed -i '$d' "$tmp/got_n"
  fi
  same_numbers "$tmp/want_n" "$tmp/got_n" ||
    fail "$module seed $seed: object $(tr '\n' ' ' <"$tmp/got_n"), interpreter $(tr '\n' ' ' <"$tmp/want_n")"
  runs=$((runs + 1))
}
for seed in 0 1 2 3 4 5 6 7 42 123456789; do
  check braking "$seed" "$braking" Braking --
  check track "$seed" "$tmp/m.chs" Track --input y=0.7 -- 0.7
  check track "$seed" "$tmp/m.chs" Track --input y=-2.5 -- -2.5
  check fails "$seed" "$tmp/m.chs" Fails --input c=0.5 -- 0.5
done
[ "$runs" -ge 30 ] || fail "only $runs runs compared"
[ "$failed_conditions" -ge 1 ] || fail "no seed made Track's condition fail (the code is not exercised)"
# Fails: log of a negative number at every seed with c = -100 (domain error, code 3), and an
# input outside Track's range (input invalid, code 1)
[ "$("$tmp/fails" 1 -100 | head -1)" = "rc 3" ] || fail "Fails at c = -100: $("$tmp/fails" 1 -100)"
[ "$("$tmp/track" 1 11 | head -1)" = "rc 1" ] || fail "Track at y = 11: $("$tmp/track" 1 11)"
# A NULL log_weight is allowed
sed 's/, &lw)/, NULL)/' "$tmp/track.c" >"$tmp/track_null.c"
cc -std=c11 -Wall -Werror -o "$tmp/track_null" "$tmp/track_null.c" "$tmp/track.o" \
  "$tmp/track_runtime.a" -I"$tmp" -lstdc++ -lm && "$tmp/track_null" 3 0.7 >/dev/null ||
  fail "log_weight NULL"

# --runtime names the archive; --emit=llvm prints the module's functions with the runtime
"$chassis" compile "$tmp/m.chs" Track -o "$tmp/t2.o" --runtime "$tmp/rt/../librt.a" 2>"$tmp/err" &&
  fail "--runtime into a missing directory: exit 0"
mkdir -p "$tmp/rt"
"$chassis" compile "$tmp/m.chs" Track -o "$tmp/t2.o" --runtime "$tmp/rt/librt.a" ||
  fail "compile --runtime"
[ -s "$tmp/rt/librt.a" ] && [ ! -e "$tmp/t2_runtime.a" ] || fail "--runtime: the archive is not where named"
"$chassis" compile "$tmp/m.chs" Track --emit=llvm | grep -q "chassis_rt_" ||
  fail "--emit=llvm of a random module"

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
bad "unknown module" "m.chs: error: unknown module or network 'Nope'" \
  "$tmp/m.chs" Nope -o "$tmp/nope.o" --header "$tmp/nope.h"
bad "unwritable object" "error: cannot write" "$tmp/m.chs" Track -o "$tmp/missing/t.o" \
  --header "$tmp/bad1.h"
bad "unwritable runtime archive" "error: cannot write" "$tmp/m.chs" Track -o "$tmp/bad2.o" \
  --header "$tmp/bad2.h" --runtime "$tmp/missing/rt.a"
bad "--runtime of a deterministic module" \
  "braking.chs:[0-9]+:[0-9]+: error: --runtime: module 'Controller' is deterministic" \
  "$braking" Controller -o "$tmp/bad3.o" --runtime "$tmp/bad3_runtime.a"
bad "a random module calling a network that is not loaded" \
  "m2.chs:[0-9]+:[0-9]+: error: " "$tmp/m2.chs" Uses -o "$tmp/bad4.o"
for f in nope.o nope.h nope_runtime.a missing bad1.h bad2.o bad2.h bad2_runtime.a bad3.o \
  bad3_runtime.a bad4.o bad4_runtime.a; do
  [ -e "$tmp/$f" ] && fail "a file was written for bad input: $f"
done
ls -A "$tmp" | grep -q chassis_tmp && fail "a temporary file was left: $(ls -A "$tmp")"

[ "$failures" = 0 ] && echo "compile_random_object: all checks passed"
exit $((failures > 0))

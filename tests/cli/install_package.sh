#!/usr/bin/env bash
# `cmake --install` and the chassis CMake package: the build installed into a scratch prefix
# (static libraries, headers under include/chassis/, the chassis command, lib/cmake/chassis with
# the project's version); examples/embed configured with find_package(chassis) against that
# prefix alone, built and run; its printed values compared with what the installed `chassis run`,
# `chassis verify` and `chassis eval` print for the same inputs; its errors are values printed
# as `file: error: ...` with exit code 2; the Python module, when built, imported from the prefix.
# Usage: install_package.sh SOURCE_DIR BUILD_DIR CMAKE (the build must be complete)
set -u
src=$1
build=$2
cmake=$3
source "$(dirname "$0")/expect.sh"
prefix=$tmp/prefix
braking=$src/examples/braking.chs
policy=$src/examples/braking_policy.onnx

if ! "$cmake" --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1; then
  fail "cmake --install: $(tail -20 "$tmp/install.log")"
  echo "failures: $failures"
  exit 1
fi
for f in bin/chassis include/chassis/chassis.h include/chassis/spec/frontend.h \
  include/chassis/verifier/properties.h include/chassis/neural/onnx.h \
  lib/cmake/chassis/chassisConfig.cmake lib/cmake/chassis/chassisConfigVersion.cmake \
  lib/cmake/chassis/chassisTargets.cmake; do
  [ -s "$prefix/$f" ] || fail "not installed: $f"
done
for lib in spec symbolic neural verifier codegen tasks; do
  [ -s "$prefix/lib/libchassis_$lib.a" ] || fail "not installed: lib/libchassis_$lib.a"
  grep -q "chassis::$lib" "$prefix/lib/cmake/chassis/chassisTargets.cmake" ||
    fail "chassis::$lib not exported"
done
grep -rlE '#include <z3|#include "(spec|symbolic|neural|verifier|codegen|tasks)/' "$prefix/include" \
  >"$tmp/bad_includes" &&
  fail "installed headers including Z3 or not through chassis/: $(cat "$tmp/bad_includes")"
version=$(sed -n 's/^project(chassis VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
grep -qF "set(PACKAGE_VERSION \"$version\")" "$prefix/lib/cmake/chassis/chassisConfigVersion.cmake" ||
  fail "chassisConfigVersion.cmake does not carry the project version '$version'"

# The example, built against the installed package only (the compiler cache when there is one).
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if ! "$cmake" -S "$src/examples/embed" -B "$tmp/embed" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >"$tmp/configure.log" 2>&1; then
  fail "configure examples/embed: $(tail -20 "$tmp/configure.log")"
elif ! "$cmake" --build "$tmp/embed" >"$tmp/build.log" 2>&1; then
  fail "build examples/embed: $(tail -20 "$tmp/build.log")"
else
  embed=$tmp/embed/embed
  "$embed" "$braking" "$policy" >"$tmp/embed.out" 2>"$tmp/embed.err"
  rc=$?
  [ "$rc" = 0 ] || fail "embed: exit $rc; stderr: $(cat "$tmp/embed.err")"
  installed=$prefix/bin/chassis

  # The lines under the embed's heading `$1` (indented by two spaces), unindented.
  section() { awk -v h="$1" '$0 == h {on = 1; next} on && /^  / {print substr($0, 3); next} {on = 0}' "$tmp/embed.out"; }
  # `chassis run` without its seed line.
  run_outputs() { "$installed" run "$@" | grep -v '^seed = '; }

  [ "$(section "run Controller reading=3 speed=20:")" = \
    "$(run_outputs "$braking" Controller --input reading=3 --input speed=20)" ] ||
    fail "Controller: embed printed '$(section "run Controller reading=3 speed=20:")'"
  [ "$(section "run Braking seed=1:")" = "$(run_outputs "$braking" Braking --seed 1)" ] ||
    fail "Braking seed 1: embed printed '$(section "run Braking seed=1:")'"
  [ "$(section "run Policy x=[30, 10]:")" = "$(run_outputs "$braking" Policy --input 'x=[30,10]')" ] ||
    fail "Policy: embed printed '$(section "run Policy x=[30, 10]:")'"
  [ -n "$(section "run Controller reading=3 speed=20:")" ] || fail "embed printed no Controller outputs"

  for p in brakes_when_close never_late_when_slow; do
    line=$(grep "^verify $p: " "$tmp/embed.out")
    [ -n "$line" ] || { fail "embed did not verify $p"; continue; }
    table=$("$installed" verify "$braking" --property "$p" | grep "^$p ")
    verdict=$(awk '{print $2}' <<<"$table")
    [ "$(sed 's/^verify [a-z_]*: \([a-z]*\).*/\1/' <<<"$line")" = "$verdict" ] ||
      fail "$p: embed '$line', chassis verify '$table'"
    cx=$(sed -n 's/^verify [a-z_]*: [a-z]* at //p' <<<"$line")
    if [ -n "$cx" ]; then
      grep -qF -- "$cx" <<<"$table" || fail "$p: counterexample '$cx' not in '$table'"
    elif [ "$verdict" = violated ]; then
      fail "$p: violated without a counterexample in the embed output"
    fi
  done

  want=$("$installed" eval "$policy" --input 30,10)
  grep -qxF "eval $policy at 30,10: $want" "$tmp/embed.out" ||
    fail "eval: chassis eval printed '$want'; embed: $(grep '^eval' "$tmp/embed.out")"

  # Errors are values: a missing .chs file, a file that is not ONNX.
  "$embed" "$tmp/missing.chs" "$policy" >/dev/null 2>"$tmp/err"
  rc=$?
  { [ "$rc" = 2 ] && grep -qF "$tmp/missing.chs: error: cannot open" "$tmp/err"; } ||
    fail "missing file: exit $rc; stderr: $(cat "$tmp/err")"
  "$embed" "$braking" "$braking" >/dev/null 2>"$tmp/err"
  rc=$?
  { [ "$rc" = 2 ] && grep -qF "$braking: error: not a valid ONNX model" "$tmp/err"; } ||
    fail "not ONNX: exit $rc; stderr: $(cat "$tmp/err")"
fi

# The Python module, when the build has it (CHASSIS_PYTHON): imported from the prefix alone.
module=$(ls "$prefix"/lib/python3/dist-packages/chassis*.so 2>/dev/null)
python=$(sed -n 's/^Python3_EXECUTABLE:[A-Z]*=//p' "$build/CMakeCache.txt")
if [ -n "$module" ]; then
  out=$(cd "$tmp" && PYTHONPATH="$prefix/lib/python3/dist-packages" "$python" -c '
import sys, chassis
print(chassis.__file__)
print(chassis.load(sys.argv[1]).run("Controller", {"reading": 3, "speed": 20})["outputs"]["brake"])
' "$braking" 2>&1)
  [ "$out" = "$module"$'\n'"True" ] || fail "installed Python module: $out"
elif ls "$build"/python/chassis*.so >/dev/null 2>&1; then
  fail "the Python module was built but not installed"
fi

echo "failures: $failures"
[ "$failures" = 0 ]

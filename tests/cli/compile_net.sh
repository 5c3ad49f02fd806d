#!/usr/bin/env bash
# `chassis compile-net`: a comparator compiled, the ONNX evaluated by `chassis eval` on both sides
# of the comparison, the circuit JSON read back (layers, unit labels, edges), --json; and bad
# input (x * y, an unknown module, a missing -o, a bad margin) exits 2 with a located error and
# leaves no file behind.
# Usage: compile_net.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
data=$src/tests/data/compile
source "$(dirname "$0")/expect.sh"

# compiles, prints the summary
out=$("$chassis" compile-net "$data/comparator.chs" Cmp -o "$tmp/cmp.onnx" --circuit "$tmp/cmp.json")
rc=$?
[ "$rc" = 0 ] || fail "compile-net comparator: exit $rc"
echo "$out" | grep -qF "compiled Cmp: 2 layers (2 -> 2 -> 2), 2 hidden neurons, 8 circuit edges" ||
  fail "summary: $out"
echo "$out" | grep -qF "1 comparisons with margin 0.001" || fail "summary comparisons: $out"
[ -s "$tmp/cmp.onnx" ] || fail "no ONNX written"
[ -s "$tmp/cmp.json" ] || fail "no circuit written"
ls "$tmp" | grep -q tmp && fail "a temporary file was left: $(ls "$tmp")"

# the network decides a <= b: logits [1 - b, b]
ev=$("$chassis" eval "$tmp/cmp.onnx" --input 3,5 --input 5,3)
echo "$ev" | head -1 | grep -Eq '^0(\.0*)?[ ,]+1(\.0*)?$' || fail "eval at (3, 5): $ev"
echo "$ev" | tail -1 | grep -Eq '^1(\.0*)?[ ,]+0(\.0*)?$' || fail "eval at (5, 3): $ev"

# the circuit file
python3 - "$tmp/cmp.json" <<'PY' || fail "circuit JSON"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["module"] == "Cmp" and c["inputs"] == ["a", "b"], c
assert c["outputs"] == ["out=false", "out=true"], c["outputs"]
assert len(c["layers"]) == 2 and c["layers"][0]["relu"] and not c["layers"][1]["relu"]
assert all("step(a <= b)" in u for u in c["layers"][0]["units"]), c["layers"][0]["units"]
assert sorted(abs(e[2]) for e in c["layers"][0]["edges"]) == [1000.0] * 4, c["layers"][0]["edges"]
assert c["num_comparisons"] == 1
PY

# --json summary
js=$("$chassis" compile-net "$data/controller.chs" Ctl -o "$tmp/ctl.onnx" --json --margin 0.01)
echo "$js" | python3 -c 'import json,sys; j=json.load(sys.stdin)["results"][0]; assert j["comparisons"]==3 and j["margin"]==0.01 and j["outputs"]==["accel","brake=false","brake=true"], j' ||
  fail "--json: $js"

expect 2 "bad.chs:3:5: error: compile-net: 'x * y' (a product of two variables) is not piecewise linear" \
  -- compile-net "$data/bad.chs" Product -o "$tmp/bad.onnx" --circuit "$tmp/bad.json"
expect 2 "bad.chs:8:5: error: compile-net: exp(a) is not piecewise linear" \
  -- compile-net "$data/bad.chs" Expo -o "$tmp/bad.onnx"
expect 2 "bad.chs:12:5: error: compile-net: sampling" -- compile-net "$data/bad.chs" Noisy -o "$tmp/bad.onnx"
expect 2 "error: unknown module 'Nope' (modules: Product, Expo, Noisy, NoRange, DivVar)" \
  -- compile-net "$data/bad.chs" Nope -o "$tmp/bad.onnx"
expect 2 "compile-net needs -o" -- compile-net "$data/comparator.chs" Cmp
expect 2 "--margin must be a positive number" -- compile-net "$data/comparator.chs" Cmp --margin 0 -o "$tmp/bad.onnx"
[ -e "$tmp/bad.onnx" ] && fail "a failed compile left bad.onnx"
[ -e "$tmp/bad.json" ] && fail "a failed compile left bad.json"

[ "$failures" = 0 ] && echo "compile_net: all passed"
exit "$failures"

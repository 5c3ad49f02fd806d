#!/usr/bin/env bash
# One JSON shape for every `--json` report of check, verify and vnnlib: the envelope {"tool",
# "version", "command", "file", "options", "results", "summary"}; an error under --json is
# {"error": {"file", "line", "col", "message"}} on standard output, with the exit code it has
# without --json. vnnlib --json gives the counterexample as the same float64 numbers as the
# VNN-COMP text (%.17g), and vnnlib reads .nnet networks as eval does.
# Usage: json_reports.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
source "$(dirname "$0")/expect.sh"
bug=$src/tests/data/verify/braking_bug.chs
vc=$src/tests/data/vnncomp

# check --json: modules with typed inputs (ranges), outputs and callees; properties.
"$chassis" check "$bug" --json >"$tmp/check.json" || fail "check --json: exit $?"
python3 - "$tmp/check.json" "$bug" <<'PY' || fail "check --json: shape"
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["tool", "version", "command", "file", "options", "results", "summary"], list(d)
assert d["tool"] == "chassis" and d["command"] == "check" and d["file"] == sys.argv[2], d
mods = {r["module"]: r for r in d["results"] if "module" in r}
props = {r["property"]: r for r in d["results"] if "property" in r}
assert set(mods) == {"Sensor", "Controller", "Braking"}, mods
assert mods["Controller"]["inputs"] == [{"name": "reading", "type": "real", "range": [0, 200]},
                                        {"name": "speed", "type": "real", "range": [0, 40]}]
assert mods["Controller"]["outputs"] == [{"name": "brake", "type": "bool"}]
assert mods["Braking"]["calls"] == ["Sensor", "Controller"], mods["Braking"]
assert mods["Braking"]["random"] and not mods["Controller"]["random"]
assert props["never_late_when_slow"]["kind"] == "always", props
assert props["rarely_late"]["kind"] == "P", props
assert d["summary"] == {"modules": 3, "networks": 0, "properties": 4, "errors": 0}, d["summary"]
PY

# An error under --json: a JSON object on stdout, the same exit code (2) and the usual stderr.
printf 'module M() -> (y: real) {\n    y = 1.0 +;\n}\n' >"$tmp/bad.chs"
for cmd in check verify; do
  "$chassis" $cmd "$tmp/bad.chs" --json >"$tmp/out" 2>"$tmp/err"
  rc=$?
  [ $rc = 2 ] || fail "$cmd --json on a syntax error: exit $rc"
  grep -q "bad.chs:2:" "$tmp/err" || fail "$cmd --json: no diagnostic on stderr"
  python3 - "$tmp/out" <<'PY' || fail "$cmd --json: error object: $(cat "$tmp/out")"
import json, sys
e = json.load(open(sys.argv[1]))["error"]
assert e["file"].endswith("bad.chs") and e["line"] == 2 and e["col"] >= 1, e
assert e["message"], e
PY
done
"$chassis" verify "$bug" --json --property nope >"$tmp/out" 2>/dev/null
[ $? = 2 ] || fail "verify --json --property nope: exit code"
grep -q '"message": "no property named '"'nope'"'"' "$tmp/out" || fail "no property: $(cat "$tmp/out")"
"$chassis" vnnlib "$vc/onnx/cartpole.onnx" "$tmp/missing.vnnlib" --json >"$tmp/out" 2>/dev/null
[ $? = 2 ] || fail "vnnlib --json, missing property: exit code"
grep -q '"error"' "$tmp/out" || fail "vnnlib --json, missing property: $(cat "$tmp/out")"

# vnnlib --json: the verdict and the counterexample as numbers, the same doubles as --out's text.
"$chassis" vnnlib "$vc/onnx/cartpole.onnx" "$vc/vnnlib/cartpole_case_unsafe_42.vnnlib" --json \
  --out "$tmp/cp.txt" >"$tmp/cp.json"
[ $? = 1 ] || fail "vnnlib --json on a violated instance: expected exit 1"
python3 - "$tmp/cp.json" "$tmp/cp.txt" <<'PY' || fail "vnnlib --json: not the --out doubles"
import json, re, sys
d = json.load(open(sys.argv[1]))
assert d["command"] == "vnnlib" and d["summary"]["verdict"] == "sat", d
r = d["results"][0]
text = open(sys.argv[2]).read()
xs = [float(v) for v in re.findall(r"\(X_\d+ ([^)\s]+)\)", text)]
ys = [float(v) for v in re.findall(r"\(Y_\d+ ([^)\s]+)\)", text)]
assert xs and r["counterexample"]["x"] == xs and r["counterexample"]["y"] == ys, (r, xs, ys)
PY
"$chassis" vnnlib "$vc/onnx/cartpole.onnx" "$vc/vnnlib/cartpole_case_safe_73.vnnlib" --json \
  >"$tmp/safe.json"
[ $? = 0 ] || fail "vnnlib --json on a safe instance: expected exit 0"
grep -q '"verdict": "unsat"' "$tmp/safe.json" || fail "safe instance: $(cat "$tmp/safe.json")"

# vnnlib on an NNet network (its layers on normalised inputs, as the ACAS Xu ONNX files): the
# same verdict as the ONNX file of the same network.
acas=$src/tests/data/acasxu
"$chassis" vnnlib "$acas/nnet/ACASXU_experimental_v2a_2_9.nnet" "$src/tests/data/vnnlib/prop_2.vnnlib" \
  --timeout 60 >"$tmp/nnet.txt" 2>"$tmp/err"
rc=$?
"$chassis" vnnlib "$acas/ACASXU_run2a_2_9_batch_2000.onnx" "$src/tests/data/vnnlib/prop_2.vnnlib" \
  --timeout 60 >"$tmp/onnx.txt" 2>/dev/null
[ $rc = $? ] && [ "$(head -1 "$tmp/nnet.txt")" = "$(head -1 "$tmp/onnx.txt")" ] ||
  fail "vnnlib .nnet vs .onnx: $(head -1 "$tmp/nnet.txt") ($rc) vs $(head -1 "$tmp/onnx.txt"); $(cat "$tmp/err")"
[ "$(head -1 "$tmp/nnet.txt")" = sat ] || fail "ACAS Xu 2_9 prop_2 (.nnet): $(head -1 "$tmp/nnet.txt")"

echo "json_reports: $failures failure(s)"
[ "$failures" = 0 ]

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
# Every subcommand: a failure under --json that printed no report is {"error": ...} on stdout,
# from its first diagnostic, with the exit code unchanged.
rv=$src/tests/data/verify/range_violated.chs
jerr() { # jerr CODE FILE LINE COL MESSAGE-SUBSTRING -- ARGS...: the error object of chassis ARGS
  local code=$1 file=$2 line=$3 col=$4 msg=$5
  shift 6
  "$chassis" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [ $rc = "$code" ] || { fail "$* : exit $rc, expected $code"; return; }
  python3 - "$tmp/out" "$file" "$line" "$col" "$msg" <<'PY' || fail "$* : $(cat "$tmp/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["error"], d
e = d["error"]
want_file, line, col, msg = sys.argv[2:6]
assert msg in e["message"], e
assert (want_file == "-" and "file" not in e) or e.get("file", "").endswith(want_file), e
assert line == "-" or e["line"] == int(line), e
assert col == "-" or e["col"] == int(col), e
PY
}
jerr 1 range_violated.chs 14 5 "input 'x' = 11 is outside its range [0, 10]" -- \
  run "$rv" Shifted --input u=8 --json
jerr 2 - - - "unknown module 'Nope'" -- run "$rv" Nope --json
jerr 2 nothing.onnx - - "cannot open file" -- eval "$tmp/nothing.onnx" --input 1,2 --json
jerr 2 - - - "--seed: must not be negative, got -1" -- run "$rv" Shifted --seed -1 --json
jerr 2 bad.chs 2 - "" -- infer "$tmp/bad.chs" M --json
# Without --json, the same failures print nothing on standard output.
"$chassis" run "$rv" Shifted --input u=8 >"$tmp/out" 2>/dev/null
[ $? = 1 ] && [ ! -s "$tmp/out" ] || fail "run without --json: stdout $(cat "$tmp/out")"

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

# A file name that is not UTF-8 in a JSON error or report: the bytes become U+FFFD, never an
# abort (fuzz_cli's finding cli-crash-9cc8270c…: nlohmann::json's dump threw, exit 134).
"$chassis" summary "$tmp/draw"$'\x92'".csv" --json >"$tmp/bad.json" 2>/dev/null
rc=$?
[ $rc = 2 ] || fail "summary of a non-UTF-8 file name --json: exit $rc, expected 2"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert "\ufffd" in j["error"]["file"] + j["error"]["message"], j' \
  "$tmp/bad.json" || fail "summary --json: the error is not JSON with U+FFFD: $(cat "$tmp/bad.json")"
"$chassis" check "$tmp/m"$'\xff'".chs" --json >"$tmp/bad2.json" 2>/dev/null
rc=$?
[ $rc = 2 ] || fail "check of a non-UTF-8 file name --json: exit $rc, expected 2"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/bad2.json" ||
  fail "check --json: not JSON: $(cat "$tmp/bad2.json")"

echo "json_reports: $failures failure(s)"
[ "$failures" = 0 ]

#!/usr/bin/env bash
# `chassis compare` and `chassis extract` from the command line: bad options, tasks and files exit
# with code 2 and a clear message, and write nothing; a good extract writes the circuit as ONNX
# (which `chassis eval` runs), DOT and a .chs module (which `chassis check` accepts and `chassis
# run` evaluates); compare --out-dir writes every artefact and its report.
# Usage: compare_extract.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
task=$src/tests/data/compare/small_comparator.chs
source "$(dirname "$0")/expect.sh"


Q=(--samples 200 --no-sweep --timeout 5 --faith-timeout 5 -q)
expect 2 "error: several tasks are declared (small, exact): name one with --task" -- compare "$task" "${Q[@]}"
expect 2 "error: no task named 'nope' (tasks: small, exact)" -- compare "$task" --task nope "${Q[@]}"
expect 2 "error: --method must be acdc, eap or magnitude, got 'best'" -- compare "$task" --task small --method best "${Q[@]}"
expect 2 "error: --ablation must be zero, mean or resample, got 'none'" -- compare "$task" --task small --ablation none "${Q[@]}"
expect 2 "does not exist or is not writable" -- compare "$task" --task small --html "$tmp/no/such/dir/r.html" "${Q[@]}"
expect 2 "error: no task declared in this file" -- compare "$src/examples/braking.chs" "${Q[@]}"

# extract: a network that does not fit the task, resample with -o, a bad emit form: nothing written
net=$src/examples/braking_policy.onnx
expect 2 "error: several tasks are declared" -- extract "$net" --task "$task" -o "$tmp/c.onnx"
expect 2 "error: with resample ablation the circuit depends on a second input" -- \
  extract "$net" --task "$task" --name small --ablation resample -o "$tmp/c.onnx"
expect 2 "error: --emit must be chs or dot, got 'png'" -- extract "$net" --task "$task" --name small --emit png
[ -e "$tmp/c.onnx" ] && fail "a failed extract wrote $tmp/c.onnx"

# a good extract: the braking policy has 2 inputs, like the comparator (a, b); any network fits
"$chassis" extract "$net" --task "$task" --name small --method magnitude --threshold 0 \
  -o "$tmp/c.onnx" --dot "$tmp/c.dot" --chs "$tmp/c.chs" >"$tmp/out" 2>"$tmp/err" ||
  fail "extract failed: $(cat "$tmp/err")"
grep -q "faithfulness:  100.00%" "$tmp/out" || fail "threshold 0 keeps every edge: faithfulness 100%; got $(cat "$tmp/out")"
grep -q "^digraph" "$tmp/c.dot" || fail "the DOT file does not start with digraph"
# Graphviz itself reads it (scripts/deps installs graphviz).
dot -Tsvg "$tmp/c.dot" -o "$tmp/c.svg" 2>"$tmp/dot.err" || fail "dot rejects the circuit: $(cat "$tmp/dot.err")"
grep -q '<svg' "$tmp/c.svg" || fail "dot wrote no SVG"
"$chassis" check "$tmp/c.chs" >/dev/null 2>"$tmp/err" || fail "the .chs circuit does not check: $(cat "$tmp/err")"
# The circuit with every edge kept computes the network: compare eval of both at one point.
a=$("$chassis" eval "$net" --input 3,7 2>&1)
b=$("$chassis" eval "$tmp/c.onnx" --input 3,7 2>&1)
[ "$a" = "$b" ] || fail "full circuit differs from the network at (3, 7): '$a' vs '$b'"

# compare --out-dir writes every artefact
"$chassis" compare "$task" --task small "${Q[@]}" --out-dir "$tmp/out_dir" >"$tmp/out" 2>"$tmp/err" ||
  fail "compare --out-dir failed: $(cat "$tmp/err")"
for f in report.json report.md report.html network.onnx circuit.onnx circuit.dot circuit.chs; do
  [ -s "$tmp/out_dir/$f" ] || fail "compare --out-dir did not write $f"
done
grep -q '"task": "small"' "$tmp/out_dir/report.json" || fail "report.json lacks the task"
grep -q 'id="report-data"' "$tmp/out_dir/report.html" || fail "report.html lacks its data"
ls -a "$tmp/out_dir" | grep -q chassis_tmp && fail "a temporary file was left behind"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "compare/extract CLI: all checks passed"

#!/usr/bin/env bash
# `chassis train` records what the network computes in the ONNX metadata (features, their boxes,
# class names, the label, the task) and `eval --describe` reads it back; `--emit=chs` prints the
# `network` declaration, which checks and runs when pasted into a model (its value there is the
# network's, as `eval` computes it); a CSV-trained network gets its samples' extent as ranges.
# Usage: train_metadata.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
ex=$src/examples/braking_task.chs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$tmp" || exit 1

"$chassis" train "$ex" --inputs Controller --label Advisor.action --widths 8 --epochs 2 \
  --samples 300 --seed 1 --box speed=5:30 -o adv.onnx --emit=chs >decl.chs 2>train.err ||
  fail "train --emit=chs: $(cat train.err)"
cat decl.chs
grep -q '^wrote adv.onnx' train.err || fail "the summary is not on stderr with --emit=chs"
grep -qx 'network Adv(reading: real in \[0, 200\], speed: real in \[5, 30\]) -> (logits: real\[3\]) = onnx("adv.onnx");' decl.chs ||
  fail "unexpected declaration"
grep -q 'Coast.*Brake.*Emergency' decl.chs || fail "the class names are not in the declaration"

# Read back.
"$chassis" eval adv.onnx --describe >desc.out || fail "eval --describe"
cat desc.out
grep -qx 'features: reading in \[0, 200\], speed in \[5, 30\]' desc.out || fail "features/ranges"
grep -qx 'classes: 0 = Coast, 1 = Brake, 2 = Emergency' desc.out || fail "classes"
grep -qx 'label: Advisor.action' desc.out || fail "label"
grep -q "^trained on: task .*braking_task.chs, inputs from Controller" desc.out || fail "task"

# vnnlib --verbose shows it too (on stderr), before the verdict.
cat >p.vnnlib <<'V'
(declare-const X_0 Real)
(declare-const X_1 Real)
(declare-const Y_0 Real)
(declare-const Y_1 Real)
(declare-const Y_2 Real)
(assert (>= X_0 0.0))
(assert (<= X_0 1.0))
(assert (>= X_1 5.0))
(assert (<= X_1 6.0))
(assert (>= Y_0 1000000.0))
V
"$chassis" vnnlib adv.onnx p.vnnlib --verbose >vnn.out 2>vnn.err
[ $? = 0 ] || fail "vnnlib --verbose: $(cat vnn.out vnn.err)"
grep -qx 'unsat' vnn.out || fail "vnnlib verdict: $(cat vnn.out)"
grep -qx 'classes: 0 = Coast, 1 = Brake, 2 = Emergency' vnn.err || fail "vnnlib --verbose: $(cat vnn.err)"

# Pasted into a model: it checks, and a call computes what eval computes.
cat decl.chs - >model.chs <<'M'
module Margin(reading: real in [0, 200], speed: real in [5, 30]) -> (m: real) {
    let l = Adv(reading, speed);
    m = l[2] - l[0];
}
M
"$chassis" check model.chs >/dev/null || fail "the pasted declaration does not check"
got=$("$chassis" run model.chs Margin --input reading=12.5 --input speed=20 | sed -n 's/^m = //p')
want=$("$chassis" eval adv.onnx --input 12.5,20 | awk -F, '{ printf "%.12g", $3 - $1 }')
awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-9) }' ||
  fail "run through the declaration gives $got, eval gives $want"

# Errors: an unknown --emit, --emit without -o.
"$chassis" train "$ex" --inputs Controller --label Controller.brake --epochs 1 -o x.onnx \
  --emit=dot 2>err.txt && fail "--emit=dot accepted"
grep -q "supports only chs" err.txt || fail "--emit=dot: $(cat err.txt)"
"$chassis" train "$ex" --inputs Controller --label Controller.brake --epochs 0 --emit=chs \
  2>err.txt && fail "--emit=chs without -o accepted"
grep -q "give -o" err.txt || fail "--emit without -o: $(cat err.txt)"

# CSV: ranges from the samples, marked so; a regression has `output: real`.
printf 'a,b,y\n0,1,0.5\n2,-3,1.5\n1,0,1\n4,2,3\n' >d.csv
"$chassis" train --csv d.csv --label y --widths 4 --epochs 1 --test-fraction 0 -o reg.onnx \
  --emit=chs >reg.chs 2>/dev/null || fail "csv train"
cat reg.chs
grep -qx 'network Reg(a: real in \[0, 4\], b: real in \[-3, 2\]) -> (output: real) = onnx("reg.onnx");' reg.chs ||
  fail "csv declaration"
grep -q 'samples' reg.chs || fail "sample ranges are not marked"
"$chassis" eval reg.onnx --describe | grep -qx 'features: a in \[0, 4\] (samples), b in \[-3, 2\] (samples)' ||
  fail "csv ranges read back"
echo "train_metadata: ok"

#!/usr/bin/env bash
# Bad options, names and files given to `chassis train` and `chassis eval`: each exits with code 2
# (bad input) and prints its error, located where there is a place to point at: a module's
# declaration for bad module outputs, features and boxes; file:line:col for CSV rows. A module
# failing while the dataset is drawn exits with code 1 and its location. --help documents the
# task options.
# Usage: train_errors.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
ex=$src/examples/braking_task.chs
source "$(dirname "$0")/expect.sh"


T=(train "$ex" --epochs 1 --samples 50 -o "$tmp/never.onnx")
expect 2 "error: give a .chs task file (with --inputs and --label) or --csv FILE" -- train --label y
expect 2 "a .chs task needs --inputs Module" -- train "$ex" --label Controller.brake
expect 2 "braking_task.chs: error: no module named 'Nope' (modules: Controller, Advisor, Stopping, Scenario)" \
  -- "${T[@]}" --inputs Nope --label Controller.brake
expect 2 "braking_task.chs:23:8: error: label 'Controller.brak': module 'Controller' has no output 'brak' (outputs: brake)" \
  -- "${T[@]}" --inputs Controller --label Controller.brak
# the source line and a caret under the module
"$chassis" "${T[@]}" --inputs Controller --label Controller.brak 2>&1 | grep -q '^  module Controller(' ||
  fail "no source line shown"
expect 2 "braking_task.chs: error: label 'Ctrl.brake': no module named 'Ctrl'" \
  -- "${T[@]}" --inputs Controller --label Ctrl.brake
expect 2 "braking_task.chs:45:8: error: label 'Scenario': module 'Scenario' has 3 outputs; name one as Scenario.output" \
  -- "${T[@]}" --inputs Scenario --label Scenario
expect 2 "braking_task.chs:23:8: error: feature 'speeed': module 'Controller' has no input or output so named (inputs: reading, speed; outputs: brake)" \
  -- "${T[@]}" --inputs Controller --features reading,speeed --label Controller.brake
expect 2 "braking_task.chs:23:8: error: --box reading=0:300 leaves the declared range [0, 200] of input 'reading'" \
  -- "${T[@]}" --inputs Controller --box reading=0:300 --label Controller.brake
expect 2 "error: --box takes name=lo:hi with finite numbers, got 'reading=0..10'" \
  -- "${T[@]}" --inputs Controller --box reading=0..10 --label Controller.brake
expect 2 "error: --widths expects positive integers separated by commas, got '16,x'" \
  -- "${T[@]}" --inputs Controller --label Controller.brake --widths 16,x
expect 2 "error: --optimizer must be adam or sgd, got 'rmsprop'" \
  -- "${T[@]}" --inputs Controller --label Controller.brake --optimizer rmsprop
expect 2 "error: --batch must be >= 1" -- "${T[@]}" --inputs Controller --label Controller.brake --batch 0
expect 2 "error: give either a .chs task file or --csv, not both" \
  -- "${T[@]}" --csv x.csv --label y
expect 2 "no_such.chs" -- train "$tmp/no_such.chs" --inputs M --label M.y

# a module input without a range, and a module that observes
cat >"$tmp/free.chs" <<'CHS'
module Free(x: real, y: real in [0, 1]) -> (z: bool) {
    z = x > y;
}
module Obs() -> (x: real) {
    x ~ Normal(0.0, 1.0);
    observe(Normal(x, 1.0), 0.5);
}
CHS
expect 2 "free.chs:1:8: error: input 'x' of module 'Free' has no range to sample from: declare it as \`x: real in [a, b]\` or give --box x=a:b" \
  -- train "$tmp/free.chs" --inputs Free --label Free.z
"$chassis" train "$tmp/free.chs" --inputs Free --label Free.z --box x=-1:1 --epochs 1 --samples 50 \
  -o "$tmp/free.onnx" >/dev/null 2>&1 || fail "--box x=-1:1 should make Free trainable"
expect 2 "free.chs:4:8: error: module 'Obs' observes, conditions or factors: a dataset drawn from it would ignore that weight" \
  -- train "$tmp/free.chs" --inputs Obs --label Obs.x

# a run-time failure while drawing the dataset: exit 1, located
# (the noise, bound by position to the controller's reading, goes below 0)
expect 1 "braking_task.chs:23:8: error: sample " \
  -- "${T[@]}" --inputs Scenario --features noise,speed --label Controller.brake
grep -qF "input 'reading' = -" "$tmp/err" || fail "the run-time failure does not name the input"

# CSV files: file:line:col
printf 'a,b,y\n1,2,0\n3,4x,1\n' >"$tmp/bad.csv"
expect 2 "bad.csv:3:3: error: bad number '4x' in column 'b'" -- train --csv "$tmp/bad.csv" --label y
printf 'a,b,y\n1,2,0\n3,4\n' >"$tmp/short.csv"
expect 2 "short.csv:3:4: error: expected 3 fields, got 2" -- train --csv "$tmp/short.csv" --label y
expect 2 "error: no column named 'z' in the header" -- train --csv "$tmp/short.csv" --label z
printf 'a,y\n1,0\n2,0.5\n' >"$tmp/frac.csv"
expect 2 "frac.csv:3:3: error: cross-entropy needs class labels 0, 1, 2, ...; 'y' is 0.500000" \
  -- train --csv "$tmp/frac.csv" --label y --loss ce --epochs 1 -o "$tmp/never.onnx"
expect 2 "cannot open file" -- train --csv "$tmp/none.csv" --label y

# eval
"$chassis" train "$ex" --inputs Controller --label Controller.brake --epochs 1 --samples 50 \
  -o "$tmp/n.onnx" >/dev/null 2>&1 || fail "training a small net"
expect 2 "error: --input has 3 numbers; the network takes 2" -- eval "$tmp/n.onnx" --input 1,2,3
expect 2 "error: --input: bad number 'x'" -- eval "$tmp/n.onnx" --input 1,x
printf 'a,b,c,y\n1,2,3,0\n' >"$tmp/three.csv"
expect 2 "error: the network takes 2 inputs; " -- eval "$tmp/n.onnx" --csv "$tmp/three.csv" --label y
printf 'a,b,y\n1,2,0\n3,4,5\n' >"$tmp/cls.csv"
expect 2 "cls.csv:3:5: error: class label 5 of 'y' is not one of the 2 classes the network scores" \
  -- eval "$tmp/n.onnx" --csv "$tmp/cls.csv" --label y
expect 2 "error: give one of --input, --csv or --task" \
  -- eval "$tmp/n.onnx" --input 1,2 --csv "$tmp/cls.csv" --label y
expect 2 "error: --csv and --task need --label" -- eval "$tmp/n.onnx" --csv "$tmp/cls.csv"
expect 2 "braking_task.chs:23:8: error: label 'Controller.nope'" \
  -- eval "$tmp/n.onnx" --task "$ex" --inputs Controller --label Controller.nope
expect 2 "bad.csv:3:3: error: bad number '4x' in column 'b'" -- eval "$tmp/n.onnx" --csv "$tmp/bad.csv" --label y
expect 2 "nothing.onnx" -- eval "$tmp/nothing.onnx" --input 1,2

# --help documents the task options
help=$("$chassis" train --help 2>&1)
for opt in --inputs --label --features --box --samples --widths --epochs --optimizer --loss \
  --batch --seed --l1 --weight-decay --test-fraction --patience --save-test --quiet; do
  echo "$help" | grep -q -- "$opt" || fail "train --help lacks $opt"
done
help=$("$chassis" eval --help 2>&1)
for opt in --input --csv --task --label --inputs --samples --json; do
  echo "$help" | grep -q -- "$opt" || fail "eval --help lacks $opt"
done

if [ "$failures" != 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo PASS

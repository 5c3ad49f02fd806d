#!/usr/bin/env bash
# `chassis train` on the other kinds of .chs task in examples/braking_task.chs: an enum label
# (three classes), a real label (regression, MSE), features from a random scenario module, early
# stopping, SGD with L1 and weight decay; and training on a CSV the task wrote (--save-data).
# Usage: train_tasks.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
ex=$src/examples/braking_task.chs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# percent VALUE >= MIN
atleast() { awk -v a="$1" -v m="$2" 'BEGIN { exit !(a >= m) }'; }

# enum label: three classes, the network has three outputs
"$chassis" train "$ex" --inputs Controller --label Advisor.action --widths 32,32 --epochs 40 \
  --samples 4000 --lr 0.01 --seed 1 -o "$tmp/adv.onnx" >"$tmp/adv.out" 2>"$tmp/adv.err" ||
  fail "enum label: $(cat "$tmp/adv.err")"
cat "$tmp/adv.out"
grep -q ', 3 classes;' "$tmp/adv.out" || fail "enum label: not 3 classes"
acc=$(sed -nE 's/^test accuracy: ([0-9.]+)%.*/\1/p' "$tmp/adv.out")
atleast "$acc" 95 || fail "enum label: test accuracy $acc% < 95%"
out=$("$chassis" eval "$tmp/adv.onnx" --input 1,35) || fail "eval adv"
[ "$(echo "$out" | awk -F, '{ print NF }')" = 3 ] || fail "enum net has not 3 outputs: $out"
# close and fast: Emergency (class 2) scores highest
echo "$out" | awk -F, '{ exit !($3 > $1 && $3 > $2) }' || fail "enum net: $out is not Emergency"

# real label: regression with MSE (stopping distance, 0..133 m)
"$chassis" train "$ex" --inputs Controller --label Stopping.distance --widths 32,32 --epochs 60 \
  --samples 3000 --lr 0.01 --seed 1 -o "$tmp/stop.onnx" >"$tmp/stop.out" 2>"$tmp/stop.err" ||
  fail "real label: $(cat "$tmp/stop.err")"
cat "$tmp/stop.out"
grep -q ', regression;' "$tmp/stop.out" || fail "real label: not a regression"
mse=$(sed -nE 's/^test mse: ([0-9.e+-]+) .*/\1/p' "$tmp/stop.out")
awk -v m="$mse" 'BEGIN { exit !(m < 2.0) }' || fail "real label: test mse $mse >= 2"
# s = 30: 900 / 12 = 75 m
pred=$("$chassis" eval "$tmp/stop.onnx" --input 100,30) || fail "eval stop"
awk -v p="$pred" 'BEGIN { exit !(p > 71 && p < 79) }' || fail "stopping(30) predicted $pred, not ~75"

# features from a random scenario (sensed reading and speed), labels by the controller; early
# stopping on a validation split, which keeps the best epoch
"$chassis" train "$ex" --inputs Scenario --features reading,speed --label Controller.brake \
  --widths 16,16 --epochs 200 --patience 10 --samples 3000 --lr 0.01 --seed 3 --json \
  -o "$tmp/sc.onnx" >"$tmp/sc.json" 2>"$tmp/sc.err" || fail "scenario: $(cat "$tmp/sc.err")"
python3 - "$tmp/sc.json" <<'PY' || fail "scenario JSON"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["command"] == "train", j
j = j["results"][0]
assert j["features"] == ["reading", "speed"], j["features"]
assert j["label"] == "brake" and j["classes"] == 2
assert j["validation_size"] == 240 and j["test_size"] == 600, (j["validation_size"], j["test_size"])
n = len(j["epochs"])
assert n < 200, "early stopping never fired"
assert n == j["best_epoch"] + 10, (n, j["best_epoch"])
best = min(e["val_loss"] for e in j["epochs"])
assert j["epochs"][j["best_epoch"] - 1]["val_loss"] == best
assert j["test_accuracy"] >= 0.98, j["test_accuracy"]  # 0.985-0.997 over seeds 1-6
print("scenario: epochs", n, "best", j["best_epoch"], "test accuracy", j["test_accuracy"])
PY
grep -q '^early stop: no better validation loss for 10 epochs; keeping epoch ' "$tmp/sc.err" ||
  fail "no early-stop line"

# the task's dataset as CSV, then trained from the CSV with SGD, L1 and weight decay
"$chassis" train "$ex" --inputs Controller --label Controller.brake --samples 2000 --epochs 0 \
  --save-data "$tmp/data.csv" >/dev/null 2>&1 || fail "save-data"
[ "$(head -1 "$tmp/data.csv")" = "reading,speed,brake" ] || fail "data.csv header"
"$chassis" train --csv "$tmp/data.csv" --label brake --widths 16,16 --epochs 40 --optimizer sgd \
  --lr 0.05 --l1 1e-5 --weight-decay 1e-4 --seed 2 -o "$tmp/csv.onnx" >"$tmp/csv.out" 2>/dev/null ||
  fail "train from the saved CSV"
cat "$tmp/csv.out"
acc=$(sed -nE 's/^test accuracy: ([0-9.]+)%.*/\1/p' "$tmp/csv.out")
atleast "$acc" 98 || fail "SGD on the CSV: test accuracy $acc% < 98%"
# a .csv given where the task file goes is read as --csv
"$chassis" train "$tmp/data.csv" --label brake --epochs 1 --quiet -o "$tmp/pos.onnx" >"$tmp/pos.out" 2>/dev/null ||
  fail "positional CSV"
grep -q '^dataset: 2000 samples, 2 features (reading, speed), 2 classes;' "$tmp/pos.out" ||
  fail "positional CSV: $(cat "$tmp/pos.out")"
echo PASS

#!/usr/bin/env bash
# The train/eval workflow end to end on examples/braking_task.chs: a network trained to
# imitate the Controller module on uniform samples of its input box reaches >= 99% test accuracy;
# the same seed writes a byte-identical ONNX file (another seed a different one); `chassis eval`
# on the saved test samples prints exactly the test figures training printed; eval on a fresh
# sample of the task (another seed) and on single inputs far from the boundary agree with the
# controller.
# Usage: train_braking.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
ex=$src/examples/braking_task.chs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

train() {
  "$chassis" train "$ex" --inputs Controller --label Controller.brake --widths 16,16 --epochs 60 \
    --samples 8000 --batch 64 --lr 0.003 "$@"
}

train --seed 1 -o "$tmp/a.onnx" --save-test "$tmp/test.csv" >"$tmp/a.out" 2>"$tmp/a.err" ||
  fail "train exited $?: $(cat "$tmp/a.err")"
cat "$tmp/a.out"
# one plain progress line per epoch on stderr (not a terminal: no live bar)
[ "$(grep -c '^epoch [0-9]*/60  loss ' "$tmp/a.err")" = 60 ] || fail "expected 60 epoch lines"
grep -q $'\r' "$tmp/a.err" && fail "a live progress line was written to a non-terminal"
grep -q '^dataset: 8000 samples, 2 features (reading, speed), 2 classes; train 6400, validation 0, test 1600$' \
  "$tmp/a.out" || fail "dataset line"
acc_line=$(grep '^test accuracy: ' "$tmp/a.out") || fail "no test accuracy line"
acc=$(echo "$acc_line" | sed -E 's/^test accuracy: ([0-9.]+)%.*/\1/')
awk -v a="$acc" 'BEGIN { exit !(a >= 99.0) }' || fail "test accuracy $acc% < 99%"

# same seed: the same bytes; another seed: different bytes
train --seed 1 -o "$tmp/b.onnx" >/dev/null 2>&1 || fail "second run"
cmp -s "$tmp/a.onnx" "$tmp/b.onnx" || fail "same seed gave different ONNX bytes"
train --seed 2 -o "$tmp/c.onnx" >/dev/null 2>&1 || fail "seed 2 run"
cmp -s "$tmp/a.onnx" "$tmp/c.onnx" && fail "seeds 1 and 2 gave the same ONNX bytes"

# eval on the saved test split reproduces the printed figures exactly
[ "$(head -1 "$tmp/test.csv")" = "reading,speed,brake" ] || fail "test.csv header"
[ "$(wc -l <"$tmp/test.csv")" = 1601 ] || fail "test.csv rows"
ev=$("$chassis" eval "$tmp/a.onnx" --csv "$tmp/test.csv" --label brake) || fail "eval --csv"
echo "$ev"
[ "${ev#accuracy: }" = "${acc_line#test accuracy: }" ] ||
  fail "eval printed '$ev', training printed '$acc_line'"
# the confusion counts add up to the test set, and their diagonal to the accuracy
"$chassis" eval "$tmp/a.onnx" --csv "$tmp/test.csv" --label brake --confusion >"$tmp/conf.out" ||
  fail "eval --confusion"
cat "$tmp/conf.out"
[ "$(sed -n 2p "$tmp/conf.out")" = "confusion (rows: label; columns: the network's class):" ] ||
  fail "confusion header"
awk -v acc="$acc" 'NR == 4 { n00 = $2; n01 = $3 } NR == 5 { n10 = $2; n11 = $3 }
  END { n = n00 + n01 + n10 + n11
        if (n != 1600 || sprintf("%.2f", 100 * (n00 + n11) / n) != acc) exit 1 }' \
  "$tmp/conf.out" || fail "confusion counts do not match the accuracy"
# the same in JSON
"$chassis" eval "$tmp/a.onnx" --csv "$tmp/test.csv" --label brake --json >"$tmp/ev.json" ||
  fail "eval --json"
grep -q '"samples": 1600' "$tmp/ev.json" || fail "json samples"
grep -q '"loss_kind": "cross_entropy"' "$tmp/ev.json" || fail "json loss kind"

# a fresh sample of the task (seed 7): still >= 98%
ev2=$("$chassis" eval "$tmp/a.onnx" --task "$ex" --inputs Controller --label Controller.brake \
  --samples 2000 --seed 7) || fail "eval --task"
echo "$ev2"
acc2=$(echo "$ev2" | sed -E 's/^accuracy: ([0-9.]+)%.*/\1/')
awk -v a="$acc2" 'BEGIN { exit !(a >= 98.0) }' || fail "fresh-sample accuracy $acc2% < 98%"

# single inputs far from the boundary: class 1 (brake) when close and fast, 0 when far and slow
out=$("$chassis" eval "$tmp/a.onnx" --input 2,30 --input 190,3) || fail "eval --input"
echo "$out"
echo "$out" | awk -F, 'NR == 1 && !($2 > $1) { exit 1 } NR == 2 && !($1 > $2) { exit 1 }' ||
  fail "the network does not brake when close and fast, or brakes when far and slow"
echo PASS

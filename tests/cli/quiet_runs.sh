#!/usr/bin/env bash
# --quiet means one thing: nothing on standard error but errors, the results unchanged on
# standard output. infer --quiet (the warnings at condition() under NUTS, the progress bar) and
# train -q/--quiet (the live bar and the line per epoch); -q is --quiet in both.
# Usage: quiet_runs.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cat >"$tmp/m.chs" <<'CHS'
module Hard() -> (mu: real) {
    mu ~ Normal(0.0, 1.0);
    condition(mu < 1.0);
}
CHS
N=(--method nuts --samples 200 --warmup 100 --chains 1 --seed 3)
"$chassis" infer "$tmp/m.chs" Hard "${N[@]}" >"$tmp/loud.out" 2>"$tmp/loud.err" || fail "infer"
grep -q 'hard constraint' "$tmp/loud.err" || fail "no warning without --quiet"
"$chassis" infer "$tmp/m.chs" Hard "${N[@]}" --quiet >"$tmp/quiet.out" 2>"$tmp/quiet.err" ||
  fail "infer --quiet"
[ ! -s "$tmp/quiet.err" ] || fail "infer --quiet wrote to stderr: $(cat "$tmp/quiet.err")"
cmp -s "$tmp/loud.out" "$tmp/quiet.out" || fail "infer --quiet changed the results"
# An error is still printed.
"$chassis" infer "$tmp/m.chs" Nope --quiet >/dev/null 2>"$tmp/err.txt" && fail "unknown module"
grep -q "unknown module 'Nope'" "$tmp/err.txt" || fail "infer --quiet hid the error"
# -q is --quiet here too.
"$chassis" infer "$tmp/m.chs" Hard "${N[@]}" -q >"$tmp/q.out" 2>"$tmp/q.err" || fail "infer -q"
[ ! -s "$tmp/q.err" ] || fail "infer -q wrote to stderr: $(cat "$tmp/q.err")"
cmp -s "$tmp/loud.out" "$tmp/q.out" || fail "infer -q changed the results"

T=(train "$src/examples/braking_task.chs" --inputs Controller --label Controller.brake --widths 4
  --epochs 2 --samples 200 --seed 1)
"$chassis" "${T[@]}" -o "$tmp/a.onnx" >"$tmp/a.out" 2>"$tmp/a.err" || fail "train"
grep -q '^epoch 2/2' "$tmp/a.err" || fail "train: no epoch lines without -q"
for q in -q --quiet; do
  "$chassis" "${T[@]}" $q -o "$tmp/b.onnx" >"$tmp/b.out" 2>"$tmp/b.err" || fail "train $q"
  [ ! -s "$tmp/b.err" ] || fail "train $q wrote to stderr: $(cat "$tmp/b.err")"
  sed "s/b.onnx/a.onnx/" "$tmp/b.out" | cmp -s - "$tmp/a.out" || fail "train $q changed the summary"
  cmp -s "$tmp/a.onnx" "$tmp/b.onnx" || fail "train $q changed the network"
done
echo "quiet_runs: ok"

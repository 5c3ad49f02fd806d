#!/usr/bin/env bash
# `chassis infer --query NAME` where NAME is an array of random choices (`theta[i] ~ ...` in a
# loop) summarises every element, theta[0], theta[1], ..., for each method; an element
# (`theta[1]`) and a scalar choice are still taken alone, and an unknown name is still an error.
# Usage: query_choice_array.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
source "$(dirname "$0")/expect.sh"
cat >"$tmp/m.chs" <<'CHS'
module Cont() -> () {
    var theta: real[3];
    for i in 0..3 {
        theta[i] ~ Normal(1.0 * i, 1.0);
    }
    sigma ~ HalfNormal(1.0);
    observe(Normal(theta[0], sigma), 0.5);
}
module Disc() -> () {
    var b: bool[2];
    for i in 0..2 {
        b[i] ~ Bernoulli(0.3);
    }
    condition(b[0] || b[1]);
}
CHS
# The quantity names printed in the summary table (first column, after the header).
names() { awk '/^quantity/ {on = 1; next} on && NF == 0 {on = 0} on && $1 ~ /^[a-z]/ {print $1}' "$tmp/out" | tr '\n' ' '; }
for m in nuts mh lw smc; do
  "$chassis" infer "$tmp/m.chs" Cont --method $m --samples 100 --warmup 100 --chains 1 --seed 1 \
    --query theta >"$tmp/out" 2>"$tmp/err" || fail "$m: exit $?: $(cat "$tmp/err")"
  got=$(names | grep -o 'theta[^ ]*' | tr '\n' ' ')
  [ "$got" = "theta[0] theta[1] theta[2] " ] || fail "$m --query theta: quantities '$got'"
  "$chassis" infer "$tmp/m.chs" Cont --method $m --samples 100 --warmup 100 --chains 1 --seed 1 \
    --query 'theta[1],sigma' >"$tmp/out" 2>"$tmp/err" || fail "$m: exit $?: $(cat "$tmp/err")"
  got=$(names | grep -oE '(theta|sigma)[^ ]*' | tr '\n' ' ')
  [ "$got" = "theta[1] sigma " ] || fail "$m --query theta[1],sigma: quantities '$got'"
done
"$chassis" infer "$tmp/m.chs" Disc --method exact --query b >"$tmp/out" 2>"$tmp/err" ||
  fail "exact: exit $?: $(cat "$tmp/err")"
# P(b[0] | b[0] or b[1]) = 0.3 / (1 - 0.7^2) = 0.5882...
grep -qE '^b\[0\] +0\.588' "$tmp/out" || fail "exact --query b: no b[0] = 0.588: $(cat "$tmp/out")"
grep -qE '^b\[1\] +0\.588' "$tmp/out" || fail "exact --query b: no b[1] = 0.588: $(cat "$tmp/out")"
expect 2 "unknown query 'thetas'" -- infer "$tmp/m.chs" Cont --method mh --samples 10 --query thetas
echo "query_choice_array: $failures failures"
[ "$failures" = 0 ]

#!/usr/bin/env bash
# `chassis infer --method nuts` warns, at each condition() the model reaches (in the module and
# in the modules it calls), that a hard constraint breaks HMC; other methods and models without
# condition() print no such warning. The run itself goes on (exit 0).
# Usage: nuts_condition_warning.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
source "$(dirname "$0")/expect.sh"
cat >"$tmp/m.chs" <<'CHS'
module Inner(a: real) -> (b: real) {
    condition(a > -3.0);
    b = a;
}
module Hard() -> (mu: real) {
    mu ~ Normal(0.0, 1.0);
    let b = Inner(mu);
    condition(mu < 1.0);
}
module Soft() -> (mu: real) {
    mu ~ Normal(0.0, 1.0);
    factor(-square(mu - 1.0));
}
CHS
N=(--method nuts --samples 100 --warmup 100 --chains 1 --seed 1)
expect 0 "$tmp/m.chs:8:5: warning: condition(...) is a hard constraint" -- infer "$tmp/m.chs" Hard "${N[@]}"
grep -qF "$tmp/m.chs:2:5: warning: condition(...) is a hard constraint" "$tmp/err" ||
  fail "no warning at the callee's condition: $(cat "$tmp/err")"
[ "$(grep -c 'hard constraint' "$tmp/err")" = 2 ] || fail "expected 2 warnings: $(cat "$tmp/err")"
"$chassis" infer "$tmp/m.chs" Soft "${N[@]}" >/dev/null 2>"$tmp/err" || fail "Soft: exit $?"
! grep -q 'hard constraint' "$tmp/err" || fail "a warning without condition(): $(cat "$tmp/err")"
"$chassis" infer "$tmp/m.chs" Hard --method mh --samples 100 >/dev/null 2>"$tmp/err" || fail "mh: exit $?"
! grep -q 'hard constraint' "$tmp/err" || fail "a warning for --method mh: $(cat "$tmp/err")"
echo "nuts_condition_warning: $failures failures"
[ "$failures" = 0 ]

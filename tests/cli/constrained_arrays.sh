#!/usr/bin/env bash
# Constrained arrays (`x ~ Flat(ordered)`, `x ~ Flat(simplex)`) outside NUTS: the verifier proves
# properties over their support (an ordered array is sorted, a simplex sums to 1) and finds a
# counterexample to a false one; the methods that draw from the prior refuse it at the draw.
# Usage: constrained_arrays.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
source "$(dirname "$0")/expect.sh"
cat >"$tmp/m.chs" <<'CHS'
module Arrays() -> (c0: real, c1: real, s: real) {
    var c: real[3];
    c ~ Flat(ordered);
    var w: real[3];
    w ~ Flat(simplex);
    c0 = c[0];
    c1 = c[1];
    s = w[0] + w[1] + w[2];
}
property sorted: always[Arrays](c0 <= c1);
property sums: always[Arrays](s > 0.999 && s < 1.001 && w[2] >= 0.0);
property wrong: always[Arrays](c1 <= c0 - 0.5);
CHS
"$chassis" verify "$tmp/m.chs" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 1 ] || fail "verify: exit $rc (want 1: one property violated): $(cat "$tmp/err")"
grep -qE '^sorted +holds' "$tmp/out" || fail "sorted does not hold: $(cat "$tmp/out")"
grep -qE '^sums +holds' "$tmp/out" || fail "sums does not hold: $(cat "$tmp/out")"
grep -qE '^wrong +violated' "$tmp/out" || fail "wrong is not violated: $(cat "$tmp/out")"
for m in lw mh smc; do
  expect 1 "$tmp/m.chs:3:5: error: 'c' has a flat prior" -- infer "$tmp/m.chs" Arrays --method $m --samples 10
done
expect 2 "$tmp/m.chs:3:5: error: exact inference needs finite discrete choices" -- infer "$tmp/m.chs" Arrays --method exact
# The same per row of a matrix (Stan's array[N] simplex[K] / array[N] ordered[K]).
cat >"$tmp/rows.chs" <<'CHS'
module Rows() -> (t: real[2, 3], c: real[2, 3]) {
    t ~ Flat(simplex);
    c ~ Flat(ordered);
}
property rowsums: always[Rows](t[0, 0] + t[0, 1] + t[0, 2] > 0.999 && t[1, 0] + t[1, 1] + t[1, 2] < 1.001 && t[1, 2] >= 0.0);
property rowsorted: always[Rows](c[0, 0] <= c[0, 1] && c[1, 1] <= c[1, 2]);
property rowwrong: always[Rows](c[1, 2] <= c[1, 0]);
CHS
"$chassis" verify "$tmp/rows.chs" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" = 1 ] || fail "verify rows: exit $rc (want 1: one property violated): $(cat "$tmp/err")"
grep -qE '^rowsums +holds' "$tmp/out" || fail "rowsums does not hold: $(cat "$tmp/out")"
grep -qE '^rowsorted +holds' "$tmp/out" || fail "rowsorted does not hold: $(cat "$tmp/out")"
grep -qE '^rowwrong +violated' "$tmp/out" || fail "rowwrong is not violated: $(cat "$tmp/out")"
echo "constrained_arrays: $failures failures"
[ "$failures" = 0 ]

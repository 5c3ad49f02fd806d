#!/usr/bin/env bash
# `chassis verify --property A --property B` proves just those properties (in the file's order,
# no asserts or range obligations); `--only-file` leaves out what imported files declare
# (their properties and their modules' asserts); unknown names and an all-imported selection
# are located errors (exit 2).
# Usage: verify_selection.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$tmp" || exit 1
cat >lib.chs <<'M'
module Half(x: real in [0, 10]) -> (y: real) {
    assert(x >= 0.0);
    y = x / 2.0;
}
property half_small: forall x in [0, 10]: Half(x) <= 5.0;
M
cat >main.chs <<'M'
import "lib.chs";
module Twice(x: real in [0, 4]) -> (y: real) {
    y = Half(x) * 4.0;
}
property twice_small: forall x in [0, 4]: Twice(x) <= 8.0;
property twice_tight: forall x in [0, 4]: Twice(x) <= 7.0;
property twice_positive: forall x in [0, 4]: Twice(x) >= 0.0;
M
rows() { awk 'NR > 1 { print $1 }' "$1" | tr '\n' ' '; }

"$chassis" verify main.chs >all.out
[ $? = 1 ] || fail "all: exit code"
[ "$(rows all.out)" = "half_small twice_small twice_tight twice_positive assert@Half:2 range@Twice:3:5 " ] ||
  fail "all rows: $(rows all.out)"

"$chassis" verify main.chs --only-file >own.out
[ $? = 1 ] || fail "--only-file: exit code"
[ "$(rows own.out)" = "twice_small twice_tight twice_positive range@Twice:3:5 " ] ||
  fail "--only-file rows: $(rows own.out)"

# Several --property, given in any order and before the file: the file's order.
"$chassis" verify --property twice_positive main.chs --property half_small >two.out
[ $? = 0 ] || fail "two properties: exit code"
[ "$(rows two.out)" = "half_small twice_positive " ] || fail "two properties: $(rows two.out)"
"$chassis" verify main.chs --property twice_tight --property twice_small --json >two.json
[ $? = 1 ] || fail "json: exit code"
grep -q '"property": \[' two.json || fail "json: options.property is not the list"
[ "$(grep -c '"verdict"' two.json)" = 2 ] || fail "json: not two results"

# With --only-file, a named imported property is left out; if all are, it is an error.
"$chassis" verify main.chs --only-file --property half_small --property twice_small >mixed.out ||
  fail "mixed"
[ "$(rows mixed.out)" = "twice_small " ] || fail "mixed: $(rows mixed.out)"
"$chassis" verify main.chs --only-file --property half_small 2>err.txt
[ $? = 2 ] || fail "all imported: exit code"
grep -q "declared in imported files" err.txt || fail "all imported: $(cat err.txt)"
"$chassis" verify main.chs --property nope 2>err.txt
[ $? = 2 ] || fail "unknown: exit code"
grep -q "^main.chs: error: no property named 'nope'" err.txt ||
  fail "unknown: $(cat err.txt)"
echo "verify_selection: ok"

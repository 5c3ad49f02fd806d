#!/usr/bin/env bash
# `chassis verify` on a terminal (run under script(1) for a pseudo-terminal): the verdict table's
# columns are fixed before the first row, wide enough for the names known up front, so every
# row's time column starts at the same place; a name longer than the widest column (48) is cut
# with "..." and printed whole on the next line. Off a terminal the table is the fixed-width one.
# Usage: verify_table_live.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v script >/dev/null || { echo "script(1) missing (bsdutils): skipped"; exit 0; }
cd "$tmp" || exit 1
long=a_property_name_well_beyond_the_widest_column_of_the_table
cat >m.chs <<M
module Id(x: real in [0, 4]) -> (y: real) {
    y = x;
}
property p: forall x in [0, 4]: Id(x) <= 4.0;
property a_longer_property_name_of_40_characters: forall x in [0, 4]: Id(x) >= 0.0;
property $long: forall x in [0, 4]: Id(x) <= 3.0;
M
script -qec "$chassis verify m.chs" /dev/null | tr -d '\r' >tty.out
cat tty.out
# The time column ("0.012s") starts at one column on every row.
cols=$(awk 'NR > 1 && match($0, / [0-9]+\.[0-9][0-9][0-9]s  /) { print RSTART }' tty.out | sort -u)
[ "$(echo "$cols" | wc -l)" = 1 ] && [ -n "$cols" ] || fail "time columns differ: $cols"
grep -q "^a_property_name_well_beyond_the_widest_column\.\.\. violated" tty.out || fail "long name not cut"
grep -qx "    property: $long" tty.out || fail "long name not printed whole"
grep -q '^a_longer_property_name_of_40_characters  *holds' tty.out || fail "40-character name"
# Off a terminal: the fixed 26-character layout, the whole name in its row.
"$chassis" verify m.chs >file.out
grep -q "^$long violated" file.out || fail "off-terminal layout changed: $(cat file.out)"
grep -q '^p                          holds' file.out || fail "off-terminal width changed"
echo "verify_table_live: ok"

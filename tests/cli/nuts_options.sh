#!/usr/bin/env bash
# `chassis infer --method nuts` with the settings Stan users expect: --adapt-delta (a higher target
# acceptance gives smaller step sizes), --max-depth (a low limit is hit, and warned about),
# --init (0 starts every chain at the origin); the sampler's per-chain state after the table and
# in JSON; the settings in the CmdStan CSV header; --timing on stderr; bad values and the settings
# with another method refused (exit 2).
# Usage: nuts_options.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
source "$(dirname "$0")/expect.sh"
I=(infer "$src/examples/eight_schools.chs" EightSchools --data "$src/examples/eight_schools.data.json"
  --method nuts --samples 200 --warmup 300 --seed 3)

meanStep() { # mean step size over the chains of a JSON result
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["results"][0]["sampler"]; print(sum(c["step_size"] for c in s)/len(s))' "$1"
}
"$chassis" "${I[@]}" --json >"$tmp/default.json" 2>"$tmp/err" || fail "default run: $(cat "$tmp/err")"
"$chassis" "${I[@]}" --json --adapt-delta 0.99 >"$tmp/high.json" 2>"$tmp/err" ||
  fail "--adapt-delta 0.99: $(cat "$tmp/err")"
d=$(meanStep "$tmp/default.json")
h=$(meanStep "$tmp/high.json")
python3 -c "import sys; sys.exit(0 if $h < $d else 1)" ||
  fail "--adapt-delta 0.99 gave mean step size $h, not below the default's $d"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["results"][0]; assert j["max_tree_depth"] == 10 and len(j["sampler"]) == 4' \
  "$tmp/default.json" || fail "JSON: max_tree_depth or sampler per chain missing"

# A maximum depth of 2: every transition stops there, and the table says so.
"$chassis" "${I[@]}" --max-depth 2 >"$tmp/depth.txt" 2>"$tmp/err" || fail "--max-depth 2: $(cat "$tmp/err")"
grep -q 'sampler (after warm-up; maximum tree depth 2)' "$tmp/depth.txt" || fail "no sampler table"
grep -q 'stopped at the maximum tree depth 2' "$tmp/depth.txt" || fail "no max-depth warning"
[ "$(grep -cE '^  [1-4] ' "$tmp/depth.txt")" = 4 ] || fail "not one sampler row per chain"

# --init 0 is a different (deterministic) start: the same seed twice gives the same output.
"$chassis" "${I[@]}" --init 0 >"$tmp/i1.txt" 2>/dev/null || fail "--init 0 failed"
"$chassis" "${I[@]}" --init 0 >"$tmp/i2.txt" 2>/dev/null
cmp -s "$tmp/i1.txt" "$tmp/i2.txt" || fail "--init 0 is not reproducible"
"$chassis" "${I[@]}" >"$tmp/i3.txt" 2>/dev/null
! cmp -s "$tmp/i1.txt" "$tmp/i3.txt" || fail "--init 0 changed nothing"

# The settings reach the CmdStan CSV header.
"$chassis" "${I[@]}" --chains 1 --adapt-delta 0.9 --max-depth 7 --init 0.5 --output "$tmp/d.csv" \
  >/dev/null 2>"$tmp/err" || fail "--output: $(cat "$tmp/err")"
for line in '#       delta = 0.9' '#             max_depth = 7' '# init = 0.5'; do
  grep -qxF -- "$line" "$tmp/d.csv" || fail "d.csv lacks '$line'"
done

# --timing says how long NUTS took, on stderr.
"$chassis" "${I[@]}" --timing >/dev/null 2>"$tmp/err"
grep -q '^timing: nuts inference [0-9.]* ms' "$tmp/err" || fail "--timing printed: $(cat "$tmp/err")"

expect 2 "--adapt-delta must be in (0, 1)" -- "${I[@]}" --adapt-delta 1
expect 2 "--max-depth must be in [1, 30]" -- "${I[@]}" --max-depth 0
expect 2 "--init must be a finite radius" -- "${I[@]}" --init -1
expect 2 "settings of --method nuts" -- infer "$src/examples/eight_schools.chs" EightSchools \
  --data "$src/examples/eight_schools.data.json" --method mh --max-depth 5

[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "nuts_options: all checks passed"

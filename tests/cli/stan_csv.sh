#!/usr/bin/env bash
# `chassis infer --method nuts --output` and `chassis summary`: one CmdStan CSV file per chain
# (draws_1.csv ... for several chains, the given name for one), CmdStan's header, columns,
# adaptation and timing blocks; the same seed gives the same draws; `chassis summary` on the files
# prints the table `chassis infer` printed; --output with another method and malformed files are
# refused (exit 2) with located errors, and nothing is written for a refused run.
# Usage: stan_csv.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
source "$(dirname "$0")/expect.sh"
I=(infer "$src/examples/eight_schools.chs" EightSchools --data "$src/examples/eight_schools.data.json"
  --method nuts --samples 200 --warmup 200 --seed 7)

# Four chains: draws_1.csv ... draws_4.csv, no draws.csv.
"$chassis" "${I[@]}" --chains 4 --output "$tmp/draws.csv" >"$tmp/infer.txt" 2>"$tmp/err" ||
  fail "infer --output: exit $?: $(cat "$tmp/err")"
for c in 1 2 3 4; do [ -f "$tmp/draws_$c.csv" ] || fail "draws_$c.csv not written"; done
[ ! -e "$tmp/draws.csv" ] || fail "draws.csv written besides the per-chain files"
f=$tmp/draws_2.csv
cols='lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,mu,tau,theta.1,theta.2,theta.3,theta.4,theta.5,theta.6,theta.7,theta.8'
[ "$(grep -v '^#' "$f" | head -1)" = "$cols" ] || fail "column header: $(grep -v '^#' "$f" | head -1)"
for line in '# model = EightSchools' '# method = sample (Default)' '#     num_samples = 200' \
  '#     num_warmup = 200' '#             max_depth = 10 (Default)' '#       delta = 0.8 (Default)' \
  '# id = 2' '#   seed = 7' '#     num_chains = 4' '# Adaptation terminated' \
  '# Diagonal elements of inverse mass matrix:'; do
  grep -qxF -- "$line" "$f" || fail "draws_2.csv lacks the line '$line'"
done
grep -q '^# Step size = [0-9.e+-]*$' "$f" || fail "no step size line"
grep -q '^#  Elapsed Time: [0-9.e+-]* seconds (Warm-up)$' "$f" || fail "no timing block"
grep -q '^#  *[0-9.e+-]* seconds (Sampling)$' "$f" || fail "no sampling time"
# 200 draws of 17 values each; the metric has one entry per unconstrained coordinate (mu, tau,
# theta_trans[0..7]).
[ "$(grep -vc '^#' "$f")" = 201 ] || fail "expected header + 200 rows, got $(grep -vc '^#' "$f") lines"
[ "$(grep -v '^#' "$f" | awk -F, '{print NF}' | sort -u)" = 17 ] || fail "rows of varying width"
metric=$(grep -A1 -F '# Diagonal elements of inverse mass matrix:' "$f" | tail -1)
[ "$(echo "$metric" | tr ',' '\n' | wc -l)" = 10 ] || fail "metric line: $metric"
# %.17g: the values carry 17 significant digits (CmdStan's default would be 6).
mu=$(grep -v '^#' "$f" | sed -n 2p | cut -d, -f8)
[ "$(echo "$mu" | sed 's/e.*//; s/[-.]//g; s/^0*//' | tr -d '\n' | wc -c)" -ge 15 ] ||
  fail "mu not written with full precision: $mu"

# `chassis summary` on the four files prints infer's table (infer's first line names the module).
"$chassis" summary "$tmp"/draws_{1,2,3,4}.csv >"$tmp/summary.txt" 2>"$tmp/err" ||
  fail "summary: exit $?: $(cat "$tmp/err")"
tail -n +2 "$tmp/infer.txt" | diff - "$tmp/summary.txt" >"$tmp/diff" ||
  fail "summary differs from infer's table: $(cat "$tmp/diff")"
grep -q '^theta\[7\] ' "$tmp/summary.txt" || fail "summary lacks theta[7]"
"$chassis" summary --json "$tmp"/draws_{1,2,3,4}.csv | grep -q '"name": "theta\[0\]"' ||
  fail "summary --json lacks theta[0]"

# The same seed gives the same draws (the timing comments aside).
"$chassis" "${I[@]}" --chains 4 --output "$tmp/again.csv" >/dev/null 2>&1
diff <(grep -v '^#' "$tmp/draws_3.csv") <(grep -v '^#' "$tmp/again_3.csv") >/dev/null ||
  fail "the same seed gave different draws"

# One chain: the file as named.
"$chassis" "${I[@]}" --chains 1 --output "$tmp/one.csv" >/dev/null 2>&1 || fail "--chains 1 failed"
[ -f "$tmp/one.csv" ] && [ ! -e "$tmp/one_1.csv" ] || fail "--chains 1 did not write one.csv itself"

# Thinning: CmdStan's num_samples counts iterations, so --samples 50 --thin 2 is num_samples = 100
# with 50 rows (what CmdStanPy checks: ceil(num_samples / thin) draws).
"$chassis" "${I[@]:0:7}" --samples 50 --warmup 200 --seed 7 --chains 1 --thin 2 --output "$tmp/thin.csv" >/dev/null 2>&1 ||
  fail "--thin 2 failed"
grep -qxF '#     num_samples = 100' "$tmp/thin.csv" || fail "thinned num_samples"
grep -qxF '#     thin = 2' "$tmp/thin.csv" || fail "thinned thin"
[ "$(grep -vc '^#' "$tmp/thin.csv")" = 51 ] || fail "thinned: expected 50 rows"

expect 2 "error: --output writes CmdStan's sampler CSV, which only --method nuts produces" -- \
  infer "$src/examples/eight_schools.chs" EightSchools --data "$src/examples/eight_schools.data.json" \
  --method mh --output "$tmp/mh.csv"
[ ! -e "$tmp/mh.csv" ] && [ ! -e "$tmp/mh_1.csv" ] || fail "a refused run wrote a file"
expect 2 "error:" -- "${I[@]}" --output "$tmp/no/such/dir/draws.csv"

printf '# model = m\nlp__,mu\n0,1\n0,1,2\n' >"$tmp/ragged.csv"
expect 2 "ragged.csv:4:5: error: this row has 3 values, the header has 2 columns" -- summary "$tmp/ragged.csv"
printf 'lp__,mu\n0,1\n0,x1\n' >"$tmp/nan.csv"
expect 2 "nan.csv:3:3: error: 'x1' (column mu) is not a number" -- summary "$tmp/nan.csv"
printf 'mu,tau\n0,1\n' >"$tmp/nolp.csv"
expect 2 "nolp.csv:1:1: error: the header has no lp__ column" -- summary "$tmp/nolp.csv"
expect 2 "missing.csv: error: cannot open the file" -- summary "$tmp/missing.csv"
printf 'lp__,x\n0,1\n' >"$tmp/other.csv"
expect 2 "other.csv: error: its columns differ from those of" -- summary "$tmp/draws_1.csv" "$tmp/other.csv"

if [ "$failures" -gt 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "stan_csv: all checks passed"

#!/usr/bin/env bash
# `chassis infer --method nuts --metric dense` (the CmdStan CSV says metric = dense_e and holds the
# full inverse mass matrix, which `chassis summary` reads back) and `--method smc` with its
# rejuvenation settings (--smc-moves 0 changes the draws; the log evidence comes with a standard
# error); unknown values and settings of another method refused (exit 2).
# Usage: infer_metric_smc.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
source "$(dirname "$0")/expect.sh"
M=("$src/examples/eight_schools.chs" EightSchools --data "$src/examples/eight_schools.data.json")

"$chassis" infer "${M[@]}" --method nuts --metric dense --chains 1 --samples 200 --warmup 300 \
  --seed 2 --output "$tmp/d.csv" >/dev/null 2>"$tmp/err" || fail "--metric dense: $(cat "$tmp/err")"
grep -qxF '#         metric = dense_e' "$tmp/d.csv" || fail "d.csv lacks metric = dense_e"
grep -qxF '# Elements of inverse mass matrix:' "$tmp/d.csv" || fail "d.csv lacks the dense matrix"
# Ten unconstrained parameters: ten rows of ten after the header line.
rows=$(sed -n '/^# Elements of inverse mass matrix:/,/^[^#]/p' "$tmp/d.csv" | grep -c '^# .*, ')
[ "$rows" = 10 ] || fail "the dense matrix has $rows rows, expected 10"
"$chassis" summary "$tmp/d.csv" >"$tmp/s.txt" 2>"$tmp/err" || fail "summary of d.csv: $(cat "$tmp/err")"
grep -q '^mu ' "$tmp/s.txt" || fail "summary lacks mu"
"$chassis" infer "${M[@]}" --method nuts --metric diag --chains 1 --samples 100 --warmup 100 \
  --output "$tmp/g.csv" >/dev/null 2>&1 || fail "--metric diag failed"
grep -qxF '#         metric = diag_e (Default)' "$tmp/g.csv" || fail "g.csv lacks metric = diag_e"

S=(infer "${M[@]}" --method smc --samples 500 --seed 4 --query mu,tau,theta)
"$chassis" "${S[@]}" >"$tmp/smc.txt" 2>"$tmp/err" || fail "smc: $(cat "$tmp/err")"
grep -q 'log P(evidence) = .* standard error [0-9.e-]* (Lee-Whiteley' "$tmp/smc.txt" ||
  fail "smc output lacks the standard error: $(cat "$tmp/smc.txt")"
"$chassis" "${S[@]}" --smc-moves 0 >"$tmp/smc0.txt" 2>/dev/null || fail "--smc-moves 0 failed"
! cmp -s "$tmp/smc.txt" "$tmp/smc0.txt" || fail "--smc-moves 0 changed nothing"
"$chassis" "${S[@]}" --smc-lag 3 --json >"$tmp/smc.json" 2>/dev/null || fail "--smc-lag 3 failed"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))["results"][0]; r=j["rejuvenation_accept_rate"]; assert 0 < r < 1, r; assert j["log_evidence_se"] > 0' \
  "$tmp/smc.json" || fail "JSON: rejuvenation_accept_rate or log_evidence_se wrong"

expect 2 "unknown --metric 'full'" -- infer "${M[@]}" --method nuts --metric full
expect 2 "--metric is a setting of --method nuts" -- infer "${M[@]}" --method mh --metric dense
expect 2 "settings of --method smc" -- infer "${M[@]}" --method nuts --smc-moves 1

[ "$failures" = 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "infer_metric_smc: all checks passed"

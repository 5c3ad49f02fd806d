#!/usr/bin/env bash
# `chassis infer --output` read by a real reader of CmdStan's CSV: rstan's read_stan_csv (Debian's
# r-cran-rstan). The draws of two NUTS chains are read back whole (400 draws), and rstan's mean and
# sd of every parameter equal the ones `chassis infer` printed (to the 4 significant digits it
# prints), with Stan's names (theta[1] for chassis' theta[0]). Exit 77 (skipped) where R or rstan
# is not installed: scripts/deps does not install it (Stan is a benchmark peer, bench/nuts installs
# it), so this runs where a user has rstan.
# Usage: stan_csv_rstan.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
source "$(dirname "$0")/expect.sh"
command -v Rscript >/dev/null || { echo "skipped: no Rscript"; exit 77; }
Rscript -e 'suppressMessages(library(rstan))' >/dev/null 2>&1 || { echo "skipped: no rstan"; exit 77; }

"$chassis" infer "$src/examples/eight_schools.chs" EightSchools \
  --data "$src/examples/eight_schools.data.json" --method nuts --samples 200 --warmup 200 \
  --seed 7 --chains 2 --output "$tmp/draws.csv" >"$tmp/summary.txt" 2>/dev/null ||
  fail "infer --output"
Rscript -e 'suppressMessages(library(rstan)); f <- commandArgs(TRUE)
fit <- read_stan_csv(f); s <- summary(fit)$summary
cat(sprintf("%s %.17g %.17g %d\n", rownames(s), s[,"mean"], s[,"sd"], nrow(as.matrix(fit))), sep="")' \
  "$tmp/draws_1.csv" "$tmp/draws_2.csv" >"$tmp/rstan.txt" 2>"$tmp/rstan.err" ||
  fail "read_stan_csv: $(cat "$tmp/rstan.err")"
python3 - "$tmp/summary.txt" "$tmp/rstan.txt" <<'PY' || fail "rstan and chassis disagree"
import re, sys
ours = {}
for line in open(sys.argv[1]):
    m = re.match(r"^(\w+)(?:\[(\d+)\])?\s+(\S+)\s+(\S+)\s", line)
    if m and m.group(1) not in ("quantity", "module", "method"):
        try:
            name = m.group(1) + ("" if m.group(2) is None else "[%d]" % (int(m.group(2)) + 1))
            ours[name] = (float(m.group(3)), float(m.group(4)))
        except ValueError:
            pass
theirs = {}
for line in open(sys.argv[2]):
    name, mean, sd, n = line.split()
    theirs[name] = (float(mean), float(sd), int(n))
params = ["mu", "tau"] + ["theta[%d]" % i for i in range(1, 9)]
bad = 0
for p in params:
    if p not in ours or p not in theirs:
        print("missing", p, p in ours, p in theirs); bad += 1; continue
    if theirs[p][2] != 400:
        print(p, "rstan read", theirs[p][2], "draws, expected 400"); bad += 1
    for k, what in ((0, "mean"), (1, "sd")):
        a, b = ours[p][k], theirs[p][k]
        # chassis prints 4 significant digits: half a unit of the 4th digit, and a little more
        if abs(a - b) > 6e-4 * max(abs(a), abs(b)) + 1e-12:
            print(p, what, "chassis", a, "rstan", b); bad += 1
print("compared", len(params), "parameters")
sys.exit(1 if bad else 0)
PY
[ "$failures" = 0 ] && echo "stan_csv_rstan: ok" || { echo "stan_csv_rstan: $failures failure(s)"; exit 1; }

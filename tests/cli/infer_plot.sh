#!/usr/bin/env bash
# `chassis infer --plot out.html`: one self-contained page (inline SVG, no script, no external
# resource) with a trace plot per quantity (one polyline per chain, every draw) and a density
# (a weighted KDE for lw/smc, bars for discrete quantities); refused for --method exact and for an
# unwritable path before any sampling.
# Usage: infer_plot.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
source "$(dirname "$0")/expect.sh"
schools=(infer "$src/examples/eight_schools.chs" EightSchools --data "$src/examples/eight_schools.data.json")

"$chassis" "${schools[@]}" --method nuts --samples 400 --warmup 300 --chains 3 --seed 2 \
  --query mu,tau --plot "$tmp/nuts.html" >/dev/null 2>"$tmp/err" || fail "nuts --plot: $(cat "$tmp/err")"
python3 - "$tmp/nuts.html" <<'PY' || fail "nuts --plot: the page"
import re, sys, xml.etree.ElementTree as ET
h = open(sys.argv[1]).read()
assert h.startswith("<!DOCTYPE html>"), h[:40]
# Self-contained: no script, no external reference (the SVG namespace is a name, not a fetch).
assert "<script" not in h and "src=" not in h and "href" not in h and "@import" not in h
assert re.sub(r'xmlns="http://www.w3.org/2000/svg"', "", h).find("http") < 0
svgs = re.findall(r"<svg.*?</svg>", h, re.S)
assert len(svgs) == 4, len(svgs)  # mu and tau: a trace and a density each
ns = {"s": "http://www.w3.org/2000/svg"}
for name, trace, dens in [("mu", svgs[0], svgs[1]), ("tau", svgs[2], svgs[3])]:
    t, d = ET.fromstring(trace), ET.fromstring(dens)
    assert t.get("aria-label") == "trace of " + name and d.get("aria-label") == "density of " + name
    chains = t.findall("s:polyline", ns)
    assert len(chains) == 3, len(chains)
    for c in chains:
        assert len(c.get("points").split()) == 400, len(c.get("points").split())
    line = d.findall("s:polyline", ns)
    assert len(line) == 1 and len(line[0].get("points").split()) == 200
PY

# lw: weighted draws, no trace; a bool quantity as bars of its two values.
"$chassis" infer "$src/examples/sprinkler.chs" WetGrass --method lw --samples 3000 --seed 1 \
  --plot "$tmp/lw.html" >/dev/null 2>"$tmp/err" || fail "lw --plot: $(cat "$tmp/err")"
grep -q "importance-weighted: no trace" "$tmp/lw.html" || fail "lw --plot: no weighting note"
grep -q 'aria-label="trace of' "$tmp/lw.html" && fail "lw --plot: a trace of weighted draws"
[ "$(grep -c 'class="bar"' "$tmp/lw.html")" -ge 2 ] || fail "lw --plot: no bars for bool quantities"

expect 2 "--method exact has no draws" -- infer "$src/examples/sprinkler.chs" WetGrass --method exact \
  --plot "$tmp/x.html"
[ -e "$tmp/x.html" ] && fail "exact --plot wrote a file"
expect 2 "cannot write here" -- "${schools[@]}" --method mh --samples 10 --plot "$tmp/no/such/p.html"

echo "infer_plot: $failures failure(s)"
[ "$failures" = 0 ]

#!/usr/bin/env bash
# `chassis regions`: decision regions of a module and of the network compile-net makes of it.
# The SVG is parsed here: every cell's colour must be the legend colour of the class that an
# independent formula of the module (in awk) gives at the cell's centre; the cells must be the
# N x N grid centres. Also: the sign of a real output, axis names and class names from a trained
# network's metadata, the point overlay, HTML output, and located errors for bad options.
# Usage: regions.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$2
ctl=$src/tests/data/compile/controller.chs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cd "$tmp" || exit 1

# check_cells SVG N XLO XHI YLO YHI AWK_EXPR: the class of cell (x, y) is AWK_EXPR (0/1/...).
check_cells() {
  local svg=$1 n=$2 xlo=$3 xhi=$4 ylo=$5 yhi=$6 expr=$7
  awk -v n="$n" -v xlo="$xlo" -v xhi="$xhi" -v ylo="$ylo" -v yhi="$yhi" '
    function attr(s, a,   r) { if (match(s, a "=\"[^\"]*\"")) { r = substr(s, RSTART + length(a) + 2, RLENGTH - length(a) - 3); return r } return "" }
    /class="legend"/ { colour[attr($0, "data-legend-class")] = attr($0, "fill") }
    /class="cell"/ { ++cells; x = attr($0, "data-x") + 0; y = attr($0, "data-y") + 0; fill = attr($0, "fill")
      # the centre lies on the grid
      i = (x - xlo) / (xhi - xlo) * n - 0.5; j = (y - ylo) / (yhi - ylo) * n - 0.5
      if (i < -1e-9 || i > n - 1 + 1e-9 || (i - int(i + 0.5)) ^ 2 > 1e-12 || (j - int(j + 0.5)) ^ 2 > 1e-12) { print "off-grid cell " x "," y; bad = 1 }
      seen[int(i + 0.5) "," int(j + 0.5)] = 1
      xs[cells] = x; ys[cells] = y; fills[cells] = fill }
    END {
      if (cells != n * n) { print "cells: " cells " != " n * n; exit 1 }
      if (length(seen) != n * n) { print "repeated cells"; exit 1 }
      for (c = 1; c <= cells; ++c) { x = xs[c]; y = ys[c]; want = '"$expr"'
        if (!(want in colour)) { print "no legend for class " want; exit 1 }
        if (fills[c] != colour[want]) { print "cell (" x ", " y ") painted " fills[c] ", class " want " is " colour[want]; ++wrong } }
      exit bad || wrong > 0 }' "$svg"
}

# The controller's brake (tests/data/compile/controller.chs): x = speed, y = dist.
brake='((y < 2 * x + 5) || (x >= 25 && y - x < 40)) ? 1 : 0'
"$chassis" regions "$ctl" --module Ctl --grid 24 -o module.svg >module.out ||
  fail "module regions: $(cat module.out)"
cat module.out
grep -q '^regions: 24 x 24 cells over speed in \[0, 40\] and dist in \[0, 100\]; brake: false [0-9]*, true [0-9]*$' module.out ||
  fail "module summary"
check_cells module.svg 24 0 40 0 100 "$brake" || fail "module cells"

# The exact ReLU network compiled from it: outputs (accel, brake=false, brake=true).
"$chassis" compile-net "$ctl" Ctl -o ctl.onnx >/dev/null || fail "compile-net"
"$chassis" regions ctl.onnx --box 'x[0]=0:40' --box 'x[1]=0:100' --show 1..2 --grid 24 \
  -o net.svg >net.out || fail "network regions: $(cat net.out)"
check_cells net.svg 24 0 40 0 100 "$brake" || fail "network cells"
# The sign of the real output accel, from the module and from the network's output 0.
accel='((y < 2 * x + 5) ? -3 - 0.1 * x : (x < 25 ? 1.5 : 0.5 * (30 - x))) > 0 ? 1 : 0'
"$chassis" regions "$ctl" --module Ctl --show accel --grid 16 -o accel.svg >/dev/null ||
  fail "--show accel"
check_cells accel.svg 16 0 40 0 100 "$accel" || fail "module accel cells"
"$chassis" regions ctl.onnx --box 'x[0]=0:40' --box 'x[1]=0:100' --show 0 --grid 16 \
  -o accel_net.svg >/dev/null || fail "network --show 0"
check_cells accel_net.svg 16 0 40 0 100 "$accel" || fail "network accel cells"
# A sub-box, swapped axes, and a fixed input: x = dist, y = speed.
"$chassis" regions "$ctl" --module Ctl --x dist --y speed --box speed=20:40 --grid 10 \
  -o swapped.html >/dev/null || fail "swapped axes"
head -1 swapped.html | grep -q '<!DOCTYPE html>' || fail "html output"
check_cells swapped.html 10 0 100 20 40 '((x < 2 * y + 5) || (y >= 25 && x - y < 40)) ? 1 : 0' ||
  fail "swapped cells"

# Names from a trained network's metadata; the point overlay.
"$chassis" train "$src/examples/braking_task.chs" --inputs Controller --label Advisor.action \
  --widths 4 --epochs 1 --samples 200 --seed 1 -o adv.onnx >/dev/null 2>&1 || fail "train"
"$chassis" regions adv.onnx --grid 8 --point reading=50,speed=20 -o adv.svg >adv.out ||
  fail "regions of a trained net"
grep -q 'over reading in \[0, 200\] and speed in \[0, 40\]; argmax of the outputs: Coast' adv.out ||
  fail "metadata names: $(cat adv.out)"
grep -q '>reading</text>' adv.svg || fail "x axis label"
grep -q '<circle class="point"' adv.svg || fail "no point drawn"
grep -q 'Emergency (' adv.svg || fail "class names in the legend"

# Errors: exit 2 with a message, no file written.
expect_error() { # MESSAGE ARGS...
  local msg=$1
  shift
  "$chassis" regions "$@" >/dev/null 2>err.txt
  local rc=$?
  [ $rc = 2 ] || fail "regions $*: exit $rc, not 2"
  grep -q -- "$msg" err.txt || fail "regions $*: '$(cat err.txt)' lacks '$msg'"
}
expect_error "needs --module" "$ctl" -o e.svg
expect_error "no input so named" "$ctl" --module Ctl --x nope -o e.svg
expect_error "has no range to plot" ctl.onnx -o e.svg
expect_error "leaves the declared range" "$ctl" --module Ctl --box speed=-5:10 -o e.svg
expect_error "--grid must be in 2..400" "$ctl" --module Ctl --grid 1 -o e.svg
expect_error "no module 'Nope'" "$ctl" --module Nope -o e.svg
cat >rand.chs <<'M'
module R(a: real in [0, 1], b: real in [0, 1]) -> (c: bool) {
    z ~ Normal(0.0, 1.0);
    c = a + z > b;
}
M
expect_error "draws random values" rand.chs --module R -o e.svg
[ ! -e e.svg ] || fail "a failed run wrote its file"
echo "regions: ok"

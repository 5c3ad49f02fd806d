#!/usr/bin/env bash
# `chassis compile`: the batched entry chassis_M_batch(in, out, rows) of a compiled network (the
# braking Policy, 2-16-16-2 in tiles of rows; an ACAS Xu network, 5-50x6-5) and of a module (the
# braking Controller, a loop over the row function) gives, for 37 rows (two tiles and a tail),
# every row's outputs of the one-row function bit for bit (printed with %a); a row that fails (a
# NaN input, an input out of range) makes it return that row's code, in a tile or in the tail.
# Usage: compile_batch.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
src=$(cd "$2" && pwd)
source "$(dirname "$0")/expect.sh"
cat >"$tmp/acas.chs" <<CHS
network Acas(x: real[5]) -> (y: real[5]) = onnx("$src/tests/data/acasxu/ACASXU_run2a_1_1_batch_2000.onnx");
CHS

# A C program: NIN NOUT fixed by the header; argv: BAD-ROW (-1: none) BAD-VALUE. Fills 37 rows
# with pseudo-random inputs in [LO, HI], runs the batch and each row alone, prints both with %a.
program() { # NAME SYMBOL-UPPER LO HI
  cat >"$tmp/$1.c" <<C
#include "$1.h"
#include <stdio.h>
#include <stdlib.h>
#define ROWS 37
int main(int argc, char** argv) {
  enum { NIN = ${2}_NUM_INPUTS, NOUT = ${2}_NUM_OUTPUTS };
  static double in[ROWS * NIN], out[ROWS * NOUT], one[NOUT];
  if (argc != 3) return 100;
  unsigned long long s = 12345;
  for (int i = 0; i < ROWS * NIN; ++i) {
    s = (s * 1103515245ull + 12345ull) % 2147483648ull;
    in[i] = $3 + ($4 - $3) * ((double)s / 2147483648.0);
  }
  int bad = atoi(argv[1]);
  if (bad >= 0) in[bad * NIN] = atof(argv[2]);
  int rc = $5_batch(in, out, ROWS);
  printf("batch rc %d\n", rc);
  if (rc != 0) {
    for (int r = 0; r < ROWS; ++r) {
      int rr = $5(in + r * NIN, one);
      if (rr != 0) { printf("first failing row %d rc %d\n", r, rr); break; }
    }
    return 0;
  }
  for (int r = 0; r < ROWS; ++r) {
    int rr = $5(in + r * NIN, one);
    if (rr != 0) { printf("row %d alone rc %d\n", r, rr); return 0; }
    for (int k = 0; k < NOUT; ++k)
      if (*(unsigned long long*)&one[k] != *(unsigned long long*)&out[r * NOUT + k])
        printf("row %d output %d: batch %a alone %a\n", r, k, out[r * NOUT + k], one[k]);
  }
  printf("rows %d\n", ROWS);
  return 0;
}
C
}
build() { # FILE MODULE NAME SYMBOL-UPPER LO HI
  "$chassis" compile "$1" "$2" -o "$tmp/$3.o" --header "$tmp/$3.h" || fail "compile $2: exit $?"
  grep -qF "int chassis_$2_batch(const double* in, double* out, size_t rows);" "$tmp/$3.h" ||
    fail "$3.h: no batch prototype"
  program "$3" "$4" "$5" "$6" "chassis_$2"
  cc -std=c11 -O1 -Wall -Werror -fno-strict-aliasing -o "$tmp/$3" "$tmp/$3.c" "$tmp/$3.o" \
    -I"$tmp" -lm || fail "cc could not build $3 against the object and header"
}
build "$src/examples/braking.chs" Policy policy CHASSIS_POLICY 0 100
build "$tmp/acas.chs" Acas acas CHASSIS_ACAS -0.5 0.5
build "$src/examples/braking.chs" Controller controller CHASSIS_CONTROLLER 0 40

for m in policy acas controller; do
  got=$("$tmp/$m" -1 0)
  [ "$got" = "$(printf 'batch rc 0\nrows 37')" ] || fail "$m: $got"
done
# a NaN input in a tile (row 20) and in the tail (row 33): the batch returns the row's code, 1
for m in policy acas controller; do
  for row in 20 33; do
    got=$("$tmp/$m" "$row" nan)
    [ "$got" = "$(printf 'batch rc 1\nfirst failing row %d rc 1' "$row")" ] ||
      fail "$m, NaN at row $row: $got"
  done
done
# Controller: an input out of its range [0, 200] at row 3
got=$("$tmp/controller" 3 250)
[ "$got" = "$(printf 'batch rc 1\nfirst failing row 3 rc 1')" ] || fail "controller, 250 at row 3: $got"

[ "$failures" = 0 ] && echo "compile_batch: all checks passed"
exit $((failures > 0))

#!/usr/bin/env bash
# Random modules on the JIT from the command line: `infer --method mh --backend jit` prints the
# interpreter's output byte for byte (table and --json, default query, a query of choices, two
# seeds), as does `--method lw` with a query of choices; `run --backend jit` of a random module
# prints the interpreter's run (trace included) and its error, a deterministic one's too; the methods not compiled say so;
# infer's default backend (auto) compiles where it pays and prints the same output.
# Usage: backend_jit_random.sh CHASSIS SOURCE_DIR
set -u
chassis=$1
source "$(dirname "$0")/expect.sh"
cat >"$tmp/m.chs" <<'CHS'
module Noise(s: real) -> (e: real) {
    e ~ Normal(0.0, s);
}
module Track() -> (total: real) {
    k ~ Poisson(1.5);
    var theta: real[2];
    var s: real = 0.0;
    for i in 0..2 {
        theta[i] ~ Normal(0.0, 1.0);
        let m = theta[i] + Noise(0.5);
        observe(Normal(m, 1.0), 0.7);
        s = s + theta[i];
    }
    if k > 1 {
        extra ~ Gamma(2.0, 1.0);
        s = s + extra;
    }
    total = s;
}
module At(m: real[2, 3], i: int, j: int) -> (y: real) {
    y = m[0, 0] + m[i, j];
}
module Fails(c: real) -> (y: real) {
    a ~ Normal(0.0, 1.0);
    y = log(a + c);
}
CHS
same() { # DESCRIPTION ARGS...: the interpreter's and the JIT's stdout and exit code agree
  local what=$1
  shift
  "$chassis" "$@" --backend interp >"$tmp/a" 2>"$tmp/ae"
  local ra=$?
  "$chassis" "$@" --backend jit >"$tmp/b" 2>"$tmp/be"
  local rb=$?
  [ "$ra" = "$rb" ] || fail "$what: exit $ra (interp) vs $rb (jit): $(cat "$tmp/be")"
  # --json reports name the backend in their options; everything else must agree.
  sed -i 's/"backend": "[a-z]*"//' "$tmp/a" "$tmp/b"
  cmp -s "$tmp/a" "$tmp/b" || fail "$what: outputs differ: $(diff "$tmp/a" "$tmp/b" | head -5)"
  [ -s "$tmp/a" ] || [ "$ra" != 0 ] || fail "$what: no output"
}
for seed in 1 2; do
  same "mh seed $seed" infer "$tmp/m.chs" Track --method mh --samples 300 --warmup 200 --seed $seed
  same "mh choices seed $seed" infer "$tmp/m.chs" Track --method mh --samples 300 --warmup 200 \
    --seed $seed --query 'theta,extra,k,total'
  same "mh json seed $seed" infer "$tmp/m.chs" Track --method mh --samples 100 --warmup 100 \
    --seed $seed --json
  same "lw choices seed $seed" infer "$tmp/m.chs" Track --method lw --samples 2000 --seed $seed \
    --query 'theta,extra,total'
  same "run seed $seed" run "$tmp/m.chs" Track --seed $seed
  same "run json seed $seed" run "$tmp/m.chs" Track --seed $seed --json
done
same "run error" run "$tmp/m.chs" Fails --input c=-20 --seed 1
expect 1 "log of" -- run "$tmp/m.chs" Fails --input c=-20 --seed 1 --backend jit
# A failing deterministic run: the JIT reports the interpreter's error word for word (the
# matrix index's row or column named, located at the index).
for ij in "2 1" "1 3"; do
  set -- $ij
  for b in interp jit; do
    "$chassis" run "$tmp/m.chs" At --input 'm=[[1,2,3],[4,5,6]]' --input i=$1 --input j=$2 \
      --backend $b >/dev/null 2>"$tmp/err_$b"
    echo "rc=$?" >>"$tmp/err_$b"
  done
  cmp -s "$tmp/err_interp" "$tmp/err_jit" ||
    fail "run At i=$1 j=$2: errors differ: $(cat "$tmp/err_interp") vs $(cat "$tmp/err_jit")"
  grep -q "index $([ "$1" = 2 ] && echo 2 || echo 3) is out of range" "$tmp/err_jit" ||
    fail "run At i=$1 j=$2 --backend jit: $(cat "$tmp/err_jit")"
done
expect 2 "not compiled yet" -- infer "$tmp/m.chs" Track --method smc --backend jit
# The default backend is auto: MH compiled from 25,000 sweeps, interpreted below; the same
# output either way.
"$chassis" infer "$tmp/m.chs" Track --method mh --samples 30000 --warmup 100 --seed 3 --verbose \
  >"$tmp/auto_out" 2>"$tmp/auto_err" || fail "auto mh: $(cat "$tmp/auto_err")"
grep -q "^backend: jit, Track compiled by LLVM" "$tmp/auto_err" ||
  fail "default backend, 30,100 sweeps: not the JIT: $(cat "$tmp/auto_err")"
"$chassis" infer "$tmp/m.chs" Track --method mh --samples 30000 --warmup 100 --seed 3 \
  --backend interp >"$tmp/interp_out" 2>/dev/null || fail "interp mh"
cmp -s "$tmp/auto_out" "$tmp/interp_out" || fail "default backend: output differs from interp"
"$chassis" infer "$tmp/m.chs" Track --method mh --samples 300 --warmup 100 --seed 3 --verbose \
  >/dev/null 2>"$tmp/auto_err" || fail "auto mh short: $(cat "$tmp/auto_err")"
grep -q "^backend: interp (auto:" "$tmp/auto_err" ||
  fail "default backend, 400 sweeps: not the interpreter: $(cat "$tmp/auto_err")"
echo "backend_jit_random: $failures failures"
[ "$failures" = 0 ]

#!/usr/bin/env bash
# Forward throughput, Chassis vs ONNX Runtime (CPU, one thread), in one run, on:
#   an ACAS Xu network (batch 1) and a 784-256-256-10 MLP (batch 1 and 1024), float32.
# Each case runs REPEAT times (default 3), Chassis and the peer alternating; the medians are
# compared. Prints both figures, the ratio (Chassis rows/s over ONNX Runtime rows/s), and each
# side's GFLOP/s as a percentage of the measured float32 peak of one core (bench_forward --peak).
# The machine may be shared: wall-clock rates then fall with the load on both sides. So each case
# also gives CPU-time figures, what each engine does while it runs: Chassis's from its thread's
# CPU time (bench_forward's cpu_gflops, median), the peer's from its process's CPU time for
# 5 ITERS calls minus that for ITERS calls (the peer's forward.js run twice, unchanged; the
# difference cancels start-up, model loading and warm-up, whose CPU time varies by about 0.1 s).
# For the MLP at batch 1024 it also prints Chassis on its portable (Eigen, SSE2) path, the
# figure before the AVX-512/AVX2 kernels.
# ONNX Runtime: a copy of peers/onnxruntime installed once with `npm install --ignore-scripts`
# into $ORT_DIR (default /tmp/chassis-ort; created here if missing).
# Note: the peer is timed through its Node.js binding (async run() per call), so at batch 1 its
# figure includes the binding's per-call overhead; batch 1024 is the fairer kernel comparison.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench-neural}
ort=${ORT_DIR:-/tmp/chassis-ort}
peer=${PEER_DIR:-/work/shared/peers/onnxruntime}
repeat=${REPEAT:-3}
cmake -S "$root/bench/neural" -B "$build" >/dev/null
cmake --build "$build" -j2 >/dev/null
if [[ ! -d $ort/node_modules/onnxruntime-node ]]; then
  mkdir -p "$ort"
  cp "$peer/package.json" "$peer/forward.js" "$ort/"
  (cd "$ort" && npm install --ignore-scripts >/dev/null 2>&1)
fi
mlp=$build/mlp_784_256_256_10.onnx
"$build/bench_forward" --make-mlp "$mlp" 784,256,256,10 1
acas=$root/tests/data/acasxu/ACASXU_run2a_1_1_batch_2000.onnx

peakline=$("$build/bench_forward" --peak)
echo "$peakline" | head -1
peak=$(sed -n 's/.*peak_f32_gflops=\([0-9.]*\).*/\1/p' <<<"$peakline")

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ortcpu() { # NET BATCH ITERS -> user+system CPU seconds of one run of the peer's forward.js
  local TIMEFORMAT='%U %S' t
  t=$({ time (cd "$ort" && node forward.js "$1" "$2" "$3" >/dev/null); } 2>&1)
  awk '{ print $1 + $2 }' <<<"$t"
}

run() { # NET BATCH ITERS
  local c o cs=() os=() ccpu=() line_c line_o fpr mc mo mcc rows t1 t2
  for ((r = 0; r < repeat; r++)); do
    c=$("$build/bench_forward" "$1" "$2" "$3")
    o=$(cd "$ort" && node forward.js "$1" "$2" "$3")
    cs+=("$(field rows_per_s "$c")")
    os+=("$(field rows_per_s "$o")")
    ccpu+=("$(field cpu_gflops "$c")")
    line_c=$c
    line_o=$o
  done
  t1=$(ortcpu "$1" "$2" "$3")
  t2=$(ortcpu "$1" "$2" $(($3 * 5)))
  rows=$(field batch "$line_o")
  mcc=$(printf '%s\n' "${ccpu[@]}" | median)
  fpr=$(field flops_per_row "$line_c")
  mc=$(printf '%s\n' "${cs[@]}" | median)
  mo=$(printf '%s\n' "${os[@]}" | median)
  echo "$(basename "$1") batch=$2 ($repeat runs each; rows/s per run: chassis ${cs[*]}; onnxruntime ${os[*]})"
  echo "  last runs: $line_c"
  echo "             $line_o"
  awk -v a="$mc" -v b="$mo" -v f="$fpr" -v p="$peak" 'BEGIN {
    printf "  median: chassis %.0f rows/s = %.2f GFLOP/s = %.1f%% of peak; onnxruntime %.0f rows/s = %.2f GFLOP/s = %.1f%% of peak\n",
      a, a * f / 1e9, 100 * a * f / 1e9 / p, b, b * f / 1e9, 100 * b * f / 1e9 / p
    printf "  ratio chassis/onnxruntime = %.2f\n", a / b }'
  awk -v c="$mcc" -v t1="$t1" -v t2="$t2" -v n="$(($3 * 4))" -v r="$rows" -v f="$fpr" -v p="$peak" 'BEGIN {
    o = t2 > t1 ? r * n * f / (t2 - t1) / 1e9 : 0
    ratio = o > 0 ? c / o : 0
    printf "  CPU time: chassis %.2f GFLOP/s = %.1f%% of peak; onnxruntime %.2f GFLOP/s = %.1f%% of peak (%.2f s - %.2f s of CPU for %d more calls); ratio %.2f\n",
      c, 100 * c / p, o, 100 * o / p, t2, t1, n, ratio }'
}
run "$acas" 1 20000
run "$mlp" 1 5000
run "$mlp" 1024 50
p=$("$build/bench_forward" "$mlp" 1024 20 portable)
echo "for reference, Chassis's portable (Eigen, SSE2) path: $p"

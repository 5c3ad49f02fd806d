#!/usr/bin/env bash
# Training throughput, Chassis vs PyTorch (CPU, one thread, Adam, cross-entropy), same widths,
# batch and sample count, in one run, REPEAT times (default 3) alternating; the medians are
# compared. Prints both lines, the ratio of samples per second, and each side's GFLOP/s as a
# percentage of the measured peak of one core for its precision (Chassis trains in float64,
# PyTorch in float32; bench_forward --peak). On a shared machine wall-clock rates fall with the
# load, so CPU-time figures follow: Chassis's from its thread's CPU time (bench_train's
# cpu_gflops, median), PyTorch's from its process's CPU time for 3 epochs minus that for 1
# (train_mlp.py run twice, unchanged; the difference cancels start-up and data generation).
# PyTorch: Debian's python3-torch, run with /usr/bin/python3 (see peers/torch/README.md).
# Arguments: [WIDTHS=784,256,256,10] [BATCH=128] [SAMPLES=60000] [EPOCHS=3]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench-neural}
peer=${PEER_DIR:-/work/shared/peers/torch}
repeat=${REPEAT:-3}
widths=${1:-784,256,256,10}
batch=${2:-128}
samples=${3:-60000}
epochs=${4:-3}
cmake -S "$root/bench/neural" -B "$build" >/dev/null
cmake --build "$build" -j2 >/dev/null
peakline=$("$build/bench_forward" --peak)
echo "$peakline" | head -1
peak32=$(sed -n 's/.*peak_f32_gflops=\([0-9.]*\).*/\1/p' <<<"$peakline")
peak64=$(sed -n 's/.*peak_f64_gflops=\([0-9.]*\).*/\1/p' <<<"$peakline")
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
cs=()
ts=()
ccpu=()
for ((r = 0; r < repeat; r++)); do
  c=$("$build/bench_train" "$widths" "$batch" "$samples" "$epochs")
  if ! t=$(cd /tmp && /usr/bin/python3 "$peer/train_mlp.py" --widths "$widths" --batch "$batch" \
    --samples "$samples" --epochs "$epochs" --threads 1 2>&1); then
    echo "torch peer failed to run (is python3-torch installed?):"
    echo "$t" | tail -3
    exit 1
  fi
  cs+=("$(field samples_per_s "$c")")
  ccpu+=("$(field cpu_gflops "$c")")
  ts+=("$(field samples_per_s "$t")")
done
echo "$widths batch=$batch ($repeat runs each; samples/s per run: chassis ${cs[*]}; torch ${ts[*]})"
echo "  last runs: $c"
echo "             $t"
torchcpu() { # EPOCHS -> user+system CPU seconds of one run of the peer
  local TIMEFORMAT='%U %S' t
  t=$({ time (cd /tmp && /usr/bin/python3 "$peer/train_mlp.py" --widths "$widths" --batch "$batch" \
    --samples "$samples" --epochs "$1" --threads 1 >/dev/null 2>&1); } 2>&1)
  awk '{ print $1 + $2 }' <<<"$t"
}
t1=$(torchcpu 1)
t3=$(torchcpu 3)
fps=$(field flops_per_sample "$c")
mcc=$(printf '%s\n' "${ccpu[@]}" | median)
a=$(printf '%s\n' "${cs[@]}" | median)
b=$(printf '%s\n' "${ts[@]}" | median)
awk -v a="$a" -v b="$b" -v f="$fps" -v p64="$peak64" -v p32="$peak32" 'BEGIN {
  printf "  median: chassis %.0f samples/s = %.2f GFLOP/s = %.1f%% of the float64 peak; torch %.0f samples/s = %.2f GFLOP/s = %.1f%% of the float32 peak\n",
    a, a * f / 1e9, 100 * a * f / 1e9 / p64, b, b * f / 1e9, 100 * b * f / 1e9 / p32
  printf "  ratio chassis/torch (samples per second) = %.2f\n", a / b }'
awk -v c="$mcc" -v t1="$t1" -v t3="$t3" -v s="$samples" -v f="$fps" -v p64="$peak64" -v p32="$peak32" 'BEGIN {
  o = t3 > t1 ? 2 * s * f / (t3 - t1) / 1e9 : 0
  ratio = o > 0 ? c / o : 0
  printf "  CPU time: chassis %.2f GFLOP/s = %.1f%% of the float64 peak; torch %.2f GFLOP/s = %.1f%% of the float32 peak (%.2f s - %.2f s of CPU for 2 more epochs); ratio %.2f\n",
    c, 100 * c / p64, o, 100 * o / p32, t3, t1, ratio }'

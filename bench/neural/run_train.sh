#!/usr/bin/env bash
# Training throughput, Chassis vs PyTorch (CPU, one thread, Adam, cross-entropy), same widths,
# batch and sample count, in one run. Prints both lines and the ratio of samples per second.
# PyTorch: Debian's python3-torch, run with /usr/bin/python3 (see peers/torch/README.md).
# Arguments: [WIDTHS=784,256,256,10] [BATCH=128] [SAMPLES=60000] [EPOCHS=3]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench-neural}
peer=${PEER_DIR:-/work/shared/peers/torch}
widths=${1:-784,256,256,10}
batch=${2:-128}
samples=${3:-60000}
epochs=${4:-3}
cmake -S "$root/bench/neural" -B "$build" >/dev/null
cmake --build "$build" -j2 >/dev/null
c=$("$build/bench_train" "$widths" "$batch" "$samples" "$epochs")
echo "$c"
if ! t=$(cd /tmp && /usr/bin/python3 "$peer/train_mlp.py" --widths "$widths" --batch "$batch" \
  --samples "$samples" --epochs "$epochs" --threads 1 2>&1); then
  echo "torch peer failed to run (is python3-torch installed?):"
  echo "$t" | tail -3
  exit 1
fi
echo "$t"
a=$(sed -n 's/.*samples_per_s=\([0-9]*\).*/\1/p' <<<"$c")
b=$(sed -n 's/.*samples_per_s=\([0-9]*\).*/\1/p' <<<"$t")
awk -v a="$a" -v b="$b" 'BEGIN { printf "ratio chassis/torch (samples per second) = %.2f\n", a / b }'

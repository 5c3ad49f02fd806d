#!/usr/bin/env bash
# Forward throughput, Chassis vs ONNX Runtime (CPU, one thread), in one run, on:
#   an ACAS Xu network (batch 1) and a 784-256-256-10 MLP (batch 1 and 1024), float32.
# Prints both figures and the ratio (Chassis rows/s over ONNX Runtime rows/s) per case.
# ONNX Runtime: a copy of peers/onnxruntime installed once with `npm install --ignore-scripts`
# into $ORT_DIR (default /tmp/chassis-ort; created here if missing).
# Note: the peer is timed through its Node.js binding (async run() per call), so at batch 1 its
# figure includes the binding's per-call overhead; batch 1024 is the fairer kernel comparison.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$root/build-bench-neural}
ort=${ORT_DIR:-/tmp/chassis-ort}
peer=${PEER_DIR:-/work/shared/peers/onnxruntime}
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
ratio() { # $1 $2: lines with rows_per_s=
  local a b
  a=$(sed -n 's/.*rows_per_s=\([0-9]*\).*/\1/p' <<<"$1")
  b=$(sed -n 's/.*rows_per_s=\([0-9]*\).*/\1/p' <<<"$2")
  awk -v a="$a" -v b="$b" 'BEGIN { printf "ratio chassis/onnxruntime = %.2f\n", a / b }'
}
run() { # NET BATCH ITERS
  local c o
  c=$("$build/bench_forward" "$1" "$2" "$3")
  o=$(cd "$ort" && node forward.js "$1" "$2" "$3")
  echo "$c"
  echo "$o"
  ratio "$c" "$o"
}
run "$acas" 1 20000
run "$mlp" 1 5000
run "$mlp" 1024 50

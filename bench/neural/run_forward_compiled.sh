#!/usr/bin/env bash
# Network forward throughput of code compiled by LLVM (`chassis compile --cpu host`: the network
# as fused affine + ReLU loops over constant weights, float64, with the interpreter's checks),
# against the project's float32 GEMM kernels (bench_forward) and ONNX Runtime (one thread), in
# one run, on an ACAS Xu network (batch 1) and a 784-256-256-10 MLP (batch 1 and 1024); and the
# compile latency per model (wall time of the whole `chassis compile` process: reading the ONNX
# file, lowering, O2, code generation).
#   bench/neural/run_forward_compiled.sh      (CHASSIS=path/to/chassis, default build/tools/chassis)
# Each case runs once per engine; ratios are compiled / kernels and compiled / ONNX Runtime in
# rows per second. The compiled code computes in float64 (the semantics the verifier proves
# things about), the others in float32: the ratio says what the exported controller costs
# against the float32 engines, not a like-for-like kernel comparison. The compiled network is
# measured twice: row by row (ROWS calls of chassis_F per batch) and batched (one call of
# chassis_F_batch, which runs the layers over tiles of 16 rows); both ratios are printed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
chassis=${CHASSIS:-$root/build/tools/chassis}
build=${BUILD_DIR:-$root/build-bench-neural}
ort=${ORT_DIR:-/tmp/chassis-ort}
peer=${PEER_DIR:-/work/shared/peers/onnxruntime}
[[ -x $chassis ]] || { echo "no chassis binary at $chassis (build first, or set CHASSIS)" >&2; exit 2; }
cmake -S "$root/bench/neural" -B "$build" >/dev/null
cmake --build "$build" -j2 >/dev/null
if [[ ! -d $ort/node_modules/onnxruntime-node ]]; then
  mkdir -p "$ort"
  cp "$peer/package.json" "$peer/forward.js" "$ort/"
  (cd "$ort" && npm install --ignore-scripts >/dev/null 2>&1)
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mlp=$build/mlp_784_256_256_10.onnx
"$build/bench_forward" --make-mlp "$mlp" 784,256,256,10 1
acas=$root/tests/data/acasxu/ACASXU_run2a_1_1_batch_2000.onnx

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
seconds() { date +%s.%N; }

compile() { # NAME NET NIN NOUT -> $work/NAME/forward (prints the compile latencies)
  local d=$work/$1 t0 t1 t2
  mkdir -p "$d"
  cat >"$d/net.chs" <<CHS
network F(x: real[$3]) -> (y: real[$4]) = onnx("$2");
CHS
  t0=$(seconds)
  "$chassis" compile "$d/net.chs" F -o "$d/generic.o"
  t1=$(seconds)
  "$chassis" compile "$d/net.chs" F -o "$d/host.o" --header "$d/F.h" --cpu host
  t2=$(seconds)
  cc -O2 -std=c11 -D_POSIX_C_SOURCE=199309L -include "$d/F.h" -o "$d/forward" "$root/bench/neural/forward_compiled.c" \
    "$d/host.o" -lm
  awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$1" 'BEGIN {
    printf "%s: compile latency (whole chassis compile process) %.2f s generic CPU, %.2f s host CPU\n", n, b - a, c - b }'
}

run() { # NAME NET BATCH ITERS
  local c k o
  c=$("$work/$1/forward" "$3" "$4")
  k=$("$build/bench_forward" "$2" "$3" "$4")
  o=$(cd "$ort" && node forward.js "$2" "$3" "$4")
  echo "$1 batch=$3:"
  echo "$c" | sed 's/^/  /'
  echo "  $k"
  echo "  $o"
  local row batched
  row=$(field rows_per_s "$(grep '^compiled ' <<<"$c")")
  batched=$(field rows_per_s "$(grep '^compiled_batched ' <<<"$c")")
  awk -v c="$row" -v b="$batched" -v k="$(field rows_per_s "$k")" -v o="$(field rows_per_s "$o")" 'BEGIN {
    printf "  rows/s: compiled %.0f (batched %.0f), kernels %.0f, onnxruntime %.0f; ratio compiled/kernels %.2f (batched %.2f), compiled/onnxruntime %.2f (batched %.2f)\n",
      c, b, k, o, c / k, b / k, c / o, b / o }'
}

compile acas "$acas" 5 5
compile mlp "$mlp" 784 10
run acas "$acas" 1 20000
run mlp "$mlp" 1 2000
run mlp "$mlp" 1024 10

// Forward-pass throughput of Chassis's Network (float32, one thread, allocation-free Workspace),
// measured the way the ONNX Runtime peer (peers/onnxruntime/forward.js) measures it: the same
// pseudo-random float32 input batch, 100 warm-up calls, then ITERS timed calls (wall clock).
//   bench_forward NET.onnx BATCH ITERS [ISA]
//       -> "chassis NET batch=B rows_per_s=.. us_per_call=.. flops_per_row=.. gflops=.. isa=.."
//          ISA: auto (default: the best kernel the CPU has), portable (Eigen), avx2, avx512.
//          flops_per_row counts 2 per multiply-add of the Linear layers (bias, ReLU and
//          normalisation not counted), the usual GEMM convention, so the peer's rows/s converts
//          to GFLOP/s with the same factor. cpu_gflops divides by this thread's CPU time
//          instead of wall time (what the kernel achieves while it runs, on a shared machine).
//   bench_forward --peak   -> the measured peak of one core (bench/neural/peak.h), and
//                             "peak_f32_gflops=.. peak_f64_gflops=.." for the scripts
//   bench_forward --make-mlp OUT.onnx 784,256,256,10 SEED
//                                           -> writes an MLP with He-initialised float32 weights
#include "bench/neural/peak.h"
#include "neural/onnx.h"
#include "spec/rng.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

using namespace chassis;
using namespace chassis::neural;

static int makeMlpFile(const std::string& out, const std::string& widths, uint64_t seed) {
  std::vector<int> w;
  std::stringstream ss(widths);
  std::string cell;
  while (std::getline(ss, cell, ','))
    w.push_back(std::stoi(cell));
  Rng rng(seed);
  std::vector<Eigen::MatrixXd> Ws;
  std::vector<Eigen::VectorXd> bs;
  for (size_t l = 0; l + 1 < w.size(); ++l) {
    Eigen::MatrixXd W(w[l + 1], w[l]);
    for (Eigen::Index i = 0; i < W.size(); ++i)
      W.data()[i] = static_cast<float>(std::sqrt(2.0 / w[l]) * rng.normal());
    Eigen::VectorXd b(w[l + 1]);
    for (Eigen::Index i = 0; i < b.size(); ++i)
      b[i] = static_cast<float>(0.01 * rng.normal());
    Ws.push_back(W);
    bs.push_back(b);
  }
  Network net = makeMlp(Ws, bs, "mlp");
  if (auto s = saveOnnx(net, out); !s) {
    std::fprintf(stderr, "%s\n", s.error().str().c_str());
    return 2;
  }
  return 0;
}

/// Multiply-adds x 2 per sample: the Linear layers' K x N x P.
static double flopsPerRow(const Network& net) {
  double f = 0;
  std::vector<int64_t> size(1, net.inputSize());
  for (const Layer& L : net.layers) {
    if (static_cast<size_t>(L.output) >= size.size()) size.resize(L.output + 1, 0);
    size[L.output] = numElements(L.outShape);
    if (L.kind == LayerKind::Linear) {
      const double K = double(L.W.rows()), N = double(L.W.cols());
      const double P = double(size[L.input]) / K;
      f += 2.0 * K * N * P;
    }
  }
  return f;
}

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "--make-mlp")
    return makeMlpFile(argv[2], argv[3], std::strtoull(argv[4], nullptr, 10));
  if (argc == 2 && std::string(argv[1]) == "--peak") {
    const bench::Peak p = bench::measurePeak();
    bench::printPeak(p);
    std::printf("peak_f32_gflops=%.1f peak_f64_gflops=%.1f clock_ghz=%.2f\n", p.f32 / 1e9,
                p.f64 / 1e9, p.clockHz / 1e9);
    return 0;
  }
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: bench_forward NET.onnx BATCH ITERS [auto|portable|avx2|avx512]\n"
                         "       bench_forward --peak\n");
    return 2;
  }
  gemm::Isa isa = gemm::Isa::Auto;
  if (argc == 5) {
    const std::string a = argv[4];
    if (a == "portable")
      isa = gemm::Isa::Portable;
    else if (a == "avx2")
      isa = gemm::Isa::Avx2;
    else if (a == "avx512")
      isa = gemm::Isa::Avx512;
    else if (a != "auto") {
      std::fprintf(stderr, "unknown ISA '%s' (auto, portable, avx2, avx512)\n", a.c_str());
      return 2;
    }
  }
  const std::string file = argv[1];
  const int batch = std::atoi(argv[2]);
  const long iters = std::atol(argv[3]);
  auto net = loadOnnx(file);
  if (!net) {
    std::fprintf(stderr, "%s\n", net.error().str().c_str());
    return 2;
  }
  // A fixed batch size in the file (ACAS Xu declares 1) means one row per call, as in the peer.
  const int rows = net->batched && net->batchDim > 0 ? static_cast<int>(net->batchDim) : batch;
  RowMatrix<float> X(rows, net->inputSize());
  unsigned long long seed = 12345; // forward.js's generator
  for (Eigen::Index i = 0; i < X.size(); ++i) {
    seed = (seed * 1103515245ull + 12345ull) % 2147483648ull;
    X.data()[i] = static_cast<float>(double(seed) / 2147483648.0 - 0.5);
  }
  Workspace<float> ws;
  ws.isa = isa;
  float sink = 0;
  for (int i = 0; i < 100; ++i)
    sink += net->forward(X, ws)(0, 0);
  auto t0 = std::chrono::steady_clock::now();
  const double c0 = bench::threadSeconds();
  for (long i = 0; i < iters; ++i)
    sink += net->forward(X, ws)(0, 0);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpuSecs = bench::threadSeconds() - c0;
  std::string name = file.substr(file.find_last_of('/') + 1);
  const double rowsPerS = rows * iters / secs, fpr = flopsPerRow(*net);
  // cpu_gflops: the same work over this thread's CPU time, which on a shared machine says what
  // the code does while it runs (the ratio to the peer uses wall time on both sides).
  std::printf("chassis %s batch=%d rows_per_s=%.0f us_per_call=%.2f flops_per_row=%.0f "
              "gflops=%.2f cpu_gflops=%.2f isa=%s (checksum %.3g)\n",
              name.c_str(), rows, rowsPerS, secs / iters * 1e6, fpr, rowsPerS * fpr / 1e9,
              rows * iters * fpr / cpuSecs / 1e9, gemm::isaName(gemm::resolve(isa)), double(sink));
  return 0;
}

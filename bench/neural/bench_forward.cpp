// Forward-pass throughput of Chassis's Network (float32, one thread, allocation-free Workspace),
// measured the way the ONNX Runtime peer (peers/onnxruntime/forward.js) measures it: the same
// pseudo-random float32 input batch, 100 warm-up calls, then ITERS timed calls.
//   bench_forward NET.onnx BATCH ITERS      -> "chassis NET batch=B rows_per_s=.. us_per_call=.."
//   bench_forward --make-mlp OUT.onnx 784,256,256,10 SEED
//                                           -> writes an MLP with He-initialised float32 weights
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

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "--make-mlp")
    return makeMlpFile(argv[2], argv[3], std::strtoull(argv[4], nullptr, 10));
  if (argc != 4) {
    std::fprintf(stderr, "usage: bench_forward NET.onnx BATCH ITERS\n");
    return 2;
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
  float sink = 0;
  for (int i = 0; i < 100; ++i)
    sink += net->forward(X, ws)(0, 0);
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < iters; ++i)
    sink += net->forward(X, ws)(0, 0);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string name = file.substr(file.find_last_of('/') + 1);
  std::printf("chassis %s batch=%d rows_per_s=%.0f us_per_call=%.2f (checksum %.3g)\n",
              name.c_str(), rows, rows * iters / secs, secs / iters * 1e6, double(sink));
  return 0;
}

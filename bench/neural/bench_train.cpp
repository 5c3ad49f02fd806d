// Training throughput of Chassis's MLP trainer (neural/train.h: float64, one thread, Adam,
// softmax cross-entropy), on the same synthetic task as the PyTorch peer
// (peers/torch/train_mlp.py): inputs uniform in [0,1], labels = argmax of a random linear
// teacher. Prints seconds per epoch (best of EPOCHS single-epoch runs), samples per second, and
// the training flops per sample: 2 per multiply-add of the forward pass (sum of K N over the
// layers), the weight gradients (the same again) and the input gradients of every layer but the
// first (which neither trainer computes): 6 sum K N - 2 K_1 N_1. The epoch's evaluation pass is
// not counted, so Chassis's GFLOP/s figure is, if anything, low. cpu_epoch_s and cpu_gflops use
// this thread's CPU time instead of wall time (what the trainer does while it runs, on a shared
// machine).
//   bench_train [WIDTHS=784,256,256,10] [BATCH=128] [SAMPLES=60000] [EPOCHS=3]
#include "bench/neural/peak.h"
#include "neural/train.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>

using namespace chassis;
using namespace chassis::neural;

int main(int argc, char** argv) {
  const std::string widths = argc > 1 ? argv[1] : "784,256,256,10";
  const int batch = argc > 2 ? std::atoi(argv[2]) : 128;
  const int samples = argc > 3 ? std::atoi(argv[3]) : 60000;
  const int epochs = argc > 4 ? std::atoi(argv[4]) : 3;
  std::vector<int> w;
  std::stringstream ss(widths);
  std::string cell;
  while (std::getline(ss, cell, ','))
    w.push_back(std::stoi(cell));
  Rng rng(1);
  Dataset d;
  d.labelName = "y";
  d.X.resize(samples, w.front());
  for (Eigen::Index i = 0; i < d.X.size(); ++i)
    d.X.data()[i] = rng.uniform();
  Eigen::MatrixXd teacher(w.front(), w.back());
  for (Eigen::Index i = 0; i < teacher.size(); ++i)
    teacher.data()[i] = rng.normal();
  Eigen::MatrixXd logits = d.X * teacher;
  d.y.resize(samples);
  for (int i = 0; i < samples; ++i) {
    Eigen::Index arg;
    logits.row(i).maxCoeff(&arg);
    d.y[i] = double(arg);
  }
  // Make sure every class index up to K-1 is seen, so the network has K outputs like the peer's.
  d.y[0] = w.back() - 1;
  TrainOptions o;
  o.widths.assign(w.begin() + 1, w.end() - 1);
  o.epochs = 1;
  o.batch = batch;
  o.lr = 1e-3;
  o.testFraction = 0;
  double best = 1e300, bestCpu = 1e300, finalLoss = 0;
  for (int e = 0; e < epochs; ++e) {
    o.seed = 1 + e;
    auto t0 = std::chrono::steady_clock::now();
    const double c0 = bench::threadSeconds();
    auto r = train(d, o);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    bestCpu = std::min(bestCpu, bench::threadSeconds() - c0);
    if (!r) {
      std::fprintf(stderr, "%s\n", r.error().str().c_str());
      return 2;
    }
    finalLoss = r->history.back().trainLoss;
    best = std::min(best, secs);
  }
  double flops = 0;
  for (size_t l = 0; l + 1 < w.size(); ++l)
    flops += 6.0 * w[l] * w[l + 1];
  flops -= 2.0 * w[0] * w[1];
  std::printf(
      "chassis widths=%s batch=%d threads=1 epoch_s=%.3f samples_per_s=%.0f "
      "flops_per_sample=%.0f gflops=%.2f cpu_epoch_s=%.3f cpu_gflops=%.2f precision=float64 "
      "final_loss=%.4f (epoch time includes one evaluation pass over the training set)\n",
      widths.c_str(), batch, best, samples / best, flops, samples / best * flops / 1e9, bestCpu,
      samples / bestCpu * flops / 1e9, finalLoss);
  return 0;
}

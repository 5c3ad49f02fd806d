// SMC (symbolic/infer_smc.h) on a linear-Gaussian state-space model against the exact Kalman
// filter computed here: the log evidence within a few standard errors, the posterior mean and sd of
// the last state; determinism; and the interpreter's suspend/resume (symbolic/interp.h) against
// a plain run, including an observe inside a called module.
#include "compile_chs.h"

#include "symbolic/infer_smc.h"
#include "symbolic/node_pool.h"
#include "symbolic/summary.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <sstream>
#include <string>
#include <vector>

using namespace chassis;
using namespace chassis::symbolic;

namespace {

// x_0 ~ N(0, 1); for t in 0..T: x_t ~ N(a x_{t-1}, q^2), y_t ~ N(x_t, r^2).
constexpr double kA = 0.9, kQ = 0.5, kR = 1.0;

std::string lgssSource(size_t T) {
  const std::string n = std::to_string(T);
  return "module Lgss(ys: real[" + n + "]) -> (last: real) {\n"
         "    x0 ~ Normal(0.0, 1.0);\n"
         "    var x: real = x0;\n"
         "    var z: real[" + n + "];\n"
         "    for t in 0.." + n + " {\n"
         "        z[t] ~ Normal(0.9 * x, 0.5);\n"
         "        x = z[t];\n"
         "        observe(Normal(x, 1.0), ys[t]);\n"
         "    }\n"
         "    last = x;\n"
         "}\n";
}

/// The same model with only the current state live: each step's draw is made in a called module
/// (address Step[t]/z), so the frame holds no length-T array. The same distribution (and, at a
/// seed, the same draws in the same order) as lgssSource; its cost per step does not include the
/// memory of a kept trajectory.
std::string lgssStateSource(size_t T) {
  const std::string n = std::to_string(T);
  std::string s = "module Step(x: real) -> (next: real) {\n"
                  "    z ~ Normal(0.9 * x, 0.5);\n"
                  "    next = z;\n"
                  "}\n";
  s += "module Lgss(ys: real[" + n + "]) -> (last: real) {\n";
  s += "    x0 ~ Normal(0.0, 1.0);\n"
       "    var x: real = x0;\n";
  s += "    for t in 0.." + n + " {\n";
  s += "        x = Step(x).next;\n"
       "        observe(Normal(x, 1.0), ys[t]);\n"
       "    }\n"
       "    last = x;\n"
       "}\n";
  return s;
}

/// Observations simulated from the model with a fixed generator.
std::vector<double> simulate(size_t T, uint64_t seed) {
  Rng rng(seed);
  double x = rng.normal();
  std::vector<double> ys;
  for (size_t t = 0; t < T; ++t) {
    x = kA * x + kQ * rng.normal();
    ys.push_back(x + kR * rng.normal());
  }
  return ys;
}

struct Kalman {
  double logZ = 0, mean = 0, var = 1;
};

Kalman kalman(const std::vector<double>& ys) {
  Kalman k;
  for (double y : ys) {
    const double m = kA * k.mean, p = kA * kA * k.var + kQ * kQ;
    const double s = p + kR * kR;
    k.logZ += -0.5 * (std::log(2 * M_PI * s) + (y - m) * (y - m) / s);
    const double gain = p / s;
    k.mean = m + gain * (y - m);
    k.var = (1 - gain) * p;
  }
  return k;
}

std::string render(const Posterior& p, const ir::Context& ctx) {
  std::ostringstream os;
  printTable(p, ctx, os);
  return os.str() + toJson(p).dump();
}

} // namespace

TEST_CASE("SMC: linear-Gaussian state space model against the Kalman filter", "[infer][smc]") {
  const size_t T = 50;
  auto prog = testing::lowerChs(lgssSource(T));
  const ir::Function* f = prog->findFunction("Lgss");
  REQUIRE(f);
  const std::vector<double> ys = simulate(T, 11);
  const Kalman k = kalman(ys);
  const std::vector<Value> in{Value::array(ys)};
  for (size_t moves : {size_t(0), size_t(2)}) {
    std::vector<double> logZs;
    for (uint64_t seed = 1; seed <= 4; ++seed) {
      InferOptions o;
      o.seed = seed;
      o.samples = 1000;
      o.smcRejuvenationMoves = moves;
      auto p = inferSmc(*f, in, o);
      REQUIRE(p);
      INFO("moves " << moves << " seed " << seed << " log Z " << p->logEvidence << " se "
                    << p->logEvidenceSe << " Kalman " << k.logZ << " eves " << p->smcEves);
      CHECK(p->resamplings > 0);
      REQUIRE(std::isfinite(p->logEvidenceSe));
      CHECK(p->logEvidenceSe > 0);
      CHECK(p->logEvidenceSe < 0.5);
      CHECK(std::abs(p->logEvidence - k.logZ) < 4 * p->logEvidenceSe);
      // The last state: the filtering distribution is N(k.mean, k.var). The weighted draws
      // after resampling are correlated; allow 5 standard errors at a tenth of the particles.
      const auto& s = p->summaries[0];
      const double se = std::sqrt(k.var / 100.0);
      INFO("mean " << s.mean << " Kalman " << k.mean << " sd " << s.sd << " Kalman "
                   << std::sqrt(k.var));
      CHECK(std::abs(s.mean - k.mean) < 5 * se);
      CHECK(std::abs(s.sd - std::sqrt(k.var)) < 0.15 * std::sqrt(k.var));
      if (moves > 0) {
        CHECK(p->rejuvenationAcceptRate > 0.1);
        CHECK(p->rejuvenationAcceptRate < 1.0);
      } else {
        CHECK(std::isnan(p->rejuvenationAcceptRate));
      }
      logZs.push_back(p->logEvidence);
    }
    // Across independent runs: the mean of log Z within 4 empirical standard errors (+ the
    // Jensen bias of log of an unbiased estimate, -var/2, well under 0.05 here).
    double m = 0, v = 0;
    for (double z : logZs) m += z / double(logZs.size());
    for (double z : logZs) v += (z - m) * (z - m) / double(logZs.size() - 1);
    INFO("moves " << moves << " mean log Z " << m << " Kalman " << k.logZ);
    CHECK(std::abs(m - k.logZ) < 4 * std::sqrt(v / double(logZs.size())) + 0.05);
  }
}

TEST_CASE("SMC: same seed, same result, whatever the threads", "[infer][smc][determinism]") {
  const size_t T = 30;
  auto prog = testing::lowerChs(lgssSource(T));
  const ir::Function* f = prog->findFunction("Lgss");
  const std::vector<Value> in{Value::array(simulate(T, 5))};
  auto once = [&](uint64_t seed, int threads) {
    InferOptions o;
    o.seed = seed;
    o.samples = 700; // three blocks of particles
    o.threads = threads;
    auto p = inferSmc(*f, in, o);
    REQUIRE(p);
    return render(*p, prog->ctx());
  };
  const std::string a = once(9, 1);
  CHECK(a == once(9, 1));
  CHECK(a == once(9, 2));
  CHECK(a != once(10, 1));
}

// The ancestry that SMC cuts when no query reads the choices changes nothing but memory: the same
// seed gives the same evidence with a query of a choice (the history kept) as without. And every
// node that the run allocated from the pool (segments, array nodes) is freed when it returns.
TEST_CASE("SMC: cutting the unread ancestry keeps the draws, and frees every pooled block",
          "[infer][smc][pool]") {
  const size_t T = 150; // the trajectory array has inner nodes (more than one leaf)
  auto prog = testing::lowerChs(lgssSource(T));
  const ir::Function* f = prog->findFunction("Lgss");
  const std::vector<Value> in{Value::array(simulate(T, 3))};
  // The interpreter keeps the value of `var z`'s literal of zeros per thread, for every later run
  // (symbolic/interp.cpp, ConstantArrays): made here, on this thread, before the count is taken.
  // The other threads' values go with them when runParallel's threads end.
  Rng warm(1);
  REQUIRE(run(*f, in, warm));
  const int64_t live0 = pool::liveBlocks();
  for (size_t moves : {size_t(0), size_t(2)}) {
    InferOptions o;
    o.seed = 4;
    o.samples = 600;
    o.threads = 3;
    o.smcRejuvenationMoves = moves;
    auto cut = inferSmc(*f, in, o);
    REQUIRE(cut);
    CHECK(pool::liveBlocks() == live0);
    o.query = {"last", "x0"};
    auto kept = inferSmc(*f, in, o);
    REQUIRE(kept);
    CHECK(pool::liveBlocks() == live0);
    INFO("moves " << moves);
    CHECK(cut->logEvidence == kept->logEvidence);
    CHECK(cut->logEvidenceSe == kept->logEvidenceSe);
    CHECK(cut->resamplings == kept->resamplings);
    CHECK(cut->draws[0] == kept->draws[0]); // `last` in both
    CHECK(kept->draws.size() == 2);
  }
}

TEST_CASE("SMC: observes inside a called module and a branch", "[infer][smc]") {
  // The normal-normal model with its observes in a callee's loop, behind an if: the suspension
  // keeps the callee's frame, its loop iteration and the branch.
  auto prog = testing::lowerChs(R"(
module Obs(mu: real, ys: real[6]) -> (n: int) {
    var c: int = 0;
    for i in 0..6 {
        if ys[i] > -100.0 {
            observe(Normal(mu, 1.0), ys[i]);
            c = c + 1;
        }
    }
    n = c;
}
module Top(ys: real[6]) -> (mu: real, n: int) {
    mu ~ Normal(0.0, 2.0);
    n = Obs(mu, ys);
}
)");
  const ir::Function* f = prog->findFunction("Top");
  REQUIRE(f);
  const std::vector<double> ys{0.9, 1.7, 1.1, 0.4, 1.3, 2.0};
  // Exact: prior N(0, 4), unit-variance observations.
  double sum = 0, sq = 0;
  for (double y : ys) sum += y, sq += y * y;
  const double n = double(ys.size()), s0 = 2;
  const double prec = 1 / (s0 * s0) + n, mean = sum / prec;
  const double logZ = -0.5 * (n * std::log(2 * M_PI) + std::log(1 + n * s0 * s0) +
                              (sq - s0 * s0 * sum * sum / (1 + n * s0 * s0)));
  InferOptions o;
  o.seed = 3;
  o.samples = 2000;
  o.smcRejuvenationLag = 6; // reaches back to mu, drawn before the first observe
  const std::vector<Value> in{Value::array(ys)};
  auto p = inferSmc(*f, in, o);
  REQUIRE(p);
  INFO("log Z " << p->logEvidence << " exact " << logZ << " se " << p->logEvidenceSe);
  CHECK(std::abs(p->logEvidence - logZ) < 4 * p->logEvidenceSe + 0.01);
  CHECK(std::abs(p->summaries[0].mean - mean) < 0.05);
  CHECK(p->summaries[1].mean == Approx(6)); // every particle ran to the end of the callee's loop
  CHECK(p->rejuvenationAcceptRate > 0);
}

TEST_CASE("interp: a run resumed observe by observe equals one run", "[interp][smc]") {
  auto prog = testing::lowerChs(R"(
module Inner(a: real) -> (b: real) {
    e ~ Normal(a, 1.0);
    observe(Normal(e, 1.0), 0.5);
    b = e * 2.0;
    observe(Normal(b, 1.0), 1.0);
}
module Outer(ys: real[3]) -> (s: real) {
    var acc: real;
    var u: real[3];
    for i in 0..3 {
        u[i] ~ Normal(0.0, 1.0);
        if u[i] > 0.0 {
            acc = acc + Inner(u[i]);
        } else {
            observe(Normal(u[i], 1.0), ys[i]);
        }
    }
    s = acc;
}
)");
  const ir::Function* f = prog->findFunction("Outer");
  REQUIRE(f);
  std::vector<Value> in{Value::array({0.3, -0.2, 0.1})};
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Rng rng(seed);
    auto full = run(*f, in, rng);
    REQUIRE(full);
    // Replay the full run's choices through resumes of one observe each.
    const auto values = full->trace.values();
    Suspension at;
    Trace all;
    std::vector<Value> outputs;
    int stops = 0;
    while (!at.finished) {
      RunOptions ro;
      ro.replay = &values;
      ro.stopAfterObserves = 1;
      Rng unused(0);
      auto r = resume(*f, in, at, unused, ro);
      REQUIRE(r);
      stops += r->stopped ? 1 : 0;
      all.logPrior += r->trace.logPrior;
      all.logLikelihood += r->trace.logLikelihood;
      all.choices.insert(all.choices.end(), r->trace.choices.begin(), r->trace.choices.end());
      if (!r->stopped) outputs = r->outputs;
      REQUIRE(stops <= full->trace.numObserves);
    }
    CHECK(stops == full->trace.numObserves);
    REQUIRE(all.choices.size() == full->trace.choices.size());
    for (size_t k = 0; k < all.choices.size(); ++k) {
      CHECK(all.choices[k].address == full->trace.choices[k].address);
      CHECK(all.choices[k].replayed);
    }
    CHECK(all.logPrior == Approx(full->trace.logPrior));
    CHECK(all.logLikelihood == Approx(full->trace.logLikelihood));
    REQUIRE(outputs.size() == 1);
    CHECK(outputs[0].s == full->outputs[0].s);
    CHECK(in[0].a.size() == 3); // the inputs are handed back
    auto again = resume(*f, in, at, rng, RunOptions{});
    CHECK(!again); // a finished run cannot be resumed
  }
}

TEST_CASE("SMC: the model keeping its trajectory and the one keeping only its state agree",
          "[infer][smc]") {
  // Same distribution, same draws in the same order: the same particles and log Z at a seed,
  // without and with rejuvenation (the moves replay by address, each model its own).
  const size_t T = 40;
  auto traj = testing::lowerChs(lgssSource(T));
  auto state = testing::lowerChs(lgssStateSource(T));
  const ir::Function* f = traj->findFunction("Lgss");
  const ir::Function* g = state->findFunction("Lgss");
  REQUIRE(f);
  REQUIRE(g);
  const std::vector<Value> in{Value::array(simulate(T, 5))};
  for (size_t moves : {size_t(0), size_t(2)}) {
    InferOptions o;
    o.seed = 3;
    o.samples = 200;
    o.smcRejuvenationMoves = moves;
    auto a = inferSmc(*f, in, o);
    auto b = inferSmc(*g, in, o);
    REQUIRE(a);
    REQUIRE(b);
    INFO("moves " << moves);
    CHECK(a->logEvidence == b->logEvidence);
    CHECK(a->draws == b->draws);
    CHECK(a->resamplings == b->resamplings);
  }
}

// Not a test: the figures of bench/smc/run (hidden; run as `test_symbolic "[smcbench]"`). For
// T = 100, 300, 1000 observations of the state-space model above and 1000 particles, without and
// with rejuvenation, over 5 seeds: the median CPU time per particle per stage (one thread), the
// mean log Z, its spread over the seeds, the mean Lee-Whiteley standard error, the Kalman value,
// the surviving initial ancestors and the rejuvenation acceptance rate. Both models: the one
// that keeps its trajectory (lgssSource: an array of T doubles in every particle's frame) and
// the one that keeps only its current state (lgssStateSource), so that the cost of the kept
// trajectory is measured apart from the algorithm's.
TEST_CASE("SMC benchmark: time per particle per step and log-evidence vs Kalman",
          "[.][smcbench]") {
  // For profiling one configuration: CHASSIS_SMCBENCH_T="1000", _N, _SEEDS, _MOVES="0",
  // _MODEL="trajectory" or "state" override the defaults (T = 100,300,1000; N = 1000; 5 seeds;
  // moves 0,2; both models).
  const auto envList = [](const char* name, std::vector<size_t> dflt) {
    const char* e = std::getenv(name);
    if (!e || !*e) return dflt;
    std::vector<size_t> v;
    for (const char* c = e; *c;) {
      char* end = nullptr;
      v.push_back(std::strtoull(c, &end, 10));
      c = *end ? end + 1 : end;
    }
    return v;
  };
  const size_t N = envList("CHASSIS_SMCBENCH_N", {1000})[0];
  const size_t seeds = envList("CHASSIS_SMCBENCH_SEEDS", {5})[0];
  const std::vector<size_t> Ts = envList("CHASSIS_SMCBENCH_T", {100, 300, 1000});
  const std::vector<size_t> movesList = envList("CHASSIS_SMCBENCH_MOVES", {0, 2});
  const char* modelEnv = std::getenv("CHASSIS_SMCBENCH_MODEL");
  const std::string models = modelEnv && *modelEnv ? modelEnv : "trajectory,state";
  std::printf("%-10s %6s %6s %6s %14s %12s %12s %9s %9s %6s %7s\n", "model", "T", "N", "moves",
              "CPU us/part/step", "mean log Z", "Kalman", "sd(runs)", "mean SE", "Eves", "accept");
  for (const std::string model : {"trajectory", "state"}) {
    if (models.find(model) == std::string::npos) continue;
    for (size_t T : Ts) {
      auto prog = testing::lowerChs(model == "state" ? lgssStateSource(T) : lgssSource(T));
      const ir::Function* f = prog->findFunction("Lgss");
      REQUIRE(f);
      const std::vector<double> ys = simulate(T, 11);
      const Kalman k = kalman(ys);
      const std::vector<Value> in{Value::array(ys)};
      for (size_t moves : movesList) {
        std::vector<double> perStep, logZs, ses, eves, acc;
        for (uint64_t seed = 1; seed <= seeds; ++seed) {
          InferOptions o;
          o.seed = seed;
          o.samples = N;
          o.threads = 1;
          o.smcRejuvenationMoves = moves;
          const std::clock_t c0 = std::clock();
          auto p = inferSmc(*f, in, o);
          const double cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
          REQUIRE(p);
          perStep.push_back(cpu / double(N * T) * 1e6);
          logZs.push_back(p->logEvidence);
          ses.push_back(p->logEvidenceSe);
          eves.push_back(double(p->smcEves));
          acc.push_back(p->rejuvenationAcceptRate);
        }
        std::sort(perStep.begin(), perStep.end());
        double m = 0, v = 0, se = 0, ev = 0, ac = 0;
        for (size_t i = 0; i < seeds; ++i) {
          m += logZs[i] / double(seeds);
          se += ses[i] / double(seeds);
          ev += eves[i] / double(seeds);
          ac += acc[i] / double(seeds);
        }
        for (double z : logZs)
          v += seeds > 1 ? (z - m) * (z - m) / double(seeds - 1) : 0;
        std::printf("%-10s %6zu %6zu %6zu %14.3f %12.3f %12.3f %9.3f %9.3f %6.0f %7.2f\n",
                    model.c_str(), T, N, moves, perStep[seeds / 2], m, k.logZ, std::sqrt(v), se, ev,
                    ac);
      }
    }
  }
}

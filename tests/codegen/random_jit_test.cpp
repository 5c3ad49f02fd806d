// Compiled random modules (codegen.h's JitModel) against the interpreter: at several seeds, a run
// of the compiled code and a run of the interpreter from the same generator must give the same
// outputs, the same trace totals (log prior, log likelihood, log factor, condition, counts) bit
// for bit, leave the generator in the same state (so the whole stream agrees), and fail with the
// same kind of error at the same statement. Every random module of examples/, tests/spec/ok/ and
// bench/ (subdirectories included) that compiles is compared; likelihood weighting on compiled
// code must give the interpreter's posterior; what is not compiled gives a clear error.
#include "codegen/codegen.h"
#include "codegen/infer_lw_jit.h"

#include "spec/diagnostics.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "spec/run_control.h"
#include "symbolic/infer_lw.h"
#include "symbolic/interp.h"
#include "tests/codegen/program_files.h"
#include "tests/codegen/random_module_corpus.h"
#include "tests/symbolic/compile_chs.h"
#include "tests/symbolic/random_program.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <iostream>
#include <map>
#include <set>

using namespace chassis;

namespace {

/// The kind of an interpreter failure, as the compiled code's error code (-1: none matches).
int errorKind(const std::string& m) {
  auto has = [&](const char* s) { return m.find(s) != std::string::npos; };
  if (has("invalid distribution parameter")) return codegen::kInvalidParameter;
  if (has("flat prior")) return codegen::kFlatPrior;
  if (has("factor of NaN")) return codegen::kFactorNaN;
  if (has("outside its range") || has("is not a finite number") || has("is not an integer") ||
      has("is not a bool"))
    return codegen::kInputInvalid;
  if (has("division by zero")) return codegen::kDivisionByZero;
  if (has("log of") || has("sqrt of")) return codegen::kDomain;
  if (has("not a number") || has("not a finite float64")) return codegen::kNotFinite;
  if (has("integer overflow")) return codegen::kIntOverflow;
  if (has("index") && has("out of range")) return codegen::kIndexRange;
  if (has("assertion failed")) return codegen::kAssertFailed;
  return -1;
}

bool sameBits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

struct Tally {
  int runs = 0, errors = 0;
  std::map<int, int> byKind; // failing runs by error code
};

/// `runs` runs of `f` at `seed`, interpreter and compiled code each on Rng(seed), inputs drawn
/// by `inputRng`; every run must agree (see the header comment).
Tally compareStreams(const ir::Function& f, const ir::Context& ctx, const codegen::JitModel& jit,
                     uint64_t seed, int runs, std::mt19937_64& inputRng) {
  Tally t;
  Rng interpRng(seed), jitRng(seed);
  for (int run = 0; run < runs; ++run) {
    const std::vector<symbolic::Value> args = testing::drawInputs(f, ctx, inputRng);
    std::vector<double> in; // the compiled code's inputs: the same values, flat
    for (size_t k = 0; k < args.size(); ++k) {
      if (f.inputs()[k].var->type().isArray())
        in.insert(in.end(), args[k].a.begin(), args[k].a.end());
      else
        in.push_back(args[k].s);
    }
    auto ref = symbolic::run(f, args, interpRng);
    std::vector<double> out(jit.numOutputs() + 1, -12345.0);
    codegen::JitRuntime rt;
    rt.rng = &jitRng;
    const int rc = jit(in.data(), out.data(), rt);
    INFO("module " << f.name() << ", seed " << seed << ", run " << run);
    ++t.runs;
    if (!ref) {
      INFO("interpreter: " << ref.error().str() << "; compiled code: " << rc << " ("
                           << codegen::errorCodeName(rc) << ")");
      REQUIRE(errorKind(ref.error().message) == rc);
      const SourceLoc& at = jit.siteLocation(rt.errSite);
      INFO("compiled code located it at " << at.line << ":" << at.col);
      REQUIRE(at.file == ref.error().loc.file);
      REQUIRE(at.line == ref.error().loc.line);
      REQUIRE(at.col == ref.error().loc.col);
      ++t.errors;
      ++t.byKind[rc];
    } else {
      INFO("compiled code returned: " << codegen::errorCodeName(rc) << ", site at line "
                                    << jit.siteLocation(rt.errSite).line);
      REQUIRE(rc == codegen::kOk);
      size_t pos = 0;
      for (const symbolic::Value& v : ref->outputs) {
        std::vector<double> flat = v.a.empty() ? std::vector<double>{v.s} : v.a;
        for (double x : flat) {
          INFO("output element " << pos << ": interpreter " << x << ", compiled " << out[pos]);
          REQUIRE(sameBits(x, out[pos]));
          ++pos;
        }
      }
      REQUIRE(pos == jit.numOutputs());
      const symbolic::Trace& tr = ref->trace;
      REQUIRE(sameBits(tr.logPrior, rt.logPrior));
      REQUIRE(sameBits(tr.logLikelihood, rt.logLikelihood));
      REQUIRE(sameBits(tr.logFactor, rt.logFactor));
      REQUIRE(tr.conditionFailed == (rt.conditionFailed != 0));
      REQUIRE(tr.numObserves == rt.numObserves);
      REQUIRE(tr.numFactors == rt.numFactors);
      REQUIRE(tr.numConditions == rt.numConditions);
    }
    // The same state: the next draws of both generators agree.
    Rng a = interpRng, b = jitRng;
    REQUIRE(a.nextU64() == b.nextU64());
  }
  return t;
}

} // namespace

TEST_CASE("compiled random modules draw the interpreter's stream and fail where it fails",
          "[codegen][jit][differential]") {
  int compared = 0, notCompiled = 0, runs = 0, errors = 0;
  std::mt19937_64 inputRng(7);
  testing::forEachRandomModule([&](const testing::RandomModule& m) {
    if (!m.jit) {
      ++notCompiled;
      std::cout << "not compiled: " << m.file << " " << m.function.name() << ": "
                << m.notCompiled << "\n";
      return;
    }
    for (uint64_t seed : {0, 1, 2, 12345}) {
      Tally t = compareStreams(m.function, m.program.ctx(), *m.jit, seed, 50, inputRng);
      runs += t.runs;
      errors += t.errors;
    }
    ++compared;
  });
  std::cout << "random modules compiled and compared with the interpreter: " << compared << " ("
            << runs << " runs at 4 seeds, " << errors << " failing alike); not compiled: "
            << notCompiled << "\n";
  CHECK(compared >= 15);
  CHECK(errors > 0);
  CHECK(runs > errors);
}

TEST_CASE("compiled code draws the interpreter's stream on 300 random programs with choices",
          "[codegen][jit]") {
  // Normal, Bernoulli and Categorical choices (the Normal's scale sometimes invalid), observes in
  // a loop, a factor, a condition and an assert, over the inputs and the choices: at two seeds,
  // 20 runs each, the same outputs, weights and counts bit for bit, the generator in the same
  // state after every run, and the same errors at the same statement.
  int programs = 0, runs = 0, failed = 0;
  std::map<int, int> byKind;
  uint64_t seed = 1;
  for (; programs < 300; ++seed) {
    REQUIRE(seed < 600);
    testing::ProgramGen gen(seed);
    const std::string src = gen.randomModule();
    INFO("seed " << seed << ":\n" << src);
    auto prog = testing::lowerRandomProgram(src);
    if (!prog) continue;
    const ir::Function& f = *prog->findFunction("Q");
    auto jit = codegen::JitModel::create(f);
    INFO((jit ? std::string() : jit.error().str()));
    REQUIRE(jit);
    std::mt19937_64 inputRng(seed);
    for (uint64_t s : {seed, seed + 1000}) {
      const Tally t = compareStreams(f, prog->ctx(), **jit, s, 20, inputRng);
      runs += t.runs;
      failed += t.errors;
      for (auto [kind, n] : t.byKind) byKind[kind] += n;
    }
    ++programs;
  }
  std::cout << "differential: " << programs << " random programs with choices (seeds 1-"
            << seed - 1 << "), " << runs << " runs, " << failed << " failing:";
  for (auto [kind, n] : byKind) std::cout << " " << codegen::errorCodeName(kind) << " " << n;
  std::cout << "\n";
  CHECK(runs - failed > runs / 5); // 26% of the runs succeed and compare draws and weights
  for (int kind : {codegen::kInputInvalid, codegen::kInvalidParameter, codegen::kDomain,
                   codegen::kAssertFailed}) {
    INFO("error kind " << codegen::errorCodeName(kind));
    CHECK(byKind[kind] > 0);
  }
}

TEST_CASE("compiled random modules: each error kind located at the interpreter's statement",
          "[codegen][jit]") {
  // Each module fails one way (or not) depending on its input; callee errors are located inside
  // the callee, a callee's rejected input at the call.
  auto c = testing::compileChs(R"(
module Noise(s: real in [0, 10]) -> (e: real) {
    e ~ Normal(0.0, s);
}
module Kinds(k: int in [0, 8]) -> (y: real) {
    a ~ Uniform(0.0, 1.0);
    c ~ Categorical([0.2, 0.3, 0.5]);
    let s = if k == 3 then 0.0 else if k == 4 then 20.0 else 1.0;
    let n = Noise(s);
    y = a + c + n;
    if k == 1 { observe(Normal(0.0, -1.0), y); }
    if k == 2 { factor(log(a - 2.0)); }
    if k == 5 { condition(y > 100.0); }
    if k == 6 { assert y > 100.0; }
    if k == 7 { observe(Poisson(2.0), 5 % (c - c)); }
    if k == 8 { observe(Bernoulli(2.0 * a), true); }
    factor(0.5);
}
)",
                               "kinds.chs");
  const ir::Function* f = c.ir.findFunction("Kinds");
  REQUIRE(f);
  auto jit = codegen::JitModel::create(*f);
  REQUIRE(jit);
  std::set<int> kinds;
  for (int k = 0; k <= 8; ++k) {
    std::vector<symbolic::Value> args{symbolic::Value::scalar(k)};
    double in = k;
    for (uint64_t seed : {3, 4, 5, 6}) {
      Rng r1(seed), r2(seed);
      auto ref = symbolic::run(*f, args, r1);
      codegen::JitRuntime rt;
      rt.rng = &r2;
      double out[2];
      int rc = (**jit)(&in, out, rt);
      INFO("k = " << k << (ref ? std::string() : ": " + ref.error().str()));
      if (ref) {
        REQUIRE(rc == codegen::kOk);
        CHECK(sameBits(out[0], ref->outputs[0].s));
        CHECK(sameBits(rt.logLikelihood + rt.logFactor, ref->trace.logWeight()) ==
              !ref->trace.conditionFailed);
        CHECK((rt.conditionFailed != 0) == ref->trace.conditionFailed);
      } else {
        REQUIRE(rc == errorKind(ref.error().message));
        CHECK((**jit).siteLocation(rt.errSite).line == ref.error().loc.line);
        CHECK((**jit).siteLocation(rt.errSite).col == ref.error().loc.col);
      }
      kinds.insert(rc);
    }
  }
  // ok, invalid parameter, domain (log), invalid input at a call, assert, division by zero
  CHECK(kinds.size() == 6);
}

TEST_CASE("likelihood weighting on compiled code is the interpreter's, bit for bit",
          "[codegen][jit]") {
  auto prog = testing::tryLoad(std::string(CHASSIS_SOURCE_DIR) + "/bench/webppl/gauss.chs");
  REQUIRE(prog);
  const ir::Function* f = prog->findFunction("Gauss");
  REQUIRE(f);
  auto jit = codegen::JitModel::create(*f);
  REQUIRE(jit);
  CHECK((*jit)->compileSeconds() > 0);
  // One partial block; several blocks, the last one partial; 200,000 traces, whose normal draws
  // (generated inline: emitRngNormal) take the ziggurat's wedges and its tail.
  for (auto [seed, samples] : {std::pair<uint64_t, size_t>{1, 100},
                               {9, 3 * symbolic::kLwBlock + 17}, {5, 200000}}) {
    symbolic::InferOptions o;
    o.method = symbolic::InferMethod::LW;
    o.samples = samples;
    o.seed = seed;
    auto a = symbolic::inferLw(*f, {}, o);
    auto b = codegen::inferLwCompiled(*f, {}, o, **jit);
    REQUIRE(a);
    REQUIRE(b);
    REQUIRE(a->logWeights.size() == b->logWeights.size());
    for (size_t i = 0; i < a->logWeights.size(); ++i) {
      REQUIRE(sameBits(a->logWeights[i], b->logWeights[i]));
      REQUIRE(sameBits(a->draws[0][0][i], b->draws[0][0][i]));
    }
    CHECK(sameBits(a->logEvidence, b->logEvidence));
    CHECK(sameBits(a->summaries[0].mean, b->summaries[0].mean));
    if (samples == 200000) { // mu ~ Normal(0, 5): beyond 5 r, the tail's draws (~52 expected)
      size_t tail = 0;
      for (double mu : b->draws[0][0]) tail += std::abs(mu) > 5 * chassis::rng_detail::kZigR;
      CHECK(tail > 20);
    }
  }
}

namespace {

/// Two likelihood-weighting results agree: the same posterior bit for bit (every trace's log
/// weight and quantities, the log evidence), or the same error (message and location).
void requireSameLw(const Expected<symbolic::Posterior>& a, const Expected<symbolic::Posterior>& b) {
  INFO("interpreter: " << (a ? std::string("ok") : a.error().str()));
  INFO("compiled: " << (b ? std::string("ok") : b.error().str()));
  REQUIRE(bool(a) == bool(b));
  if (!a) {
    REQUIRE(a.error().str() == b.error().str());
    return;
  }
  REQUIRE(a->quantities.size() == b->quantities.size());
  REQUIRE(a->logWeights.size() == b->logWeights.size());
  for (size_t i = 0; i < a->logWeights.size(); ++i) {
    INFO("trace " << i);
    REQUIRE(sameBits(a->logWeights[i], b->logWeights[i]));
    for (size_t q = 0; q < a->quantities.size(); ++q)
      REQUIRE(sameBits(a->draws[q][0][i], b->draws[q][0][i]));
  }
  REQUIRE(sameBits(a->logEvidence, b->logEvidence));
}

} // namespace

TEST_CASE("likelihood weighting on compiled code is the interpreter's on every random module",
          "[codegen][jit][differential]") {
  // Every quantity of a module with outputs is an output: the traces run in the generated block
  // loop (JitModel::runLwBlock); modules without outputs run traced. Inputs drawn in their
  // ranges, so some modules fail (at their first failing trace, located as interpreted).
  int compared = 0, failing = 0;
  std::mt19937_64 inputRng(11);
  testing::forEachRandomModule([&](const testing::RandomModule& m) {
    if (!m.jit) return;
    const ir::Function& f = m.function;
    const std::vector<symbolic::Value> args = testing::drawInputs(f, m.program.ctx(), inputRng);
    for (uint64_t seed : {2, 77}) {
      symbolic::InferOptions o;
      o.method = symbolic::InferMethod::LW;
      o.samples = symbolic::kLwBlock + 37; // a full block and a partial one
      o.seed = seed;
      o.threads = 1;
      INFO(m.file << " " << f.name() << ", seed " << seed);
      auto a = symbolic::inferLw(f, args, o);
      auto b = codegen::inferLwCompiled(f, args, o, *m.jit);
      requireSameLw(a, b);
      failing += !a;
    }
    ++compared;
  });
  std::cout << "random modules compared under likelihood weighting: " << compared << " ("
            << failing << " runs failing alike)\n";
  CHECK(compared >= 15);
  CHECK(failing > 0);
}

TEST_CASE("the compiled block loop: conditions, factors, errors deep in a block, threads, stops",
          "[codegen][jit]") {
  // k = 0: conditions that fail and factors (weights -infinity and finite); k = 1 and 2: an
  // error of a rare trace (a draw below 0.0002 or above 0.9998), deep in some block and chunk;
  // k = 3: an array output, read element by element.
  auto c = testing::compileChs(R"(
module Mixed(k: int in [0, 3]) -> (y: real, z: real[3]) {
    a ~ Uniform(0.0, 1.0);
    b ~ Normal(a, 2.0);
    c ~ Bernoulli(0.3);
    y = a + b;
    z = [b, if c then 1.0 else 0.0, a * b];
    condition(b > -1.0);
    factor(0.25 * a);
    observe(Normal(y, 1.0), 0.5);
    if k == 1 {
        if a < 0.0002 { observe(Normal(0.0, -1.0), y); }
    }
    if k == 2 {
        if a > 0.9998 { factor(log(a - 2.0)); }
    }
}
)",
                               "mixed.chs");
  const ir::Function* f = c.ir.findFunction("Mixed");
  REQUIRE(f);
  auto jit = codegen::JitModel::create(*f);
  REQUIRE(jit);
  for (int k = 0; k <= 3; ++k)
    for (int threads : {1, 2})
      for (uint64_t seed : {4, 19}) {
        std::vector<symbolic::Value> args{symbolic::Value::scalar(k)};
        symbolic::InferOptions o;
        o.method = symbolic::InferMethod::LW;
        o.samples = 3 * symbolic::kLwBlock + 5;
        o.seed = seed;
        o.threads = threads;
        if (k == 3) o.query = {"z[0]", "z[2]", "y"};
        INFO("k = " << k << ", threads " << threads << ", seed " << seed);
        auto a = symbolic::inferLw(*f, args, o);
        auto b = codegen::inferLwCompiled(*f, args, o, **jit);
        if (k == 0) {
          REQUIRE(a);
          const auto& w = a->logWeights;
          CHECK(std::count(w.begin(), w.end(), -std::numeric_limits<double>::infinity()) > 0);
          CHECK(std::count_if(w.begin(), w.end(), [](double x) { return std::isfinite(x); }) > 0);
        }
        if (k == 1 || k == 2) {
          REQUIRE(!a);
          CHECK(a.error().loc.line == (k == 1 ? 12 : 15));
        }
        if (k == 3) {
          REQUIRE(a);
          REQUIRE(a->quantities.size() == 3);
        }
        // (With two threads, two failing blocks may race to report: the first block's error is
        // compared on one thread only.)
        if ((k != 1 && k != 2) || threads == 1) requireSameLw(a, b);
        else REQUIRE(!b);
      }
  // A stop requested (SIGINT, --time-limit) ends the compiled run at its next poll.
  {
    run::RunSession session(run::Limits{}, false);
    run::requestStop(run::StopReason::Interrupted);
    symbolic::InferOptions o;
    o.method = symbolic::InferMethod::LW;
    o.samples = 1000;
    std::vector<symbolic::Value> args{symbolic::Value::scalar(0)};
    auto b = codegen::inferLwCompiled(*f, args, o, **jit);
    REQUIRE(!b);
    CHECK(b.error().message.rfind("stopped: ", 0) == 0);
  }
}

TEST_CASE("what is not compiled says so", "[codegen][jit]") {
  auto c = testing::compileChs(R"(
module NoOutputs() {
    theta ~ Beta(2.0, 2.0);
    observe(Bernoulli(theta), true);
}
module FlatPrior() -> (x: real) {
    x ~ Flat();
}
)",
                               "limits.chs");
  // A choice quantity (the default query without outputs): the traces run traced, and the
  // draws are the interpreter's.
  const ir::Function* f = c.ir.findFunction("NoOutputs");
  REQUIRE(f);
  auto jit = codegen::JitModel::create(*f);
  REQUIRE(jit);
  symbolic::InferOptions o;
  o.method = symbolic::InferMethod::LW;
  o.samples = 100;
  auto p = codegen::inferLwCompiled(*f, {}, o, **jit);
  auto pi = symbolic::inferLw(*f, {}, o);
  REQUIRE(p);
  REQUIRE(pi);
  REQUIRE(p->quantities.size() == 1);
  CHECK(p->quantities[0].name == "theta");
  for (size_t i = 0; i < o.samples; ++i) {
    REQUIRE(sameBits(p->draws[0][0][i], pi->draws[0][0][i]));
    REQUIRE(sameBits(p->logWeights[i], pi->logWeights[i]));
  }
  // A flat prior compiles but cannot be drawn from: the interpreter's error, at the statement.
  const ir::Function* g = c.ir.findFunction("FlatPrior");
  REQUIRE(g);
  auto gj = codegen::JitModel::create(*g);
  REQUIRE(gj);
  auto q = codegen::inferLwCompiled(*g, {}, o, **gj);
  REQUIRE(!q);
  CHECK(q.error().loc.line == 7);
  CHECK(q.error().message.find("flat prior") != std::string::npos);
  // The deterministic entry points still refuse random modules.
  CHECK(!codegen::checkCompilable(*f));
}

TEST_CASE("a Normal observe with constant parameters folds to arithmetic in the compiled code",
          "[codegen][jit]") {
  auto prog = testing::tryLoad(std::string(CHASSIS_SOURCE_DIR) + "/bench/webppl/gauss.chs");
  REQUIRE(prog);
  auto text = codegen::emitLlvmIr(*prog->findFunction("Gauss"), true, true);
  REQUIRE(text);
  INFO(*text);
  // The prior's draw is the one runtime call; no generic sample/observe call remains.
  CHECK(text->find("chassis_rt_normal") != std::string::npos);
  CHECK(text->find("chassis_rt_sample") == std::string::npos);
  CHECK(text->find("chassis_rt_observe") == std::string::npos);
  CHECK(text->find("chassis_rt_check_params") == std::string::npos);
}

TEST_CASE("likelihood weighting's block loop on gauss calls nothing but log and exp", "[codegen][jit]") {
  auto prog = testing::tryLoad(std::string(CHASSIS_SOURCE_DIR) + "/bench/webppl/gauss.chs");
  REQUIRE(prog);
  auto text = codegen::emitLlvmIr(*prog->findFunction("Gauss"), true, true, true);
  REQUIRE(text);
  const size_t at = text->find("@chassis_Gauss_lwblock(");
  REQUIRE(at != std::string::npos);
  const std::string block = text->substr(at, text->find("\n}\n", at) - at);
  INFO(block);
  // The module's code inlined, the draw generated inline (Rng::normal's ziggurat: log and exp,
  // in its tail and wedges, are the only calls), the generator's state and the run's totals in
  // registers (no stack slot left but the state's, read at entry and written at the end).
  std::vector<std::string> calls;
  for (size_t p = block.find("call "); p != std::string::npos; p = block.find("call ", p + 1))
    if (block.compare(block.find('@', p), 6, "@llvm.") != 0)
      calls.push_back(block.substr(block.find('@', p), block.find('(', p) - block.find('@', p)));
  std::sort(calls.begin(), calls.end());
  calls.erase(std::unique(calls.begin(), calls.end()), calls.end());
  CHECK(calls == std::vector<std::string>{"@exp", "@log"});
  size_t allocas = 0;
  for (size_t p = block.find("alloca "); p != std::string::npos; p = block.find("alloca ", p + 1))
    ++allocas;
  CHECK(allocas <= 1);
}

TEST_CASE("compiled vs interpreted time per likelihood-weighting trace on gauss", "[.bench]") {
  // Printed, never asserted: one thread, the runs alone (no driver, summaries or allocation),
  // thread CPU time (not changed by other processes' load), best of 5: the interpreter, one
  // compiled run per call, and the generated block loop by 64 runs (as the driver calls it).
  auto prog = testing::tryLoad(std::string(CHASSIS_SOURCE_DIR) + "/bench/webppl/gauss.chs");
  REQUIRE(prog);
  const ir::Function& f = *prog->findFunction("Gauss");
  auto jit = codegen::JitModel::create(f);
  REQUIRE(jit);
  const int n = 200000;
  symbolic::RunOptions ro;
  ro.recordChoices = false;
  auto cpu = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
  };
  double interp = 1e9, single = 1e9, block = 1e9;
  double s1 = 0, s2 = 0, s3 = 0;
  for (int rep = 0; rep < 5; ++rep) {
    Rng r1(1), r2(1), r3(1);
    s1 = s2 = s3 = 0;
    const double t0 = cpu();
    for (int i = 0; i < n; ++i) s1 += symbolic::run(f, {}, r1, ro)->trace.logWeight();
    const double t1 = cpu();
    double out[1];
    for (int i = 0; i < n; ++i) {
      codegen::JitRuntime rt;
      rt.rng = &r2;
      (**jit)(nullptr, out, rt);
      s2 += rt.logLikelihood + rt.logFactor;
    }
    const double t2 = cpu();
    double rows[64], w[64];
    for (int i = 0; i < n; i += 64) {
      codegen::JitRuntime rt;
      rt.rng = &r3;
      int64_t done = 0;
      (**jit).runLwBlock(nullptr, rows, rt, 64, w, done);
      for (double x : w) s3 += x;
    }
    const double t3 = cpu();
    interp = std::min(interp, (t1 - t0) / n * 1e9);
    single = std::min(single, (t2 - t1) / n * 1e9);
    block = std::min(block, (t3 - t2) / n * 1e9);
  }
  std::cout << "gauss LW trace (thread CPU): interpreter " << interp << " ns, compiled run "
            << single << " ns (" << interp / single << "x), block loop " << block << " ns ("
            << interp / block << "x) (compile " << (*jit)->compileSeconds() * 1e3
            << " ms); same total weight: " << (s1 == s2 && s1 == s3 ? "yes" : "NO") << "\n";
  CHECK(s1 == s2);
  CHECK(s1 == s3);
}

TEST_CASE("likelihood weighting on gauss, interpreter vs compiled, 1 and 2 threads", "[.bench]") {
  // Printed, never asserted: the whole LW driver (100000 traces), best of 3.
  auto prog = testing::tryLoad(std::string(CHASSIS_SOURCE_DIR) + "/bench/webppl/gauss.chs");
  REQUIRE(prog);
  const ir::Function& f = *prog->findFunction("Gauss");
  auto jit = codegen::JitModel::create(f);
  REQUIRE(jit);
  for (int threads : {1, 2}) {
    symbolic::InferOptions o;
    o.method = symbolic::InferMethod::LW;
    o.samples = 100000;
    o.seed = 1;
    o.threads = threads;
    double interp = 1e9, compiled = 1e9;
    for (int rep = 0; rep < 3; ++rep) {
      auto a = symbolic::inferLw(f, {}, o);
      auto b = codegen::inferLwCompiled(f, {}, o, **jit);
      REQUIRE(a);
      REQUIRE(b);
      interp = std::min(interp, a->seconds);
      compiled = std::min(compiled, b->seconds);
    }
    std::cout << threads << " thread(s): interpreter " << interp * 1e3 << " ms, compiled "
              << compiled * 1e3 << " ms, ratio " << interp / compiled << "\n";
  }
}

TEST_CASE("constant distribution parameters are checked once when compiled, invalid ones still "
          "fail each run as the interpreter does",
          "[codegen][jit]") {
  auto c = testing::compileChs(R"(
module Valid() -> (k: int) {
    k ~ Categorical([0.5, 0.4, 0.1]);
    observe(Poisson(2.5), 3);
}
module Invalid() -> (k: int) {
    k ~ Categorical([0.5, -0.4, 0.1]);
}
module InvalidObserve() -> (k: int) {
    k ~ Categorical([0.5, 0.4, 0.1]);
    observe(Poisson(-1.0), 3);
}
)",
                               "constant_params.chs");
  // Valid constants: the draw's call that does not check, no check of the observe's.
  auto text = codegen::emitLlvmIr(*c.ir.findFunction("Valid"), true, true);
  REQUIRE(text);
  INFO(*text);
  CHECK(text->find("chassis_rt_sample_valid") != std::string::npos);
  CHECK(text->find("chassis_rt_check_params") == std::string::npos);
  // Invalid constants: checked per run (the generic entries).
  auto bad = codegen::emitLlvmIr(*c.ir.findFunction("InvalidObserve"), true, true);
  REQUIRE(bad);
  CHECK(bad->find("chassis_rt_check_params") != std::string::npos);
  // Every module: the interpreter's draws and weights bit for bit, or its error.
  for (const char* name : {"Valid", "Invalid", "InvalidObserve"}) {
    INFO(name);
    const ir::Function* f = c.ir.findFunction(name);
    REQUIRE(f);
    auto jit = codegen::JitModel::create(*f);
    REQUIRE(jit);
    symbolic::InferOptions o;
    o.method = symbolic::InferMethod::LW;
    o.samples = 200;
    o.seed = 3;
    auto a = symbolic::inferLw(*f, {}, o);
    auto b = codegen::inferLwCompiled(*f, {}, o, **jit);
    REQUIRE(bool(a) == bool(b));
    CHECK(bool(a) == (std::string(name) == "Valid"));
    if (!a) {
      CHECK(a.error().str() == b.error().str());
      continue;
    }
    for (size_t i = 0; i < a->logWeights.size(); ++i) {
      REQUIRE(sameBits(a->logWeights[i], b->logWeights[i]));
      REQUIRE(sameBits(a->draws[0][0][i], b->draws[0][0][i]));
    }
  }
}

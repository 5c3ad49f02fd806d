// The AD tape compiled by LLVM (codegen/tape_compiler.h): on every module of examples/,
// tests/spec/ok and bench/nuts (with its posteriordb data) whose log density NUTS can take, the
// compiled log density and gradient equal the interpreted tape's bit for bit at random points,
// and the gradient agrees with central finite differences; a compiled run of NUTS draws the
// interpreted run's chains at a seed; a guard whose outcome changes re-records the tape and
// rebuilds (or finds cached) the compiled function, and a chain whose control flow keeps changing
// stays interpreted; a tape with a node kind the compiler does not know does not compile.
#include "codegen/tape_compiler.h"
#include "neural/lower_network.h"
#include "spec/data_sizes.h"
#include "spec/diagnostics.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "symbolic/ad.h"
#include "symbolic/infer_nuts.h"
#include "tests/codegen/program_files.h"
#include "tests/symbolic/compile_chs.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

using namespace chassis;
using namespace chassis::symbolic;
namespace fs = std::filesystem;

namespace {

std::string readText(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool sameBits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

void flatten(const nlohmann::json& j, std::vector<double>& out) {
  if (j.is_array()) {
    for (const auto& e : j)
      flatten(e, out);
  } else if (j.is_boolean()) {
    out.push_back(j.get<bool>() ? 1 : 0);
  } else {
    out.push_back(j.get<double>());
  }
}

/// A program loaded with the data sizes of `data` (when given), and the inputs of one of its
/// modules bound from `data` by name, or drawn at random (program_files.h) when absent.
struct Loaded {
  std::unique_ptr<ir::Program> prog;
  nlohmann::json data;
};

Loaded load(const fs::path& chs, const fs::path& data) {
  Loaded l;
  spec::DataSizes sizes;
  if (!data.empty() && fs::exists(data)) {
    const std::string text = readText(data);
    auto s = spec::readDataSizes(text, data.string());
    if (!s) return l;
    sizes = std::move(*s);
    l.data = nlohmann::json::parse(text);
  }
  spec::DiagnosticEngine diags;
  auto ast = spec::loadProgram(chs.string(), diags, &sizes);
  if (!ast) return l;
  ir::LowerOptions lo;
  lo.networkLoader = neural::networkLoader();
  auto prog = ir::lower(*ast, lo);
  if (!prog) prog = ir::lower(*ast);
  if (prog) l.prog = std::make_unique<ir::Program>(std::move(*prog));
  return l;
}

std::vector<Value> inputsFor(const ir::Function& f, const ir::Context& ctx,
                             const nlohmann::json& data, std::mt19937_64& rng) {
  std::vector<Value> in;
  for (const ir::Param& p : f.inputs()) {
    Value v;
    const bool array = p.var->type().isArray();
    if (data.is_object() && data.contains(p.var->name())) {
      std::vector<double> xs;
      flatten(data[p.var->name()], xs);
      if (array) v.a = xs;
      else if (!xs.empty()) v.s = xs[0];
    } else if (array) {
      for (size_t k = 0; k < p.var->type().numScalars(); ++k)
        v.a.push_back(testing::drawScalar(p, ctx, rng));
    } else {
      v.s = testing::drawScalar(p, ctx, rng);
    }
    in.push_back(std::move(v));
  }
  return in;
}

struct Case {
  fs::path chs, data;
};

std::vector<Case> corpus() {
  const fs::path root = CHASSIS_SOURCE_DIR;
  std::vector<Case> cases;
  for (const char* dir : {"examples", "tests/spec/ok"}) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(root / dir))
      if (e.path().extension() == ".chs") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const fs::path& p : files) {
      fs::path data = fs::path(p).replace_extension(".json");
      if (!fs::exists(data)) data = fs::path(p).replace_extension(".data.json");
      cases.push_back({p, fs::exists(data) ? data : fs::path()});
    }
  }
  // bench/nuts/posteriors.py's models on their posteriordb data (as bench/nuts/vs_stan runs them)
  const std::pair<const char*, const char*> bench[] = {
      {"examples/eight_schools_stan.chs", "eight_schools-eight_schools_noncentered"},
      {"examples/kidiq_stan.chs", "kidiq-kidscore_momiq"},
      {"examples/ar_k.chs", "ar5_simulated-arK"},
      {"examples/garch11.chs", "garch11_simulated-garch11"},
      {"examples/wells_logistic.chs", "wells_simulated-wells_dist100"}};
  for (const auto& [chs, name] : bench)
    cases.push_back({root / chs, root / "tests/data/posteriordb" / name / "data.json"});
  return cases;
}

bool hasUnknownNode(const TapeView& v) {
  for (const auto& nd : v.nodes)
    if (nd.kind == TapeNodeKind::Other) return true;
  return false;
}

/// Checks the compiled function of `tape` at u0 and 5 jittered points against the tape's sweeps
/// (bit for bit) and central differences; returns the points checked.
size_t checkAgainstTape(LogDensityTape& tape, const codegen::CompiledTape& compiled,
                        const std::vector<double>& u0, std::mt19937_64& rng) {
  const size_t d = tape.dimension();
  std::normal_distribution<double> jitter(0, 0.3);
  size_t points = 0;
  for (int k = 0; k < 6; ++k) {
    std::vector<double> u = u0;
    if (k > 0)
      for (double& x : u)
        x += jitter(rng);
    const size_t recBefore = tape.recordings();
    std::vector<double> gc(d), gt(d);
    double lc = 0;
    std::vector<double> work(compiled.workSize());
    const int rc = compiled(u.data(), gc.data(), &lc, work.data());
    auto lt = tape.logDensity(u, gt);
    REQUIRE(lt);
    const bool tapeFinite = *lt > -std::numeric_limits<double>::infinity();
    const bool reRecorded = tape.recordings() != recBefore;
    // 0 exactly when the tape's sweeps succeed on the same tape (no guard changed).
    INFO("point " << k << ": compiled " << rc << " " << lc << ", tape " << *lt
                  << (reRecorded ? " (re-recorded)" : ""));
    CHECK((rc == 0) == (tapeFinite && !reRecorded));
    if (rc != 0 || reRecorded) {
      if (reRecorded) break; // the compiled function is of the old tape
      continue;
    }
    CHECK(sameBits(lc, *lt));
    for (size_t j = 0; j < d; ++j) {
      INFO("coordinate " << j << ": compiled " << gc[j] << ", tape " << gt[j]);
      CHECK(sameBits(gc[j], gt[j]));
    }
    // Central differences of the tape's forward sweep.
    for (size_t j = 0; j < d; ++j) {
      const double h = 1e-6 * std::max(1.0, std::fabs(u[j]));
      std::vector<double> up = u, um = u;
      up[j] += h;
      um[j] -= h;
      auto fp1 = tape.logDensity(up), fm1 = tape.logDensity(um);
      REQUIRE(fp1);
      REQUIRE(fm1);
      if (!std::isfinite(*fp1) || !std::isfinite(*fm1)) continue;
      const double fd = (*fp1 - *fm1) / (2 * h);
      INFO("coordinate " << j << ": compiled " << gc[j] << ", finite difference " << fd);
      CHECK(std::fabs(fd - gc[j]) <=
            1e-4 * std::max({1.0, std::fabs(fd), std::fabs(gc[j]), std::fabs(*lt) * 1e-3}));
    }
    ++points;
  }
  return points;
}

/// Calls visit(f, ctx, data, isBench) for every non-external module of the corpus (a bench
/// model's program must load).
template <typename Visit> void forEachModule(Visit visit) {
  const std::vector<Case> cases = corpus();
  for (size_t ci = 0; ci < cases.size(); ++ci) {
    const Case& c = cases[ci];
    const bool isBench = ci + 5 >= cases.size();
    Loaded l = load(c.chs, c.data);
    if (isBench) REQUIRE(l.prog);
    if (!l.prog) continue;
    for (const auto& fp : l.prog->functions()) {
      if (fp->kind() == ir::FunctionKind::External) continue;
      INFO(c.chs.string() << " module " << fp->name());
      visit(*fp, l.prog->ctx(), l.data, isBench);
    }
  }
}

size_t countKind(const TapeView& v, TapeNodeKind k) {
  size_t n = 0;
  for (const auto& nd : v.nodes)
    if (nd.kind == k) ++n;
  return n;
}

} // namespace

TEST_CASE("compiled tape gradients equal the tape's and finite differences on every model",
          "[codegen][tape_compiler]") {
  std::mt19937_64 rng(20261203);
  size_t checkedModules = 0, checkedPoints = 0, benchChecked = 0;
  forEachModule([&](const ir::Function& f, const ir::Context& ctx, const nlohmann::json& data,
                    bool isBench) {
    LogDensityTape tape(f, inputsFor(f, ctx, data, rng), /*fuse=*/false);
    Rng init(7);
    auto u0 = tape.initialize(init);
    if (!u0 || u0->empty()) return; // not a model NUTS takes (discrete choices, ...)
    INFO(tape.tapeSize() << " nodes");
    const TapeView view = tape.view();
    auto compiled = codegen::CompiledTape::compile(view);
    if (!compiled) {
      INFO(compiled.error().message);
      REQUIRE(hasUnknownNode(view)); // the only acceptable reason
      return;
    }
    const size_t pointsHere = checkAgainstTape(tape, **compiled, *u0, rng);
    if (pointsHere > 0) {
      ++checkedModules;
      checkedPoints += pointsHere;
      if (isBench) ++benchChecked;
    }
  });
  INFO(checkedModules << " modules, " << checkedPoints << " points");
  CHECK(checkedModules >= 15);
  CHECK(benchChecked == 5);
}

TEST_CASE("compiled fused tapes equal the fused tape bit for bit at O2 and at the fast level",
          "[codegen][tape_compiler][fused]") {
  // The fused nodes keep ad.cpp's summation order (elements in order, partials of the bases
  // accumulated from 0), so the compiled fused tape is the fused tape's bits, not just close.
  std::mt19937_64 rng(20261204);
  size_t checkedModules = 0, benchChecked = 0;
  size_t kinds[3] = {0, 0, 0}; // LogDensitySum, NormalLinearSum, BernoulliLogitLinearSum
  forEachModule([&](const ir::Function& f, const ir::Context& ctx, const nlohmann::json& data,
                    bool isBench) {
    const std::vector<Value> inputs = inputsFor(f, ctx, data, rng);
    bool checked = false;
    size_t fused[3] = {0, 0, 0};
    for (auto level : {codegen::TapeOptLevel::O2, codegen::TapeOptLevel::Fast}) {
      // A fresh tape per level (checking may re-record the tape at a jittered point).
      LogDensityTape tape(f, inputs, /*fuse=*/true);
      Rng init(7);
      auto u0 = tape.initialize(init);
      if (!u0 || u0->empty()) return;
      INFO(tape.tapeSize() << " nodes");
      const TapeView view = tape.view();
      fused[0] = countKind(view, TapeNodeKind::LogDensitySum);
      fused[1] = countKind(view, TapeNodeKind::NormalLinearSum);
      fused[2] = countKind(view, TapeNodeKind::BernoulliLogitLinearSum);
      auto compiled = codegen::CompiledTape::compile(view, nullptr, level);
      if (!compiled) {
        INFO(compiled.error().message);
        REQUIRE(hasUnknownNode(view));
        return;
      }
      CHECK((*compiled)->optimized() == (level == codegen::TapeOptLevel::O2));
      if (checkAgainstTape(tape, **compiled, *u0, rng) > 0) checked = true;
    }
    if (checked) {
      ++checkedModules;
      if (isBench) ++benchChecked;
      for (int k = 0; k < 3; ++k)
        kinds[k] += fused[k];
    }
  });
  CHECK(checkedModules >= 15);
  CHECK(benchChecked == 5);
  // The bench models hold every fused kind: eight schools' and GARCH's sums, kidiq's and AR(5)'s
  // linear Normals, wells' logistic regression.
  CHECK(kinds[0] > 0);
  CHECK(kinds[1] > 0);
  CHECK(kinds[2] > 0);
}

TEST_CASE("tapes compiled as pieces of a few nodes per function equal the tape bit for bit",
          "[codegen][tape_compiler][pieces]") {
  // The sweeps split into functions of at most nodesPerFunction nodes (values and adjoints
  // through the workspace) compute what the tape computes, in its order: the same bits, and a
  // failed check in any piece asks the tape. Pieces of 1 and 7 nodes at the fast level, of 64 at
  // O2 (GARCH's 1609-node fused tape: 26 pieces per sweep), of 300 at the lean level (no IR
  // passes, no machine scheduler: Auto's level for long tapes).
  std::mt19937_64 rng(20261205);
  size_t checkedModules = 0, benchChecked = 0, multiPiece = 0;
  forEachModule([&](const ir::Function& f, const ir::Context& ctx, const nlohmann::json& data,
                    bool isBench) {
    const std::vector<Value> inputs = inputsFor(f, ctx, data, rng);
    bool checked = false;
    const std::pair<size_t, codegen::TapeOptLevel> settings[] = {
        {1, codegen::TapeOptLevel::Fast},
        {7, codegen::TapeOptLevel::Fast},
        {64, codegen::TapeOptLevel::O2},
        {300, codegen::TapeOptLevel::Lean}};
    for (const auto& [per, level] : settings) {
      LogDensityTape tape(f, inputs, /*fuse=*/true);
      Rng init(7);
      auto u0 = tape.initialize(init);
      if (!u0 || u0->empty()) return;
      INFO(tape.tapeSize() << " nodes, " << per << " per function");
      const TapeView view = tape.view();
      auto compiled = codegen::CompiledTape::compile(view, nullptr, level, per);
      if (!compiled) {
        INFO(compiled.error().message);
        REQUIRE(hasUnknownNode(view));
        return;
      }
      const size_t pieces = std::max<size_t>(1, (view.nodes.size() + per - 1) / per);
      CHECK((*compiled)->functions() == 2 * pieces);
      if (pieces > 1) ++multiPiece;
      if (checkAgainstTape(tape, **compiled, *u0, rng) > 0) checked = true;
    }
    if (checked) {
      ++checkedModules;
      if (isBench) ++benchChecked;
    }
  });
  CHECK(checkedModules >= 15);
  CHECK(benchChecked == 5);
  CHECK(multiPiece >= 15);
}

TEST_CASE("a failed check in a later piece of a split tape asks the tape",
          "[codegen][tape_compiler][pieces]") {
  // L = u0 u1 + exp(u0), one node per function: exp overflows in the second piece.
  TapeView v;
  v.recorded = true;
  v.values = {0, 0, 0, 0, 0};
  v.positionSlots = {0, 1};
  v.args = {0, 1, 0, 2, 3};
  v.nodes = {{TapeNodeKind::Mul, 0, 2, 0, 2}, {TapeNodeKind::Exp, 0, 3, 2, 1},
             {TapeNodeKind::Add, 0, 4, 3, 2}};
  v.target = 4;
  auto c = codegen::CompiledTape::compile(v, nullptr, codegen::TapeOptLevel::O2, 1);
  REQUIRE(c);
  CHECK((*c)->functions() == 6);
  double u[2] = {0.5, -2.0}, g[2], l;
  std::vector<double> work((*c)->workSize());
  REQUIRE((**c)(u, g, &l, work.data()) == 0);
  CHECK(l == 0.5 * -2.0 + std::exp(0.5));
  CHECK(g[0] == -2.0 + std::exp(0.5));
  CHECK(g[1] == 0.5);
  double far[2] = {800.0, 1.0};
  CHECK((**c)(far, g, &l, work.data()) == 1);
  // Back at a good point after the failure: the same answer.
  REQUIRE((**c)(u, g, &l, work.data()) == 0);
  CHECK(l == 0.5 * -2.0 + std::exp(0.5));
}

TEST_CASE("NUTS on the compiled tape draws the interpreted tape's chains at a seed",
          "[codegen][tape_compiler]") {
  const fs::path root = CHASSIS_SOURCE_DIR;
  Loaded l = load(root / "examples/eight_schools_stan.chs",
                  root / "tests/data/posteriordb/eight_schools-eight_schools_noncentered/data.json");
  REQUIRE(l.prog);
  const ir::Function* f = l.prog->findFunction("EightSchools");
  REQUIRE(f);
  std::mt19937_64 rng(1);
  const std::vector<Value> in = inputsFor(*f, l.prog->ctx(), l.data, rng);
  NutsOptions opt;
  opt.warmup = 150;
  opt.samples = 100;
  opt.chains = 2;
  opt.seed = 11;
  const bool fuse = GENERATE(false, true);
  INFO((fuse ? "fused" : "unfused") << " tape");
  opt.fuseTape = fuse;
  auto interp = runNuts(*f, in, opt);
  REQUIRE(interp);
  auto stats = std::make_shared<codegen::TapeJitStats>();
  opt.gradient = codegen::compiledGradient(stats);
  auto jit = runNuts(*f, in, opt);
  REQUIRE(jit);
  CHECK(stats->compiledEvals > 1000);
  // One tape per chain, recorded at different positions, compiled once (or found compiled by
  // an earlier test): a tape's identity does not depend on the position.
  CHECK(stats->compiles + stats->cacheHits == 2);
  CHECK(stats->compiles <= 1);
  CHECK(stats->cacheHits >= 1);
  REQUIRE(interp->chains.size() == jit->chains.size());
  for (size_t c = 0; c < jit->chains.size(); ++c) {
    REQUIRE(interp->chains[c].draws.size() == jit->chains[c].draws.size());
    CHECK(interp->chains[c].leapfrogSteps == jit->chains[c].leapfrogSteps);
    for (size_t q = 0; q < jit->chains[c].draws.size(); ++q)
      for (size_t i = 0; i < jit->chains[c].draws[q].size(); ++i)
        REQUIRE(sameBits(interp->chains[c].draws[q][i], jit->chains[c].draws[q][i]));
  }
}

TEST_CASE("a guard that changes re-records the tape and rebuilds the compiled function; a chain "
          "whose control flow keeps changing stays interpreted",
          "[codegen][tape_compiler]") {
  auto c = testing::compileChs(R"(
module Branchy() -> (z: real) {
    x ~ Normal(0.0, 1.0);
    y ~ Normal(0.0, 2.0);
    if x > 0.0 {
        z = exp(y) * x;
    } else {
        z = log(1.0 + y * y) - x;
    }
    factor(-z * z / 10.0);
}
)");
  const ir::Function* f = c.ir.findFunction("Branchy");
  REQUIRE(f);
  LogDensityTape tape(*f, {}, /*fuse=*/false);
  LogDensityTape reference(*f, {}, /*fuse=*/false);
  Rng r1(3), r2(3);
  REQUIRE(tape.initialize(r1));
  REQUIRE(reference.initialize(r2));
  auto stats = std::make_shared<codegen::TapeJitStats>();
  codegen::CompiledLogDensity fn(tape, stats);
  std::vector<double> g(2), gr(2);
  const double xs[] = {0.7, -0.4, 0.3, -1.1, 0.9, -0.2, 0.5, -0.6, 1.2, -0.8};
  size_t evals = 0;
  for (double x : xs) {
    for (double y : {-0.3, 0.8}) {
      std::vector<double> u = {x, y};
      auto l = fn(u, g);
      auto lr = reference.logDensity(u, gr);
      REQUIRE(l);
      REQUIRE(lr);
      CHECK(sameBits(*l, *lr));
      CHECK(sameBits(g[0], gr[0]));
      CHECK(sameBits(g[1], gr[1]));
      ++evals;
    }
  }
  // Every sign change of x re-recorded the tape (the first recording is initialize's).
  CHECK(tape.recordings() >= 10);
  // Two control flows: two compilations, then cache hits, then the chain gave up compiling.
  CHECK(stats->compiles <= 2);
  CHECK(stats->compiles + stats->cacheHits == size_t(codegen::kMaxCompilesPerTape));
  CHECK(stats->gaveUp == 1);
  CHECK(stats->compiledEvals > 0);
  CHECK(stats->compiledEvals + stats->interpretedEvals == evals);
}

TEST_CASE("a tape with a node kind the compiler does not know does not compile",
          "[codegen][tape_compiler]") {
  // u0 * u1 + (unknown node of u0): slots 0, 1 the position, 2 the product, 3 the unknown, 4 sum
  TapeView v;
  v.recorded = true;
  v.values = {0, 0, 0, 0, 0};
  v.positionSlots = {0, 1};
  v.args = {0, 1, 0, 2, 3};
  v.nodes = {{TapeNodeKind::Mul, 0, 2, 0, 2}, {TapeNodeKind::Other, 0, 3, 2, 1},
             {TapeNodeKind::Add, 0, 4, 3, 2}};
  v.target = 4;
  auto bad = codegen::CompiledTape::compile(v);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("node kind the tape compiler does not know") !=
        std::string::npos);
  // The same tape with a known node there compiles and computes the value and the gradient:
  // L = u0 u1 + exp(u0).
  v.nodes[1].kind = TapeNodeKind::Exp;
  auto ok = codegen::CompiledTape::compile(v);
  REQUIRE(ok);
  double u[2] = {0.5, -2.0}, g[2], l;
  std::vector<double> work((*ok)->workSize());
  REQUIRE((**ok)(u, g, &l, work.data()) == 0);
  CHECK(l == 0.5 * -2.0 + std::exp(0.5));
  CHECK(g[0] == -2.0 + std::exp(0.5));
  CHECK(g[1] == 0.5);
  // A non-finite value asks the tape.
  double far[2] = {800.0, 1.0};
  CHECK((**ok)(far, g, &l, work.data()) == 1);
}

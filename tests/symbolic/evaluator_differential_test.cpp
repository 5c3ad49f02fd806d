// The interpreter and the log-density tape run the same traversal (symbolic/evaluator.h) in two
// domains; this checks that they compute the same thing. Over every module of tests/spec/ok/ and
// examples/ (with the data sizes of a NAME.json beside the file, as scripts/golden loads it):
//   deterministic modules  on random inputs (inside each input's declared range, integral for
//                          ints, valid enum indices), the outputs of symbolic::run and of the
//                          tape's recording (LogDensityTape::readOutputs) are the same float64
//                          bits, or both fail with the same located message;
//   continuous random ones at the tape's initial point, its outputs equal those of the
//                          interpreter replaying the tape's choices (RunOptions::replay).
#include "spec/frontend.h"
#include "spec/lower.h"
#include "symbolic/ad.h"
#include "symbolic/interp.h"
#include "tests/symbolic/compile_chs.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <filesystem>
#include <random>
#include <unordered_map>

using namespace chassis;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> corpus() {
  std::vector<fs::path> files;
  for (const char* dir : {"tests/spec/ok", "examples"}) {
    const fs::path d = fs::path(CHASSIS_SOURCE_DIR) / dir;
    if (!fs::exists(d)) continue;
    for (auto& e : fs::directory_iterator(d))
      if (e.path().extension() == ".chs") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

double drawScalar(const ir::Param& p, const ir::Context& ctx, std::mt19937_64& g) {
  const ir::Type& t = p.var->type();
  std::uniform_real_distribution<double> unit(0, 1);
  switch (t.scalar) {
  case ir::ScalarKind::Bool:
    return unit(g) < 0.5 ? 0 : 1;
  case ir::ScalarKind::Enum:
    return std::floor(unit(g) * double(ctx.enums()[size_t(t.enumId)].constants.size()));
  case ir::ScalarKind::Int: {
    const double lo = p.range ? std::ceil(p.range->first) : -20;
    const double hi = p.range ? std::floor(p.range->second) : 20;
    return std::min(hi, lo + std::floor(unit(g) * (hi - lo + 1)));
  }
  case ir::ScalarKind::Real:
    if (p.range) return p.range->first + unit(g) * (p.range->second - p.range->first);
    return std::normal_distribution<double>(0, 10)(g);
  case ir::ScalarKind::Tuple:
    break;
  }
  return 0;
}

std::vector<symbolic::Value> drawInputs(const ir::Function& f, const ir::Context& ctx,
                                        std::mt19937_64& g) {
  std::vector<symbolic::Value> in;
  for (const ir::Param& p : f.inputs()) {
    if (p.var->type().isArray()) {
      std::vector<double> a(p.var->type().numScalars());
      for (double& x : a)
        x = drawScalar(p, ctx, g);
      in.push_back(symbolic::Value::array(std::move(a)));
    } else {
      in.push_back(symbolic::Value::scalar(drawScalar(p, ctx, g)));
    }
  }
  return in;
}

/// The outputs flattened as the tape reads them (scalars, arrays row-major).
std::vector<double> flatten(const std::vector<symbolic::Value>& outs, const ir::Function& f) {
  std::vector<double> flat;
  for (size_t k = 0; k < outs.size(); ++k) {
    if (f.outputs()[k]->type().isArray())
      flat.insert(flat.end(), outs[k].a.begin(), outs[k].a.end());
    else
      flat.push_back(outs[k].s);
  }
  return flat;
}

/// Equal as float64 bits (so 0.0 and -0.0 differ, and a NaN equals itself).
bool sameBits(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (size_t k = 0; k < a.size(); ++k)
    if (std::bit_cast<uint64_t>(a[k]) != std::bit_cast<uint64_t>(b[k])) return false;
  return true;
}

std::string show(const std::vector<double>& v) {
  std::string s;
  for (double x : v)
    s += (s.empty() ? "" : ", ") + std::to_string(x);
  return "[" + s + "]";
}

std::unique_ptr<ir::Program> load(const fs::path& file) {
  spec::DiagnosticEngine diags;
  const spec::DataSizes sizes = testing::caseData(file.string());
  auto ast = spec::loadProgram(file.string(), diags, &sizes);
  INFO(diags.str());
  REQUIRE(ast);
  auto prog = ir::lower(*ast);
  INFO((prog ? std::string() : prog.error().str()));
  REQUIRE(prog);
  return std::make_unique<ir::Program>(std::move(*prog));
}

} // namespace

TEST_CASE("evaluator: interpreter and AD tape agree on every deterministic corpus module",
          "[evaluator][interp][ad]") {
  std::mt19937_64 g(20261203);
  int modules = 0, agreeing = 0, bothFailing = 0;
  for (const fs::path& file : corpus()) {
    INFO(file.string());
    auto prog = load(file);
    for (auto& f : prog->functions()) {
      if (f->kind() != ir::FunctionKind::Module || f->isRandom()) continue;
      ++modules;
      INFO(f->name());
      for (int trial = 0; trial < 40; ++trial) {
        std::vector<symbolic::Value> in = drawInputs(*f, prog->ctx(), g);
        Rng rng{uint64_t(trial)};
        auto r = symbolic::run(*f, in, rng);
        symbolic::LogDensityTape tape(*f, in);
        auto init = tape.initialize(rng);
        if (!r || !init) {
          INFO("interpreter: " + (r ? std::string("ok") : r.error().str()));
          INFO("tape: " + (init ? std::string("ok") : init.error().str()));
          REQUIRE(!r);
          REQUIRE(!init);
          CHECK(r.error().str() == init.error().str());
          ++bothFailing;
          continue;
        }
        CHECK(tape.dimension() == 0);
        const std::vector<double> want = flatten(r->outputs, *f);
        std::vector<double> got(tape.outputNames().size());
        tape.readOutputs(got);
        INFO("interpreter " + show(want) + ", tape " + show(got));
        CHECK(sameBits(want, got));
        ++agreeing;
      }
    }
  }
  // The corpus has dozens of deterministic modules; most runs succeed.
  CHECK(modules >= 20);
  CHECK(agreeing >= 20 * 30);
  WARN("deterministic modules " << modules << ": " << agreeing << " runs agree, " << bothFailing
                                << " fail alike");
}

TEST_CASE("evaluator: the AD tape's outputs equal the interpreter's on its choices",
          "[evaluator][interp][ad]") {
  std::mt19937_64 g(7);
  int modules = 0;
  for (const fs::path& file : corpus()) {
    INFO(file.string());
    auto prog = load(file);
    for (auto& f : prog->functions()) {
      if (f->kind() != ir::FunctionKind::Module || !f->isRandom()) continue;
      INFO(f->name());
      std::vector<symbolic::Value> in = drawInputs(*f, prog->ctx(), g);
      symbolic::LogDensityTape tape(*f, in);
      Rng rng(3);
      auto init = tape.initialize(rng);
      if (!init) continue; // discrete choices, or no finite starting point: not the tape's
      ++modules;
      std::vector<double> choices(tape.dimension());
      tape.readChoices(choices);
      std::unordered_map<std::string, double> replay;
      for (size_t k = 0; k < choices.size(); ++k)
        replay[tape.addresses()[k]] = choices[k];
      symbolic::RunOptions opt;
      opt.replay = &replay;
      auto r = symbolic::run(*f, in, rng, opt);
      INFO((r ? std::string() : r.error().str()));
      REQUIRE(r);
      for (const auto& c : r->trace.choices)
        CHECK(c.replayed);
      const std::vector<double> want = flatten(r->outputs, *f);
      std::vector<double> got(tape.outputNames().size());
      tape.readOutputs(got);
      INFO("interpreter " + show(want) + ", tape " + show(got));
      CHECK(sameBits(want, got));
    }
  }
  CHECK(modules >= 5);
  WARN("continuous random modules compared: " << modules);
}

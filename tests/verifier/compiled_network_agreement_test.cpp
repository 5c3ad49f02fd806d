// Compiled networks (neural/compile_module.h) against the modules they were compiled from: the
// forward pass equals the interpreter's output on thousands of random inputs outside the margin
// bands (a comparator, a clamp, an absolute difference, an if/else controller, sparse parity,
// modular addition with one-hot enums, nested calls, a loop, a call of an ONNX network), and the
// property checker proves the agreement everywhere outside the margins for the network read back
// from its ONNX file, while a network with one weight changed is found violated.
#include "neural/compile_module.h"
#include "neural/lower_network.h"
#include "neural/network.h"
#include "neural/onnx.h"
#include "spec/diagnostics.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "spec/rng.h"
#include "symbolic/interp.h"
#include "verifier/properties.h"

#include "tests/verifier/chs_file_test_util.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

using namespace chassis;
using namespace chassis::neural;

namespace {

constexpr double kMargin = 1e-3;

/// True when the input columns are clear of every margin band of the module (with slack for
/// float64 rounding), i.e. where the compiled network must equal the module.
using BandFree = std::function<bool(const std::vector<double>&)>;
bool clear(double t) {
  return std::fabs(t) >= 2 * kMargin;
}

/// Compiles `module` of `rel`, then checks the network against the interpreter on `n` random
/// inputs from the module's box (bools 0/1, ints and enum indices integral) that are band-free;
/// returns the number of inputs checked.
int checkAgreement(const std::string& rel, const std::string& module, int comparisons,
                   const BandFree& bandFree, int n = 3000) {
  auto prog = testing::loadChsFile(rel);
  const ir::Function* f = prog->findFunction(module);
  REQUIRE(f);
  auto c = compileModule(*prog, *f, CompileOptions{kMargin});
  INFO((c ? "" : c.error().str()));
  REQUIRE(c);
  REQUIRE(c->numComparisons == comparisons);
  const ir::Context& ctx = prog->ctx();
  std::mt19937 g(17);
  Rng rng(1);
  int checked = 0;
  for (int s = 0; s < n; ++s) {
    std::vector<symbolic::Value> args;
    std::vector<double> cols;
    for (const ir::Param& p : f->inputs()) {
      const ir::Type& t = p.var->type();
      std::vector<double> elems;
      for (size_t i = 0; i < t.numScalars(); ++i) {
        double v = 0;
        switch (t.scalar) {
        case ir::ScalarKind::Bool:
          v = std::uniform_int_distribution<int>(0, 1)(g);
          break;
        case ir::ScalarKind::Enum:
          v = std::uniform_int_distribution<int>(
              0, int(ctx.enums()[size_t(t.enumId)].constants.size()) - 1)(g);
          break;
        case ir::ScalarKind::Int:
          v = std::uniform_int_distribution<int>(int(p.range->first), int(p.range->second))(g);
          break;
        default:
          v = std::uniform_real_distribution<double>(p.range->first, p.range->second)(g);
        }
        elems.push_back(v);
        cols.push_back(v);
      }
      args.push_back(t.isArray() ? symbolic::Value::array(elems)
                                 : symbolic::Value::scalar(elems[0]));
    }
    if (!bandFree(cols)) continue;
    auto r = symbolic::run(*f, args, rng);
    INFO((r ? "" : r.error().str()));
    REQUIRE(r);
    std::vector<double> expected;
    for (size_t k = 0; k < f->outputs().size(); ++k) {
      const ir::Type& t = f->outputs()[k]->type();
      const symbolic::Value& v = r->outputs[k];
      const std::vector<double> elems = t.isArray() ? v.a : std::vector<double>{v.s};
      for (double e : elems) {
        if (t.scalar == ir::ScalarKind::Bool) {
          expected.push_back(1 - e);
          expected.push_back(e);
        } else if (t.scalar == ir::ScalarKind::Enum) {
          for (size_t q = 0; q < ctx.enums()[size_t(t.enumId)].constants.size(); ++q)
            expected.push_back(double(q) == e ? 1 : 0);
        } else {
          expected.push_back(e);
        }
      }
    }
    const Eigen::VectorXd y =
        c->net.forward(Eigen::Map<const Eigen::VectorXd>(cols.data(), long(cols.size())));
    REQUIRE(y.size() == long(expected.size()));
    for (size_t k = 0; k < expected.size(); ++k) {
      INFO(module << " at sample " << s << ", output " << c->outputNames[k]);
      REQUIRE(y(long(k)) == Approx(expected[k]).margin(1e-7));
    }
    ++checked;
  }
  return checked;
}

BandFree always() {
  return [](const std::vector<double>&) { return true; };
}

double hinge(double x) {
  return std::max(0.0, x) - 1.0;
}
double twice(double x) {
  return hinge(x) + hinge(-2.0 * x + 3.0);
}

} // namespace

TEST_CASE("compiled networks equal the interpreter outside the margin bands",
          "[compile_module][agreement]") {
  // a <= b: t = b - a.
  CHECK(checkAgreement("tests/data/compile/comparator.chs", "Cmp", 1,
                       [](const std::vector<double>& x) { return clear(x[1] - x[0]); }) > 2900);
  CHECK(checkAgreement("tests/data/compile/clamp.chs", "Clamp", 0, always()) == 3000);
  CHECK(checkAgreement("tests/data/compile/absdiff.chs", "AbsDiff", 0, always()) == 3000);
  // dist < 2 speed + 5, speed < 25, dist - speed < 40 (all three are compiled, in both branches).
  CHECK(checkAgreement(
            "tests/data/compile/controller.chs", "Ctl", 3, [](const std::vector<double>& x) {
              const double speed = x[0], dist = x[1];
              return clear(2 * speed + 5 - dist) && clear(25 - speed) && clear(40 - (dist - speed));
            }) > 2900);
  CHECK(checkAgreement("tests/data/compile/parity.chs", "Parity", 0, always()) == 3000);
  CHECK(checkAgreement("tests/data/compile/modadd.chs", "ModAdd", 0, always()) == 3000);
  // pos = Twice(a + b) > 2.
  CHECK(checkAgreement("tests/data/compile/nested.chs", "Outer", 1,
                       [](const std::vector<double>& x) { return clear(twice(x[0] + x[1]) - 2); }) >
        2900);
  CHECK(checkAgreement("tests/data/compile/loop.chs", "Loop", 0, always()) == 3000);
  // The language's control-flow sample: nested if / else if / else, loops, int % and conditional
  // expressions; its real comparisons are x > 50, x > 10, x > 5 and y > 0 (y is never in (0, m)).
  CHECK(checkAgreement("tests/spec/ok/control.chs", "Control", 4, [](const std::vector<double>& x) {
          return clear(x[0] - 50) && clear(x[0] - 10) && clear(x[0] - 5);
        }) > 2900);
  // A network call: its Affine / VecRelu layers are inlined.
  CHECK(checkAgreement("tests/data/compile/policy.chs", "UsePolicy", 0, always()) == 3000);
}

namespace {

struct TempDir {
  std::filesystem::path dir;
  TempDir() {
    dir = std::filesystem::temp_directory_path() /
          ("chassis_compile_net_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

/// Loads the .chs text `src` written as `dir/name` (its networks resolved beside it).
std::unique_ptr<ir::Program> loadText(const std::filesystem::path& dir, const std::string& name,
                                      const std::string& src) {
  const std::filesystem::path path = dir / name;
  {
    std::ofstream os(path);
    os << src;
  }
  return testing::loadChsFile(path.string());
}

verifier::PropertyResult verifyNamed(const ir::Program& p, const std::string& name) {
  for (const ir::Property& q : p.properties)
    if (q.name == name) {
      verifier::VerifyOptions o;
      o.timeoutSec = 120;
      auto r = verifier::verifyProperty(p, q, o);
      INFO(name << ": " << verifier::verdictName(r.verdict) << " " << r.reason << " "
                << r.method);
      return r;
    }
  FAIL("no property " << name);
  return {};
}

const char* kCmpSource = "module Cmp(a: real in [0, 10], b: real in [0, 10]) -> (out: bool) {\n"
                         "    out = a <= b;\n}\n";

} // namespace

TEST_CASE("the verifier proves a compiled comparator agrees with its module outside the margin",
          "[compile_module][agreement]") {
  TempDir tmp;
  auto src = loadText(tmp.dir, "cmp.chs", kCmpSource);
  auto c = compileModule(*src, *src->findFunction("Cmp"), CompileOptions{kMargin});
  REQUIRE(c);
  REQUIRE(saveOnnx(fromAffineNet(c->net, "Cmp"), (tmp.dir / "cmp.onnx").string()));
  // One weight changed: the rise unit reads a with -500 instead of -1000, so for a > b it can
  // still be on and the network says true where the module says false.
  AffineNet mutated = c->net;
  int rise = -1;
  for (size_t k = 0; k < c->neuronLabels[0].size(); ++k)
    if (c->neuronLabels[0][k].find("rise") != std::string::npos) rise = int(k);
  REQUIRE(rise >= 0);
  REQUIRE(mutated.layers[0].W(rise, 0) == -1000.0);
  mutated.layers[0].W(rise, 0) = -500.0;
  REQUIRE(saveOnnx(fromAffineNet(mutated, "CmpBad"), (tmp.dir / "cmp_bad.onnx").string()));

  const std::string props =
      std::string(kCmpSource) +
      "network CN(a: real, b: real) -> (y: real[2]) = onnx(\"cmp.onnx\");\n"
      "network CNBad(a: real, b: real) -> (y: real[2]) = onnx(\"cmp_bad.onnx\");\n"
      "property agree: forall a in [0, 10], b in [0, 10]:\n"
      "    (b - a >= 0.0 || b - a <= -0.001) => ((CN(a, b).y[1] > CN(a, b).y[0]) == Cmp(a, "
      "b).out);\n"
      "property agree_bad: forall a in [0, 10], b in [0, 10]:\n"
      "    (b - a >= 0.0 || b - a <= -0.001) =>\n"
      "        ((CNBad(a, b).y[1] > CNBad(a, b).y[0]) == Cmp(a, b).out);\n"
      "property agree_in_band: forall a in [0, 10], b in [0, 10]:\n"
      "    (CN(a, b).y[1] > CN(a, b).y[0]) == Cmp(a, b).out;\n";
  auto p = loadText(tmp.dir, "props.chs", props);
  REQUIRE(verifyNamed(*p, "agree").verdict == verifier::Verdict::Holds);
  const auto bad = verifyNamed(*p, "agree_bad");
  REQUIRE(bad.verdict == verifier::Verdict::Violated);
  REQUIRE_FALSE(bad.counterexample.empty());
  // Without the band assumption the agreement fails inside the band (b - a in (-m, -m/2)).
  REQUIRE(verifyNamed(*p, "agree_in_band").verdict == verifier::Verdict::Violated);
}

TEST_CASE("the verifier proves a compiled clamp and controller agree with their modules",
          "[compile_module][agreement]") {
  TempDir tmp;
  const std::string clampSrc = "module Clamp(x: real in [-20, 20]) -> (y: real) {\n"
                               "    y = min(10.0, max(-5.0, 2.0 * x + 1.0));\n}\n";
  const std::string ctlSrc =
      "module Ctl(speed: real in [0, 40], dist: real in [0, 100]) -> (accel: real, brake: bool) {\n"
      "    if dist < 2.0 * speed + 5.0 {\n"
      "        accel = -3.0 - 0.1 * speed;\n        brake = true;\n"
      "    } else if speed < 25.0 {\n"
      "        accel = 1.5;\n        brake = false;\n"
      "    } else {\n"
      "        accel = 0.5 * (30.0 - speed);\n        brake = dist - speed < 40.0;\n    }\n}\n";
  auto src = loadText(tmp.dir, "src.chs", clampSrc + ctlSrc);
  for (const char* m : {"Clamp", "Ctl"}) {
    auto c = compileModule(*src, *src->findFunction(m), CompileOptions{kMargin});
    REQUIRE(c);
    REQUIRE(saveOnnx(fromAffineNet(c->net, m), (tmp.dir / (std::string(m) + ".onnx")).string()));
  }
  const std::string props =
      clampSrc + ctlSrc +
      "network CClamp(x: real) -> (y: real[1]) = onnx(\"Clamp.onnx\");\n"
      "network CCtl(speed: real, dist: real) -> (y: real[3]) = onnx(\"Ctl.onnx\");\n"
      "property clamp_agrees: forall x in [-20, 20]: abs(CClamp(x).y[0] - Clamp(x).y) <= "
      "0.000001;\n"
      "property ctl_agrees: forall speed in [0, 40], dist in [0, 100]:\n"
      "    (2.0 * speed + 5.0 - dist >= 0.001 || 2.0 * speed + 5.0 - dist <= 0.0) &&\n"
      "    (25.0 - speed >= 0.001 || 25.0 - speed <= 0.0) &&\n"
      "    (40.0 - (dist - speed) >= 0.001 || 40.0 - (dist - speed) <= 0.0) =>\n"
      "        abs(CCtl(speed, dist).y[0] - Ctl(speed, dist).accel) <= 0.000001 &&\n"
      "        (CCtl(speed, dist).y[2] > CCtl(speed, dist).y[1]) == Ctl(speed, dist).brake;\n";
  auto p = loadText(tmp.dir, "props.chs", props);
  REQUIRE(verifyNamed(*p, "clamp_agrees").verdict == verifier::Verdict::Holds);
  REQUIRE(verifyNamed(*p, "ctl_agrees").verdict == verifier::Verdict::Holds);
}

// The LLVM back end against the interpreter (symbolic/interp.h), the reference semantics: every
// deterministic module of examples/*.chs and tests/spec/ok/*.chs is JIT-compiled and run on 200
// random inputs inside (and a few just outside) its declared ranges, and so are 500 random
// programs (tests/symbolic/random_program.h) on 40 inputs each; outputs must be identical bit for
// bit and failures must be of the same kind, location and text. Plus targeted semantics (int division and
// remainder signs, the error codes), unsupported constructs, the C header, and a hidden timing
// comparison ([.bench], printed, never asserted).
#include "codegen/codegen.h"
#include "codegen/infer_mh_jit.h"

#include "neural/lower_network.h"
#include "spec/diagnostics.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "symbolic/interp.h"
#include "tests/codegen/program_files.h"
#include "tests/symbolic/compile_chs.h"
#include "tests/symbolic/random_program.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <random>

using namespace chassis;

namespace {

using testing::drawScalar;
using testing::tryLoad;

/// The kind of an interpreter failure, as the compiled code's error code.
int interpErrorKind(const std::string& m) {
  auto has = [&](const char* s) { return m.find(s) != std::string::npos; };
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

struct Compared {
  int runs = 0, errors = 0;
  std::map<int, int> byKind; // failing runs by error code
};

/// Runs `f` on `n` random inputs in the interpreter and in `jit`; checks identical results.
Compared compareOnRandomInputs(const ir::Function& f, const ir::Context& ctx,
                               const codegen::JitFunction& jit, int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Compared c;
  for (int run = 0; run < n; ++run) {
    std::vector<symbolic::Value> args;
    std::vector<double> in;
    for (const ir::Param& p : f.inputs()) {
      if (p.var->type().isArray()) {
        std::vector<double> a;
        for (size_t k = 0; k < p.var->type().numScalars(); ++k)
          a.push_back(drawScalar(p, ctx, rng));
        in.insert(in.end(), a.begin(), a.end());
        args.push_back(symbolic::Value::array(std::move(a)));
      } else {
        double v = drawScalar(p, ctx, rng);
        in.push_back(v);
        args.push_back(symbolic::Value::scalar(v));
      }
    }
    std::vector<double> out(jit.numOutputs() + 1, -12345.0);
    int rc = jit(in.data(), out.data());
    Rng r(0);
    auto ref = symbolic::run(f, args, r);
    INFO("module " << f.name() << ", run " << run);
    ++c.runs;
    if (!ref) {
      INFO("interpreter: " << ref.error().str() << "; compiled code: " << rc);
      REQUIRE(interpErrorKind(ref.error().message) == rc);
      // The compiled run's error as reported: the interpreter's kind, location and text.
      REQUIRE(codegen::compiledRunError(f, args, rc).str() == ref.error().str());
      ++c.errors;
      ++c.byKind[rc];
      continue;
    }
    INFO("compiled code returned " << rc << " (" << codegen::errorCodeName(rc) << ")");
    REQUIRE(rc == codegen::kOk);
    size_t pos = 0;
    for (size_t k = 0; k < f.outputs().size(); ++k) {
      const symbolic::Value& v = ref->outputs[k];
      std::vector<double> want = f.outputs()[k]->type().isArray() ? v.a : std::vector<double>{v.s};
      for (double w : want) {
        INFO("output " << f.outputs()[k]->name() << " element " << pos);
        // Bit-identical: the same float64 operations in the same order, the same libm.
        REQUIRE(std::memcmp(&w, &out[pos], sizeof(double)) == 0);
        ++pos;
      }
    }
    REQUIRE(out[pos] == -12345.0); // nothing written beyond the outputs
  }
  return c;
}

std::unique_ptr<codegen::JitFunction> jitOrFail(const ir::Function& f) {
  auto j = codegen::JitFunction::create(f);
  INFO((j ? "" : j.error().str()));
  REQUIRE(j);
  return std::move(*j);
}

} // namespace

TEST_CASE("JIT agrees with the interpreter on every deterministic module of the examples and "
          "the spec tests",
          "[codegen][differential]") {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const char* dir : {"examples", "tests/spec/ok"})
    for (auto& e : fs::directory_iterator(fs::path(CHASSIS_SOURCE_DIR) / dir))
      if (e.path().extension() == ".chs") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  int compiled = 0, withNetworks = 0, random = 0, unsupported = 0, unloadable = 0, withErrors = 0;
  uint64_t seed = 1;
  for (const std::string& file : files) {
    auto prog = tryLoad(file);
    if (!prog) {
      std::cout << "not loadable with its networks: " << file << "\n";
      ++unloadable;
      continue;
    }
    for (auto& fp : prog->functions()) {
      const ir::Function& f = *fp;
      if (f.kind() != ir::FunctionKind::Module) continue;
      bool callsNetwork = false;
      ir::forEachStmt(f.body(), [&](ir::Stmt st) {
        ir::forEachExpr(st, [&](ir::Expr e) {
          std::function<void(ir::Expr)> walk = [&](ir::Expr x) {
            if (auto* c = x->as<ir::Call>())
              callsNetwork |= c->callee().kind() == ir::FunctionKind::Network;
            for (ir::Expr o : x->operands())
              walk(o);
          };
          walk(e);
        });
      });
      if (f.isRandom()) {
        ++random;
        continue;
      }
      if (auto st = codegen::checkCompilable(f); !st) {
        ++unsupported;
        std::cout << "not compiled: " << file << " " << f.name() << ": " << st.error().str()
                  << "\n";
        continue;
      }
      INFO(file << " module " << f.name());
      auto jit = jitOrFail(f);
      Compared c = compareOnRandomInputs(f, prog->ctx(), *jit, 200, seed++);
      CHECK(c.runs == 200);
      if (c.errors > 0) ++withErrors;
      if (callsNetwork) ++withNetworks;
      ++compiled;
    }
  }
  std::cout << "differential: " << compiled << " modules compiled and compared (" << withErrors
            << " with failing runs, " << withNetworks << " calling networks), " << random
            << " random modules skipped, " << unsupported << " unsupported, " << unloadable
            << " files not loadable\n";
  CHECK(unloadable == 0);
  CHECK(withNetworks >= 1); // braking_shield's NetBrake (Shield through it): Affine/VecRelu loops
  REQUIRE(compiled > 10);
  REQUIRE(withErrors > 0); // the out-of-range draws exercise the range check
}

TEST_CASE("JIT agrees with the interpreter on 500 random programs", "[codegen][differential]") {
  // Expressions of every operator over reals, ints, bools and an array, in a loop, a branch with
  // an assert and an int output: runs fail with division by zero, log or sqrt of a negative
  // number, non-finite values, indices out of range and failed asserts, at the interpreter's
  // statement.
  int programs = 0, runs = 0, failed = 0;
  std::map<int, int> byKind;
  uint64_t seed = 1;
  for (; programs < 500; ++seed) {
    REQUIRE(seed < 1000); // the checker rejects a few draws (a constant index out of bounds)
    testing::ProgramGen gen(seed);
    const std::string src = gen.module();
    INFO("seed " << seed << ":\n" << src);
    auto prog = testing::lowerRandomProgram(src);
    if (!prog) continue;
    const ir::Function& f = *prog->findFunction("P");
    auto jit = jitOrFail(f);
    const Compared c = compareOnRandomInputs(f, prog->ctx(), *jit, 40, seed);
    ++programs;
    runs += c.runs;
    failed += c.errors;
    for (auto [kind, n] : c.byKind) byKind[kind] += n;
  }
  std::cout << "differential: " << programs << " random programs (seeds 1-" << seed - 1 << "), "
            << runs << " runs, " << failed << " failing:";
  for (auto [kind, n] : byKind) std::cout << " " << codegen::errorCodeName(kind) << " " << n;
  std::cout << "\n";
  CHECK(runs - failed > runs / 3); // 42% of the runs succeed and compare their outputs
  for (int kind : {codegen::kInputInvalid, codegen::kDivisionByZero, codegen::kDomain,
                   codegen::kNotFinite, codegen::kIndexRange, codegen::kAssertFailed}) {
    INFO("error kind " << codegen::errorCodeName(kind));
    CHECK(byKind[kind] > 0);
  }
}

TEST_CASE("a compiled matrix index out of range reads as the interpreter's error",
          "[codegen]") {
  // Its row or column named, located at the index.
  auto prog = testing::lowerChs(R"(
module At(m: real[2, 3], i: int, j: int) -> (y: real) {
    let s = m[0, 0];
    y = s + m[i, j];
}
)");
  const ir::Function& f = *prog->findFunction("At");
  auto jit = jitOrFail(f);
  struct Case {
    double i, j;
    const char* says;
  };
  for (Case c : {Case{2, 1, "row index 2 is out of range [0, 2)"},
                 Case{1, 3, "column index 3 is out of range [0, 3)"},
                 Case{-1, 0, "row index -1 is out of range [0, 2)"},
                 Case{0, -4, "column index -4 is out of range [0, 3)"}}) {
    INFO("m[" << c.i << ", " << c.j << "]");
    std::vector<double> in{1, 2, 3, 4, 5, 6, c.i, c.j};
    double out[1];
    REQUIRE((*jit)(in.data(), out) == codegen::kIndexRange);
    const std::vector<symbolic::Value> args{symbolic::Value::array({1, 2, 3, 4, 5, 6}),
                                            symbolic::Value::scalar(c.i),
                                            symbolic::Value::scalar(c.j)};
    Rng r(0);
    auto ref = symbolic::run(f, args, r);
    REQUIRE_FALSE(ref);
    const Error e = codegen::compiledRunError(f, args, codegen::kIndexRange);
    CHECK(e.str() == ref.error().str());
    CHECK(e.message.find(c.says) != std::string::npos);
    CHECK(e.loc.line == 4); // the index, not the module
  }
}

TEST_CASE("int division truncates toward zero, % takes the dividend's sign, errors by kind",
          "[codegen]") {
  // The language's `/` is real division, so int `/` is built directly in the IR.
  ir::Program ip;
  ir::Context& cx = ip.ctx();
  ir::Function& fi = ip.addFunction("IntOps", ir::FunctionKind::Module, SourceLoc{"t.chs", 1, 1});
  const ir::Var* a = fi.addInput("a", ir::Type::integer(), std::pair{-20.0, 20.0});
  const ir::Var* b = fi.addInput("b", ir::Type::integer(), std::pair{-5.0, 5.0});
  const ir::Var* q = fi.addOutput("q", ir::Type::integer());
  const ir::Var* r = fi.addOutput("r", ir::Type::integer());
  fi.setBody(
      {cx.stmt<ir::AssignStmt>(SourceLoc{"t.chs", 2, 5}, q, cx.binary(ir::BinOp::Div, a, b)),
       cx.stmt<ir::AssignStmt>(SourceLoc{"t.chs", 3, 5}, r, cx.binary(ir::BinOp::Mod, a, b))});
  auto prog = testing::lowerChs(R"(
module RealOps(x: real, y: real[3], i: int) -> (l: real, s: real, e: real, g: real, m: int) {
    l = log(x);
    s = sqrt(x) + sum(y) + dot(y, y);
    e = exp(x) + tanh(x) + sigmoid(-x) + relu(x - 1.0) + abs(x) + min(x, 2.0) + max(x, 3.0);
    g = y[i];
    m = argmax(y);
}
)");
  auto jit = jitOrFail(fi);
  double out[2];
  struct Case {
    double a, b, q, r;
  };
  for (Case c : {Case{7, 2, 3, 1}, Case{-7, 2, -3, -1}, Case{7, -2, -3, 1}, Case{-7, -2, 3, -1},
                 Case{0, 3, 0, 0}, Case{20, 5, 4, 0}}) {
    double in[2] = {c.a, c.b};
    INFO(c.a << " / " << c.b);
    REQUIRE((*jit)(in, out) == codegen::kOk);
    CHECK(out[0] == c.q);
    CHECK(out[1] == c.r);
  }
  double zero[2] = {7, 0};
  CHECK((*jit)(zero, out) == codegen::kDivisionByZero);
  double outside[2] = {21, 1};
  CHECK((*jit)(outside, out) == codegen::kInputInvalid);
  double fractional[2] = {1.5, 1};
  CHECK((*jit)(fractional, out) == codegen::kInputInvalid);
  Compared ci = compareOnRandomInputs(fi, ip.ctx(), *jit, 200, 3);
  CHECK(ci.errors > 0); // b = 0 and the out-of-range draws

  const ir::Function& g = *prog->findFunction("RealOps");
  auto jg = jitOrFail(g);
  double o[5];
  double ok[5] = {2.5, 1, -4, 3, 2};
  REQUIRE((*jg)(ok, o) == codegen::kOk);
  CHECK(o[0] == std::log(2.5));
  CHECK(o[1] == std::sqrt(2.5) + 0.0 + 26.0);
  CHECK(o[3] == 3);
  CHECK(o[4] == 2);
  double negLog[5] = {-1, 1, 2, 3, 0};
  CHECK((*jg)(negLog, o) == codegen::kDomain);
  double badIndex[5] = {1, 1, 2, 3, 3};
  CHECK((*jg)(badIndex, o) == codegen::kIndexRange);
  double overflow[5] = {800, 1, 2, 3, 0}; // exp(800) is not a finite float64
  CHECK((*jg)(overflow, o) == codegen::kNotFinite);
  Compared c = compareOnRandomInputs(g, prog->ctx(), *jg, 200, 7);
  CHECK(c.runs == 200);
}

TEST_CASE("random modules and unloaded networks do not compile; errors are located", "[codegen]") {
  auto prog = testing::lowerChs(R"(
module Noisy(x: real) -> (y: real) {
    n ~ Normal(0.0, 1.0);
    y = x + n;
}
network Net(x: real[2]) -> (y: real[2]) = onnx("missing.onnx");
module UsesNet(x: real[2]) -> (y: real[2]) {
    y = Net(x).y;
}
)");
  auto st = codegen::checkCompilable(*prog->findFunction("Noisy"));
  REQUIRE_FALSE(st);
  CHECK(st.error().loc.line == 2);
  CHECK(st.error().message.find("random") != std::string::npos);
  auto st2 = codegen::checkCompilable(*prog->findFunction("UsesNet"));
  REQUIRE_FALSE(st2);
  CHECK(st2.error().loc.line == 8);
  CHECK(st2.error().message.find("not loaded") != std::string::npos);
  auto ir = codegen::emitLlvmIr(*prog->findFunction("Noisy"));
  REQUIRE_FALSE(ir);
  auto obj = codegen::compileObject(*prog->findFunction("UsesNet"));
  REQUIRE_FALSE(obj);
}

TEST_CASE("the object file and the C header of the braking controller", "[codegen]") {
  auto prog = tryLoad(std::string(CHASSIS_SOURCE_DIR) + "/examples/braking.chs");
  REQUIRE(prog);
  const ir::Function& f = *prog->findFunction("Controller");
  auto obj = codegen::compileObject(f);
  INFO((obj ? "" : obj.error().str()));
  REQUIRE(obj);
  REQUIRE(obj->size() > 64);
  CHECK(obj->compare(0, 4,
                     "\x7f"
                     "ELF") == 0);
  CHECK(obj->find("chassis_Controller") != std::string::npos);
  std::string h = codegen::cHeader(f, prog->ctx(), "examples/braking.chs");
  CHECK(h.find("int chassis_Controller(const double* in, double* out);") != std::string::npos);
  CHECK(h.find("#define CHASSIS_CONTROLLER_NUM_INPUTS 2") != std::string::npos);
  CHECK(h.find("#define CHASSIS_CONTROLLER_IN_speed 1") != std::string::npos);
  CHECK(h.find("CHASSIS_INPUT_INVALID = 1") != std::string::npos);
  CHECK(h.find("in[0]  reading: real (real) in [0.0, 200.0]") != std::string::npos);
  auto ir = codegen::emitLlvmIr(f);
  REQUIRE(ir);
  CHECK(ir->find("define i32 @chassis_Controller") != std::string::npos);
}

TEST_CASE("JIT vs interpreter time per call on the braking controller", "[.bench]") {
  auto prog = tryLoad(std::string(CHASSIS_SOURCE_DIR) + "/examples/braking.chs");
  REQUIRE(prog);
  const ir::Function& f = *prog->findFunction("Controller");
  auto t0 = std::chrono::steady_clock::now();
  auto jit = jitOrFail(f);
  auto t1 = std::chrono::steady_clock::now();
  const int n = 1000000;
  double in[2], out[1], acc = 0;
  for (int k = 0; k < n; ++k) {
    in[0] = (k % 2001) * 0.1;
    in[1] = (k % 401) * 0.1;
    if ((*jit)(in, out) == 0) acc += out[0];
  }
  auto t2 = std::chrono::steady_clock::now();
  double acc2 = 0;
  Rng rng(0);
  std::vector<symbolic::Value> args(2);
  for (int k = 0; k < n; ++k) {
    args[0].s = (k % 2001) * 0.1;
    args[1].s = (k % 401) * 0.1;
    auto r = symbolic::run(f, args, rng);
    if (r) acc2 += r->outputs[0].s;
  }
  auto t3 = std::chrono::steady_clock::now();
  auto ns = [](auto a, auto b) { return std::chrono::duration<double, std::nano>(b - a).count(); };
  std::cout << "braking Controller, " << n << " calls: JIT " << ns(t1, t2) / n
            << " ns/call (compile " << ns(t0, t1) / 1e6 << " ms), interpreter " << ns(t2, t3) / n
            << " ns/call; brakes " << acc << " vs " << acc2 << "\n";
  CHECK(acc == acc2);
}

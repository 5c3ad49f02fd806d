// Valid but unusual inputs to the `chassis` binary that once crashed it, hung it or gave a wrong
// verdict; each must now give a verdict or a clear error with a documented exit code (0, 1, 2,
// 3, 4; tools/command.h), never a signal: VNN-LIB cases without output constraints (box-only,
// `(>= Y_0 Y_0)`, `(<= (* 0 Y_0) 1)`), constant products that overflow or underflow, deep
// nesting, NaN and infinite weights, `verify --emit-dir` on a file or an uncreatable directory,
// `--emit=smt2` to standard output (one SMT-LIB2 script z3 accepts), `train` with hidden
// layers too large to allocate, and VNN-LIB counterexamples near the boundary of the unsafe set,
// which the ONNX graph's own float64 pass can round out of it (once exit 4). Runs the chassis
// binary of this build under `timeout`, so a hang fails the test instead of stalling it.
#include "neural/network.h"
#include "neural/onnx.h"
#include "tests/verifier/scratch_dir_test_util.h"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

using namespace chassis;
namespace fs = std::filesystem;

namespace {

/// Appends an elementwise Mul of the network's `width` outputs by `factor` (a layer toAffineNet
/// folds into the last affine layer, so that float64 rounding differs between the ONNX graph and
/// the folded network) and finalises the network.
void appendScale(neural::Network& net, int width, double factor) {
  neural::Layer mul;
  mul.kind = neural::LayerKind::Elementwise;
  mul.opType = "Mul";
  mul.name = "scale";
  mul.op = neural::ElemOp::Mul;
  mul.constant = Eigen::RowVectorXd::Constant(width, factor);
  mul.input = net.outputValue;
  mul.output = net.outputValue + 1;
  mul.outShape = {width};
  net.layers.push_back(mul);
  net.outputValue = mul.output;
  net.finalize();
}

struct Run {
  int code = -1; // the exit code; 128 + n for a signal n, 124 for the timeout
  std::string out, err;
};

std::string scratchDir() {
  return testing::scratchDirectory("robustness");
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string writeScratch(const std::string& name, const std::string& text) {
  std::string p = scratchDir() + "/" + name;
  std::ofstream(p) << text;
  return p;
}

/// `chassis ARGS` from the source root, killed after 120 s.
Run chassisRun(const std::string& args) {
  std::string bin = std::string(CHASSIS_BINARY_DIR) + "/tools/chassis";
  REQUIRE(fs::exists(bin));
  std::string out = scratchDir() + "/stdout.txt", err = scratchDir() + "/stderr.txt";
  std::string cmd = "cd '" + std::string(CHASSIS_SOURCE_DIR) + "' && timeout 120 '" + bin + "' " +
                    args + " > '" + out + "' 2> '" + err + "'";
  int st = std::system(cmd.c_str());
  Run r;
  REQUIRE(WIFEXITED(st));
  r.code = WEXITSTATUS(st);
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

const char* kHeader2x2 = "(declare-const X_0 Real)\n(declare-const X_1 Real)\n"
                         "(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n"
                         "(assert (>= X_0 10)) (assert (<= X_0 20))\n"
                         "(assert (>= X_1 5)) (assert (<= X_1 10))\n";

} // namespace

TEST_CASE("vnnlib CLI: cases without output constraints are sat, not a crash",
          "[cli][vnnlib][robustness]") {
  const std::string net = "examples/braking_policy.onnx";
  for (std::string atom : {"", "(assert (>= Y_0 Y_0))\n", "(assert (<= (* 0 Y_0) 1))\n"}) {
    INFO("atom: " << atom);
    std::string p = writeScratch("boxonly.vnnlib", std::string(kHeader2x2) + atom);
    Run r = chassisRun("vnnlib " + net + " '" + p + "'");
    INFO("stdout: " << r.out << "stderr: " << r.err);
    CHECK(r.code == 1); // every point of the box is in the unsafe set
    CHECK(r.out.rfind("sat\n((X_0 ", 0) == 0);
  }
}

TEST_CASE("vnnlib CLI: constants that overflow or underflow, deep nesting: exit 2",
          "[cli][vnnlib][robustness]") {
  const std::string net = "examples/braking_policy.onnx";
  struct Bad {
    std::string text, message;
  };
  std::string deep = "(assert ";
  for (int i = 0; i < 20000; ++i)
    deep += "(and ";
  deep += "(<= Y_0 0)" + std::string(20000, ')') + ")\n";
  const Bad bad[] = {
      {"(assert (>= (* 1e-170 1e-170 Y_0) 0))\n", "cannot do exactly"},
      {"(assert (<= (* 1e200 1e200 Y_0) 1))\n", "cannot do exactly"},
      {deep, "nesting deeper than 1000"},
      {std::string(40000, '('), "nesting deeper than 1000"},
  };
  for (const Bad& b : bad) {
    std::string p = writeScratch("bad.vnnlib", std::string(kHeader2x2) + b.text);
    Run r = chassisRun("vnnlib " + net + " '" + p + "'");
    INFO("stderr: " << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(b.message) != std::string::npos);
  }
}

TEST_CASE("vnnlib CLI: NaN and infinite weights are errors, not verdicts or hangs",
          "[cli][vnnlib][robustness]") {
  std::string p = writeScratch("ok.vnnlib", std::string(kHeader2x2) + "(assert (<= Y_0 Y_1))\n");
  for (double bad : {std::nan(""), double(INFINITY)}) {
    Eigen::MatrixXd W1 = Eigen::MatrixXd::Constant(3, 2, 0.5), W2 = Eigen::MatrixXd::Ones(2, 3);
    W1(1, 1) = bad;
    neural::Network net =
        neural::makeMlp({W1, W2}, {Eigen::VectorXd::Zero(3), Eigen::VectorXd::Zero(2)});
    std::string onnx = scratchDir() + "/bad.onnx";
    REQUIRE(neural::saveOnnx(net, onnx));
    Run r = chassisRun("vnnlib '" + onnx + "' '" + p + "' --timeout 5");
    INFO("stdout: " << r.out << "stderr: " << r.err);
    CHECK(r.code == 2);
    CHECK(r.err.find(std::isnan(bad) ? "is NaN" : "is infinite") != std::string::npos);
  }
}

TEST_CASE("vnnlib CLI: a counterexample the ONNX graph rounds out of the unsafe set is not an "
          "internal error",
          "[cli][vnnlib][robustness]") {
  // y = 0.1 (W x + b) in the graph; the folded network computes (0.1 W) x + 0.1 b, which rounds
  // differently. With the bound Y_0 >= c at c = the folded value at the corner maximising Y_0,
  // the engine's counterexample is that corner, at zero depth: the graph's float64 pass can put
  // it just outside the unsafe set. The answer must be a counterexample that replays through the
  // graph (exit 1) or `unknown` saying why (exit 3), never exit 4.
  std::mt19937 gen(7);
  std::uniform_real_distribution<double> u(-1, 1);
  int found = 0;
  for (int attempt = 0; attempt < 400 && found < 3; ++attempt) {
    Eigen::MatrixXd W(2, 2);
    W << u(gen), u(gen), u(gen), u(gen);
    Eigen::VectorXd b(2);
    b << u(gen), u(gen);
    neural::Network net = neural::makeMlp({W}, {b});
    appendScale(net, 2, 0.1);
    auto folded = neural::toAffineNet(net);
    REQUIRE(folded);
    // The corner of [0, 1]^2 maximising the folded Y_0 (the network is affine).
    Eigen::VectorXd corner(2);
    corner << (W(0, 0) > 0 ? 1.0 : 0.0), (W(0, 1) > 0 ? 1.0 : 0.0);
    double c = folded->forward(corner)[0];
    if (!(net.forward(corner)[0] < c)) continue; // the graph agrees here: no rounding gap
    ++found;
    std::string onnx = scratchDir() + "/scaled.onnx";
    REQUIRE(neural::saveOnnx(net, onnx));
    std::ostringstream prop;
    prop.precision(17);
    prop << "(declare-const X_0 Real)\n(declare-const X_1 Real)\n"
         << "(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n"
         << "(assert (>= X_0 0)) (assert (<= X_0 1))\n(assert (>= X_1 0)) (assert (<= X_1 1))\n"
         << "(assert (>= Y_0 " << c << "))\n";
    std::string p = writeScratch("scaled.vnnlib", prop.str());
    Run r = chassisRun("vnnlib '" + onnx + "' '" + p + "' --timeout 20");
    INFO("c = " << c << "\nstdout: " << r.out << "stderr: " << r.err);
    CHECK((r.code == 1 || r.code == 3));
    if (r.code == 1) {
      // The reported point replays through the graph.
      double x0 = 0, x1 = 0;
      REQUIRE(std::sscanf(r.out.c_str(), "sat\n((X_0 %lf)\n (X_1 %lf)", &x0, &x1) == 2);
      Eigen::VectorXd x(2);
      x << x0, x1;
      CHECK(net.forward(x)[0] >= c);
    } else {
      CHECK(r.out.find("rounding of the boundary") != std::string::npos);
    }
  }
  CHECK(found == 3);
}

TEST_CASE("vnnlib CLI: a violating region 1e-9..1e-7 deep gives a counterexample that replays",
          "[cli][vnnlib][robustness]") {
  // y = 0.1 * -(relu(x - a) + relu(a - x)) through a graph Mul the folding moves into the
  // weights: a peak at a = 0.3; unsafe: y >= -delta, |x - a| <= 10 delta. The engine's point can
  // sit on the region's boundary, where the two float64 passes disagree.
  for (double delta : {1e-9, 1e-8, 1e-7}) {
    neural::Network net = neural::makeMlp(
        {(Eigen::MatrixXd(2, 1) << 1, -1).finished(), Eigen::MatrixXd::Constant(1, 2, -1.0)},
        {(Eigen::VectorXd(2) << -0.3, 0.3).finished(), Eigen::VectorXd::Zero(1)});
    appendScale(net, 1, 0.1);
    std::string onnx = scratchDir() + "/peak.onnx";
    REQUIRE(neural::saveOnnx(net, onnx));
    std::ostringstream prop;
    prop.precision(17);
    prop << "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n"
         << "(assert (>= X_0 0)) (assert (<= X_0 1))\n(assert (>= Y_0 " << -delta << "))\n";
    std::string p = writeScratch("peak.vnnlib", prop.str());
    Run r = chassisRun("vnnlib '" + onnx + "' '" + p + "' --timeout 20");
    INFO("delta = " << delta << "\nstdout: " << r.out << "stderr: " << r.err);
    REQUIRE(r.code == 1);
    double x0 = 0;
    REQUIRE(std::sscanf(r.out.c_str(), "sat\n((X_0 %lf)", &x0) == 1);
    Eigen::VectorXd x(1);
    x << x0;
    CHECK(net.forward(x)[0] >= -delta);
  }
}

TEST_CASE("verify --emit: bad --emit-dir is exit 2, to stdout one script z3 accepts",
          "[cli][smt2][robustness]") {
  const std::string f = "tests/data/verify/exit_codes.chs";
  Run onFile = chassisRun("verify " + f + " --emit=smt2 --emit-dir " + f);
  INFO("stderr: " << onFile.err);
  CHECK(onFile.code == 2);
  CHECK(onFile.err.find("--emit-dir") != std::string::npos);
  Run unwritable = chassisRun("verify " + f + " --emit=smt2 --emit-dir /proc/chassis_no_such/dir");
  CHECK(unwritable.code == 2);
  CHECK(unwritable.err.find("--emit-dir") != std::string::npos);

  Run s = chassisRun("verify " + f + " --emit=smt2");
  CHECK(s.code == 1);
  CHECK(s.out.find("verdict") == std::string::npos); // the table is on stderr
  CHECK(s.err.find("verdict") != std::string::npos);
  size_t queries = 0;
  for (size_t at = s.out.find("(check-sat)"); at != std::string::npos;
       at = s.out.find("(check-sat)", at + 1))
    ++queries;
  CHECK(queries >= 2);
  if (std::system("command -v z3 > /dev/null 2>&1") != 0) {
    WARN("z3 binary not found (Debian package z3): SMT-LIB2 check skipped");
    return;
  }
  std::string script = writeScratch("all.smt2", s.out);
  std::string answers = scratchDir() + "/z3.txt";
  std::system(("z3 -T:60 -smt2 '" + script + "' > '" + answers + "' 2>&1").c_str());
  std::string z = slurp(answers);
  INFO("z3: " << z);
  CHECK(z.find("error") == std::string::npos);
  size_t n = 0;
  std::stringstream ss(z);
  for (std::string line; std::getline(ss, line);)
    if (line == "sat" || line == "unsat" || line == "unknown") ++n;
  CHECK(n == queries);
}

TEST_CASE("train: hidden layers too large to allocate are a usage error", "[cli][robustness]") {
  std::string csv = writeScratch("d.csv", "a,b,y\n0,1,0\n1,0,1\n1,1,1\n0,0,0\n");
  Run r = chassisRun("train --csv '" + csv + "' --label y --widths 100000,100000 -o '" +
                     scratchDir() + "/n.onnx'");
  INFO("stderr: " << r.err);
  CHECK(r.code == 2);
  CHECK(r.err.find("--widths") != std::string::npos);
}

// `chassis vnnlib` as scripts use it: the VNN-COMP result file (`unsat`, or `sat` followed by
// `((X_0 v) ... (Y_m v))` whose values replay), the exit codes (0 unsat, 1 sat, 2 bad input or
// option, 3 timeout/unknown), --emit=smt2 files that the z3 command line (Debian package z3)
// answers as the verifier did (sat in some case iff violated), and the diagnostics for bad
// files and options. Networks are random small MLPs written to ONNX at test time
// (neural::saveOnnx) plus examples/braking_policy.onnx; properties are written beside them.
// Runs the chassis binary of this build (CHASSIS_BINARY_DIR/tools/chassis: build the `chassis`
// target first, as the full build and ctest do). Without a `z3` on PATH the z3 checks are
// skipped with a message.
#include "tests/verifier/scratch_dir_test_util.h"
#include "neural/network.h"
#include "neural/onnx.h"
#include "spec/rng.h"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

using namespace chassis;
namespace fs = std::filesystem;

namespace {

struct Cli {
  int code = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string scratchDir() {
  return testing::scratchDirectory("vnnlib_cli");
}

/// Runs a shell command (from the source root), capturing stdout, stderr and the exit code.
Cli runShell(const std::string& cmd) {
  std::string out = scratchDir() + "/stdout.txt", err = scratchDir() + "/stderr.txt";
  std::string full = "cd '" + std::string(CHASSIS_SOURCE_DIR) + "' && " + cmd + " > '" + out +
                     "' 2> '" + err + "'";
  int st = std::system(full.c_str());
  Cli c;
  REQUIRE(WIFEXITED(st));
  c.code = WEXITSTATUS(st);
  c.out = slurp(out);
  c.err = slurp(err);
  return c;
}

std::string chassisBin() {
  std::string bin = std::string(CHASSIS_BINARY_DIR) + "/tools/chassis";
  REQUIRE(fs::exists(bin));
  return "'" + bin + "'";
}

Cli runVnnlib(const std::string& args) {
  return runShell(chassisBin() + " vnnlib " + args);
}

bool haveZ3() {
  return std::system("command -v z3 > /dev/null 2>&1") == 0;
}

/// The answers (sat/unsat/unknown) `z3 -smt2 FILE` prints, one per (check-sat).
std::vector<std::string> z3Answers(const std::string& file) {
  Cli c = runShell("z3 -T:60 -smt2 '" + file + "'");
  std::vector<std::string> out;
  std::stringstream ss(c.out);
  std::string line;
  while (std::getline(ss, line))
    if (line == "sat" || line == "unsat" || line == "unknown" || line == "timeout")
      out.push_back(line);
  return out;
}

std::string writeScratch(const std::string& name, const std::string& text) {
  std::string p = scratchDir() + "/" + name;
  std::ofstream(p) << text;
  return p;
}

std::string fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// A VNN-LIB box property over n inputs and m outputs with the given output atoms
/// (already in VNN-LIB syntax, asserted as one conjunction or as a disjunction).
std::string vnnlibText(const std::vector<double>& lo, const std::vector<double>& hi, int m,
                       const std::vector<std::string>& atoms, bool disjunction) {
  std::string t;
  for (size_t i = 0; i < lo.size(); ++i)
    t += "(declare-const X_" + std::to_string(i) + " Real)\n";
  for (int j = 0; j < m; ++j)
    t += "(declare-const Y_" + std::to_string(j) + " Real)\n";
  for (size_t i = 0; i < lo.size(); ++i) {
    t += "(assert (>= X_" + std::to_string(i) + " " + fmt(lo[i]) + "))\n";
    t += "(assert (<= X_" + std::to_string(i) + " " + fmt(hi[i]) + "))\n";
  }
  if (disjunction) {
    t += "(assert (or";
    for (auto& a : atoms)
      t += " " + a;
    t += "))\n";
  } else {
    for (auto& a : atoms)
      t += "(assert " + a + ")\n";
  }
  return t;
}

/// Parses a VNN-COMP `sat` result: the X_i and Y_j values in order. Fails the test on a
/// malformed file.
void parseSat(const std::string& text, int n, int m, std::vector<double>& x,
              std::vector<double>& y) {
  std::stringstream ss(text);
  std::string first;
  std::getline(ss, first);
  REQUIRE(first == "sat");
  std::string rest((std::istreambuf_iterator<char>(ss)), std::istreambuf_iterator<char>());
  REQUIRE(rest.size() > 2);
  CHECK(rest.substr(0, 2) == "((");
  CHECK(rest.substr(rest.size() - 3) == "))\n");
  std::regex atom(R"(\((X|Y)_(\d+) ([-+0-9.eE]+|inf|nan)\))");
  x.clear();
  y.clear();
  for (auto it = std::sregex_iterator(rest.begin(), rest.end(), atom); it != std::sregex_iterator();
       ++it) {
    auto& mt = *it;
    auto& v = mt[1] == "X" ? x : y;
    CHECK(std::stoul(mt[2]) == v.size()); // in order, no gaps
    v.push_back(std::strtod(mt[3].str().c_str(), nullptr));
  }
  CHECK(static_cast<int>(x.size()) == n);
  CHECK(static_cast<int>(y.size()) == m);
}

} // namespace

TEST_CASE("vnnlib CLI: result files, exit codes, --emit=smt2 vs the z3 command line on random "
          "nets",
          "[verifier][vnnlib][cli]") {
  const bool z3 = haveZ3();
  if (!z3) WARN("z3 command line not found (Debian package z3): the z3 checks are skipped");
  Rng rng(606);
  int sats = 0, unsats = 0, z3Agreed = 0;
  for (int t = 0; t < 12; ++t) {
    INFO("net " << t);
    // Small: the naive query is exponential in the ReLUs (z3 took 105 s on 4 inputs, 2 x 8 ReLUs).
    const int n = 2 + t % 2, h = 3 + t % 3, m = 2 + t % 2;
    std::vector<Eigen::MatrixXd> W{Eigen::MatrixXd(h, n), Eigen::MatrixXd(h, h),
                                   Eigen::MatrixXd(m, h)};
    std::vector<Eigen::VectorXd> b{Eigen::VectorXd(h), Eigen::VectorXd(h), Eigen::VectorXd(m)};
    for (int k = 0; k < 3; ++k) {
      for (Eigen::Index r = 0; r < W[k].rows(); ++r) {
        for (Eigen::Index c = 0; c < W[k].cols(); ++c)
          W[k](r, c) = rng.normal();
        b[k][r] = 0.5 * rng.normal();
      }
    }
    neural::Network net = neural::makeMlp(W, b);
    std::string onnx = scratchDir() + "/net" + std::to_string(t) + ".onnx";
    REQUIRE(neural::saveOnnx(net, onnx));
    std::vector<double> lo(n), hi(n);
    for (int i = 0; i < n; ++i) {
      lo[i] = -1 + rng.uniform();
      hi[i] = lo[i] + 0.2 + rng.uniform();
    }
    // Y_0 >= c: with c the output at a random point (+/- a margin), violated about half the time.
    Eigen::VectorXd x0(n);
    for (int i = 0; i < n; ++i)
      x0[i] = lo[i] + rng.uniform() * (hi[i] - lo[i]);
    double c = net.forward(x0)[0] + (t % 2 ? -0.01 : 3.0 + 3 * rng.uniform());
    std::vector<std::string> atoms{"(>= Y_0 " + fmt(c) + ")"};
    bool disj = t % 3 == 0; // also a disjunction of output comparisons
    if (disj) atoms.push_back("(and (>= Y_1 Y_0) (<= Y_1 " + fmt(c - 100) + "))");
    std::string prop =
        writeScratch("p" + std::to_string(t) + ".vnnlib", vnnlibText(lo, hi, m, atoms, disj));
    std::string res = scratchDir() + "/r" + std::to_string(t) + ".txt";
    Cli r = runVnnlib("'" + onnx + "' '" + prop + "' --timeout 30 --out '" + res + "'");
    std::string file = slurp(res);
    INFO("stdout: " << r.out << "stderr: " << r.err);
    REQUIRE((r.code == 0 || r.code == 1));
    CHECK(r.out.rfind(file, 0) == 0); // stdout: the result, then the time line
    CHECK(r.out.find("time: ") != std::string::npos);
    if (r.code == 0) {
      ++unsats;
      CHECK(file == "unsat\n");
    } else {
      ++sats;
      std::vector<double> x, y;
      parseSat(file, n, m, x, y);
      Eigen::VectorXd xv = Eigen::Map<Eigen::VectorXd>(x.data(), n);
      for (int i = 0; i < n; ++i)
        CHECK((x[i] >= lo[i] && x[i] <= hi[i]));
      Eigen::VectorXd yv = net.forward(xv);
      for (int j = 0; j < m; ++j)
        CHECK(yv[j] == y[j]); // the printed Y replays exactly
      bool first = yv[0] >= c;
      bool second = disj && yv[1] >= yv[0] && yv[1] <= c - 100;
      CHECK((first || second));
    }
    // The naive query, as z3 reads it.
    std::string smt2 = scratchDir() + "/q" + std::to_string(t) + ".smt2";
    Cli e = runVnnlib("'" + onnx + "' '" + prop + "' --emit=smt2 --out '" + smt2 + "'");
    REQUIRE(e.code == 0);
    std::string q = slurp(smt2);
    size_t checks = 0;
    for (size_t p = q.find("(check-sat)"); p != std::string::npos; p = q.find("(check-sat)", p + 1))
      ++checks;
    CHECK(checks == (disj ? 2u : 1u));
    if (z3) {
      auto answers = z3Answers(smt2);
      REQUIRE(answers.size() == checks);
      bool anySat = false, allUnsat = true, decided = true;
      for (auto& a : answers) {
        anySat |= a == "sat";
        allUnsat &= a == "unsat";
        decided &= a == "sat" || a == "unsat";
      }
      INFO("z3 answers: " << answers.size() << ", first " << answers[0]);
      CHECK(!(anySat && r.code == 0)); // never a disagreement
      if (decided || anySat) {
        CHECK(anySat == (r.code == 1));
        CHECK(allUnsat == (r.code == 0));
        ++z3Agreed;
      }
    }
    // Without --out the query goes to standard output, the same text.
    Cli e2 = runVnnlib("'" + onnx + "' '" + prop + "' --emit=smt2");
    CHECK(e2.code == 0);
    CHECK(e2.out == q);
  }
  CHECK(sats >= 3);
  CHECK(unsats >= 3);
  if (z3) CHECK(z3Agreed >= 11); // z3 decides (nearly) all within its 60 s
}

TEST_CASE("vnnlib CLI: the braking policy, sat and unsat, and an ACAS Xu emit with prop_6's "
          "eight cases",
          "[verifier][vnnlib][cli]") {
  std::vector<double> lo{0, 0}, hi{1, 1};
  std::string satProp = writeScratch("bsat.vnnlib", vnnlibText(lo, hi, 2, {"(>= Y_0 Y_1)"}, false));
  std::string unsatProp = writeScratch("bunsat.vnnlib", vnnlibText(lo, hi, 2, {"(<= Y_0 Y_1)"}, false));
  Cli s = runVnnlib("examples/braking_policy.onnx '" + satProp + "'");
  CHECK(s.code == 1);
  CHECK(s.out.rfind("sat\n((X_0 ", 0) == 0);
  Cli u = runVnnlib("examples/braking_policy.onnx '" + unsatProp + "' --timeout 10");
  CHECK(u.code == 0);
  CHECK(u.out.rfind("unsat\ntime: ", 0) == 0);
  std::string q = scratchDir() + "/acas6.smt2";
  Cli e = runVnnlib("tests/data/acasxu/ACASXU_run2a_1_1_batch_2000.onnx "
                   "tests/data/vnnlib/prop_6.vnnlib --emit=smt2 --out '" +
                   q + "'");
  REQUIRE(e.code == 0);
  std::string text = slurp(q);
  size_t checks = 0, resets = 0;
  for (size_t p = text.find("(check-sat)"); p != std::string::npos;
       p = text.find("(check-sat)", p + 1))
    ++checks;
  for (size_t p = text.find("(reset)"); p != std::string::npos; p = text.find("(reset)", p + 1))
    ++resets;
  CHECK(checks == 8); // 2 input boxes x 4 output disjuncts
  CHECK(resets == 7);
  CHECK(text.find("(declare-fun x_4 () Real)") != std::string::npos);
}

TEST_CASE("vnnlib CLI: bad files and options are exit code 2 with a diagnostic",
          "[verifier][vnnlib][cli]") {
  const std::string acas = "tests/data/acasxu/ACASXU_run2a_1_1_batch_2000.onnx";
  const std::string p1 = "tests/data/vnnlib/prop_1.vnnlib";
  struct Bad {
    std::string args, message;
  };
  const Bad bad[] = {
      {"tests/data/acasxu/missing.onnx " + p1, "missing.onnx"},
      {acas + " tests/data/vnnlib/missing.vnnlib", "missing.vnnlib"},
      {"tests/data/onnx_bad/truncated.onnx " + p1, "truncated.onnx"},
      {acas + " tests/data/vnnlib_bad/unbalanced_open.vnnlib", "unbalanced_open.vnnlib:"},
      {acas + " tests/data/vnnlib_bad/nonlinear.vnnlib", "nonlinear.vnnlib:"},
      {"examples/braking_policy.onnx " + p1, "inputs"},
      {"examples/braking_policy.onnx " + p1 + " --emit=smt2", "inputs"},
      {acas + " " + p1 + " --emit=llvm", "--emit supports only smt2"},
      {acas + " " + p1 + " --timeout -1", "timeout"},
      {acas + " " + p1 + " --timeout abc", "timeout"},
      {acas + " " + p1 + " --threads 0", "threads"},
      {acas + " " + p1 + " --no-such-option", "no-such-option"},
      {acas, "property"},
      {acas + " " + p1 + " --out /nonexistent-dir-6b/r.txt", "cannot write"},
  };
  for (const auto& b : bad) {
    INFO("chassis vnnlib " << b.args);
    Cli c = runVnnlib(b.args);
    INFO("stdout: " << c.out << "stderr: " << c.err);
    CHECK(c.code == 2);
    CHECK(c.err.find(b.message) != std::string::npos);
    CHECK(c.out.find("sat") == std::string::npos); // no verdict printed
  }
  // A parse error names the line and column.
  Cli c = runVnnlib(acas + " tests/data/vnnlib_bad/nonlinear.vnnlib");
  CHECK(std::regex_search(c.err, std::regex(R"(nonlinear\.vnnlib:\d+:\d+: error: )")));
}

TEST_CASE("vnnlib CLI: a timeout is reported as `timeout`, exit code 3",
          "[verifier][vnnlib][cli]") {
  // prop_7 on 1_9 is the benchmark's hardest instance (nnenum times out at 116 s).
  std::string res = scratchDir() + "/timeout.txt";
  Cli c = runVnnlib("tests/data/acasxu/ACASXU_run2a_1_9_batch_2000.onnx "
                   "tests/data/vnnlib/prop_7.vnnlib --timeout 1 --out '" +
                   res + "'");
  INFO("stdout: " << c.out << "stderr: " << c.err);
  if (c.code == 1) { // found: then it must be a replaying counterexample
    std::vector<double> x, y;
    parseSat(slurp(res), 5, 5, x, y);
    SUCCEED("prop_7 on 1_9 was falsified within 1 s");
    return;
  }
  CHECK(c.code == 3);
  CHECK(slurp(res) == "timeout\n");
  CHECK(c.out.rfind("timeout\ntime: ", 0) == 0);
}

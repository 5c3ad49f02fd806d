// Test helper: random well-typed .chs programs (deterministic modules, and random ones with
// choices, observes, a factor and a condition), drawn from a seed, for the differential tests
// that run them through two back ends (intervals against points, compiled code against the
// interpreter). The draws are made in program order, so a seed gives the same program on every
// compiler.
#pragma once

#include "spec/diagnostics.h"
#include "spec/frontend.h"
#include "spec/ir.h"
#include "spec/lower.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

namespace chassis::testing {

/// Random well-typed expressions over x, y (real), k, m (int), a (real[3]) and the loop index j
/// (and, in a random module, the choices z: real, b: bool, c: int), and modules made of them.
class ProgramGen {
public:
  explicit ProgramGen(uint64_t seed) : g_(seed) {}

  std::string real(int depth) {
    if (depth <= 0 || pick(10) < 2) {
      switch (pick(choices_ ? 6 : 5)) {
      case 5:
        return "z";
      case 0:
        return "x";
      case 1:
        return "y";
      case 2:
        return "a[" + std::to_string(pick(3)) + "]";
      case 3:
        return constant();
      default:
        return "acc";
      }
    }
    const int d = depth - 1;
    switch (pick(22)) {
    case 0:
    case 1:
      return "(" + real(d) + " + " + real(d) + ")";
    case 2:
      return "(" + real(d) + " - " + real(d) + ")";
    case 3:
    case 4:
      return "(" + real(d) + " * " + real(d) + ")";
    case 5:
      return "(" + real(d) + " / " + real(d) + ")";
    case 6:
      return "exp(" + real(d) + ")";
    case 7:
      return "log(" + real(d) + ")";
    case 8:
      return "sqrt(" + real(d) + ")";
    case 9:
      return "sigmoid(" + real(d) + ")";
    case 10:
      return "tanh(" + real(d) + ")";
    case 11:
      return "abs(" + real(d) + ")";
    case 12:
      return "relu(" + real(d) + ")";
    case 13:
      return "min(" + real(d) + ", " + real(d) + ")";
    case 14:
      return "max(" + real(d) + ", " + real(d) + ")";
    case 15:
      return "(" + boolean(d) + " ? " + real(d) + " : " + real(d) + ")";
    case 16:
      return "(" + integer(d) + " + 0.5)";
    case 17:
      return "a[" + integer(d) + "]";
    case 18:
      return "sum(a)";
    case 19:
      return "dot(a, [" + real(d) + ", 1.0, " + real(d) + "])";
    case 20:
      return "(-" + real(d) + ")";
    default:
      return "(" + real(d) + " * " + integer(d) + ")";
    }
  }

  std::string integer(int depth) {
    if (depth <= 0 || pick(10) < 3) {
      switch (pick(choices_ ? 5 : 4)) {
      case 4:
        return "c";
      case 0:
        return "k";
      case 1:
        return "m";
      case 2:
        return inLoop_ ? "j" : "n";
      default:
        return std::to_string(int(pick(9)) - 3);
      }
    }
    const int d = depth - 1;
    switch (pick(11)) {
    case 0:
      return "(" + integer(d) + " + " + integer(d) + ")";
    case 1:
      return "(" + integer(d) + " - " + integer(d) + ")";
    case 2:
      return "(" + integer(d) + " * " + integer(d) + ")";
    case 3:
    case 4:
      return "(" + integer(d) + " % " + integer(d) + ")";
    case 5:
      return "abs(" + integer(d) + ")";
    case 6:
      return "min(" + integer(d) + ", " + integer(d) + ")";
    case 7:
      return "max(" + integer(d) + ", " + integer(d) + ")";
    case 8:
      return "(" + boolean(d) + " ? " + integer(d) + " : " + integer(d) + ")";
    case 9:
      return "argmax(a)";
    default:
      return "[k, m, 2][" + integer(d) + "]";
    }
  }

  std::string boolean(int depth) {
    const int d = std::max(depth - 1, 0);
    switch (pick(choices_ ? 8 : 7)) {
    case 7:
      return "b";
    case 0:
      return "(" + real(d) + " < " + real(d) + ")";
    case 1:
      return "(" + real(d) + " >= " + real(d) + ")";
    case 2:
      return "(" + integer(d) + " == " + integer(d) + ")";
    case 3:
      return "(" + integer(d) + " != " + integer(d) + ")";
    case 4:
      return depth > 0 ? "(" + boolean(d) + " && " + boolean(d) + ")" : "(k < m)";
    case 5:
      return depth > 0 ? "(" + boolean(d) + " || " + boolean(d) + ")" : "(x > y)";
    default:
      return depth > 0 ? "!" + boolean(d) : "(m > 0)";
    }
  }

  /// A module: a loop accumulating a real, an if with an assert, an int output. Each part is
  /// drawn in its own statement, so the draws are in program order on every compiler.
  std::string module() {
    inLoop_ = true;
    const std::string body = real(2);
    inLoop_ = false;
    const std::string cond = boolean(2), thenR = real(3), check = boolean(1), elseR = real(2),
                      i = integer(3);
    return "module P(x: real in [-4, 4], y: real in [-4, 4], k: int in [-6, 6], "
           "m: int in [-6, 6], a: real[3]) -> (r: real, i: int) {\n"
           "    let n = 1;\n"
           "    var acc: real = 0.0;\n"
           "    for j in 0..3 {\n"
           "        acc = acc + " +
           body +
           ";\n"
           "    }\n"
           "    if " +
           cond +
           " {\n"
           "        r = " +
           thenR +
           ";\n"
           "    } else {\n"
           "        assert " +
           check +
           ";\n"
           "        r = " +
           elseR +
           ";\n"
           "    }\n"
           "    i = " +
           i +
           ";\n"
           "}\n";
  }

  /// A random module: a Normal, a Bernoulli and a Categorical choice (the Normal's scale now and
  /// then an unchecked expression: invalid parameters), observes in a loop, a factor, a
  /// condition and an assert in the branches, all over the inputs and the choices.
  std::string randomModule() {
    const std::string mu = real(2);
    const std::string sd = pick(4) == 0 ? real(1) : "(abs(" + real(1) + ") + 0.5)";
    const std::string p = real(1);
    choices_ = true;
    inLoop_ = true;
    const std::string body = real(2), obsMean = real(1), obsValue = real(1);
    inLoop_ = false;
    const std::string fac = real(1), cond = boolean(2), kept = boolean(1), thenR = real(3),
                      check = boolean(1), elseR = real(2), i = integer(3);
    choices_ = false;
    return "module Q(x: real in [-4, 4], y: real in [-4, 4], k: int in [-6, 6], "
           "m: int in [-6, 6], a: real[3]) -> (r: real, i: int) {\n"
           "    let n = 1;\n"
           "    var acc: real = 0.0;\n"
           "    z ~ Normal(" + mu + ", " + sd + ");\n"
           "    b ~ Bernoulli(sigmoid(" + p + "));\n"
           "    c ~ Categorical([0.2, 0.3, 0.5]);\n"
           "    for j in 0..3 {\n"
           "        acc = acc + " + body + ";\n"
           "        observe(Normal(" + obsMean + ", 1.0), " + obsValue + ");\n"
           "    }\n"
           "    factor(" + fac + ");\n"
           "    if " + cond + " {\n"
           "        condition(" + kept + ");\n"
           "        r = " + thenR + ";\n"
           "    } else {\n"
           "        assert " + check + ";\n"
           "        r = " + elseR + ";\n"
           "    }\n"
           "    i = " + i + ";\n"
           "}\n";
  }

  uint64_t pick(uint64_t n) { return g_() % n; }
  double unit() { return std::uniform_real_distribution<double>(0, 1)(g_); }

private:
  std::string constant() {
    static const char* cs[] = {"0.0", "1.0", "-2.5", "0.1", "3.0", "-0.75"};
    return cs[pick(6)];
  }
  std::mt19937_64 g_;
  bool inLoop_ = false;
  bool choices_ = false; // z, b, c are in scope (randomModule)
};


/// `src` (a ProgramGen module) parsed, checked and lowered as "random.chs"; nullopt when the
/// checker rejects it (a constant index out of bounds: not every draw is a valid program).
inline std::optional<ir::Program> lowerRandomProgram(const std::string& src) {
  spec::DiagnosticEngine diags;
  auto ast = spec::fromString(src, "random.chs", diags);
  if (!ast) return std::nullopt;
  auto prog = ir::lower(*ast);
  if (!prog) return std::nullopt;
  return std::move(*prog);
}

} // namespace chassis::testing

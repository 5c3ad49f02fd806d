// A differential soundness campaign for the verifier: N random cases drawn from a seed, each
// verdict checked against an oracle written here, independent of the verifier's own checks
// (verifier/replay.cpp, Z3Encoder::checkPoint are not used):
//   program      random piecewise-linear .chs programs, forall / exists properties, through
//                verifier::verifyProperty. A counterexample (or witness) is re-evaluated in exact
//                rationals (boost cpp_rational) from its printed text; `holds` of a forall (and
//                `violated` of an exists) is checked on a dense grid plus random points, exactly.
//   transcendental  the same with exp/log/sqrt/sigmoid/tanh, evaluated in 50-digit binary
//                floating point with a margin of 1e-30 (a point closer to the boundary than
//                that decides nothing).
//   identity     true identities (exp(log(x)) == x on [0.3, 0.7], log(exp(x)) == x, sigmoid(x) +
//                sigmoid(-x) == 1, max + min == sum, sqrt(x)^2 == x, ...): never `violated`;
//                and the same shifted by a margin of 1e-7 (false everywhere): never `holds`.
//   discrete     small discrete models (Bernoulli, DiscreteUniform, Binomial, Categorical,
//                condition, observe) and P[M](e | g) / E[M](k) compared with a constant near
//                the true value: the exact probability by brute-force enumeration in rationals
//                decides the bound, and must lie in the certified interval.
//   network      random ReLU networks and VNN-LIB properties through verifier::verifyNetwork
//                (the engine of `chassis vnnlib`); oracle: a naive exact Z3 encoding written
//                here (ReLU as y = ite(h >= 0, h, 0) over the reals, weights as the exact
//                rationals of their doubles), its model re-checked in rationals; an engine `sat`
//                point must be a counterexample in exact rationals (else, as `chassis vnnlib`
//                does, it is downgraded to unknown and counted).
//   network-edge the same with floating-point edge cases on purpose: tied outputs, ReLUs
//                exactly at 0 on a box boundary, subnormal and 1e4 / 1e-6 weights, degenerate
//                boxes lo = hi, thresholds at a margin of 1e-7 from a reached output value.
// Prints the counts (cases, agreements, unknowns, wrong) and, for each wrong case, its index,
// seed and a reproducer file in the output directory. Exit 0 when nothing is wrong, 1 on any
// wrong verdict (including a counterexample that is not one in exact arithmetic), 2 on usage.
//
//   soundness_campaign N [SEED] [--out DIR] [--case I] [--verbose]
#include "neural/affine_net.h"
#include "neural/lower_network.h"
#include "neural/network.h"
#include "neural/onnx.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "spec/vnnlib.h"
#include "verifier/network_verifier.h"
#include "verifier/properties.h"
#include "verifier/vnnlib_query.h"

#include <boost/multiprecision/cpp_bin_float.hpp>
#include <boost/multiprecision/cpp_int.hpp>
#include <z3++.h>

#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace chassis;
namespace mp = boost::multiprecision;
using Q = mp::cpp_rational;
using F = mp::cpp_bin_float_50;

namespace {

// ---------------------------------------------------------------------------------------------
// Exact numbers.

/// The exact rational value of a finite double.
Q exactQ(double d) {
  if (d == 0) return Q(0);
  int e = 0;
  double m = std::frexp(d, &e);                          // d = m * 2^e, 0.5 <= |m| < 1
  auto mant = static_cast<long long>(std::ldexp(m, 53)); // exact: 53 bits
  e -= 53;
  mp::cpp_int num(mant), den(1);
  if (e >= 0)
    num <<= e;
  else
    den <<= -e;
  return Q(num, den);
}

F exactF(double d) {
  return F(d);
} // exact: 50 decimal digits hold every double

/// A point's value as printed by the verifier, as an exact rational: a float64 number (the
/// shortest text that reads back as it: the value is that double, not the decimal), or Z3's
/// exact point ("0.333? (exact, not a float64 number)": the decimal, `approx` set when it ends
/// with '?', a rounded decimal). nullopt when unreadable.
std::optional<Q> parseDecimal(std::string t, bool& approx) {
  approx = false;
  bool exactPoint = t.find("exact") != std::string::npos;
  if (auto p = t.find(" ("); p != std::string::npos) t = t.substr(0, p);
  if (!exactPoint) {
    double d = 0;
    auto res = std::from_chars(t.data(), t.data() + t.size(), d);
    if (res.ec != std::errc() || res.ptr != t.data() + t.size() || !std::isfinite(d))
      return std::nullopt;
    return exactQ(d);
  }
  if (!t.empty() && t.back() == '?') {
    approx = true;
    t.pop_back();
  }
  // Exponent forms (to_chars prints 1e-07): parse the mantissa and the exponent apart.
  int exp10 = 0;
  if (auto p = t.find_first_of("eE"); p != std::string::npos) {
    exp10 = std::stoi(t.substr(p + 1));
    t = t.substr(0, p);
  }
  bool neg = !t.empty() && t[0] == '-';
  if (neg) t = t.substr(1);
  if (t.empty()) return std::nullopt;
  mp::cpp_int num = 0, den = 1;
  bool dot = false;
  for (char ch : t) {
    if (ch == '.') {
      if (dot) return std::nullopt;
      dot = true;
      continue;
    }
    if (ch < '0' || ch > '9') return std::nullopt;
    num = num * 10 + (ch - '0');
    if (dot) den *= 10;
  }
  Q q(num, den);
  mp::cpp_int p10 = 1;
  for (int i = 0; i < std::abs(exp10); ++i)
    p10 *= 10;
  q = exp10 >= 0 ? q * Q(p10) : q / Q(p10);
  return neg ? Q(-q) : q;
}

std::string lit(double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, std::abs(d));
  std::string s(buf, r.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return d < 0 || std::signbit(d) ? "(-" + s + ")" : s;
}

std::string hexDouble(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a", d);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Random expressions over quantified variables, printed as .chs and evaluated exactly.

enum class Op {
  Var,
  Const,
  Add,
  Sub,
  Scale,
  Mul,
  Min,
  Max,
  Abs,
  Relu,
  Ite,
  Exp,
  Log1pAbs,
  SqrtAbs,
  Sigmoid,
  Tanh,
  Log,
  Sqrt
};

struct Node {
  Op op = Op::Const;
  int var = 0;
  double c = 0;
  std::vector<std::shared_ptr<Node>> k;
};
using NodeP = std::shared_ptr<Node>;

NodeP mk(Op op, std::vector<NodeP> k = {}, double c = 0, int var = 0) {
  auto n = std::make_shared<Node>();
  n->op = op;
  n->k = std::move(k);
  n->c = c;
  n->var = var;
  return n;
}

const char* kVarNames[] = {"x", "y", "z"};

std::string print(const Node& n) {
  auto p = [&](size_t i) { return print(*n.k[i]); };
  switch (n.op) {
  case Op::Var:
    return kVarNames[n.var];
  case Op::Const:
    return lit(n.c);
  case Op::Add:
    return "(" + p(0) + " + " + p(1) + ")";
  case Op::Sub:
    return "(" + p(0) + " - " + p(1) + ")";
  case Op::Scale:
    return "(" + lit(n.c) + " * " + p(0) + ")";
  case Op::Mul:
    return "(" + p(0) + " * " + p(1) + ")";
  case Op::Min:
    return "min(" + p(0) + ", " + p(1) + ")";
  case Op::Max:
    return "max(" + p(0) + ", " + p(1) + ")";
  case Op::Abs:
    return "abs(" + p(0) + ")";
  case Op::Relu:
    return "relu(" + p(0) + ")";
  case Op::Ite:
    return "(if " + p(0) + " <= " + p(1) + " then " + p(2) + " else " + p(3) + ")";
  case Op::Exp:
    return "exp(" + p(0) + ")";
  case Op::Log1pAbs:
    return "log(1.0 + abs(" + p(0) + "))";
  case Op::SqrtAbs:
    return "sqrt(abs(" + p(0) + "))";
  case Op::Sigmoid:
    return "sigmoid(" + p(0) + ")";
  case Op::Tanh:
    return "tanh(" + p(0) + ")";
  case Op::Log:
    return "log(" + p(0) + ")";
  case Op::Sqrt:
    return "sqrt(" + p(0) + ")";
  }
  return "?";
}

/// Exact evaluation (piecewise-linear and products only); nullopt on a transcendental.
std::optional<Q> evalQ(const Node& n, const std::vector<Q>& x) {
  auto e = [&](size_t i) { return evalQ(*n.k[i], x); };
  switch (n.op) {
  case Op::Var:
    return x[size_t(n.var)];
  case Op::Const:
    return exactQ(n.c);
  case Op::Scale: {
    auto a = e(0);
    if (!a) return std::nullopt;
    return exactQ(n.c) * *a;
  }
  case Op::Abs:
  case Op::Relu: {
    auto a = e(0);
    if (!a) return std::nullopt;
    if (n.op == Op::Abs) return *a < 0 ? Q(-*a) : *a;
    return *a < 0 ? Q(0) : *a;
  }
  case Op::Add:
  case Op::Sub:
  case Op::Mul:
  case Op::Min:
  case Op::Max: {
    auto a = e(0), b = e(1);
    if (!a || !b) return std::nullopt;
    switch (n.op) {
    case Op::Add:
      return *a + *b;
    case Op::Sub:
      return *a - *b;
    case Op::Mul:
      return *a * *b;
    case Op::Min:
      return *a < *b ? *a : *b;
    default:
      return *a < *b ? *b : *a;
    }
  }
  case Op::Ite: {
    auto a = e(0), b = e(1);
    if (!a || !b) return std::nullopt;
    return *a <= *b ? e(2) : e(3);
  }
  default:
    return std::nullopt;
  }
}

/// 50-digit evaluation; nullopt outside a function's domain.
std::optional<F> evalF(const Node& n, const std::vector<F>& x) {
  auto e = [&](size_t i) { return evalF(*n.k[i], x); };
  if (n.op == Op::Var) return x[size_t(n.var)];
  if (n.op == Op::Const) return exactF(n.c);
  if (n.op == Op::Ite) {
    auto a = e(0), b = e(1);
    if (!a || !b) return std::nullopt;
    return *a <= *b ? e(2) : e(3);
  }
  auto a = e(0);
  if (!a) return std::nullopt;
  F v = *a;
  switch (n.op) {
  case Op::Scale:
    return exactF(n.c) * v;
  case Op::Abs:
    return mp::abs(v);
  case Op::Relu:
    return v < 0 ? F(0) : v;
  case Op::Exp:
    return mp::exp(v);
  case Op::Log1pAbs:
    return mp::log(F(1) + mp::abs(v));
  case Op::SqrtAbs:
    return mp::sqrt(mp::abs(v));
  case Op::Sigmoid:
    return F(1) / (F(1) + mp::exp(-v));
  case Op::Tanh:
    return mp::tanh(v);
  case Op::Log:
    if (v <= 0) return std::nullopt;
    return mp::log(v);
  case Op::Sqrt:
    if (v < 0) return std::nullopt;
    return mp::sqrt(v);
  default:
    break;
  }
  auto b = e(1);
  if (!b) return std::nullopt;
  switch (n.op) {
  case Op::Add:
    return v + *b;
  case Op::Sub:
    return v - *b;
  case Op::Mul:
    return v * *b;
  case Op::Min:
    return v < *b ? v : *b;
  case Op::Max:
    return v < *b ? *b : v;
  default:
    return std::nullopt;
  }
}

/// A quarter-multiple constant in [-2, 2].
double quarter(std::mt19937_64& g) {
  return double(int(g() % 17) - 8) * 0.25;
}

/// A constant: mostly a quarter multiple; with `extreme`, sometimes 1e4, 1e-6 or a subnormal.
double randConst(std::mt19937_64& g, bool extreme) {
  static const double ex[] = {1e4, -1e4, 1e-6, -1e-6, 4.9406564584124654e-324, 1e-310, -2.5e-320};
  return extreme && g() % 8 == 0 ? ex[g() % 7] : quarter(g);
}

NodeP randPL(std::mt19937_64& g, int depth, int nvars, bool extreme = false) {
  int pick = depth <= 0 ? int(g() % 2) : int(g() % 10);
  auto sub = [&]() { return randPL(g, depth - 1, nvars, extreme); };
  switch (pick) {
  case 0:
    return mk(Op::Var, {}, 0, int(g() % unsigned(nvars)));
  case 1:
    return mk(Op::Const, {}, randConst(g, extreme));
  case 2:
    return mk(Op::Add, {sub(), sub()});
  case 3:
    return mk(Op::Sub, {sub(), sub()});
  case 4:
    return mk(Op::Scale, {sub()}, randConst(g, extreme));
  case 5:
    return mk(Op::Min, {sub(), sub()});
  case 6:
    return mk(Op::Max, {sub(), sub()});
  case 7:
    return mk(g() % 2 ? Op::Abs : Op::Relu, {sub()});
  case 8:
    return mk(Op::Ite, {sub(), sub(), sub(), sub()});
  default:
    return mk(Op::Mul, {mk(Op::Var, {}, 0, int(g() % unsigned(nvars))), sub()});
  }
}

NodeP randTrans(std::mt19937_64& g, int depth, int nvars) {
  if (depth <= 0) return randPL(g, 0, nvars);
  auto sub = [&]() { return randTrans(g, depth - 1, nvars); };
  switch (g() % 9) {
  case 0:
    return mk(Op::Exp, {mk(Op::Scale, {sub()}, 0.5)});
  case 1:
    return mk(Op::Log1pAbs, {sub()});
  case 2:
    return mk(Op::SqrtAbs, {sub()});
  case 3:
    return mk(Op::Sigmoid, {sub()});
  case 4:
    return mk(Op::Tanh, {sub()});
  case 5:
    return mk(Op::Add, {sub(), sub()});
  case 6:
    return mk(Op::Scale, {sub()}, quarter(g));
  case 7:
    return mk(Op::Max, {sub(), sub()});
  default:
    return randPL(g, depth - 1, nvars);
  }
}

// A body: atoms `lhs cmp rhs` joined by one connective.
enum class Cmp { Le, Lt, Ge, Gt, Eq, Ne };
const char* cmpText(Cmp c) {
  static const char* t[] = {"<=", "<", ">=", ">", "==", "!="};
  return t[int(c)];
}
template <class T> bool cmpHolds(Cmp c, const T& a, const T& b) {
  switch (c) {
  case Cmp::Le:
    return a <= b;
  case Cmp::Lt:
    return a < b;
  case Cmp::Ge:
    return a >= b;
  case Cmp::Gt:
    return a > b;
  case Cmp::Eq:
    return a == b;
  default:
    return a != b;
  }
}

struct Atom {
  NodeP lhs, rhs;
  Cmp cmp = Cmp::Le;
  bool viaModule = false; // lhs is F(x, y, z).o (module F's output)
};

enum class Join { One, And, Or, Implies };

struct Formula {
  std::vector<Atom> atoms; // 1 or 2
  Join join = Join::One;
};

/// The truth value of a formula, or nullopt when the oracle cannot decide it (an atom within
/// `margin` of its boundary in the 50-digit evaluation, or a domain error).
enum class Truth { False, True, Undecided };

Truth joinTruth(Join j, Truth a, Truth b) {
  auto T = [](bool v) { return v ? Truth::True : Truth::False; };
  if (j == Join::One) return a;
  if (j == Join::Implies) {
    if (a == Truth::False || b == Truth::True) return Truth::True;
    if (a == Truth::True && b == Truth::False) return Truth::False;
    return Truth::Undecided;
  }
  if (a == Truth::Undecided || b == Truth::Undecided) {
    if (j == Join::And && (a == Truth::False || b == Truth::False)) return Truth::False;
    if (j == Join::Or && (a == Truth::True || b == Truth::True)) return Truth::True;
    return Truth::Undecided;
  }
  return j == Join::And ? T(a == Truth::True && b == Truth::True)
                        : T(a == Truth::True || b == Truth::True);
}

Truth atomTruthQ(const Atom& a, const std::vector<Q>& x, bool& exact) {
  auto l = evalQ(*a.lhs, x), r = evalQ(*a.rhs, x);
  if (!l || !r) {
    exact = false;
    return Truth::Undecided;
  }
  return cmpHolds(a.cmp, *l, *r) ? Truth::True : Truth::False;
}

Truth atomTruthF(const Atom& a, const std::vector<F>& x, const F& margin) {
  auto l = evalF(*a.lhs, x), r = evalF(*a.rhs, x);
  if (!l || !r) return Truth::Undecided;
  F d = *l - *r;
  if (mp::abs(d) <= margin) return Truth::Undecided;
  return cmpHolds(a.cmp, d, F(0)) ? Truth::True : Truth::False;
}

Truth formulaTruthQ(const Formula& f, const std::vector<Q>& x, bool& exact) {
  Truth a = atomTruthQ(f.atoms[0], x, exact);
  Truth b = f.atoms.size() > 1 ? atomTruthQ(f.atoms[1], x, exact) : a;
  return joinTruth(f.join, a, b);
}

Truth formulaTruthF(const Formula& f, const std::vector<F>& x, const F& margin) {
  Truth a = atomTruthF(f.atoms[0], x, margin);
  Truth b = f.atoms.size() > 1 ? atomTruthF(f.atoms[1], x, margin) : a;
  return joinTruth(f.join, a, b);
}

/// The truth at a point: exactly when every operation is piecewise-linear or a product, else in
/// 50 digits with a margin.
Truth truthAt(const Formula& f, const std::vector<Q>& xq) {
  bool exact = true;
  Truth t = formulaTruthQ(f, xq, exact);
  if (exact) return t;
  std::vector<F> xf;
  for (const Q& q : xq)
    xf.push_back(F(mp::numerator(q)) / F(mp::denominator(q)));
  return formulaTruthF(f, xf, F("1e-30"));
}

// ---------------------------------------------------------------------------------------------
// The oracles' self-check (--flip-verdicts): every decided verdict of the verifier is inverted
// before the oracle sees it -- holds becomes violated at the box's midpoint, violated becomes
// holds -- so a campaign whose oracles work reports wrong verdicts.

bool gFlipVerdicts = false;

void flipVerdict(verifier::PropertyResult& r,
                 const std::vector<std::pair<std::string, double>>& mid) {
  if (!gFlipVerdicts || r.isInterval) return;
  if (r.verdict == verifier::Verdict::Violated) {
    r.verdict = verifier::Verdict::Holds;
    r.counterexample.clear();
  } else if (r.verdict == verifier::Verdict::Holds) {
    r.verdict = verifier::Verdict::Violated;
    r.counterexample.clear();
    for (const auto& [name, v] : mid) {
      char buf[64];
      auto res = std::to_chars(buf, buf + sizeof buf, v);
      r.counterexample.push_back({name, std::string(buf, res.ptr)});
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Results.

enum class Outcome { Agree, Unknown, Wrong, Unchecked };

struct CaseResult {
  std::string kind;
  Outcome outcome = Outcome::Agree;
  std::string verdict;              // the verifier's
  std::string detail;               // why wrong / unknown
  std::string reproName, reproText; // the reproducer file
  bool float64Only = false; // a network `sat` point that is one only in float64 (downgraded)
};

std::string propVerdictText(verifier::Verdict v) {
  return std::string(verifier::verdictName(v));
}

std::optional<ir::Program> lowerText(const std::string& src, std::string& err) {
  spec::DiagnosticEngine diags;
  auto ast = spec::fromString(src, "case.chs", diags);
  if (!ast) {
    err = diags.str();
    return std::nullopt;
  }
  auto prog = ir::lower(*ast);
  if (!prog) {
    err = prog.error().str();
    return std::nullopt;
  }
  return std::move(*prog);
}

// ---------------------------------------------------------------------------------------------
// Quantified properties (program, transcendental, identity).

struct QuantCase {
  std::string kind;
  int nvars = 1;
  std::vector<std::pair<double, double>> box;
  bool exists = false;
  NodeP moduleBody; // F's output o (may be null)
  Formula body;
  double timeout = 5;
};

std::string quantSource(const QuantCase& qc) {
  std::ostringstream s;
  if (qc.moduleBody) {
    s << "module F(";
    for (int i = 0; i < qc.nvars; ++i)
      s << (i ? ", " : "") << kVarNames[i] << ": real";
    s << ") -> (o: real) {\n    o = " << print(*qc.moduleBody) << ";\n}\n";
  }
  std::string call = "F(";
  for (int i = 0; i < qc.nvars; ++i)
    call += std::string(i ? ", " : "") + kVarNames[i];
  call += ").o";
  auto atomText = [&](const Atom& a) {
    return (a.viaModule ? call : print(*a.lhs)) + " " + cmpText(a.cmp) + " " + print(*a.rhs);
  };
  s << "property p: " << (qc.exists ? "exists " : "forall ");
  for (int i = 0; i < qc.nvars; ++i)
    s << (i ? ", " : "") << kVarNames[i] << " in [" << lit(qc.box[size_t(i)].first) << ", "
      << lit(qc.box[size_t(i)].second) << "]";
  s << ": ";
  const Formula& f = qc.body;
  if (f.join == Join::One)
    s << atomText(f.atoms[0]);
  else
    s << "(" << atomText(f.atoms[0]) << ") "
      << (f.join == Join::And  ? "&&"
          : f.join == Join::Or ? "||"
                               : "=>")
      << " (" << atomText(f.atoms[1]) << ")";
  s << ";\n";
  return s.str();
}

/// Points of the box: a grid of `per` points per axis (`per` = 1: the midpoint), the corners'
/// coordinates included, then `randomPts` uniform doubles.
std::vector<std::vector<Q>> probePoints(const QuantCase& qc, std::mt19937_64& g, int randomPts) {
  int per = qc.nvars == 1 ? 257 : qc.nvars == 2 ? 33 : 11;
  std::vector<std::vector<double>> axis(size_t(qc.nvars));
  for (int i = 0; i < qc.nvars; ++i) {
    auto [lo, hi] = qc.box[size_t(i)];
    for (int k = 0; k < per; ++k)
      axis[size_t(i)].push_back(lo == hi ? lo : lo + (hi - lo) * k / (per - 1));
    axis[size_t(i)].back() = hi;
  }
  std::vector<std::vector<Q>> pts;
  std::vector<size_t> idx(size_t(qc.nvars), 0);
  while (true) {
    std::vector<Q> p;
    for (int i = 0; i < qc.nvars; ++i)
      p.push_back(exactQ(axis[size_t(i)][idx[size_t(i)]]));
    pts.push_back(std::move(p));
    size_t d = 0;
    while (d < idx.size() && ++idx[d] == axis[d].size())
      idx[d++] = 0;
    if (d == idx.size()) break;
  }
  std::uniform_real_distribution<double> u(0, 1);
  for (int r = 0; r < randomPts; ++r) {
    std::vector<Q> p;
    for (int i = 0; i < qc.nvars; ++i) {
      auto [lo, hi] = qc.box[size_t(i)];
      double v = std::min(hi, std::max(lo, lo + (hi - lo) * u(g)));
      p.push_back(exactQ(v));
    }
    pts.push_back(std::move(p));
  }
  return pts;
}

std::string pointText(const std::vector<Q>& p) {
  std::string t;
  for (size_t i = 0; i < p.size(); ++i)
    t += (i ? ", " : "") + std::string(kVarNames[i]) + " = " +
         lit(mp::numerator(p[i]).convert_to<double>() / mp::denominator(p[i]).convert_to<double>());
  return t;
}

CaseResult runQuant(const QuantCase& qc, std::mt19937_64& g) {
  CaseResult cr;
  cr.kind = qc.kind;
  std::string src = quantSource(qc);
  cr.reproText = "// kind: " + qc.kind + "\n" + src;
  std::string err;
  auto prog = lowerText(src, err);
  if (!prog) {
    cr.outcome = Outcome::Wrong;
    cr.detail = "the generated program does not compile (a campaign bug): " + err;
    return cr;
  }
  verifier::VerifyOptions o;
  o.timeoutSec = qc.timeout;
  auto r = verifier::verifyProperty(*prog, prog->properties.at(0), o);
  {
    std::vector<std::pair<std::string, double>> mid;
    for (int i = 0; i < qc.nvars; ++i)
      mid.push_back({kVarNames[i], 0.5 * (qc.box[size_t(i)].first + qc.box[size_t(i)].second)});
    flipVerdict(r, mid);
  }
  cr.verdict = propVerdictText(r.verdict);
  if (r.verdict == verifier::Verdict::Internal) {
    cr.outcome = Outcome::Wrong;
    cr.detail = "internal error: " + r.reason;
    return cr;
  }
  if (r.verdict == verifier::Verdict::Unknown) {
    cr.outcome = Outcome::Unknown;
    cr.detail = r.reason;
    return cr;
  }
  // `pointClaim`: the verifier names a point where the body is false (forall violated) or true
  // (exists holds). Otherwise it claims the body true everywhere (forall holds) or false
  // everywhere (exists violated).
  const bool pointClaim = qc.exists == (r.verdict == verifier::Verdict::Holds);
  const Truth wantAtPoint = qc.exists ? Truth::True : Truth::False;
  if (pointClaim) {
    if (r.counterexample.size() != size_t(qc.nvars)) {
      cr.outcome = Outcome::Wrong;
      cr.detail = "the point has " + std::to_string(r.counterexample.size()) + " values for " +
                  std::to_string(qc.nvars) + " variables";
      return cr;
    }
    std::vector<Q> p;
    bool approx = false;
    std::string shown;
    for (size_t i = 0; i < r.counterexample.size(); ++i) {
      bool a = false;
      auto q = parseDecimal(r.counterexample[i].second, a);
      shown += (i ? ", " : "") + r.counterexample[i].first + " = " + r.counterexample[i].second;
      if (!q) {
        cr.outcome = Outcome::Wrong;
        cr.detail = "unreadable point value '" + r.counterexample[i].second + "'";
        return cr;
      }
      approx = approx || a;
      auto [lo, hi] = qc.box[i];
      // A rounded decimal of an exact point may sit a hair outside; only exact points are
      // held to the box exactly.
      if (!a && (*q < exactQ(lo) || *q > exactQ(hi))) {
        cr.outcome = Outcome::Wrong;
        cr.detail = "the point " + shown + " is outside the box";
        return cr;
      }
      p.push_back(*q);
    }
    Truth t = truthAt(qc.body, p);
    if (approx && t == wantAtPoint) {
      // Z3's exact (maybe irrational) point shown as a rounded decimal: the oracle cannot
      // evaluate the exact point, only this decimal beside it.
      cr.outcome = Outcome::Agree;
      cr.detail = "Z3's exact point, checked at its printed decimal";
      return cr;
    }
    if (t == wantAtPoint) return cr;
    if (t == Truth::Undecided || approx) {
      cr.outcome = Outcome::Unchecked;
      cr.detail = "the oracle cannot decide the body at " + shown;
      return cr;
    }
    cr.outcome = Outcome::Wrong;
    cr.detail = std::string(qc.exists ? "witness" : "counterexample") + " " + shown +
                " is not one: the body is " + (t == Truth::True ? "true" : "false") +
                " there (exact evaluation)";
    return cr;
  }
  // A universal claim: probe the box.
  const Truth bad = qc.exists ? Truth::True : Truth::False;
  for (const auto& p : probePoints(qc, g, 256)) {
    if (truthAt(qc.body, p) == bad) {
      cr.outcome = Outcome::Wrong;
      cr.detail = std::string("verdict ") + cr.verdict + ", but the body is " +
                  (bad == Truth::True ? "true" : "false") + " at " + pointText(p) +
                  " (exact evaluation)";
      return cr;
    }
  }
  return cr;
}

QuantCase genBox(std::mt19937_64& g, int nvars, QuantCase qc) {
  qc.nvars = nvars;
  for (int i = 0; i < nvars; ++i) {
    switch (g() % 6) {
    case 0:
      qc.box.push_back({0.0, 1.0});
      break;
    case 1:
      qc.box.push_back({-1.0, 0.5});
      break;
    case 2: { // degenerate: lo = hi
      double a = quarter(g);
      qc.box.push_back({a, a});
      break;
    }
    default:
      qc.box.push_back({-2.0, 2.0});
      break;
    }
  }
  return qc;
}

Atom randAtom(std::mt19937_64& g, NodeP lhs, bool viaModule, NodeP rhs) {
  Atom a;
  a.lhs = std::move(lhs);
  a.rhs = std::move(rhs);
  a.viaModule = viaModule;
  static const Cmp cmps[] = {Cmp::Le, Cmp::Le, Cmp::Lt, Cmp::Ge, Cmp::Gt, Cmp::Eq, Cmp::Ne};
  a.cmp = cmps[g() % 7];
  return a;
}

QuantCase genProgram(std::mt19937_64& g, bool transcendental) {
  QuantCase qc;
  qc.kind = transcendental ? "transcendental" : "program";
  qc = genBox(g, 1 + int(g() % 3), qc);
  qc.exists = g() % 4 == 0;
  qc.timeout = transcendental ? 2 : 5;
  auto gen = [&](int d) {
    return transcendental ? randTrans(g, d, qc.nvars) : randPL(g, d, qc.nvars, true);
  };
  qc.moduleBody = gen(3);
  Formula f;
  auto rhs = [&]() {
    // A constant, sometimes with a 1e-7 margin, or a second expression.
    switch (g() % 4) {
    case 0:
      return mk(Op::Const, {}, quarter(g) + (g() % 2 ? 1e-7 : -1e-7));
    case 1:
      return gen(1);
    default:
      return mk(Op::Const, {}, quarter(g));
    }
  };
  f.atoms.push_back(randAtom(g, qc.moduleBody, true, rhs()));
  switch (g() % 5) {
  case 0:
    f.join = Join::And;
    break;
  case 1:
    f.join = Join::Or;
    break;
  case 2:
    f.join = Join::Implies;
    break;
  default:
    f.join = Join::One;
    break;
  }
  if (f.join != Join::One) f.atoms.push_back(randAtom(g, gen(2), false, rhs()));
  qc.body = f;
  return qc;
}

/// True identities (never violated) and the same with a 1e-7 margin (never holds).
QuantCase genIdentity(std::mt19937_64& g) {
  QuantCase qc;
  qc.kind = "identity";
  qc.timeout = 3;
  auto X = mk(Op::Var, {}, 0, 0), Y = mk(Op::Var, {}, 0, 1);
  NodeP lhs, rhs;
  std::vector<std::pair<double, double>> box;
  double sub = 0.05 * double(g() % 5); // a sub-box
  switch (g() % 8) {
  case 0:
    lhs = mk(Op::Exp, {mk(Op::Log, {X})});
    rhs = X;
    box = {{0.3 + sub, 0.7}};
    break;
  case 1:
    lhs = mk(Op::Log, {mk(Op::Exp, {X})});
    rhs = X;
    box = {{-1.0 + sub, 1.0}};
    break;
  case 2:
    lhs = mk(Op::Add, {mk(Op::Sigmoid, {X}), mk(Op::Sigmoid, {mk(Op::Scale, {X}, -1.0)})});
    rhs = mk(Op::Const, {}, 1.0);
    box = {{-2.0, 2.0 - sub}};
    break;
  case 3:
    lhs = mk(Op::Add, {mk(Op::Max, {X, Y}), mk(Op::Min, {X, Y})});
    rhs = mk(Op::Add, {X, Y});
    box = {{-2.0, 2.0}, {-1.0 + sub, 1.0}};
    break;
  case 4:
    lhs = mk(Op::Mul, {mk(Op::Sqrt, {X}), mk(Op::Sqrt, {X})});
    rhs = X;
    box = {{0.0, 2.0}};
    break;
  case 5:
    lhs = mk(Op::Sqrt, {mk(Op::Mul, {X, X})});
    rhs = mk(Op::Abs, {X});
    box = {{-1.5, 1.5}};
    break;
  case 6:
    lhs = mk(Op::Tanh, {mk(Op::Scale, {X}, -1.0)});
    rhs = mk(Op::Scale, {mk(Op::Tanh, {X})}, -1.0);
    box = {{-1.0, 1.0 + sub}};
    break;
  default:
    lhs = mk(Op::Exp, {mk(Op::Add, {X, Y})});
    rhs = mk(Op::Mul, {mk(Op::Exp, {X}), mk(Op::Exp, {Y})});
    box = {{-1.0, 1.0}, {0.0, 0.5 + sub}};
    break;
  }
  qc.nvars = int(box.size());
  qc.box = box;
  Atom a;
  a.lhs = lhs;
  a.rhs = rhs;
  switch (g() % 4) {
  case 0:
    a.cmp = Cmp::Eq;
    break;
  case 1:
    a.cmp = Cmp::Le;
    break;
  case 2:
    a.cmp = Cmp::Ge;
    break;
  default: // shifted by a margin: false everywhere
    a.cmp = Cmp::Le;
    a.rhs = mk(Op::Sub, {rhs, mk(Op::Const, {}, 1e-7)});
    break;
  }
  qc.body.atoms.push_back(a);
  return qc;
}

// ---------------------------------------------------------------------------------------------
// Discrete models: brute-force enumeration of exact probabilities.

struct Ev {     // an event over (a, b, k)
  int kind = 0; // 0: a, 1: b, 2: k >= t, 3: k == t, 4: k <= t
  bool neg = false;
  int t = 0;
};
struct Event {
  std::vector<Ev> atoms;
  bool conj = true;
};
bool evHolds(const Ev& e, bool a, bool b, int k) {
  bool v = e.kind == 0   ? a
           : e.kind == 1 ? b
           : e.kind == 2 ? k >= e.t
           : e.kind == 3 ? k == e.t
                         : k <= e.t;
  return v != e.neg;
}
bool eventHolds(const Event& e, bool a, bool b, int k) {
  bool v = e.conj;
  for (const Ev& x : e.atoms)
    v = e.conj ? (v && evHolds(x, a, b, k)) : (v || evHolds(x, a, b, k));
  return v;
}
std::string evText(const Ev& e) {
  std::string s = e.kind == 0   ? "a"
                  : e.kind == 1 ? "b"
                  : e.kind == 2 ? "k >= " + std::to_string(e.t)
                  : e.kind == 3 ? "k == " + std::to_string(e.t)
                                : "k <= " + std::to_string(e.t);
  return e.neg ? "!(" + s + ")" : s;
}
std::string eventText(const Event& e) {
  std::string s;
  for (size_t i = 0; i < e.atoms.size(); ++i)
    s += (i ? (e.conj ? " && " : " || ") : "") + std::string("(") + evText(e.atoms[i]) + ")";
  return s;
}
Event randEvent(std::mt19937_64& g, int kmax) {
  Event e;
  int n = 1 + int(g() % 2);
  e.conj = g() % 2;
  for (int i = 0; i < n; ++i) {
    Ev a;
    a.kind = int(g() % 5);
    a.neg = g() % 4 == 0;
    a.t = int(g() % unsigned(kmax + 1));
    e.atoms.push_back(a);
  }
  return e;
}

mp::cpp_int binom(int n, int k) {
  mp::cpp_int r = 1;
  for (int i = 1; i <= k; ++i)
    r = r * (n - k + i) / i;
  return r;
}

CaseResult runDiscrete(std::mt19937_64& g) {
  CaseResult cr;
  cr.kind = "discrete";
  static const double probs[] = {0.1, 0.25, 0.3, 0.5, 0.7, 0.9, 0.05, 1.0, 0.0, 0.333};
  auto pp = [&]() { return probs[g() % 10]; };
  double p1 = pp(), p2 = pp(), p3 = pp(), p4 = pp(), p5 = pp(), p6 = pp(), p7 = pp();
  int kdist = int(g() % 3), n = 1 + int(g() % 3);
  std::vector<double> w = {double(1 + g() % 4), 0.5 * double(g() % 5), double(1 + g() % 3)};
  std::ostringstream s;
  s << "module M() -> (a: bool, b: bool, k: int) {\n"
    << "    a ~ Bernoulli(" << lit(p1) << ");\n"
    << "    b ~ Bernoulli(if a then " << lit(p2) << " else " << lit(p3) << ");\n";
  int kmax = 0;
  if (kdist == 0) {
    s << "    k ~ DiscreteUniform(0, " << n << ");\n";
    kmax = n;
  } else if (kdist == 1) {
    s << "    k ~ Binomial(" << n << ", if b then " << lit(p4) << " else " << lit(p5) << ");\n";
    kmax = n;
  } else {
    s << "    k ~ Categorical([" << lit(w[0]) << ", " << lit(w[1]) << ", " << lit(w[2]) << "]);\n";
    kmax = 2;
  }
  bool hasCond = g() % 3 == 0, hasObs = g() % 3 == 0;
  Event cond = randEvent(g, kmax);
  if (hasCond) s << "    condition(" << eventText(cond) << ");\n";
  if (hasObs)
    s << "    observe(Bernoulli(if k >= 1 then " << lit(p6) << " else " << lit(p7) << "), true);\n";
  s << "}\n";
  // The exact weights of every (a, b, k).
  struct W {
    bool a, b;
    int k;
    Q w, prior; // the weight (conditions and observations included) and the prior mass
  };
  std::vector<W> ws;
  Q wsum = 0;
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 2; ++b)
      for (int k = 0; k <= kmax; ++k) {
        Q pa = a ? exactQ(p1) : Q(1 - exactQ(p1));
        Q pb1 = exactQ(a ? p2 : p3);
        Q pb = b ? pb1 : Q(1 - pb1);
        Q pk;
        if (kdist == 0)
          pk = Q(1, n + 1);
        else if (kdist == 1) {
          Q q = exactQ(b ? p4 : p5);
          Q qp = 1, qn = 1;
          for (int i = 0; i < k; ++i)
            qp *= q;
          for (int i = 0; i < n - k; ++i)
            qn *= (1 - q);
          pk = Q(binom(n, k)) * qp * qn;
        } else
          pk = exactQ(w[size_t(k)]) / (exactQ(w[0]) + exactQ(w[1]) + exactQ(w[2]));
        Q wt = pa * pb * pk, prior = wt;
        if (hasCond && !eventHolds(cond, a, b, k)) wt = 0;
        if (hasObs) wt *= exactQ(k >= 1 ? p6 : p7);
        ws.push_back({bool(a), bool(b), k, wt, prior});
        wsum += wt;
      }
  // The property: P[M](e | g) cmp c, E[M](k) cmp c, or always[M](e).
  bool always = g() % 5 == 0;
  bool expectation = !always && g() % 4 == 0;
  Event ev = randEvent(g, kmax), given = randEvent(g, kmax);
  bool hasGiven = !expectation && g() % 3 == 0;
  Q num = 0, den = 0;
  for (const W& x : ws) {
    if (hasGiven && !eventHolds(given, x.a, x.b, x.k)) continue;
    den += x.w;
    num += expectation ? Q(x.w * x.k) : (eventHolds(ev, x.a, x.b, x.k) ? x.w : Q(0));
  }
  if (den == 0) {
    // P(g) = 0 or the model's total weight is 0: the property is undefined; only `holds` or
    // `violated` would be wrong.
  }
  std::optional<Q> truth;
  if (den != 0) truth = num / den;
  double tv = truth ? truth->convert_to<double>() : 0.5;
  double c = tv;
  switch (g() % 6) {
  case 0:
    c = tv;
    break; // the nearest double: a tie up to rounding
  case 1:
    c = tv + 1e-12;
    break;
  case 2:
    c = tv - 1e-12;
    break;
  case 3:
    c = tv + (g() % 2 ? 1e-7 : -1e-7);
    break;
  case 4:
    c = tv + (g() % 2 ? 0.01 : -0.01);
    break;
  default:
    c = double(g() % 21) * 0.05;
    break;
  }
  Cmp cmp = g() % 2 ? Cmp::Le : Cmp::Ge;
  if (g() % 4 == 0) cmp = cmp == Cmp::Le ? Cmp::Lt : Cmp::Gt;
  if (always)
    s << "property q: always[M](" << eventText(ev) << ");\n";
  else
    s << "property q: "
      << (expectation ? "E[M](k)"
                      : "P[M](" + eventText(ev) + (hasGiven ? " | " + eventText(given) : "") + ")")
      << " " << cmpText(cmp) << " " << lit(c) << ";\n";
  std::string src = s.str();
  cr.reproText = "// kind: discrete\n" + src;
  std::string err;
  auto prog = lowerText(src, err);
  if (!prog) {
    cr.outcome = Outcome::Wrong;
    cr.detail = "the generated program does not compile (a campaign bug): " + err;
    return cr;
  }
  verifier::VerifyOptions o;
  o.timeoutSec = 5;
  auto r = verifier::verifyProperty(*prog, prog->properties.at(0), o);
  if (gFlipVerdicts && r.verdict == verifier::Verdict::Holds)
    r.verdict = verifier::Verdict::Violated;
  else if (gFlipVerdicts && r.verdict == verifier::Verdict::Violated)
    r.verdict = verifier::Verdict::Holds;
  cr.verdict = propVerdictText(r.verdict);
  if (r.verdict == verifier::Verdict::Internal) {
    cr.outcome = Outcome::Wrong;
    cr.detail = "internal error: " + r.reason;
    return cr;
  }
  if (always) {
    // Every trace of positive prior mass (conditions and observations do not narrow it).
    bool allTrue = true;
    for (const W& x : ws)
      if (x.prior > 0 && !eventHolds(ev, x.a, x.b, x.k)) allTrue = false;
    if (r.verdict == verifier::Verdict::Unknown) {
      cr.outcome = Outcome::Unknown;
      cr.detail = r.reason;
    } else if (r.verdict == verifier::Verdict::Holds && !allTrue) {
      cr.outcome = Outcome::Wrong;
      cr.detail = "always holds, but a trace of positive prior mass makes the event false";
    } else if (r.verdict == verifier::Verdict::Violated) {
      // The trace: the choices a, b, k must have positive prior mass and falsify the event.
      std::map<std::string, double> ch;
      for (const auto& [addr, val] : r.counterexample) {
        double d = 0;
        auto res = std::from_chars(val.data(), val.data() + val.size(), d);
        if (res.ec == std::errc()) ch[addr] = d;
      }
      bool found = false;
      if (ch.count("a") && ch.count("b") && ch.count("k"))
        for (const W& x : ws)
          if (double(x.a) == ch["a"] && double(x.b) == ch["b"] && double(x.k) == ch["k"])
            found = x.prior > 0 && !eventHolds(ev, x.a, x.b, x.k);
      if (!found) {
        cr.outcome = Outcome::Wrong;
        std::string t;
        for (const auto& [addr, val] : r.counterexample)
          t += (t.empty() ? "" : ", ") + addr + " = " + val;
        cr.detail = "always violated at the trace " + t +
                    ", which is outside the support or makes the event true";
      }
    }
    return cr;
  }
  if (truth && r.isInterval && (exactQ(r.lo) > *truth || exactQ(r.hi) < *truth)) {
    cr.outcome = Outcome::Wrong;
    std::ostringstream d;
    d << std::setprecision(17) << "the certified interval [" << r.lo << ", " << r.hi
      << "] misses the exact value " << truth->convert_to<double>() << " (" << *truth << ")";
    cr.detail = d.str();
    return cr;
  }
  if (r.verdict == verifier::Verdict::Unknown) {
    cr.outcome = Outcome::Unknown;
    cr.detail = r.reason;
    return cr;
  }
  if (!truth) {
    cr.outcome = Outcome::Wrong;
    cr.detail = "verdict " + cr.verdict + " on an undefined probability (zero mass)";
    return cr;
  }
  bool trueVal = cmpHolds(cmp, *truth, exactQ(c));
  if (trueVal != (r.verdict == verifier::Verdict::Holds)) {
    cr.outcome = Outcome::Wrong;
    std::ostringstream d;
    d << std::setprecision(17) << "verdict " << cr.verdict << ", but the exact value is " << *truth
      << " = " << truth->convert_to<double>() << " against " << c;
    cr.detail = d.str();
  }
  return cr;
}

// ---------------------------------------------------------------------------------------------
// Networks: the engine against a naive exact Z3 encoding.

std::vector<Q> forwardQ(const neural::AffineNet& net, const std::vector<Q>& x) {
  std::vector<Q> y = x;
  for (const auto& L : net.layers) {
    std::vector<Q> z(size_t(L.W.rows()));
    for (int r = 0; r < L.W.rows(); ++r) {
      Q s = exactQ(L.b[r]);
      for (int c = 0; c < L.W.cols(); ++c)
        if (L.W(r, c) != 0) s += exactQ(L.W(r, c)) * y[size_t(c)];
      z[size_t(r)] = L.relu && s < 0 ? Q(0) : s;
    }
    y = std::move(z);
  }
  return y;
}

/// Whether x (exact) lies in the case's box and satisfies its constraints, in exact arithmetic.
bool exactCounterexample(const neural::AffineNet& net, const spec::VnnCase& c,
                         const std::vector<Q>& x) {
  for (size_t i = 0; i < x.size(); ++i)
    if (x[i] < exactQ(c.lo[i]) || x[i] > exactQ(c.hi[i])) return false;
  auto y = forwardQ(net, x);
  for (const auto& oc : c.constraints) {
    Q s = 0;
    for (size_t j = 0; j < oc.coef.size(); ++j)
      s += exactQ(oc.coef[j]) * y[j];
    if (s > exactQ(oc.rhs)) return false;
  }
  return true;
}

std::string qText(const Q& q) {
  std::ostringstream s;
  s << mp::numerator(q) << "/" << mp::denominator(q);
  return s.str();
}

Q parseZ3Numeral(const z3::expr& e) {
  std::string t = Z3_get_numeral_string(e.ctx(), e);
  auto slash = t.find('/');
  if (slash == std::string::npos) return Q(mp::cpp_int(t));
  return Q(mp::cpp_int(t.substr(0, slash)), mp::cpp_int(t.substr(slash + 1)));
}

enum class OracleAnswer { Sat, Unsat, Unknown };

/// The naive exact encoding, case by case; on Sat, `x` is a model checked in exact rationals.
OracleAnswer naiveOracle(const neural::AffineNet& net, const spec::VnnProperty& prop,
                         std::vector<Q>& x, int& caseIndex, std::string& why) {
  try {
    bool anyUnknown = false;
    for (size_t ci = 0; ci < prop.cases.size(); ++ci) {
      const spec::VnnCase& cs = prop.cases[ci];
      z3::context ctx;
      z3::solver s(ctx);
      z3::params p(ctx);
      p.set("timeout", 20000u);
      s.set(p);
      auto num = [&](double d) { return ctx.real_val(qText(exactQ(d)).c_str()); };
      std::vector<z3::expr> in, v;
      for (int i = 0; i < net.inputSize; ++i) {
        z3::expr xi = ctx.real_const(("x" + std::to_string(i)).c_str());
        s.add(xi >= num(cs.lo[size_t(i)]) && xi <= num(cs.hi[size_t(i)]));
        in.push_back(xi);
      }
      v = in;
      int k = 0;
      for (const auto& L : net.layers) {
        std::vector<z3::expr> z;
        for (int r = 0; r < L.W.rows(); ++r) {
          z3::expr h = num(L.b[r]);
          for (int c = 0; c < L.W.cols(); ++c)
            if (L.W(r, c) != 0) h = h + num(L.W(r, c)) * v[size_t(c)];
          if (L.relu) {
            z3::expr y =
                ctx.real_const(("r" + std::to_string(k) + "_" + std::to_string(r)).c_str());
            s.add(y == z3::ite(h >= 0, h, ctx.real_val(0)));
            z.push_back(y);
          } else
            z.push_back(h);
        }
        v = std::move(z);
        ++k;
      }
      for (const auto& oc : cs.constraints) {
        z3::expr t = ctx.real_val(0);
        for (size_t j = 0; j < oc.coef.size(); ++j)
          if (oc.coef[j] != 0) t = t + num(oc.coef[j]) * v[j];
        s.add(t <= num(oc.rhs));
      }
      auto res = s.check();
      if (res == z3::unknown) {
        anyUnknown = true;
        why = s.reason_unknown();
        continue;
      }
      if (res == z3::sat) {
        z3::model m = s.get_model();
        x.clear();
        for (const auto& xi : in)
          x.push_back(parseZ3Numeral(m.eval(xi, true)));
        if (!exactCounterexample(net, cs, x)) {
          why = "the oracle's model does not check in rationals";
          return OracleAnswer::Unknown;
        }
        caseIndex = int(ci);
        return OracleAnswer::Sat;
      }
    }
    return anyUnknown ? OracleAnswer::Unknown : OracleAnswer::Unsat;
  } catch (const z3::exception& e) {
    why = std::string("z3: ") + e.msg();
    return OracleAnswer::Unknown;
  }
}

struct NetCase {
  neural::AffineNet net;
  std::string vnnlib;
  std::string edges; // which edge cases were applied
};

double gauss(std::mt19937_64& g) {
  return std::normal_distribution<double>(0, 1)(g);
}

NetCase genNet(std::mt19937_64& g, bool edge) {
  NetCase nc;
  int in = 1 + int(g() % 3), hidden = 1 + int(g() % 2), width = 2 + int(g() % 4),
      out = 2 + int(g() % 2);
  neural::AffineNet& net = nc.net;
  net.inputSize = in;
  int prev = in;
  for (int k = 0; k <= hidden; ++k) {
    int rows = k == hidden ? out : width;
    neural::AffineLayer L;
    L.W.resize(rows, prev);
    L.b.resize(rows);
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < prev; ++c)
        L.W(r, c) = std::round(gauss(g) / std::sqrt(double(prev)) * 64) / 64; // short binary
      L.b[r] = std::round(gauss(g) * 0.5 * 64) / 64;
    }
    L.relu = k < hidden;
    net.layers.push_back(std::move(L));
    prev = rows;
  }
  std::vector<double> lo(static_cast<size_t>(in)), hi(static_cast<size_t>(in));
  for (int i = 0; i < in; ++i) {
    double a = double(int(g() % 9) - 4) * 0.25, w = double(1 + g() % 8) * 0.25;
    lo[size_t(i)] = a;
    hi[size_t(i)] = a + w;
  }
  if (edge) {
    auto flag = [&](const char* name) {
      nc.edges += (nc.edges.empty() ? "" : ",") + std::string(name);
    };
    unsigned which = unsigned(g() % 32) | 1u << (g() % 5); // at least one
    if (which & 1) {                                       // two tied outputs: identical last rows
      auto& L = net.layers.back();
      L.W.row(1) = L.W.row(0);
      L.b[1] = L.b[0];
      flag("tied-outputs");
    }
    if (which & 2) { // a ReLU exactly at 0 on the box's lower boundary of input 0
      auto& L = net.layers.front();
      L.W.row(0).setZero();
      L.W(0, 0) = 1.0;
      L.b[0] = -lo[0];
      flag("relu-zero-at-boundary");
    }
    if (which & 4) { // extreme weights: 1e4, 1e-6, subnormal
      auto& L = net.layers[g() % net.layers.size()];
      int r = int(g() % unsigned(L.W.rows())), c = int(g() % unsigned(L.W.cols()));
      static const double ws[] = {1e4,    -1e4,     1e-6, -1e-6, 4.9406564584124654e-324,
                                  1e-310, -2.5e-320};
      L.W(r, c) = ws[g() % 7];
      if (g() % 2) L.b[r] = ws[g() % 7];
      flag("extreme-weights");
    }
    if (which & 8) { // degenerate boxes lo = hi
      for (int i = 0; i < in; ++i)
        if (i == 0 || g() % 2) hi[size_t(i)] = lo[size_t(i)];
      flag("degenerate-box");
    }
    if (which & 16) flag("margin-1e-7");
  }
  // The property's output constraints. Thresholds come from sampled outputs (float64).
  std::vector<double> ymax(size_t(out), -1e300), ymin(size_t(out), 1e300);
  for (int sIdx = 0; sIdx < 64; ++sIdx) {
    Eigen::VectorXd x(in);
    for (int i = 0; i < in; ++i)
      x[i] = sIdx == 0   ? lo[size_t(i)]
             : sIdx == 1 ? hi[size_t(i)]
                         : lo[size_t(i)] + (hi[size_t(i)] - lo[size_t(i)]) *
                                               std::uniform_real_distribution<double>(0, 1)(g);
    Eigen::VectorXd y = net.forward(x);
    for (int j = 0; j < out; ++j) {
      ymax[size_t(j)] = std::max(ymax[size_t(j)], y[j]);
      ymin[size_t(j)] = std::min(ymin[size_t(j)], y[j]);
    }
  }
  auto num = [](double d) {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, d);
    return std::string(buf, r.ptr);
  };
  std::ostringstream v;
  v << "; random case\n";
  for (int i = 0; i < in; ++i)
    v << "(declare-const X_" << i << " Real)\n";
  for (int j = 0; j < out; ++j)
    v << "(declare-const Y_" << j << " Real)\n";
  for (int i = 0; i < in; ++i)
    v << "(assert (>= X_" << i << " " << num(lo[size_t(i)]) << "))\n(assert (<= X_" << i << " "
      << num(hi[size_t(i)]) << "))\n";
  bool margin = nc.edges.find("margin") != std::string::npos;
  switch (g() % 3) {
  case 0: { // some other output reaches output t (not robust)
    int t = int(g() % unsigned(out));
    v << "(assert (or";
    for (int j = 0; j < out; ++j)
      if (j != t) v << " (and (>= Y_" << j << " Y_" << t << "))";
    v << "))\n";
    break;
  }
  case 1: { // Y_j >= c with c near the largest sampled value (or just beyond, by a margin)
    int j = int(g() % unsigned(out));
    double c = ymax[size_t(j)] + (margin ? (g() % 2 ? 1e-7 : -1e-7) : (g() % 3 == 0 ? 0.0 : 0.05));
    v << "(assert (>= Y_" << j << " " << num(c) << "))\n";
    break;
  }
  default: { // Y_j <= c near the smallest
    int j = int(g() % unsigned(out));
    double c = ymin[size_t(j)] + (margin ? (g() % 2 ? 1e-7 : -1e-7) : (g() % 3 == 0 ? 0.0 : -0.05));
    v << "(assert (<= Y_" << j << " " << num(c) << "))\n";
    break;
  }
  }
  nc.vnnlib = v.str();
  return nc;
}

std::string netText(const neural::AffineNet& net, const std::string& cm = ";") {
  std::ostringstream s;
  s << cm << " network: inputs " << net.inputSize << ", layers " << net.layers.size()
    << " (W rows, then b; hexadecimal doubles; relu flag)\n";
  for (const auto& L : net.layers) {
    s << cm << " layer " << L.W.rows() << "x" << L.W.cols() << (L.relu ? " relu" : "") << "\n";
    for (int r = 0; r < L.W.rows(); ++r) {
      s << cm << "  ";
      for (int c = 0; c < L.W.cols(); ++c)
        s << hexDouble(L.W(r, c)) << " ";
      s << "| " << hexDouble(L.b[r]) << "\n";
    }
  }
  return s.str();
}

CaseResult runNetwork(std::mt19937_64& g, bool edge, uint64_t seed) {
  CaseResult cr;
  cr.kind = edge ? "network-edge" : "network";
  NetCase nc = genNet(g, edge);
  cr.reproText = "; kind: " + cr.kind + (nc.edges.empty() ? "" : " (" + nc.edges + ")") + "\n" +
                 netText(nc.net) + nc.vnnlib;
  auto prop = spec::parseVnnlib(nc.vnnlib, "case.vnnlib");
  if (!prop) {
    cr.outcome = Outcome::Wrong;
    cr.detail = "the generated VNN-LIB does not parse (a campaign bug): " + prop.error().str();
    return cr;
  }
  verifier::NetVerifyOptions opt;
  opt.timeoutSec = 3;
  opt.threads = 1;
  opt.seed = seed;
  auto res = verifier::verifyNetwork(nc.net, verifier::toNetworkQuery(*prop), opt);
  if (!res) {
    cr.outcome = Outcome::Wrong;
    cr.detail = "engine error: " + res.error().str();
    return cr;
  }
  if (gFlipVerdicts && res->verdict == verifier::Verdict::Violated) {
    res->verdict = verifier::Verdict::Holds;
  } else if (gFlipVerdicts && res->verdict == verifier::Verdict::Holds) {
    res->verdict = verifier::Verdict::Violated;
    res->caseIndex = 0;
    const spec::VnnCase& c0 = prop->cases.at(0);
    res->x.resize(nc.net.inputSize);
    for (int i = 0; i < nc.net.inputSize; ++i)
      res->x[i] = 0.5 * (c0.lo[size_t(i)] + c0.hi[size_t(i)]);
  }
  cr.verdict = verifier::vnncompName(res->verdict);
  std::vector<Q> ox;
  int oCase = -1;
  std::string why;
  OracleAnswer oa = naiveOracle(nc.net, *prop, ox, oCase, why);
  auto showX = [](const std::vector<Q>& x) {
    std::ostringstream s;
    s << std::setprecision(17);
    for (size_t i = 0; i < x.size(); ++i)
      s << (i ? ", " : "") << "X_" << i << " = " << x[i].convert_to<double>();
    return s.str();
  };
  if (res->verdict == verifier::Verdict::Violated) {
    if (res->caseIndex < 0 || size_t(res->caseIndex) >= prop->cases.size()) {
      cr.outcome = Outcome::Wrong;
      cr.detail = "sat without a valid case index";
      return cr;
    }
    std::vector<Q> x;
    for (int i = 0; i < res->x.size(); ++i)
      x.push_back(exactQ(res->x[i]));
    const spec::VnnCase& vc = prop->cases[size_t(res->caseIndex)];
    if (!exactCounterexample(nc.net, vc, x)) {
      // The engine promises a point that replays in float64 (a forward pass here, in Eigen's
      // float64 arithmetic): one that does not is wrong.
      bool f64 = true;
      Eigen::VectorXd y = nc.net.forward(res->x);
      for (size_t i = 0; i < vc.lo.size(); ++i)
        f64 = f64 && res->x[int(i)] >= vc.lo[i] && res->x[int(i)] <= vc.hi[i];
      for (const auto& oc : vc.constraints) {
        double t = 0;
        for (size_t j = 0; j < oc.coef.size(); ++j)
          t += oc.coef[j] * y[int(j)];
        f64 = f64 && t <= oc.rhs;
      }
      if (!f64) {
        cr.outcome = Outcome::Wrong;
        cr.detail = "sat at " + showX(x) + ", which is no counterexample, exactly or in float64";
        return cr;
      }
      // A point only float64 makes a counterexample: `chassis vnnlib` checks it in exact
      // arithmetic and reports unknown. Not wrong, but counted.
      cr.float64Only = true;
      cr.outcome = Outcome::Unknown;
      cr.detail = "sat point is a counterexample only in float64 (" + showX(x) +
                  "); the CLI downgrades it to unknown";
      if (oa == OracleAnswer::Unsat) cr.detail += "; the oracle proves unsat";
      return cr;
    }
    if (oa == OracleAnswer::Unsat) {
      cr.outcome = Outcome::Wrong;
      cr.detail = "engine sat at an exact counterexample " + showX(x) +
                  ", but the naive oracle says unsat (an oracle bug?)";
    }
    return cr;
  }
  if (res->verdict == verifier::Verdict::Holds) {
    if (oa == OracleAnswer::Sat) {
      cr.outcome = Outcome::Wrong;
      cr.detail = "engine unsat, but the exact oracle has a counterexample " + showX(ox) +
                  " (case " + std::to_string(oCase) + ", checked in rationals)";
      return cr;
    }
    if (oa == OracleAnswer::Unknown) {
      cr.outcome = Outcome::Unchecked;
      cr.detail = "oracle unknown: " + why;
    }
    return cr;
  }
  cr.outcome = Outcome::Unknown;
  cr.detail = res->reason;
  return cr;
}

// ---------------------------------------------------------------------------------------------
// Network properties written in .chs (verifier/net_props.cpp's route through verifyProperty):
// forall over the network's input box, a body of linear comparisons of the outputs (strict and
// non-strict) joined by && / || / =>; oracle: the naive exact Z3 encoding of the negated body.

struct OutAtom {
  std::vector<double> coef; // per output
  Cmp cmp = Cmp::Le;
  double c = 0;
};

template <class T, class Lin> T outAtomLhs(const OutAtom& a, const std::vector<T>& y, Lin scale) {
  T s = scale(0.0, y[0]) * 0;
  for (size_t j = 0; j < a.coef.size(); ++j)
    if (a.coef[j] != 0) s = s + scale(a.coef[j], y[j]);
  return s;
}

CaseResult runChsNetwork(std::mt19937_64& g, const std::string& scratch, uint64_t seed) {
  CaseResult cr;
  cr.kind = "network-chs";
  NetCase nc = genNet(g, g() % 2 == 0);
  int in = nc.net.inputSize, out = nc.net.outputSize();
  // The box: from the VNN-LIB case generated alongside (the first case's box).
  auto vp = spec::parseVnnlib(nc.vnnlib, "case.vnnlib");
  if (!vp || vp->cases.empty()) {
    cr.outcome = Outcome::Wrong;
    cr.detail = "the generated VNN-LIB does not parse (a campaign bug): " +
                (vp ? std::string("no case") : vp.error().str()) + "\n" + nc.vnnlib;
    return cr;
  }
  std::vector<double> lo = vp->cases[0].lo, hi = vp->cases[0].hi;
  std::string onnxPath = scratch + "/net.onnx";
  if (auto st = neural::saveOnnx(neural::fromAffineNet(nc.net), onnxPath); !st) {
    cr.outcome = Outcome::Wrong;
    cr.detail = "cannot write the network: " + st.error().str();
    return cr;
  }
  // The network as the verifier will see it (ONNX holds float32 weights).
  auto loaded = neural::loadOnnx(onnxPath);
  auto affine = loaded ? neural::toAffineNet(*loaded) : Expected<neural::AffineNet>(loaded.error());
  if (!affine) {
    cr.outcome = Outcome::Wrong;
    cr.detail = "cannot read the network back: " + affine.error().str();
    return cr;
  }
  const neural::AffineNet& net = *affine;
  // Sampled outputs, for thresholds near reached values.
  std::vector<Eigen::VectorXd> ys;
  for (int k = 0; k < 32; ++k) {
    Eigen::VectorXd x(in);
    for (int i = 0; i < in; ++i)
      x[i] = lo[size_t(i)] + (hi[size_t(i)] - lo[size_t(i)]) * double(g() % 1025) / 1024;
    ys.push_back(net.forward(x));
  }
  // A relational property (a second call at u0 + shift: the Z3 path, not the engine) or not.
  static const double shifts[] = {0.25, -0.25, 0.5};
  const double shift = g() % 3 == 0 ? shifts[g() % 3] : 0.0;
  const int nOut = shift != 0 ? 2 * out : out; // outputs of the first call, then the second's
  auto shifted = [&](Eigen::VectorXd x) {
    x[0] += shift;
    return x;
  };
  std::vector<Eigen::VectorXd> ys2;
  for (int k = 0; k < 32; ++k) {
    Eigen::VectorXd x(in);
    for (int i = 0; i < in; ++i)
      x[i] = lo[size_t(i)] + (hi[size_t(i)] - lo[size_t(i)]) * double(g() % 1025) / 1024;
    Eigen::VectorXd y(nOut);
    y.head(out) = net.forward(x);
    if (shift != 0) y.tail(out) = net.forward(shifted(x));
    ys2.push_back(y);
  }
  std::vector<OutAtom> atoms;
  int nAtoms = 1 + int(g() % 2);
  for (int k = 0; k < nAtoms; ++k) {
    OutAtom a;
    a.coef.assign(size_t(nOut), 0.0);
    static const double cs[] = {1.0, -1.0, 0.5, 2.0};
    int j0 = int(g() % unsigned(out));
    a.coef[size_t(j0)] = cs[g() % 4];
    if (shift != 0 && g() % 3)
      a.coef[size_t(j0 + out)] = -a.coef[size_t(j0)]; // y(u) - y(u + shift)
    else if (g() % 2)
      a.coef[size_t((j0 + 1) % out)] = -a.coef[size_t(j0)];
    static const Cmp cmps[] = {Cmp::Le, Cmp::Lt, Cmp::Ge, Cmp::Gt};
    a.cmp = cmps[g() % 4];
    double v = 0; // a sampled value of the lhs, in float64
    const Eigen::VectorXd& y = ys2[g() % ys2.size()];
    for (int j = 0; j < nOut; ++j)
      v += a.coef[size_t(j)] * y[j];
    switch (g() % 4) {
    case 0:
      a.c = 0;
      break;
    case 1:
      a.c = v;
      break;
    case 2:
      a.c = v + (g() % 2 ? 1e-7 : -1e-7);
      break;
    default:
      a.c = v + (g() % 2 ? 0.1 : -0.1);
      break;
    }
    atoms.push_back(a);
  }
  Join join = nAtoms == 1    ? Join::One
              : g() % 3 == 0 ? Join::And
              : g() % 2      ? Join::Or
                             : Join::Implies;
  // The source.
  std::string args = "[";
  for (int i = 0; i < in; ++i)
    args += (i ? ", u" : "u") + std::to_string(i);
  args += "]";
  std::string args2 = "[u0 + " + lit(shift);
  for (int i = 1; i < in; ++i)
    args2 += ", u" + std::to_string(i);
  args2 += "]";
  auto atomText = [&](const OutAtom& a) {
    std::string t;
    for (int j = 0; j < nOut; ++j) {
      double c = a.coef[size_t(j)];
      if (c == 0) continue;
      std::string term = "N(" + (j < out ? args : args2) + ").y[" + std::to_string(j % out) + "]";
      if (c != 1.0) term = lit(c) + " * " + term;
      t += (t.empty() ? "" : " + ") + term;
    }
    return t + " " + cmpText(a.cmp) + " " + lit(a.c);
  };
  std::ostringstream s;
  s << "network N(x: real[" << in << "]) -> (y: real[" << out << "]) = onnx(\"" << onnxPath
    << "\");\nproperty p: forall ";
  for (int i = 0; i < in; ++i)
    s << (i ? ", " : "") << "u" << i << " in [" << lit(lo[size_t(i)]) << ", " << lit(hi[size_t(i)])
      << "]";
  s << ": ";
  if (join == Join::One)
    s << atomText(atoms[0]);
  else
    s << "(" << atomText(atoms[0]) << ") "
      << (join == Join::And  ? "&&"
          : join == Join::Or ? "||"
                             : "=>")
      << " (" << atomText(atoms[1]) << ")";
  s << ";\n";
  std::string src = s.str();
  cr.reproText = "// kind: network-chs" +
                 std::string(nc.edges.empty() ? "" : " (" + nc.edges + ")") + "\n" + src +
                 netText(net, "//");
  spec::DiagnosticEngine diags;
  auto ast = spec::fromString(src, scratch + "/case.chs", diags);
  ir::LowerOptions lopt;
  lopt.networkLoader = neural::networkLoader();
  std::optional<ir::Program> prog;
  std::string err = diags.str();
  if (ast) {
    auto lp = ir::lower(*ast, lopt);
    if (lp)
      prog = std::move(*lp);
    else
      err = lp.error().str();
  }
  if (!prog) {
    cr.outcome = Outcome::Wrong;
    cr.detail = "the generated program does not compile (a campaign bug): " + err;
    return cr;
  }
  verifier::VerifyOptions o;
  o.timeoutSec = 5;
  o.seed = seed;
  auto r = verifier::verifyProperty(*prog, prog->properties.at(0), o);
  {
    std::vector<std::pair<std::string, double>> mid;
    for (int i = 0; i < in; ++i)
      mid.push_back({"u" + std::to_string(i), 0.5 * (lo[size_t(i)] + hi[size_t(i)])});
    flipVerdict(r, mid);
  }
  cr.verdict = propVerdictText(r.verdict);
  // The body's truth at an exact point.
  auto bodyAt = [&](const std::vector<Q>& x) {
    auto y = forwardQ(net, x);
    if (shift != 0) {
      std::vector<Q> x2 = x;
      x2[0] += exactQ(shift);
      for (const Q& q : forwardQ(net, x2))
        y.push_back(q);
    }
    auto truth = [&](const OutAtom& a) {
      Q l = outAtomLhs<Q>(a, y, [](double c, const Q& v) { return exactQ(c) * v; });
      return cmpHolds(a.cmp, l, exactQ(a.c)) ? Truth::True : Truth::False;
    };
    Truth a = truth(atoms[0]);
    return joinTruth(join, a, atoms.size() > 1 ? truth(atoms[1]) : a);
  };
  // The oracle: exists x in the box with the body false, exactly.
  OracleAnswer oa = OracleAnswer::Unknown;
  std::vector<Q> ox;
  std::string why;
  try {
    z3::context ctx;
    z3::solver sv(ctx);
    z3::params pr(ctx);
    pr.set("timeout", 20000u);
    sv.set(pr);
    auto num = [&](double d) { return ctx.real_val(qText(exactQ(d)).c_str()); };
    std::vector<z3::expr> xs, v;
    for (int i = 0; i < in; ++i) {
      xs.push_back(ctx.real_const(("x" + std::to_string(i)).c_str()));
      sv.add(xs.back() >= num(lo[size_t(i)]) && xs.back() <= num(hi[size_t(i)]));
    }
    auto encodeNet = [&](std::vector<z3::expr> v, const std::string& tag) {
      int k = 0;
      for (const auto& L : net.layers) {
        std::vector<z3::expr> z;
        for (int rr = 0; rr < L.W.rows(); ++rr) {
          z3::expr h = num(L.b[rr]);
          for (int c = 0; c < L.W.cols(); ++c)
            if (L.W(rr, c) != 0) h = h + num(L.W(rr, c)) * v[size_t(c)];
          if (L.relu) {
            z3::expr yv =
                ctx.real_const((tag + std::to_string(k) + "_" + std::to_string(rr)).c_str());
            sv.add(yv == z3::ite(h >= 0, h, ctx.real_val(0)));
            z.push_back(yv);
          } else
            z.push_back(h);
        }
        v = std::move(z);
        ++k;
      }
      return v;
    };
    v = encodeNet(xs, "a");
    if (shift != 0) {
      std::vector<z3::expr> xs2 = xs;
      xs2[0] = xs[0] + num(shift);
      for (const z3::expr& e : encodeNet(xs2, "b"))
        v.push_back(e);
    }
    auto atomZ = [&](const OutAtom& a) {
      z3::expr l =
          outAtomLhs<z3::expr>(a, v, [&](double c, const z3::expr& e) { return num(c) * e; });
      z3::expr c = num(a.c);
      switch (a.cmp) {
      case Cmp::Le:
        return l <= c;
      case Cmp::Lt:
        return l < c;
      case Cmp::Ge:
        return l >= c;
      default:
        return l > c;
      }
    };
    z3::expr a0 = atomZ(atoms[0]);
    z3::expr body = a0;
    if (join != Join::One) {
      z3::expr a1 = atomZ(atoms[1]);
      body = join == Join::And ? (a0 && a1) : join == Join::Or ? (a0 || a1) : z3::implies(a0, a1);
    }
    sv.add(!body);
    auto res = sv.check();
    if (res == z3::sat) {
      z3::model m = sv.get_model();
      for (const auto& xi : xs)
        ox.push_back(parseZ3Numeral(m.eval(xi, true)));
      oa = bodyAt(ox) == Truth::False ? OracleAnswer::Sat : OracleAnswer::Unknown;
      if (oa == OracleAnswer::Unknown) why = "the oracle's model does not check in rationals";
    } else if (res == z3::unsat)
      oa = OracleAnswer::Unsat;
    else
      why = sv.reason_unknown();
  } catch (const z3::exception& e) {
    why = std::string("z3: ") + e.msg();
  }
  auto showX = [](const std::vector<Q>& x) {
    std::ostringstream t;
    t << std::setprecision(17);
    for (size_t i = 0; i < x.size(); ++i)
      t << (i ? ", " : "") << "u" << i << " = " << x[i].convert_to<double>();
    return t.str();
  };
  switch (r.verdict) {
  case verifier::Verdict::Internal:
    cr.outcome = Outcome::Wrong;
    cr.detail = "internal error: " + r.reason;
    return cr;
  case verifier::Verdict::Unknown:
    cr.outcome = Outcome::Unknown;
    cr.detail = r.reason;
    return cr;
  case verifier::Verdict::Holds:
    if (oa == OracleAnswer::Sat) {
      cr.outcome = Outcome::Wrong;
      cr.detail = "holds, but the body is false at " + showX(ox) + " (exact)";
    } else if (oa == OracleAnswer::Unknown) {
      cr.outcome = Outcome::Unchecked;
      cr.detail = "oracle unknown: " + why;
    }
    return cr;
  default:
    break;
  }
  // Violated: the counterexample must make the body false exactly.
  std::vector<Q> x;
  bool approx = false;
  for (const auto& [name, val] : r.counterexample) {
    bool a = false;
    auto q = parseDecimal(val, a);
    approx = approx || a;
    if (!q) {
      cr.outcome = Outcome::Wrong;
      cr.detail = "unreadable counterexample value '" + val + "' of " + name;
      return cr;
    }
    x.push_back(*q);
  }
  if (x.size() != size_t(in)) {
    cr.outcome = Outcome::Wrong;
    cr.detail = "the counterexample has " + std::to_string(x.size()) + " values";
    return cr;
  }
  bool inBox = true;
  for (int i = 0; i < in; ++i)
    inBox = inBox && x[size_t(i)] >= exactQ(lo[size_t(i)]) && x[size_t(i)] <= exactQ(hi[size_t(i)]);
  Truth t = bodyAt(x);
  if (t == Truth::False && inBox) {
    if (oa == OracleAnswer::Unsat) {
      cr.outcome = Outcome::Wrong;
      cr.detail = "violated at an exact counterexample " + showX(x) +
                  ", but the oracle says unsat (an oracle bug?)";
    }
    return cr;
  }
  if (approx) {
    cr.outcome = Outcome::Unchecked;
    cr.detail = "Z3's exact point shown rounded; the oracle cannot evaluate it";
    return cr;
  }
  cr.outcome = Outcome::Wrong;
  cr.detail = "violated at " + showX(x) + ", where the body is " +
              (inBox ? "true (exact evaluation)" : "outside the box");
  return cr;
}

// ---------------------------------------------------------------------------------------------

const char* kKinds[] = {"program", "program",      "transcendental", "identity",   "discrete",
                        "network", "network-edge", "network-edge",   "network-chs"};
constexpr int kNumKinds = 9;

uint64_t caseSeed(uint64_t seed, uint64_t i) {
  uint64_t z = seed * 0x9e3779b97f4a7c15ULL + i + 0x632be59bd9b4e019ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// A scratch directory for this process's network files.
const std::string& scratchDir() {
  static const std::string dir = [] {
    auto d = std::filesystem::temp_directory_path() /
             ("chassis_soundness_" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d.string();
  }();
  return dir;
}

CaseResult runCase(uint64_t seed, uint64_t i) {
  uint64_t cs = caseSeed(seed, i);
  std::mt19937_64 g(cs);
  std::string kind = kKinds[i % kNumKinds];
  if (kind == "program") return runQuant(genProgram(g, false), g);
  if (kind == "transcendental") return runQuant(genProgram(g, true), g);
  if (kind == "identity") return runQuant(genIdentity(g), g);
  if (kind == "discrete") return runDiscrete(g);
  if (kind == "network-chs") return runChsNetwork(g, scratchDir(), cs);
  return runNetwork(g, kind == "network-edge", cs);
}

int usage() {
  std::cerr << "usage: soundness_campaign N [SEED] [--out DIR] [--case I] [--verbose] "
               "[--flip-verdicts]\n"
               "  runs N random cases from SEED (default 1); --case I runs only case I;\n"
               "  reproducers of wrong cases go to DIR (default soundness-repro);\n"
               "  --flip-verdicts inverts every decided verdict (a self-check of the oracles:\n"
               "  most decided cases must then be reported wrong)\n";
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> pos;
  std::string outDir = "soundness-repro";
  long onlyCase = -1;
  bool verbose = false;
  for (int a = 1; a < argc; ++a) {
    std::string s = argv[a];
    if (s == "--out" && a + 1 < argc)
      outDir = argv[++a];
    else if (s == "--case" && a + 1 < argc)
      onlyCase = std::atol(argv[++a]);
    else if (s == "--verbose")
      verbose = true;
    else if (s == "--flip-verdicts")
      gFlipVerdicts = true;
    else if (!s.empty() && s[0] == '-')
      return usage();
    else
      pos.push_back(s);
  }
  if (pos.empty() || pos.size() > 2) return usage();
  char* end = nullptr;
  long n = std::strtol(pos[0].c_str(), &end, 10);
  if (*end || n < 0) return usage();
  uint64_t seed = 1;
  if (pos.size() == 2) {
    seed = std::strtoull(pos[1].c_str(), &end, 10);
    if (*end) return usage();
  }
  struct Tally {
    long cases = 0, agree = 0, unknown = 0, wrong = 0, unchecked = 0, float64Only = 0;
  };
  std::map<std::string, Tally> byKind;
  Tally all;
  auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    if (onlyCase >= 0 && i != onlyCase) continue;
    CaseResult r = runCase(seed, uint64_t(i));
    for (Tally* t : {&all, &byKind[r.kind]}) {
      ++t->cases;
      t->float64Only += r.float64Only;
      switch (r.outcome) {
      case Outcome::Agree:
        ++t->agree;
        break;
      case Outcome::Unknown:
        ++t->unknown;
        break;
      case Outcome::Wrong:
        ++t->wrong;
        break;
      case Outcome::Unchecked:
        ++t->unchecked;
        break;
      }
    }
    if (verbose || onlyCase >= 0)
      std::cout << "case " << i << " [" << r.kind << "] " << r.verdict
                << (r.detail.empty() ? "" : ": " + r.detail) << "\n";
    if (onlyCase >= 0) std::cout << r.reproText;
    if (r.outcome == Outcome::Wrong) {
      std::filesystem::create_directories(outDir);
      bool net = r.kind == "network" || r.kind == "network-edge";
      std::string file = outDir + "/case-" + std::to_string(seed) + "-" + std::to_string(i) +
                         (net ? ".vnnlib" : ".chs");
      if (r.kind == "network-chs") { // the network file beside the .chs, the path rewritten
        std::string onnx =
            outDir + "/case-" + std::to_string(seed) + "-" + std::to_string(i) + ".onnx";
        std::error_code ec; // absent when the case failed before writing it
        std::filesystem::copy_file(scratchDir() + "/net.onnx", onnx,
                                   std::filesystem::copy_options::overwrite_existing, ec);
        std::string from = scratchDir() + "/net.onnx";
        if (auto p = r.reproText.find(from); p != std::string::npos)
          r.reproText.replace(p, from.size(), std::filesystem::absolute(onnx).string());
      }
      std::ofstream f(file);
      const char* cm = net ? ";" : "//";
      f << cm << " soundness campaign: seed " << seed << ", case " << i << " (case seed "
        << caseSeed(seed, uint64_t(i)) << "); rerun: soundness_campaign " << n << " " << seed
        << " --case " << i << "\n"
        << cm << " verdict: " << r.verdict << "\n"
        << cm << " WRONG: " << r.detail << "\n"
        << r.reproText;
      std::cout << "WRONG case " << i << " (seed " << seed << ") [" << r.kind << "] " << r.verdict
                << ": " << r.detail << "\n  reproducer: " << file << "\n";
    }
    if (!verbose && onlyCase < 0 && (i + 1) % 500 == 0)
      std::cout << "... " << i + 1 << " cases: " << all.agree << " agree, " << all.unknown
                << " unknown, " << all.unchecked << " unchecked, " << all.wrong << " wrong"
                << std::endl;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto line = [](const std::string& name, const Tally& t) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "  %-15s %7ld %7ld %7ld %7ld %7ld %7ld\n", name.c_str(), t.cases,
                  t.agree, t.unknown, t.unchecked, t.wrong, t.float64Only);
    return std::string(buf);
  };
  std::cout << "soundness campaign: N = " << n << ", seed " << seed << "\n"
            << "  kind              cases   agree unknown uncheck   wrong f64only\n";
  for (const auto& [k, t] : byKind)
    std::cout << line(k, t);
  std::cout << line("total", all);
  if (byKind.count("network-chs")) { // the scratch network files
    std::error_code ec;
    std::filesystem::remove_all(scratchDir(), ec);
  }
  char buf[100];
  std::snprintf(buf, sizeof buf, "%.1f", secs);
  std::cout << "cases " << all.cases << ", agreements " << all.agree << ", unknowns " << all.unknown
            << ", unchecked " << all.unchecked << ", wrong " << all.wrong << " (" << buf << " s)\n";
  if (gFlipVerdicts) {
    // The self-check passes when the oracles catch the inverted verdicts: in every kind some,
    // and in all at least 90% of the decided cases (a few escape: an exists whose witness set
    // the grid misses, a midpoint that happens to be a counterexample).
    bool ok = all.wrong * 10 >= (all.agree + all.wrong) * 9;
    for (const auto& [k, t] : byKind)
      ok = ok && t.wrong > 0;
    std::cout << "oracle self-check (--flip-verdicts): " << all.wrong << " of "
              << all.agree + all.wrong
              << " inverted decided verdicts caught: " << (ok ? "pass" : "FAIL") << "\n";
    return ok ? 0 : 1;
  }
  return all.wrong ? 1 : 0;
}

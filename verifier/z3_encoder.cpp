// Z3 encodings of network queries (see z3_encoder.h). Numerals are the exact rationals of the
// doubles: v = M * 2^k with M a 53-bit integer, written as "M*2^k" or "M/2^-k" in decimal.
// This file is the single boundary where z3::exception is caught and turned into Unknown.
#include "verifier/z3_encoder.h"

#include <boost/multiprecision/cpp_int.hpp>

#include <z3++.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <unordered_map>

namespace chassis::verifier {
namespace {

/// Decimal digits of n * 2^k (k >= 0), by repeated doubling in base 1e9.
std::string decimalTimesPow2(uint64_t n, int k) {
  std::vector<uint64_t> d; // little-endian base 1e9
  if (n == 0) return "0";
  while (n) {
    d.push_back(n % 1000000000ULL);
    n /= 1000000000ULL;
  }
  for (int i = 0; i < k; ++i) {
    uint64_t carry = 0;
    for (auto& x : d) {
      uint64_t v = x * 2 + carry;
      x = v % 1000000000ULL;
      carry = v / 1000000000ULL;
    }
    if (carry) d.push_back(carry);
  }
  std::string s = std::to_string(d.back());
  for (size_t i = d.size() - 1; i-- > 0;) {
    std::string part = std::to_string(d[i]);
    s += std::string(9 - part.size(), '0') + part;
  }
  return s;
}

/// The exact value of a finite double as a Z3 numeral string ("-123/1024", "5000").
std::string exactRational(double v) {
  if (v == 0.0) return "0";
  int e = 0;
  double m = std::frexp(std::fabs(v), &e); // |v| = m 2^e, m in [0.5, 1)
  uint64_t M = static_cast<uint64_t>(std::ldexp(m, 53));
  int k = e - 53;
  while ((M & 1ULL) == 0) {
    M >>= 1;
    ++k;
  }
  std::string sign = v < 0 ? "-" : "";
  if (k >= 0) return sign + decimalTimesPow2(M, k);
  return sign + std::to_string(M) + "/" + decimalTimesPow2(1, -k);
}

} // namespace

struct Z3Encoder::Impl {
  const neural::AffineNet& net;
  z3::context ctx;
  std::unordered_map<uint64_t, z3::expr> nums;

  explicit Impl(const neural::AffineNet& n) : net(n) {}

  z3::expr num(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    auto it = nums.find(bits);
    if (it != nums.end()) return it->second;
    // An infinity or NaN has no rational (exactRational would never end): an error, reported
    // by the callers' catch as z3 errors are. The loaders refuse such weights; this is the
    // encoder's own guard.
    if (!std::isfinite(v)) throw z3::exception("a NaN or infinite constant has no exact rational");
    z3::expr e = ctx.real_val(exactRational(v).c_str());
    nums.emplace(bits, e);
    return e;
  }

  /// Asserts the query into s; returns the input variables.
  std::vector<z3::expr> build(z3::solver& s, const CaseSpec& cs, const Box& box,
                              const NetBounds* nb, double marginRel) {
    std::vector<z3::expr> xs;
    const Eigen::Index n = box.lo.size();
    for (Eigen::Index i = 0; i < n; ++i) {
      xs.push_back(ctx.real_const(("x_" + std::to_string(i)).c_str()));
      s.add(xs.back() >= num(box.lo[i]));
      s.add(xs.back() <= num(box.hi[i]));
    }
    std::vector<z3::expr> cur = xs;
    std::vector<bool> zero(n, false);
    z3::expr zeroE = ctx.real_val(0);
    for (size_t k = 0; k < net.layers.size(); ++k) {
      const auto& L = net.layers[k];
      std::vector<z3::expr> next;
      std::vector<bool> nextZero;
      for (Eigen::Index j = 0; j < L.W.rows(); ++j) {
        z3::expr_vector terms(ctx);
        for (Eigen::Index i = 0; i < L.W.cols(); ++i) {
          double w = L.W(j, i);
          if (w == 0.0 || zero[i]) continue;
          terms.push_back(num(w) * cur[i]);
        }
        terms.push_back(num(L.b[j]));
        z3::expr h = ctx.real_const(("h_" + std::to_string(k) + "_" + std::to_string(j)).c_str());
        s.add(h == z3::sum(terms));
        if (!L.relu) {
          next.push_back(h);
          nextZero.push_back(false);
          continue;
        }
        z3::expr z = ctx.real_const(("z_" + std::to_string(k) + "_" + std::to_string(j)).c_str());
        if (!nb) {
          s.add(z == z3::ite(h >= 0, h, zeroE));
          next.push_back(z);
          nextZero.push_back(false);
          continue;
        }
        double l = nb->lo[k][j], u = nb->hi[k][j];
        s.add(h >= num(l));
        s.add(h <= num(u));
        if (u <= 0) {
          next.push_back(zeroE);
          nextZero.push_back(true);
        } else if (l >= 0) {
          next.push_back(h);
          nextZero.push_back(false);
        } else {
          s.add(z == z3::ite(h >= 0, h, zeroE));
          s.add(z >= 0);
          s.add(z >= h);
          z3::expr ul = (num(u) - num(l)).simplify();
          s.add(ul * z <= num(u) * h - (num(u) * num(l)).simplify());
          next.push_back(z);
          nextZero.push_back(false);
        }
      }
      cur = std::move(next);
      zero = std::move(nextZero);
    }
    for (Eigen::Index r = 0; r < cs.C.rows(); ++r) {
      z3::expr_vector terms(ctx);
      for (Eigen::Index j = 0; j < cs.C.cols(); ++j)
        if (cs.C(r, j) != 0.0 && !zero[j]) terms.push_back(num(cs.C(r, j)) * cur[j]);
      terms.push_back(ctx.real_val(0));
      double rhs = cs.d[r] - marginRel * (1.0 + std::fabs(cs.d[r]));
      s.add(z3::sum(terms) <= num(rhs));
    }
    return xs;
  }

  static double toDouble(const z3::expr& e) {
    std::string s = e.get_decimal_string(40);
    if (!s.empty() && s.back() == '?') s.pop_back();
    return std::strtod(s.c_str(), nullptr);
  }

  LeafResult solve(const CaseSpec& cs, const Box& box, const NetBounds* nb, double timeoutSec) {
    LeafResult res;
    try {
      bool sawSat = false;
      auto start = std::chrono::steady_clock::now();
      for (double margin : {0.0, 1e-9, 1e-6}) {
        z3::solver s(ctx);
        s.set("ctrl_c", false); // SIGINT is the run's (spec/run_control.h), not Z3's
        if (timeoutSec > 0) {
          double left =
              timeoutSec -
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          if (left <= 0) {
            res.status = Verdict::Unknown;
            res.reason = "z3: timeout";
            return res;
          }
          s.set("timeout", static_cast<unsigned>(std::max(1.0, left * 1000.0)));
        }
        auto xs = build(s, cs, box, nb, margin);
        z3::check_result r = s.check();
        if (r == z3::unknown) {
          res.status = Verdict::Unknown;
          res.reason = "z3: " + s.reason_unknown();
          return res;
        }
        if (r == z3::unsat) {
          if (!sawSat) {
            res.status = Verdict::Holds;
            return res;
          }
          break;
        }
        sawSat = true;
        z3::model m = s.get_model();
        Eigen::VectorXd x(xs.size());
        for (size_t i = 0; i < xs.size(); ++i)
          x[i] = std::clamp(toDouble(m.eval(xs[i], true)), box.lo[i], box.hi[i]);
        if (replays(net, cs, x)) {
          res.status = Verdict::Violated;
          res.x = x;
          return res;
        }
      }
      res.status = Verdict::Unknown;
      res.reason = "z3 found a violation in real arithmetic, but only within a relative 1e-6 of "
                   "a constraint boundary, and no float64 point replays";
      return res;
    } catch (const z3::exception& e) {
      res.status = Verdict::Unknown;
      res.reason = std::string("z3 error: ") + e.msg();
      return res;
    }
  }
};

// The context is created on first use: most branch-and-bound workers never need one, and
// creating a Z3 context costs milliseconds.
Z3Encoder::Z3Encoder(const neural::AffineNet& net) : net_(net) {}
Z3Encoder::~Z3Encoder() = default;

Z3Encoder::Impl* Z3Encoder::impl() {
  std::lock_guard<std::mutex> lk(mu_);
  if (interrupted_) return nullptr;
  if (!impl_) impl_ = std::make_unique<Impl>(net_);
  return impl_.get();
}

void Z3Encoder::interrupt() {
  std::lock_guard<std::mutex> lk(mu_);
  interrupted_ = true;
  if (impl_) impl_->ctx.interrupt();
}

static LeafResult canceled() {
  return LeafResult{Verdict::Unknown, {}, "z3: canceled"};
}

LeafResult Z3Encoder::solveDomain(const CaseSpec& cs, const Box& box, const NetBounds& nb,
                                  double timeoutSec) {
  if (nb.infeasible) return LeafResult{Verdict::Holds, {}, {}};
  Impl* i = impl();
  return i ? i->solve(cs, box, &nb, timeoutSec) : canceled();
}

LeafResult Z3Encoder::solveNaive(const CaseSpec& cs, double timeoutSec) {
  Impl* i = impl();
  return i ? i->solve(cs, cs.box, nullptr, timeoutSec) : canceled();
}

LeafResult Z3Encoder::checkPoint(const CaseSpec& cs, const Eigen::VectorXd& x, double timeoutSec) {
  // Every double is a dyadic rational, so the network's value at x, and each constraint, can be
  // computed exactly with rationals: no solver is needed once the input is a point (Z3 on the
  // naive query over {x} timed out on ACAS Xu's 300 ReLUs). The answer is exact, so the timeout
  // is not used.
  (void)timeoutSec;
  using Q = boost::multiprecision::cpp_rational;
  LeafResult res;
  for (Eigen::Index j = 0; j < x.size(); ++j)
    if (!std::isfinite(x[j]) || x[j] < cs.box.lo[j] || x[j] > cs.box.hi[j]) {
      res.status = Verdict::Holds;
      res.reason = "the point is outside the case's box";
      return res;
    }
  std::vector<Q> v(size_t(x.size()));
  for (Eigen::Index j = 0; j < x.size(); ++j)
    v[size_t(j)] = Q(x[j]);
  // Column by column (W is column-major: a row-by-row walk of a 4096 x 8192 TLL layer misses
  // the cache on every entry), skipping zero weights and zero inputs (an inactive ReLU's):
  // rational sums are exact, so their order does not change the result.
  for (const neural::AffineLayer& L : net_.layers) {
    std::vector<Q> out(size_t(L.W.rows()));
    for (Eigen::Index r = 0; r < L.W.rows(); ++r)
      out[size_t(r)] = Q(L.b[r]);
    for (Eigen::Index c = 0; c < L.W.cols(); ++c) {
      const Q& vc = v[size_t(c)];
      if (vc == 0) continue;
      const double* col = L.W.col(c).data();
      for (Eigen::Index r = 0; r < L.W.rows(); ++r)
        if (col[r] != 0.0) out[size_t(r)] += Q(col[r]) * vc;
    }
    if (L.relu)
      for (Q& o : out)
        if (o < 0) o = 0;
    v = std::move(out);
  }
  bool all = true;
  for (Eigen::Index r = 0; r < cs.C.rows() && all; ++r) {
    Q acc(0);
    for (Eigen::Index c = 0; c < cs.C.cols(); ++c)
      if (cs.C(r, c) != 0.0) acc += Q(cs.C(r, c)) * v[size_t(c)];
    all = acc <= Q(cs.d[r]);
  }
  res.status = all ? Verdict::Violated : Verdict::Holds;
  if (all) res.x = x;
  return res;
}

std::string Z3Encoder::naiveSmt2(const CaseSpec& cs) {
  try {
    Impl* i = impl();
    if (!i) return "; canceled\n";
    z3::solver s(i->ctx);
    i->build(s, cs, cs.box, nullptr, 0.0);
    return s.to_smt2();
  } catch (const z3::exception& e) {
    return std::string("; z3 error: ") + e.msg() + "\n";
  }
}

} // namespace chassis::verifier

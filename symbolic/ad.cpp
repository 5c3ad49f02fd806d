// Reverse-mode AD of a model's log joint density: a recorded tape with guards (see ad.h for the
// method and the target L(u)). This file has three parts:
//
//  1. logDensityGradient: the partial derivatives of every distribution's log density / mass,
//     each distribution's written in its trait (symbolic/dist_traits.h).
//     With z = (x - mu) / s:
//       Normal       d/dx = -z/s, d/dmu = z/s, d/ds = (z^2 - 1)/s
//       HalfNormal   d/dx = -z/s, d/ds = (z^2 - 1)/s                        (z = x/s)
//       LogNormal    z = (log x - mu)/s: d/dx = -(1 + z/s)/x, d/dmu = z/s, d/ds = (z^2 - 1)/s
//       Cauchy       d/dx = -2z/(s(1+z^2)), d/dloc = -d/dx, d/ds = (z^2 - 1)/(s(1+z^2))
//       HalfCauchy   as Cauchy with loc = 0
//       StudentT     d/dx = -(nu+1) z/(s(nu+z^2)), d/dmu = -d/dx,
//                    d/ds = ((nu+1) z^2/(nu+z^2) - 1)/s,
//                    d/dnu = (psi((nu+1)/2) - psi(nu/2) - 1/nu - log(1+z^2/nu)
//                             + (nu+1) z^2/(nu(nu+z^2))) / 2
//       Exponential  d/dx = -rate, d/drate = 1/rate - x
//       Gamma(a, b)  d/dx = (a-1)/x - b, d/da = log b - psi(a) + log x, d/db = a/b - x
//       Beta(a, b)   d/dx = (a-1)/x - (b-1)/(1-x), d/da = log x - psi(a) + psi(a+b),
//                    d/db = log(1-x) - psi(b) + psi(a+b)
//       Uniform      d/dx = 0, d/dlo = 1/(hi-lo), d/dhi = -1/(hi-lo)
//       Bernoulli    d/dp = 1/p (x = 1), -1/(1-p) (x = 0)
//       Binomial     d/dp = k/p - (n-k)/(1-p);  Poisson d/drate = k/rate - 1;
//       Geometric    d/dp = 1/p - k/(1-p);  Categorical d/dp_j = [j = k]/p_k - 1/sum(p)
//  2. The tape: nodes over value slots, a forward sweep (value and local partials of each node)
//     and a reverse sweep (adjoints); the fused log-density nodes (ad.h), written after each
//     recording by fuseLogDensities (part 3).
//  3. The recorder: the shared traversal of symbolic/evaluator.h in the tape's domain (the
//     interpreter's semantics from symbolic/op_semantics.h, the same
//     error messages where an error does not depend on the position), emitting tape nodes for
//     position-dependent reals and guards for the discrete decisions taken on them.
#include "symbolic/ad.h"

#include "symbolic/dist_traits.h"
#include "symbolic/distributions.h"
#include "symbolic/evaluator.h"
#include "symbolic/op_semantics.h"
#include "symbolic/special.h"
#include "symbolic/transforms.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace chassis::symbolic {

using namespace chassis::ir;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
const double kLogSqrt2Pi = 0.5 * std::log(2.0 * std::numbers::pi); // as distributions.cpp
} // namespace

// =============================================================================================
// 1. Derivatives of the log densities

double digamma(double x) {
  double r = 0;
  while (x < 10) {
    r -= 1 / x;
    x += 1;
  }
  // psi(x) ~ log x - 1/(2x) - sum B_2k / (2k x^2k), x >= 10: truncation error below 1e-16
  double f = 1 / (x * x);
  double t = f * (-1.0 / 12 +
                  f * (1.0 / 120 + f * (-1.0 / 252 +
                                        f * (1.0 / 240 + f * (-1.0 / 132 + f * (691.0 / 32760))))));
  return r + std::log(x) - 0.5 / x + t;
}

double logDensityGradient(DistKind k, std::span<const double> p, double x, double& dx,
                          std::span<double> dp) {
  dx = 0;
  std::fill(dp.begin(), dp.end(), 0.0);
  return dispatch(k, [&](auto d) {
    using D = decltype(d);
    const double lp = logDensityOf<D>(p, x);
    if (lp > -kInf) D::gradient(p, x, dx, dp);
    return lp;
  });
}

// =============================================================================================
// 2. The tape

namespace {

enum class Op : uint8_t {
  Add,
  Sub,
  Mul,
  Div,
  Neg,
  Exp,
  Log,
  Sqrt,
  Sigmoid,
  Tanh,
  Abs,
  Relu,
  Min,
  Max,
  Sum,        // n operands
  Dot,        // 2m operands: a_0..a_{m-1}, b_0..b_{m-1}
  LogitJac,   // log sigmoid(u) + log(1 - sigmoid(u))
  LogDensity, // aux = DistKind; operands x, params...
  GuardCmp,   // aux = BinOp; the out slot holds the outcome recorded (0/1)
  GuardArgmax, // the out slot holds the index recorded
  // Fused nodes, written by fuseLogDensities after a recording: one node for many elements.
  LogDensitySum,          // aux = DistKind; per element (x, params...): the sum of log densities
  NormalLinearSum,        // aux = m | flags; operands: the m bases b_1..b_m, then sigma when
                          // shared (kSharedSigma), then per element x (, sigma), c_0, c_1..c_m:
                          // sum_k log Normal(x_k | c_0k + sum_j c_jk b_j, sigma_k)
  BernoulliLogitLinearSum // aux = m; the m bases, then per element (x, c_0, c_1..c_m):
                          // sum_k log Bernoulli(x_k | sigmoid(c_0k + sum_j c_jk b_j))
};
// Flags of NormalLinearSum's aux above the base count: every element has the same sigma (one
// operand); every x is data (its partial is never needed).
constexpr uint8_t kSharedSigma = 0x40, kDataX = 0x80, kBaseMask = 0x3f;
static_assert(kSharedSigma == kTapeSharedSigma && kDataX == kTapeDataX &&
              kBaseMask == kTapeBaseMask); // the view's names (ad.h)

struct Node {
  Op op;
  uint8_t aux;
  uint32_t out; // value slot written (guards: the slot holding the recorded outcome)
  uint32_t arg; // first operand in args/pd
  uint32_t n;   // number of operands
};

enum class Step { Ok, Reject, Mismatch };

/// A value while recording: its number and, when it depends on the position, its tape slot.
struct AV {
  double v = 0;
  int32_t id = -1; // slot of a position-dependent value; -1 for a constant
};
/// A runtime value while recording: a scalar, or an array flattened row-major.
struct AVal {
  AV s;
  std::vector<AV> a;
};

} // namespace

struct LogDensityTape::Impl : ExprEvaluator<LogDensityTape::Impl, AVal>,
                              StmtDispatch<LogDensityTape::Impl, bool, std::vector<AVal>&> {
  const Function* fn;
  std::vector<Value> inputs;
  bool fuse = true; // fuse the per-element log densities after each recording

  // ---- the tape ----
  std::vector<double> val, adj, pd;
  std::vector<uint32_t> args;
  std::vector<Node> nodes;
  std::vector<uint32_t> posSlots, choiceSlots, outputSlots;
  uint32_t target = 0;
  bool valid = false;                     // a complete tape is recorded
  std::vector<double> scratchP, scratchD; // distribution parameters and their partials
  size_t recordings = 0;

  // ---- what the tape is about (fixed by the first successful recording) ----
  bool initialized = false;
  std::vector<std::string> addresses;
  std::vector<DistKind> dists;
  std::vector<std::string> outputNames;

  /// One node's value and local partials. Inlined into the sweep: the per-element loops of the
  /// fused nodes and of the general log densities are out of line (noinline below), so that an
  /// elementary node (most of a tape of scalar recurrences, GARCH's) costs its arithmetic, one
  /// indirect jump and no call frame.
  [[gnu::always_inline]] Step forward(const Node& nd) {
    const uint32_t* a = args.data() + nd.arg;
    double* p = pd.data() + nd.arg;
    double* v = val.data();
    double& out = v[nd.out];
    switch (nd.op) {
    case Op::Add:
      out = v[a[0]] + v[a[1]];
      p[0] = 1;
      p[1] = 1;
      break;
    case Op::Sub:
      out = v[a[0]] - v[a[1]];
      p[0] = 1;
      p[1] = -1;
      break;
    case Op::Mul:
      out = v[a[0]] * v[a[1]];
      p[0] = v[a[1]];
      p[1] = v[a[0]];
      break;
    case Op::Div: {
      double y = v[a[1]];
      if (y == 0) return Step::Reject;
      out = v[a[0]] / y;
      p[0] = 1 / y;
      p[1] = -out / y;
      break;
    }
    case Op::Neg:
      out = -v[a[0]];
      p[0] = -1;
      break;
    case Op::Exp:
      out = std::exp(v[a[0]]);
      p[0] = out;
      break;
    case Op::Log: {
      double x = v[a[0]];
      if (!ops::logDefined(x)) return Step::Reject;
      out = std::log(x);
      p[0] = 1 / x;
      break;
    }
    case Op::Sqrt: {
      double x = v[a[0]];
      if (!ops::sqrtDefined(x)) return Step::Reject;
      out = std::sqrt(x);
      p[0] = 0.5 / out;
      break;
    }
    case Op::Sigmoid:
      out = ops::sigmoid(v[a[0]]);
      p[0] = out * (1 - out);
      break;
    case Op::Tanh:
      out = std::tanh(v[a[0]]);
      p[0] = 1 - out * out;
      break;
    case Op::Abs: {
      double x = v[a[0]];
      out = std::fabs(x);
      p[0] = x > 0 ? 1 : (x < 0 ? -1 : 0);
      break;
    }
    case Op::Relu: {
      double x = v[a[0]];
      out = x > 0 ? x : 0.0;
      p[0] = x > 0 ? 1 : 0;
      break;
    }
    case Op::Min: {
      double l = v[a[0]], r = v[a[1]];
      bool left = ops::minPicksLeft(l, r); // as the interpreter
      out = left ? l : r;
      p[0] = left ? 1 : 0;
      p[1] = left ? 0 : 1;
      break;
    }
    case Op::Max: {
      double l = v[a[0]], r = v[a[1]];
      bool left = ops::maxPicksLeft(l, r);
      out = left ? l : r;
      p[0] = left ? 1 : 0;
      p[1] = left ? 0 : 1;
      break;
    }
    case Op::Sum: {
      double s = 0;
      for (uint32_t i = 0; i < nd.n; ++i) {
        s += v[a[i]];
        p[i] = 1;
      }
      out = s;
      break;
    }
    case Op::Dot: {
      uint32_t m = nd.n / 2;
      double s = 0;
      for (uint32_t i = 0; i < m; ++i) {
        s += v[a[i]] * v[a[m + i]];
        p[i] = v[a[m + i]];
        p[m + i] = v[a[i]];
      }
      out = s;
      break;
    }
    case Op::LogitJac: {
      double u = v[a[0]];
      out = logSigmoidJacobian(u);
      p[0] = 1 - 2 * sigmoid(u);
      break;
    }
    case Op::LogDensity:
      if (Step st = logDensityTerm(DistKind(nd.aux), a, nd.n, p, out); st != Step::Ok) return st;
      break;
    case Op::LogDensitySum:
      return logDensitySum(nd, a, p, out);
    case Op::NormalLinearSum:
      return normalLinearSum(nd, a, p, out);
    case Op::BernoulliLogitLinearSum:
      return bernoulliLogitLinearSum(nd, a, p, out);
    case Op::GuardCmp:
      p[0] = p[1] = 0;
      return ops::compare(BinOp(nd.aux), v[a[0]], v[a[1]]) == (out != 0) ? Step::Ok
                                                                           : Step::Mismatch;
    case Op::GuardArgmax: {
      uint32_t best = 0;
      for (uint32_t i = 0; i < nd.n; ++i) {
        p[i] = 0;
        if (v[a[i]] > v[a[best]]) best = i;
      }
      return double(best) == out ? Step::Ok : Step::Mismatch;
    }
    }
    return std::isfinite(out) ? Step::Ok : Step::Reject;
  }

  /// log Normal(x | mu, s) and its partials (x, mu, s) into p[0..2]: the same expression as
  /// symbolic::logDensity (so the same bits), without the generic parameter copy and validation.
  /// `logS` is log(s), computed by the caller (a fused node reuses it for a shared sigma).
  static double normalTerm(double x, double mu, double s, double logS, double* p) {
    double z = (x - mu) / s;
    p[0] = -z / s;
    p[1] = z / s;
    p[2] = (z * z - 1) / s;
    return -0.5 * z * z - logS - kLogSqrt2Pi;
  }

  /// One element's log density and partials (x, params...) into p, as Op::LogDensity.
  [[gnu::noinline]] Step logDensityTerm(DistKind k, const uint32_t* a, uint32_t n, double* p,
                                        double& out) {
    const double* v = val.data();
    if (k == DistKind::Normal) {
      double mu = v[a[1]], s = v[a[2]];
      if (!(s > 0) || !std::isfinite(s) || !std::isfinite(mu)) return Step::Reject;
      out = normalTerm(v[a[0]], mu, s, std::log(s), p);
      return Step::Ok;
    }
    uint32_t np = n - 1;
    for (uint32_t i = 0; i < np; ++i)
      scratchP[i] = v[a[1 + i]];
    std::span<const double> ps(scratchP.data(), np);
    if (validateParams(k, ps)) return Step::Reject;
    double dx;
    out = logDensityGradient(k, ps, v[a[0]], dx, std::span<double>(scratchD.data(), np));
    p[0] = dx;
    for (uint32_t i = 0; i < np; ++i)
      p[1 + i] = scratchD[i];
    return Step::Ok;
  }

  /// Op::LogDensitySum: elements of stride 1 + nparams, summed in element order.
  [[gnu::noinline]] Step logDensitySum(const Node& nd, const uint32_t* a, double* p, double& out) {
    const DistKind k = DistKind(nd.aux);
    const uint32_t stride = 1 + uint32_t(signature(k).nparams);
    const double* v = val.data();
    double total = 0;
    if (k == DistKind::Normal) {
      uint32_t prevS = UINT32_MAX;
      double logS = 0;
      for (uint32_t e = 0; e < nd.n; e += stride) {
        double mu = v[a[e + 1]], s = v[a[e + 2]];
        if (!(s > 0) || !std::isfinite(s) || !std::isfinite(mu)) return Step::Reject;
        if (a[e + 2] != prevS) {
          prevS = a[e + 2];
          logS = std::log(s);
        }
        total += normalTerm(v[a[e]], mu, s, logS, p + e);
      }
    } else {
      for (uint32_t e = 0; e < nd.n; e += stride) {
        double lp;
        if (Step st = logDensityTerm(k, a + e, stride, p + e, lp); st != Step::Ok) return st;
        total += lp;
      }
    }
    out = total;
    return std::isfinite(out) ? Step::Ok : Step::Reject;
  }

  /// c_0 + sum_j c_j b_j for one element (coefficients at e[0..m], bases at b[0..m-1]), in the
  /// order of the looped form's `b_0 + c * b_1` for the common two-base case.
  static double linearValue(const double* v, const uint32_t* b, const uint32_t* c, uint32_t m) {
    double eta = v[c[0]];
    for (uint32_t j = 0; j < m; ++j)
      eta += v[c[1 + j]] * v[b[j]];
    return eta;
  }

  /// Op::NormalLinearSum: the mean of each element is a linear function of the m bases with
  /// constant coefficients; d/d b_j = sum_k c_jk z_k / s_k, accumulated here with the shared
  /// sigma's partial, so that the reverse sweep touches the per-element operands only where they
  /// depend on the position (fusedBackward). Per-element partials that are never needed (the
  /// coefficients; x when data) stay 0 from the fusion, so the generic reverse is also right.
  [[gnu::noinline]] Step normalLinearSum(const Node& nd, const uint32_t* a, double* p,
                                         double& out) {
    const uint32_t m = nd.aux & kBaseMask;
    const bool shared = nd.aux & kSharedSigma, dataX = nd.aux & kDataX;
    const uint32_t head = m + (shared ? 1 : 0), stride = (shared ? 2 : 3) + m;
    const double* v = val.data();
    for (uint32_t j = 0; j < head; ++j)
      p[j] = 0;
    double total = 0, s = 0, logS = 0, invS = 0;
    uint32_t prevS = UINT32_MAX;
    if (shared) {
      s = v[a[m]];
      if (!(s > 0) || !std::isfinite(s)) return Step::Reject;
      logS = std::log(s);
      invS = 1 / s;
    }
    const uint32_t cOff = shared ? 1 : 2;
    double dShared = 0;
    for (uint32_t e = head; e < nd.n; e += stride) {
      const uint32_t* el = a + e;
      double* pe = p + e;
      if (!shared && el[1] != prevS) {
        prevS = el[1];
        s = v[prevS];
        if (!(s > 0) || !std::isfinite(s)) return Step::Reject;
        logS = std::log(s);
        invS = 1 / s;
      }
      const double mu = linearValue(v, a, el + cOff, m);
      if (!std::isfinite(mu)) return Step::Reject;
      const double z = (v[el[0]] - mu) * invS, dmu = z * invS, ds = (z * z - 1) * invS;
      total += -0.5 * z * z - logS - kLogSqrt2Pi;
      if (!dataX) pe[0] = -dmu;
      if (shared)
        dShared += ds;
      else
        pe[1] = ds;
      for (uint32_t j = 0; j < m; ++j)
        p[j] += v[el[cOff + 1 + j]] * dmu;
    }
    if (shared) p[m] = dShared;
    out = total;
    return std::isfinite(out) ? Step::Ok : Step::Reject;
  }

  /// Op::BernoulliLogitLinearSum: x_k ~ Bernoulli(sigmoid(eta_k)), eta_k linear in the m bases;
  /// d log p / d eta = 1 - q (x = 1) or -q (x = 0), q = sigmoid(eta), as the looped form's
  /// log q / log1p(-q). Only the bases have partials (the per-element ones stay 0).
  [[gnu::noinline]] Step bernoulliLogitLinearSum(const Node& nd, const uint32_t* a, double* p,
                                                 double& out) {
    const uint32_t m = nd.aux, stride = 2 + m;
    const double* v = val.data();
    for (uint32_t j = 0; j < m; ++j)
      p[j] = 0;
    double total = 0;
    for (uint32_t e = m; e < nd.n; e += stride) {
      const uint32_t* el = a + e;
      double eta = linearValue(v, a, el + 1, m);
      if (!std::isfinite(eta)) return Step::Reject;
      double q = ops::sigmoid(eta), x = v[el[0]], d;
      if (x == 1) {
        total += std::log(q);
        d = 1 - q;
      } else if (x == 0) {
        total += std::log1p(-q);
        d = -q;
      } else {
        return Step::Reject;
      }
      for (uint32_t j = 0; j < m; ++j)
        p[j] += v[el[2 + j]] * d;
    }
    out = total;
    return std::isfinite(out) ? Step::Ok : Step::Reject;
  }

  /// Forward sweep at u over the recorded tape.
  Step sweep(std::span<const double> u) {
    for (size_t k = 0; k < posSlots.size(); ++k)
      val[posSlots[k]] = u[k];
    for (const Node& nd : nodes)
      if (Step s = forward(nd); s != Step::Ok) return s;
    return Step::Ok;
  }

  /// The reverse step of a linear fused node: the head operands (bases, a shared sigma), then the
  /// per-element x and sigma only where they can depend on the position.
  void fusedBackward(const Node& nd, const uint32_t* a, const double* p, double g) {
    const uint32_t m = nd.aux & kBaseMask;
    if (nd.op == Op::BernoulliLogitLinearSum) {
      for (uint32_t j = 0; j < m; ++j)
        adj[a[j]] += g * p[j];
      return;
    }
    const bool shared = nd.aux & kSharedSigma, dataX = nd.aux & kDataX;
    const uint32_t head = m + (shared ? 1 : 0), stride = (shared ? 2 : 3) + m;
    for (uint32_t j = 0; j < head; ++j)
      adj[a[j]] += g * p[j];
    if (dataX && shared) return;
    for (uint32_t e = head; e < nd.n; e += stride) {
      if (!dataX) adj[a[e]] += g * p[e];
      if (!shared) adj[a[e + 1]] += g * p[e + 1];
    }
  }

  /// The adjoints backward() reads: of the position's slots, the nodes' outputs and the target
  /// (the others, of constants, are written by the reverse steps but never read, so they need no
  /// clearing). Set after each recording.
  std::vector<uint32_t> readAdjoints;
  void collectReadAdjoints() {
    readAdjoints.assign(posSlots.begin(), posSlots.end());
    for (const Node& nd : nodes)
      readAdjoints.push_back(nd.out);
    readAdjoints.push_back(target);
    std::sort(readAdjoints.begin(), readAdjoints.end());
    readAdjoints.erase(std::unique(readAdjoints.begin(), readAdjoints.end()), readAdjoints.end());
  }
  /// Zeroes the adjoints backward() reads: all of them when they are most of the slots, else
  /// only those (a tape of data-heavy scalar chains, such as GARCH's, has a constant slot per
  /// use of a data value).
  void clearAdjoints() {
    if (2 * readAdjoints.size() >= adj.size()) {
      std::fill(adj.begin(), adj.end(), 0.0);
      return;
    }
    double* a = adj.data();
    for (uint32_t s : readAdjoints)
      a[s] = 0.0;
  }

  /// Reverse sweep: fills grad; false if a derivative is not finite.
  bool backward(std::span<double> grad) {
    clearAdjoints();
    adj[target] = 1;
    for (size_t i = nodes.size(); i-- > 0;) {
      const Node& nd = nodes[i];
      double g = adj[nd.out];
      if (g == 0) continue;
      const uint32_t* a = args.data() + nd.arg;
      const double* p = pd.data() + nd.arg;
      if (nd.op == Op::NormalLinearSum || nd.op == Op::BernoulliLogitLinearSum) {
        fusedBackward(nd, a, p, g);
        continue;
      }
      switch (nd.n) { // most nodes are unary or binary: no loop for them
      case 1:
        adj[a[0]] += g * p[0];
        break;
      case 2:
        adj[a[0]] += g * p[0];
        adj[a[1]] += g * p[1];
        break;
      default:
        for (uint32_t j = 0; j < nd.n; ++j)
          adj[a[j]] += g * p[j];
      }
    }
    for (size_t k = 0; k < posSlots.size(); ++k) {
      grad[k] = adj[posSlots[k]];
      if (!std::isfinite(grad[k])) return false;
    }
    return true;
  }

  // =============================================================================================
  // 3. The recorder

  enum class Fail { None, Reject, Error };
  Fail fail_ = Fail::None;
  std::string err_;
  SourceLoc errLoc_;
  bool errLocated_ = false;
  std::vector<double>* pos_ = nullptr; // the position being recorded at
  Rng* initRng_ = nullptr;             // when drawing an initial position
  double initRadius_ = 2;
  size_t nextChoice_ = 0;
  std::vector<AV> terms_;
  std::string prefix_;
  std::vector<std::string> recAddresses_;
  std::vector<DistKind> recDists_;

  bool error(std::string msg) {
    fail_ = Fail::Error;
    err_ = std::move(msg);
    return false;
  }
  bool reject(std::string why) {
    fail_ = Fail::Reject;
    err_ = std::move(why);
    return false;
  }

  uint32_t slotOf(AV x) {
    if (x.id >= 0) return uint32_t(x.id);
    val.push_back(x.v);
    return uint32_t(val.size() - 1);
  }

  /// Records a node over `operands` and evaluates it; folds it to a constant when no operand
  /// depends on the position. On failure: a rejection when it depends on the position, else an
  /// error.
  bool node(Op op, uint8_t aux, std::span<const AV> operands, AV& out, std::string_view what) {
    bool dep = false;
    for (const AV& a : operands)
      dep = dep || a.id >= 0;
    size_t valMark = val.size(), argMark = args.size();
    Node nd{op, aux, 0, uint32_t(argMark), uint32_t(operands.size())};
    for (const AV& a : operands)
      args.push_back(slotOf(a));
    pd.resize(args.size());
    if (scratchP.size() < operands.size()) {
      scratchP.resize(operands.size());
      scratchD.resize(operands.size());
    }
    nd.out = uint32_t(val.size());
    val.push_back(0);
    Step s = forward(nd);
    double r = val[nd.out];
    if (!dep) {
      val.resize(valMark);
      args.resize(argMark);
      pd.resize(argMark);
    } else {
      nodes.push_back(nd);
    }
    if (s == Step::Reject) {
      if (dep || op == Op::LogDensity)
        return reject("the log density is -inf or undefined at this point (" + std::string(what) +
                      ")");
      return error(ops::realResultError(r, what)
                       .value_or("the result of " + std::string(what) + " is not a finite number"));
    }
    out = dep ? AV{r, int32_t(nd.out)} : AV{r, -1};
    return true;
  }
  bool node1(Op op, AV a, AV& out, std::string_view what) {
    AV ops[1] = {a};
    return node(op, 0, ops, out, what);
  }
  bool node2(Op op, AV a, AV b, AV& out, std::string_view what) {
    AV ops[2] = {a, b};
    return node(op, 0, ops, out, what);
  }

  /// A guard on a comparison of position-dependent reals (recorded only when one depends).
  void guardCmp(BinOp op, AV l, AV r, bool outcome) {
    if (l.id < 0 && r.id < 0) return;
    Node nd{Op::GuardCmp, uint8_t(op), 0, uint32_t(args.size()), 2};
    args.push_back(slotOf(l));
    args.push_back(slotOf(r));
    pd.resize(args.size());
    nd.out = uint32_t(val.size());
    val.push_back(outcome ? 1 : 0);
    nodes.push_back(nd);
  }

  // ---- the tape's domain of the evaluator (symbolic/evaluator.h): a real that depends on the
  // position is a tape node; ints, bools and enums never do (they are folded) ----

  AV constant(double v) { return {v, -1}; }
  double plain(const AV& x) { return x.v; }
  bool fail(std::string msg) { return error(std::move(msg)); }

  bool realNeg(const AV& x, AV& out) { return node1(Op::Neg, x, out, "-"); }
  bool realAbs(const AV& x, AV& out) { return node1(Op::Abs, x, out, "abs"); }
  bool realRelu(const AV& x, AV& out) { return node1(Op::Relu, x, out, "relu"); }
  bool realExp(const AV& x, AV& out) { return node1(Op::Exp, x, out, "exp"); }
  // Outside the domain: an error when the argument is a known number, a rejection of the point
  // (by the node) when it depends on the position.
  bool realLog(const AV& x, AV& out) {
    if (x.id < 0)
      if (auto why = ops::logDomainError(x.v)) return error(std::move(*why));
    return node1(Op::Log, x, out, "log");
  }
  bool realSqrt(const AV& x, AV& out) {
    if (x.id < 0)
      if (auto why = ops::sqrtDomainError(x.v)) return error(std::move(*why));
    return node1(Op::Sqrt, x, out, "sqrt");
  }
  bool realSigmoid(const AV& x, AV& out) { return node1(Op::Sigmoid, x, out, "sigmoid"); }
  bool realTanh(const AV& x, AV& out) { return node1(Op::Tanh, x, out, "tanh"); }
  bool realAdd(const AV& l, const AV& r, AV& out) { return node2(Op::Add, l, r, out, "+"); }
  bool realSub(const AV& l, const AV& r, AV& out) { return node2(Op::Sub, l, r, out, "-"); }
  bool realMul(const AV& l, const AV& r, AV& out) { return node2(Op::Mul, l, r, out, "*"); }
  bool realDiv(const AV& l, const AV& r, AV& out) {
    if (r.id < 0)
      if (auto why = ops::divisorError(BinOp::Div, r.v)) return error(std::move(*why));
    return node2(Op::Div, l, r, out, "/");
  }
  bool realMin(const AV& l, const AV& r, AV& out) { return node2(Op::Min, l, r, out, "min"); }
  bool realMax(const AV& l, const AV& r, AV& out) { return node2(Op::Max, l, r, out, "max"); }
  bool realSum(std::span<const AV> xs, AV& out) { return node(Op::Sum, 0, xs, out, "sum"); }
  bool realDot(std::span<const AV> xs, std::span<const AV> ys, AV& out) {
    std::vector<AV> operands(xs.begin(), xs.end());
    operands.insert(operands.end(), ys.begin(), ys.end());
    return node(Op::Dot, 0, operands, out, "dot");
  }
  bool realCompare(BinOp op, const AV& l, const AV& r, bool& outcome) {
    outcome = ops::compare(op, l.v, r.v);
    guardCmp(op, l, r, outcome);
    return true;
  }
  bool realArgmax(std::span<const AV> xs, size_t& best) {
    best = 0;
    bool dep = false;
    for (size_t k = 0; k < xs.size(); ++k) {
      dep = dep || xs[k].id >= 0;
      if (xs[k].v > xs[best].v) best = k;
    }
    if (dep) {
      Node nd{Op::GuardArgmax, 0, 0, uint32_t(args.size()), uint32_t(xs.size())};
      for (const AV& a : xs)
        args.push_back(slotOf(a));
      pd.resize(args.size());
      nd.out = uint32_t(val.size());
      val.push_back(double(best));
      nodes.push_back(nd);
    }
    return true;
  }
  /// b_r + W_r . x as one Dot over (b_r, w_r0..w_rc) . (1, x_0..x_c): the interpreter's order
  /// of summation, so the two give the same bits.
  bool affineRow(const DenseLayer& l, int r, std::span<const AV> x, AV& out) {
    const size_t m = size_t(l.cols) + 1;
    affineOps_.resize(2 * m);
    affineOps_[0] = {l.b(r), -1};
    affineOps_[m] = {1.0, -1};
    for (int c = 0; c < l.cols; ++c) {
      affineOps_[1 + size_t(c)] = {l.w(r, c), -1};
      affineOps_[m + 1 + size_t(c)] = x[size_t(c)];
    }
    return node(Op::Dot, 0, affineOps_, out, "an affine layer");
  }
  std::vector<AV> affineOps_;
  bool callPure(const Function& f, std::vector<AVal>& as, std::vector<AVal>& outs) {
    return callFunction(f, as, "", outs);
  }

  bool callFunction(const Function& f, std::vector<AVal>& as, const std::string& prefix,
                    std::vector<AVal>& outs) {
    if (f.kind() == FunctionKind::External)
      return error(ops::networkNotLoaded(f));
    for (size_t k = 0; k < as.size(); ++k) {
      const Param& prm = f.inputs()[k];
      Value plain;
      if (prm.var->type().isArray()) {
        for (const AV& a : as[k].a)
          plain.a.push_back(a.v);
      } else {
        plain.s = as[k].s.v;
      }
      if (auto why = checkInput(f, k, plain)) return error(*why + " (calling '" + f.name() + "')");
      if (prm.range) {
        // The range holds here; guard it where the argument depends on the position.
        AV lo{prm.range->first, -1}, hi{prm.range->second, -1};
        auto guard = [&](const AV& a) {
          guardCmp(BinOp::Ge, a, lo, true);
          guardCmp(BinOp::Le, a, hi, true);
        };
        if (prm.var->type().isArray())
          for (const AV& a : as[k].a)
            guard(a);
        else
          guard(as[k].s);
      }
    }
    std::vector<AVal> frame(size_t(f.numSlots()));
    for (const Var* v : f.vars())
      if (v->type().isArray()) frame[size_t(v->slot())].a.assign(v->type().numScalars(), AV{});
    for (size_t k = 0; k < as.size(); ++k)
      frame[size_t(f.inputs()[k].var->slot())] = as[k];
    std::string saved = std::move(prefix_);
    prefix_ = prefix;
    bool ok = block(f.body(), frame);
    prefix_ = std::move(saved);
    if (!ok) return false;
    outs.clear();
    for (const Var* o : f.outputs())
      outs.push_back(std::move(frame[size_t(o->slot())]));
    return true;
  }

  bool block(const Block& b, std::vector<AVal>& fr) {
    for (Stmt s : b)
      if (!stmt(s, fr)) {
        if (!errLocated_) {
          errLoc_ = s->loc();
          errLocated_ = true;
        }
        return false;
      }
    return true;
  }

  bool address(const std::string& name, const std::vector<Expr>& idx, std::vector<AVal>& fr,
               std::string& out) {
    out = prefix_ + name;
    AVal v;
    for (Expr i : idx) {
      if (!eval(i, fr, v)) return false;
      out += '[';
      out += formatNumber(v.s.v);
      out += ']';
    }
    return true;
  }

  /// Evaluates distribution parameters (flattened) and validates them: invalid parameters are an
  /// error when they do not depend on the position, a rejection when they do.
  bool params(DistKind d, const std::vector<Expr>& es, std::vector<AVal>& fr, std::vector<AV>& ps) {
    if (!evalFlat(es, fr, ps)) return false;
    std::vector<double> plain;
    bool dep = false;
    for (const AV& a : ps) {
      plain.push_back(a.v);
      dep = dep || a.id >= 0;
    }
    if (auto why = validateParams(d, plain)) {
      if (dep) return reject("invalid distribution parameter: " + *why);
      return error("invalid distribution parameter: " + *why);
    }
    return true;
  }

  bool logDensityNode(DistKind d, AV x, const std::vector<AV>& ps, AV& out) {
    std::vector<AV> ops;
    ops.reserve(ps.size() + 1);
    ops.push_back(x);
    ops.insert(ops.end(), ps.begin(), ps.end());
    return node(Op::LogDensity, uint8_t(d), ops, out, signature(d).name);
  }

  bool sampleStmt(const SampleStmt& x, std::vector<AVal>& fr) {
    std::string addr;
    if (!address(x.name, x.indices, fr, addr)) return false;
    if (signature(x.dist).discrete)
      return error("NUTS needs every random choice continuous; '" + addr + "' is " +
                   std::string(signature(x.dist).name) + ": use --method mh");
    std::vector<AV> ps;
    if (!params(x.dist, x.params, fr, ps)) return false;
    // The coordinate of the position for this choice.
    size_t k = nextChoice_++;
    if (k >= pos_->size()) {
      if (!initRng_)
        return error("the model's continuous choices change with their values ('" + addr +
                     "' appears): NUTS needs a fixed set of choices");
      pos_->push_back(-initRadius_ + 2 * initRadius_ * initRng_->uniform());
    }
    if (initialized && (k >= addresses.size() || addresses[k] != addr))
      return error("the model's continuous choices change with their values ('" + addr +
                   "'): NUTS needs a fixed set of choices");
    recAddresses_.push_back(addr);
    recDists_.push_back(x.dist);
    AV u{(*pos_)[k], int32_t(val.size())};
    val.push_back(u.v);
    posSlots.push_back(uint32_t(u.id));
    // x = c(u) and log |c'(u)| (transforms.h), as tape operations so that bounds that depend on
    // other choices (Uniform(0, tau)) are differentiated too.
    std::vector<double> plain;
    for (const AV& a : ps)
      plain.push_back(a.v);
    Transform t = transformFor(x.dist, plain);
    // The parameters that are the transform's bounds (-1: a constant bound, t's own).
    const std::pair<int, int> boundParams = dispatch(x.dist, [](auto d) {
      return std::pair<int, int>(decltype(d)::kLowerParam, decltype(d)::kUpperParam);
    });
    const AV lo = boundParams.first >= 0 ? ps[size_t(boundParams.first)] : AV{t.lo, -1};
    const AV hi = boundParams.second >= 0 ? ps[size_t(boundParams.second)] : AV{t.hi, -1};
    AV value = u;
    switch (t.kind) {
    case TransformKind::Identity:
      break;
    case TransformKind::LowerBound: {
      // x = lo + exp(u); lo = 0 but for Flat(lower = lo), whose bound may depend on u.
      AV e;
      if (!node1(Op::Exp, u, e, "exp (the log transform)")) return false;
      if (boundParams.first >= 0) {
        if (!node2(Op::Add, lo, e, value, "lower + exp(u)")) return false;
      } else {
        value = e;
      }
      terms_.push_back(u);
      break;
    }
    case TransformKind::UpperBound: { // x = hi - exp(u) (Flat(upper = hi))
      AV e;
      if (!node1(Op::Exp, u, e, "exp (the log transform)") ||
          !node2(Op::Sub, hi, e, value, "upper - exp(u)"))
        return false;
      terms_.push_back(u);
      break;
    }
    case TransformKind::Interval: {
      // x = lo + (hi - lo) sigmoid(u + shift); the shift (a simplex's centring offset, ir.h)
      // is a constant of the position, so log|J| = log(hi - lo) + logitJac(u + shift).
      AV su = u;
      if (x.transformShift) {
        AVal sh;
        if (!eval(x.transformShift, fr, sh) || !node2(Op::Add, u, sh.s, su, "u + shift"))
          return false;
      }
      AV s, w, ws, lw, lj;
      if (!node1(Op::Sigmoid, su, s, "sigmoid") || !node2(Op::Sub, hi, lo, w, "hi - lo") ||
          !node2(Op::Mul, w, s, ws, "*") || !node2(Op::Add, lo, ws, value, "+") ||
          !node1(Op::Log, w, lw, "log(hi - lo)") ||
          !node1(Op::LogitJac, su, lj, "the logit Jacobian"))
        return false;
      terms_.push_back(lw);
      terms_.push_back(lj);
      break;
    }
    }
    AV lp;
    if (!logDensityNode(x.dist, value, ps, lp)) return false;
    terms_.push_back(lp);
    choiceSlots.push_back(slotOf(value));
    fr[size_t(x.var->slot())].s = value;
    return true;
  }

  bool stmtLet(const LetStmt& x, std::vector<AVal>& fr) {
    return eval(x.value, fr, fr[size_t(x.var->slot())]);
  }

  bool stmtAssign(const AssignStmt& x, std::vector<AVal>& fr) {
    AVal v;
    if (!eval(x.value, fr, v)) return false;
    fr[size_t(x.var->slot())] = std::move(v);
    return true;
  }

  bool stmtObserve(const ObserveStmt& x, std::vector<AVal>& fr) {
    std::vector<AV> ps;
    if (!params(x.dist, x.params, fr, ps)) return false;
    AVal v;
    if (!eval(x.value, fr, v)) return false;
    AV lp;
    if (!logDensityNode(x.dist, v.s, ps, lp)) return false;
    terms_.push_back(lp);
    return true;
  }

  bool stmtCondition(const ConditionStmt& x, std::vector<AVal>& fr) {
    AVal v;
    if (!eval(x.cond, fr, v)) return false;
    if (v.s.v == 0) return reject("a condition fails");
    return true;
  }

  bool stmtFactor(const FactorStmt& x, std::vector<AVal>& fr) {
    AVal v;
    if (!eval(x.logWeight, fr, v)) return false;
    if (auto why = ops::factorError(v.s.v))
      return v.s.id >= 0 ? reject(std::move(*why)) : error(std::move(*why));
    if (!(v.s.v > -kInf)) return reject("a factor is -inf");
    terms_.push_back(v.s);
    return true;
  }

  bool stmtAssert(const AssertStmt& x, std::vector<AVal>& fr) {
    AVal v;
    if (!eval(x.cond, fr, v)) return false;
    if (v.s.v == 0)
      return error(ops::assertionFailed(x.message));
    return true;
  }

  bool stmtIf(const IfStmt& x, std::vector<AVal>& fr) {
    AVal v;
    if (!eval(x.cond, fr, v)) return false;
    return block(v.s.v != 0 ? x.thenBody : x.elseBody, fr);
  }

  bool stmtFor(const ForStmt& x, std::vector<AVal>& fr) {
    size_t slot = size_t(x.index->slot());
    for (int64_t k = x.lo; k < x.hi; ++k) {
      fr[slot].s = {double(k), -1};
      if (!block(x.body, fr)) return false;
    }
    return true;
  }

  bool stmtCall(const CallStmt& x, std::vector<AVal>& fr) {
    std::vector<AVal> as(x.args.size());
    for (size_t k = 0; k < as.size(); ++k)
      if (!eval(x.args[k], fr, as[k])) return false;
    std::string site;
    if (!address(x.site, x.siteIndices, fr, site)) return false;
    std::vector<AVal> outs;
    if (!callFunction(*x.callee, as, site + "/", outs)) return false;
    for (size_t k = 0; k < x.results.size() && k < outs.size(); ++k)
      if (x.results[k]) fr[size_t(x.results[k]->slot())] = std::move(outs[k]);
    return true;
  }

  bool stmtSample(const SampleStmt& x, std::vector<AVal>& fr) { return sampleStmt(x, fr); }

  // ---- fusion: after a recording, the per-element log-density nodes become fused nodes ----

  /// A linear form c_0 + sum_j c_j b_j over base slots, with constant coefficients.
  struct Linear {
    double c0 = 0;
    std::vector<std::pair<uint32_t, double>> terms; // (base slot, coefficient)
  };
  std::vector<int32_t> producer_; // per slot: the node writing it, or -1
  std::vector<char> isPos_;       // per slot: a coordinate of the position

  bool constantSlot(uint32_t s) const { return producer_[s] < 0 && !isPos_[s]; }

  /// The slot as a linear form: through Add, Sub, Neg, Mul by a constant and Dot with one
  /// constant side of each product; anything else (a coordinate, a non-linear node) is a base.
  void linearForm(uint32_t s, double scale, Linear& f, int depth) {
    if (scale == 0) return;
    if (constantSlot(s)) {
      f.c0 += scale * val[s];
      return;
    }
    const int32_t pi = producer_[s];
    if (pi >= 0 && depth < 8) {
      const Node& nd = nodes[size_t(pi)];
      const uint32_t* a = args.data() + nd.arg;
      switch (nd.op) {
      case Op::Add:
        linearForm(a[0], scale, f, depth + 1);
        linearForm(a[1], scale, f, depth + 1);
        return;
      case Op::Sub:
        linearForm(a[0], scale, f, depth + 1);
        linearForm(a[1], -scale, f, depth + 1);
        return;
      case Op::Neg:
        linearForm(a[0], -scale, f, depth + 1);
        return;
      case Op::Mul:
        if (constantSlot(a[0])) return linearForm(a[1], scale * val[a[0]], f, depth + 1);
        if (constantSlot(a[1])) return linearForm(a[0], scale * val[a[1]], f, depth + 1);
        break;
      case Op::Dot: {
        const uint32_t m = nd.n / 2;
        bool linear = true;
        for (uint32_t i = 0; i < m && linear; ++i)
          linear = constantSlot(a[i]) || constantSlot(a[m + i]);
        if (!linear) break;
        for (uint32_t i = 0; i < m; ++i) {
          if (constantSlot(a[i]))
            linearForm(a[m + i], scale * val[a[i]], f, depth + 1);
          else
            linearForm(a[i], scale * val[a[m + i]], f, depth + 1);
        }
        return;
      }
      default:
        break;
      }
    }
    for (auto& t : f.terms)
      if (t.first == s) {
        t.second += scale;
        return;
      }
    f.terms.emplace_back(s, scale);
  }

  uint32_t constSlot(double x) {
    val.push_back(x);
    return uint32_t(val.size() - 1);
  }

  /// The means (Normal) or logits (Bernoulli of a sigmoid) of a group as linear forms over at
  /// most kMaxBases common bases; false when they are not.
  static constexpr size_t kMaxBases = 8;
  bool linearGroup(const std::vector<uint32_t>& slots, std::vector<Linear>& forms,
                   std::vector<uint32_t>& bases) {
    forms.assign(slots.size(), Linear{});
    bases.clear();
    for (size_t k = 0; k < slots.size(); ++k) {
      linearForm(slots[k], 1.0, forms[k], 0);
      for (const auto& t : forms[k].terms) {
        if (std::find(bases.begin(), bases.end(), t.first) == bases.end()) bases.push_back(t.first);
        if (bases.size() > kMaxBases) return false;
      }
    }
    return true;
  }

  /// Emits the coefficient operands of one element: c_0, then c_j for each base in order.
  void pushCoefficients(const Linear& f, const std::vector<uint32_t>& bases) {
    args.push_back(constSlot(f.c0));
    for (uint32_t b : bases) {
      double c = 0;
      for (const auto& t : f.terms)
        if (t.first == b) c = t.second;
      args.push_back(constSlot(c));
    }
  }

  /// Replaces the log-density nodes whose value goes only into the target (the terms of
  /// observes and draws), grouped by distribution, with one fused node per group: a Normal whose
  /// means are linear in a few common slots with constant coefficients (a regression's
  /// beta[0] + beta[1] * x[k]) becomes NormalLinearSum, a Bernoulli of sigmoid(linear)
  /// BernoulliLogitLinearSum, any other group LogDensitySum. Then the nodes that computed the
  /// folded means and no longer feed anything are dropped. Returns Step::Ok, or Reject when a
  /// fused node is undefined at the recorded point (the looped nodes were not, so only through
  /// rounding at the edge of the domain).
  Step fuseLogDensities(std::vector<uint32_t>& roots) {
    producer_.assign(val.size(), -1);
    isPos_.assign(val.size(), 0);
    std::vector<uint32_t> uses(val.size(), 0);
    for (uint32_t s : posSlots)
      isPos_[s] = 1;
    for (size_t i = 0; i < nodes.size(); ++i) {
      producer_[nodes[i].out] = int32_t(i);
      for (uint32_t j = 0; j < nodes[i].n; ++j)
        ++uses[args[nodes[i].arg + j]];
    }
    for (uint32_t s : roots)
      ++uses[s];
    // Groups of log-density terms with the same distribution, in term order.
    std::vector<std::pair<DistKind, std::vector<size_t>>> groups; // term indices
    for (size_t t = 0; t < terms_.size(); ++t) {
      const AV& x = terms_[t];
      if (x.id < 0 || uses[size_t(x.id)] != 0 || producer_[size_t(x.id)] < 0) continue;
      const Node& nd = nodes[size_t(producer_[size_t(x.id)])];
      const DistKind k = DistKind(nd.aux);
      if (nd.op != Op::LogDensity || nd.n != 1 + uint32_t(signature(k).nparams)) continue;
      auto g = std::find_if(groups.begin(), groups.end(),
                            [k](const auto& grp) { return grp.first == k; });
      if (g == groups.end()) {
        groups.push_back({k, {}});
        g = groups.end() - 1;
      }
      g->second.push_back(t);
    }
    std::vector<char> removed(nodes.size(), 0);
    std::vector<std::pair<size_t, Node>> fused; // (position: after this node index, node)
    std::vector<char> dropTerm(terms_.size(), 0);
    std::vector<AV> newTerms;
    for (const auto& [kind, members] : groups) {
      if (members.size() < 2) continue;
      std::vector<const Node*> ms;
      size_t last = 0;
      for (size_t t : members) {
        size_t ni = size_t(producer_[size_t(terms_[t].id)]);
        ms.push_back(&nodes[ni]);
        last = std::max(last, ni);
      }
      Node nd{Op::LogDensitySum, uint8_t(kind), 0, uint32_t(args.size()), 0};
      std::vector<Linear> forms;
      std::vector<uint32_t> bases, slots;
      bool done = false;
      if (kind == DistKind::Normal) {
        for (const Node* m : ms)
          slots.push_back(args[m->arg + 1]);
        if (linearGroup(slots, forms, bases)) {
          bool shared = true, dataX = true;
          for (const Node* m : ms) {
            shared = shared && args[m->arg + 2] == args[ms[0]->arg + 2];
            dataX = dataX && constantSlot(args[m->arg]);
          }
          nd.op = Op::NormalLinearSum;
          nd.aux = uint8_t(bases.size() | (shared ? kSharedSigma : 0) | (dataX ? kDataX : 0));
          args.insert(args.end(), bases.begin(), bases.end());
          if (shared) {
            const uint32_t sigma = args[ms[0]->arg + 2];
            args.push_back(sigma);
          }
          for (size_t k = 0; k < ms.size(); ++k) {
            const uint32_t x = args[ms[k]->arg], sigma = args[ms[k]->arg + 2];
            args.push_back(x);
            if (!shared) args.push_back(sigma);
            pushCoefficients(forms[k], bases);
          }
          done = true;
        }
      } else if (kind == DistKind::Bernoulli) {
        bool logit = true;
        for (const Node* m : ms) {
          uint32_t ps = args[m->arg + 1];
          int32_t pi = producer_[ps];
          logit = logit && pi >= 0 && nodes[size_t(pi)].op == Op::Sigmoid &&
                  constantSlot(args[m->arg]);
          if (!logit) break;
          slots.push_back(args[nodes[size_t(pi)].arg]);
        }
        if (logit && linearGroup(slots, forms, bases)) {
          nd.op = Op::BernoulliLogitLinearSum;
          nd.aux = uint8_t(bases.size());
          args.insert(args.end(), bases.begin(), bases.end());
          for (size_t k = 0; k < ms.size(); ++k) {
            const uint32_t x = args[ms[k]->arg];
            args.push_back(x);
            pushCoefficients(forms[k], bases);
          }
          done = true;
        }
      }
      if (!done)
        for (const Node* m : ms)
          for (uint32_t j = 0; j < m->n; ++j) {
            const uint32_t operand = args[m->arg + j];
            args.push_back(operand);
          }
      nd.n = uint32_t(args.size() - nd.arg);
      nd.out = uint32_t(val.size());
      val.push_back(0);
      pd.resize(args.size());
      std::fill(pd.begin() + nd.arg, pd.end(), 0.0); // partials the fused forward never writes
      if (Step st = forward(nd); st != Step::Ok) return Step::Reject;
      for (size_t t : members) {
        removed[size_t(producer_[size_t(terms_[t].id)])] = 1;
        dropTerm[t] = 1;
      }
      fused.emplace_back(last, nd);
      newTerms.push_back({val[nd.out], int32_t(nd.out)});
    }
    if (fused.empty()) return Step::Ok;
    // The terms: the unfused ones in order, then the fused sums.
    std::vector<AV> terms;
    for (size_t t = 0; t < terms_.size(); ++t)
      if (!dropTerm[t]) terms.push_back(terms_[t]);
    terms.insert(terms.end(), newTerms.begin(), newTerms.end());
    terms_ = std::move(terms);
    // The node array: fused nodes in place of their last member; then the linear nodes whose
    // values nothing reads any more (the folded means) are dropped. Only nodes that cannot
    // reject a finite point except by overflow are dropped: a guard or a log stays.
    std::vector<Node> out;
    out.reserve(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (!removed[i]) out.push_back(nodes[i]);
      for (const auto& f : fused)
        if (f.first == i) out.push_back(f.second);
    }
    std::vector<char> needed(val.size(), 0);
    for (uint32_t s : roots)
      needed[s] = 1;
    for (const AV& t : terms_)
      if (t.id >= 0) needed[size_t(t.id)] = 1;
    std::vector<char> keep(out.size(), 1);
    for (size_t i = out.size(); i-- > 0;) {
      const Node& nd = out[i];
      const bool droppable = nd.op == Op::Add || nd.op == Op::Sub || nd.op == Op::Mul ||
                             nd.op == Op::Neg || nd.op == Op::Dot || nd.op == Op::Sigmoid;
      if (droppable && !needed[nd.out]) {
        keep[i] = 0;
        continue;
      }
      for (uint32_t j = 0; j < nd.n; ++j)
        needed[args[nd.arg + j]] = 1;
    }
    nodes.clear();
    for (size_t i = 0; i < out.size(); ++i)
      if (keep[i]) nodes.push_back(out[i]);
    return Step::Ok;
  }

  /// Sums of products as one Dot node: a left-deep chain of Adds, ((t_1 + t_2) + ...) + t_m,
  /// whose inner Adds and whose Mul terms feed nothing else, becomes Dot(a, b) with
  /// sum_k a_k b_k = t_1 + ... + t_m in the same order (a Mul term a * b gives (a, b), any other
  /// term x gives (x, 1)): a scalar recurrence such as GARCH's
  /// alpha0 + alpha1 * e^2 + beta1 * sigma^2 is one node per element instead of four. The value
  /// is the chain's, rounded the same way (0 + x = x and x * 1 = x; only a zero's sign can differ),
  /// and each operand receives the same partials; a slot's adjoint receives them in another order
  /// only when it occurs more than once in one chain (a * y + a * a), so GARCH's gradient keeps
  /// its bits, in general it agrees within rounding. The tape compiler (codegen/tape_compiler.h)
  /// knows Dot. A node dropped here could reject a
  /// point only by overflowing, and then the Dot overflows too. `roots`: the slots read from
  /// outside the node array (outputs, choices).
  void fuseProducts(const std::vector<uint32_t>& roots) {
    std::vector<int32_t> producer(val.size(), -1);
    std::vector<uint32_t> uses(val.size(), 0);
    for (size_t i = 0; i < nodes.size(); ++i) {
      producer[nodes[i].out] = int32_t(i);
      for (uint32_t j = 0; j < nodes[i].n; ++j)
        ++uses[args[nodes[i].arg + j]];
    }
    for (uint32_t r : roots)
      ++uses[r];
    for (const AV& t : terms_)
      if (t.id >= 0) ++uses[size_t(t.id)];
    // A node whose only reader is the chain being built, of the given operation.
    auto absorbable = [&](uint32_t slot, Op op) {
      const int32_t pi = producer[slot];
      return pi >= 0 && uses[slot] == 1 && nodes[size_t(pi)].op == op;
    };
    std::vector<char> removed(nodes.size(), 0);
    std::vector<std::pair<size_t, Node>> dots; // (index of the chain's last Add, its Dot)
    uint32_t one = UINT32_MAX;
    std::vector<uint32_t> terms; // the chain's terms, last first
    std::vector<size_t> absorbed;
    for (size_t i = nodes.size(); i-- > 0;) {
      if (removed[i] || nodes[i].op != Op::Add) continue;
      terms.clear();
      absorbed.clear();
      uint32_t cur = nodes[i].out;
      for (;;) { // down the left operands while they are single-use Adds
        const Node& add = nodes[size_t(producer[cur])];
        terms.push_back(args[add.arg + 1]);
        const uint32_t left = args[add.arg];
        if (!absorbable(left, Op::Add)) {
          terms.push_back(left);
          break;
        }
        absorbed.push_back(size_t(producer[left]));
        cur = left;
      }
      std::reverse(terms.begin(), terms.end());
      std::vector<std::pair<uint32_t, uint32_t>> factors;
      for (uint32_t t : terms) {
        if (absorbable(t, Op::Mul)) {
          const Node& mul = nodes[size_t(producer[t])];
          absorbed.push_back(size_t(producer[t]));
          factors.emplace_back(args[mul.arg], args[mul.arg + 1]);
        } else {
          if (one == UINT32_MAX) one = constSlot(1.0);
          factors.emplace_back(t, one);
        }
      }
      if (absorbed.empty()) continue; // a plain Add stays one
      const size_t argMark = args.size();
      Node nd{Op::Dot, 0, nodes[i].out, uint32_t(argMark), uint32_t(2 * factors.size())};
      for (const auto& f : factors)
        args.push_back(f.first);
      for (const auto& f : factors)
        args.push_back(f.second);
      pd.resize(args.size());
      // Its value (the chain's, recomputed) and partials at the recorded point, which the reverse
      // sweep after a recording reads.
      const double chain = val[nd.out];
      if (forward(nd) != Step::Ok) { // cannot happen for a finite chain; keep the chain then
        val[nd.out] = chain;
        args.resize(argMark);
        pd.resize(argMark);
        continue;
      }
      for (size_t k : absorbed)
        removed[k] = 1;
      dots.emplace_back(i, nd);
      removed[i] = 1;
    }
    if (dots.empty()) return;
    std::vector<Node> out;
    out.reserve(nodes.size());
    size_t next = dots.size(); // dots are in decreasing node order
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (next > 0 && dots[next - 1].first == i) {
        out.push_back(dots[next - 1].second);
        --next;
        continue;
      }
      if (!removed[i]) out.push_back(nodes[i]);
    }
    nodes = std::move(out);
  }

  /// Records the tape at `pos` (drawing the coordinates when `rng` is given). Returns Ok, Reject
  /// (the point is outside the domain; the tape is left invalid) or an Error.
  Expected<Step> record(std::vector<double>& pos, Rng* rng) {
    ++recordings;
    val.clear();
    pd.clear();
    args.clear();
    nodes.clear();
    posSlots.clear();
    choiceSlots.clear();
    outputSlots.clear();
    terms_.clear();
    recAddresses_.clear();
    recDists_.clear();
    fail_ = Fail::None;
    errLocated_ = false;
    err_.clear();
    pos_ = &pos;
    initRng_ = rng;
    nextChoice_ = 0;
    valid = false;
    const Function& f = *fn;
    std::vector<AVal> as(inputs.size());
    for (size_t k = 0; k < inputs.size(); ++k) {
      as[k].s = {inputs[k].s, -1};
      for (double v : inputs[k].a)
        as[k].a.push_back({v, -1});
    }
    std::vector<AVal> outs;
    bool ok = callFunction(f, as, "", outs);
    if (ok && nextChoice_ != pos.size()) {
      if (rng)
        pos.resize(nextChoice_);
      else
        ok = error("the model's continuous choices change with their values (" +
                   std::to_string(nextChoice_) + " instead of " + std::to_string(pos.size()) +
                   "): NUTS needs a fixed set of choices");
    }
    if (!ok) {
      if (fail_ == Fail::Reject) return Step::Reject;
      return Error(errLocated_ ? errLoc_ : f.loc(), err_);
    }
    std::vector<std::string> names;
    for (size_t k = 0; k < outs.size(); ++k) {
      const Var* o = f.outputs()[k];
      if (o->type().isArray()) {
        // Element j of the flat (row-major) storage, named by its index in each dimension as
        // the choices' addresses and the queries (resolveQuery) are: y[3], m[1][2].
        const std::vector<int>& dims = o->type().dims;
        for (size_t j = 0; j < outs[k].a.size(); ++j) {
          outputSlots.push_back(slotOf(outs[k].a[j]));
          std::string idx;
          for (size_t d = dims.size(), rest = j; d-- > 0;) {
            idx = "[" + std::to_string(rest % size_t(dims[d])) + "]" + idx;
            rest /= size_t(dims[d]);
          }
          names.push_back(o->name() + idx);
        }
      } else {
        outputSlots.push_back(slotOf(outs[k].s));
        names.push_back(o->name());
      }
    }
    if (fuse) {
      std::vector<uint32_t> roots(outputSlots);
      roots.insert(roots.end(), choiceSlots.begin(), choiceSlots.end());
      if (fuseLogDensities(roots) == Step::Reject) return Step::Reject;
      fuseProducts(roots);
    }
    AV tgt;
    if (!node(Op::Sum, 0, terms_, tgt, "the log density")) {
      if (fail_ == Fail::Reject) return Step::Reject;
      return Error(f.loc(), err_);
    }
    target = slotOf(tgt);
    if (!initialized) {
      addresses = recAddresses_;
      dists = recDists_;
      outputNames = std::move(names);
    }
    adj.assign(val.size(), 0.0);
    collectReadAdjoints();
    valid = true;
    return Step::Ok;
  }

  /// L(u), with the gradient when `grad` is non-empty.
  Expected<double> evaluate(std::span<const double> u, std::span<double> grad) {
    bool needRecord = !valid;
    if (!needRecord) {
      Step s = sweep(u);
      if (s == Step::Reject) return -kInf;
      needRecord = s == Step::Mismatch;
    }
    if (needRecord) {
      std::vector<double> pos(u.begin(), u.end());
      auto r = record(pos, nullptr);
      if (!r) return r.error();
      if (*r == Step::Reject) return -kInf;
    }
    double l = val[target];
    if (!(l > -kInf) || std::isnan(l)) return -kInf;
    if (!grad.empty() && !backward(grad)) return -kInf;
    return l;
  }
};

LogDensityTape::LogDensityTape(const Function& f, std::vector<Value> inputs, bool fuse)
    : impl_(std::make_unique<Impl>()) {
  impl_->fn = &f;
  impl_->fuse = fuse;
  impl_->inputs = std::move(inputs);
}
LogDensityTape::~LogDensityTape() = default;
LogDensityTape::LogDensityTape(LogDensityTape&&) noexcept = default;
LogDensityTape& LogDensityTape::operator=(LogDensityTape&&) noexcept = default;

Expected<std::vector<double>> LogDensityTape::initialize(Rng& rng, double radius, int attempts) {
  Impl& m = *impl_;
  m.initRadius_ = radius;
  std::string why = "the log density is -inf";
  for (int a = 0; a < attempts; ++a) {
    std::vector<double> pos;
    auto r = m.record(pos, &rng);
    if (!r) return r.error();
    if (*r == Step::Reject) {
      why = m.err_;
      continue;
    }
    std::vector<double> grad(pos.size());
    double l = m.val[m.target];
    if (!(l > -kInf) || std::isnan(l)) continue;
    if (!m.backward(grad)) {
      why = "the gradient is not finite";
      continue;
    }
    m.initialized = true;
    return pos;
  }
  return Error(m.fn->loc(), "no initial point with a finite log density and gradient found in " +
                                std::to_string(attempts) + " attempts (last: " + why + ")");
}

Expected<double> LogDensityTape::logDensity(std::span<const double> u, std::span<double> grad) {
  return impl_->evaluate(u, grad);
}
Expected<double> LogDensityTape::logDensity(std::span<const double> u) {
  return impl_->evaluate(u, {});
}
size_t LogDensityTape::dimension() const {
  return impl_->addresses.size();
}
const std::vector<std::string>& LogDensityTape::addresses() const {
  return impl_->addresses;
}
const std::vector<DistKind>& LogDensityTape::distributions() const {
  return impl_->dists;
}
const std::vector<std::string>& LogDensityTape::outputNames() const {
  return impl_->outputNames;
}
void LogDensityTape::readChoices(std::span<double> out) const {
  for (size_t k = 0; k < impl_->choiceSlots.size() && k < out.size(); ++k)
    out[k] = impl_->val[impl_->choiceSlots[k]];
}
void LogDensityTape::readOutputs(std::span<double> out) const {
  for (size_t k = 0; k < impl_->outputSlots.size() && k < out.size(); ++k)
    out[k] = impl_->val[impl_->outputSlots[k]];
}
size_t LogDensityTape::recordings() const {
  return impl_->recordings;
}
size_t LogDensityTape::tapeSize() const {
  return impl_->nodes.size();
}

namespace {
TapeNodeKind kindOf(Op op) {
  switch (op) {
  case Op::Add: return TapeNodeKind::Add;
  case Op::Sub: return TapeNodeKind::Sub;
  case Op::Mul: return TapeNodeKind::Mul;
  case Op::Div: return TapeNodeKind::Div;
  case Op::Neg: return TapeNodeKind::Neg;
  case Op::Exp: return TapeNodeKind::Exp;
  case Op::Log: return TapeNodeKind::Log;
  case Op::Sqrt: return TapeNodeKind::Sqrt;
  case Op::Sigmoid: return TapeNodeKind::Sigmoid;
  case Op::Tanh: return TapeNodeKind::Tanh;
  case Op::Abs: return TapeNodeKind::Abs;
  case Op::Relu: return TapeNodeKind::Relu;
  case Op::Min: return TapeNodeKind::Min;
  case Op::Max: return TapeNodeKind::Max;
  case Op::Sum: return TapeNodeKind::Sum;
  case Op::Dot: return TapeNodeKind::Dot;
  case Op::LogitJac: return TapeNodeKind::LogitJac;
  case Op::LogDensity: return TapeNodeKind::LogDensity;
  case Op::GuardCmp: return TapeNodeKind::GuardCmp;
  case Op::GuardArgmax: return TapeNodeKind::GuardArgmax;
  case Op::LogDensitySum: return TapeNodeKind::LogDensitySum;
  case Op::NormalLinearSum: return TapeNodeKind::NormalLinearSum;
  case Op::BernoulliLogitLinearSum: return TapeNodeKind::BernoulliLogitLinearSum;
  default: return TapeNodeKind::Other; // a kind the view does not name
  }
}
} // namespace

TapeView LogDensityTape::view() const {
  const Impl& m = *impl_;
  TapeView v;
  v.recorded = m.valid;
  if (!m.valid) return v;
  v.nodes.reserve(m.nodes.size());
  for (const Node& nd : m.nodes)
    v.nodes.push_back({kindOf(nd.op), nd.aux, nd.out, nd.arg, nd.n});
  v.args = m.args;
  v.values = m.val;
  v.positionSlots = m.posSlots;
  v.target = m.target;
  return v;
}

} // namespace chassis::symbolic

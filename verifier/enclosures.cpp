// Linear enclosures of exp, log, sigmoid, tanh (see enclosures.h for the maths and for why each
// double chosen here gives a valid bound in exact arithmetic).
#include "verifier/enclosures.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace chassis::verifier {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kAbs = 1e-300;  // absolute margin (subnormal range)
constexpr double kRel = 0x1p-40; // relative allowance on a computed derivative

double down(double x) {
  return std::isfinite(x) ? std::nextafter(x, -kInf) : x;
}
double up(double x) {
  return std::isfinite(x) ? std::nextafter(x, kInf) : x;
}
double downN(double x, int n) {
  for (int i = 0; i < n; ++i)
    x = down(x);
  return x;
}
double upN(double x, int n) {
  for (int i = 0; i < n; ++i)
    x = up(x);
  return x;
}

/// A value computed within 4 ulps (+ subnormal error) widened to a sound lower / upper bound.
double widenDown(double v) {
  return std::isfinite(v) ? down(downN(v, 8) - kAbs) : v;
}
double widenUp(double v) {
  return std::isfinite(v) ? up(upN(v, 8) + kAbs) : v;
}

double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  double e = std::exp(x);
  return e / (1.0 + e);
}

/// The range of f over all reals (closed hull).
std::pair<double, double> range(EnclosedFn f) {
  switch (f) {
  case EnclosedFn::Exp:
    return {0, kInf};
  case EnclosedFn::Log:
    return {-kInf, kInf};
  case EnclosedFn::Sigmoid:
    return {0, 1};
  case EnclosedFn::Tanh:
    return {-1, 1};
  }
  return {-kInf, kInf};
}

/// The computed derivative of sigmoid / tanh at t (relative error < 16 ulp; 0 on underflow).
double derivative(EnclosedFn f, double t) {
  if (f == EnclosedFn::Sigmoid) return sigmoid(t) * sigmoid(-t);
  double c = std::cosh(t);
  return 1.0 / (c * c);
}

/// n + 1 increasing points from a to b (p_0 = a, p_n = b exactly); geometric when `geo`.
std::vector<double> grid(double a, double b, int n, bool geo) {
  std::vector<double> p;
  p.push_back(a);
  for (int i = 1; i < n; ++i) {
    double fr = double(i) / n;
    double v = geo ? a * std::pow(b / a, fr) : a + (b - a) * fr;
    if (!std::isfinite(v) || v <= p.back() || v >= b) continue;
    p.push_back(v);
  }
  if (b > a) p.push_back(b);
  return p;
}

LinearBound constBound(bool upper, double from, double to, double v) {
  LinearBound b;
  b.upper = upper;
  b.from = from;
  b.to = to;
  b.v = v;
  return b;
}

LinearBound chord(bool upper, double p, double q, double vp, double vq) {
  LinearBound b;
  b.upper = upper;
  b.from = p;
  b.to = q;
  b.t = p;
  b.v = vp;
  b.chord = true;
  b.t2 = q;
  b.v2 = vq;
  return b;
}

} // namespace

const char* fnName(EnclosedFn f) {
  switch (f) {
  case EnclosedFn::Exp:
    return "exp";
  case EnclosedFn::Log:
    return "log";
  case EnclosedFn::Sigmoid:
    return "sigmoid";
  case EnclosedFn::Tanh:
    return "tanh";
  }
  return "?";
}

double evalFn(EnclosedFn f, double x) {
  switch (f) {
  case EnclosedFn::Exp:
    return std::exp(x);
  case EnclosedFn::Log:
    return std::log(x);
  case EnclosedFn::Sigmoid:
    return sigmoid(x);
  case EnclosedFn::Tanh:
    return std::tanh(x);
  }
  return 0;
}

double fnDown(EnclosedFn f, double x) {
  if (f == EnclosedFn::Log && !(x > 0)) return -kInf;
  if (x == -kInf) return range(f).first;
  if (x == kInf) return f == EnclosedFn::Exp || f == EnclosedFn::Log ? kInf : range(f).second;
  double v = evalFn(f, x);
  // exp overflows to inf only when e^x > DBL_MAX: the largest double is then a lower bound.
  if (v == kInf) return downN(std::numeric_limits<double>::max(), 8);
  return std::max(widenDown(v), range(f).first);
}

double fnUp(EnclosedFn f, double x) {
  if (f == EnclosedFn::Log && !(x > 0)) return -kInf; // log is undefined there
  if (x == kInf) return range(f).second;
  if (x == -kInf) return f == EnclosedFn::Log ? -kInf : range(f).first;
  double u = widenUp(evalFn(f, x));
  if (std::isnan(u)) return range(f).second;
  return std::min(u, range(f).second);
}

std::pair<double, double> fnImage(EnclosedFn f, double lo, double hi) {
  double l = fnDown(f, lo), h = fnUp(f, hi);
  // No valid argument of log: the interpreter errors there; keep y unconstrained.
  if (f == EnclosedFn::Log && !(hi > 0)) h = kInf;
  return {l, h};
}

std::vector<LinearBound> enclose(EnclosedFn f, double lo, double hi, int pieces) {
  std::vector<LinearBound> out;
  pieces = std::max(1, pieces);
  auto [rlo, rhi] = range(f);
  if (std::isfinite(rlo)) out.push_back(constBound(false, -kInf, kInf, rlo));
  if (std::isfinite(rhi)) out.push_back(constBound(true, -kInf, kInf, rhi));
  if (lo > hi) return out;

  // The finite window the pieces cover; outside it, monotone constant bounds.
  double a, b;
  switch (f) {
  case EnclosedFn::Log: {
    a = lo > 0 ? lo : (std::isfinite(hi) && hi > 0 ? std::min(hi, 1.0) * 1e-9 : 1e-9);
    b = std::isfinite(hi) ? hi : std::max(a, 1.0) * 1e9;
    if (!(b > 0)) return out; // log undefined on the whole interval
    break;
  }
  case EnclosedFn::Exp: {
    a = std::isfinite(lo) ? lo : (std::isfinite(hi) ? hi - 40 : -20);
    b = std::isfinite(hi) ? hi : (std::isfinite(lo) ? std::max(lo, 0.0) + 40 : 20);
    a = std::clamp(a, -745.0, 709.0);
    b = std::clamp(b, -745.0, 709.0);
    break;
  }
  default: {
    a = std::isfinite(lo) ? lo : (std::isfinite(hi) ? std::min(hi, 0.0) - 40 : -40);
    b = std::isfinite(hi) ? hi : (std::isfinite(lo) ? std::max(lo, 0.0) + 40 : 40);
    if (std::max(a, -40.0) <= std::min(b, 40.0)) {
      a = std::max(a, -40.0);
      b = std::min(b, 40.0);
    }
  }
  }
  if (a > b) std::swap(a, b); // only when clamping crossed (a point interval far out)
  // Outer pieces: x <= a => y <= U(a); x >= b => y >= L(b).
  if (lo < a) out.push_back(constBound(true, -kInf, a, fnUp(f, a)));
  if (hi > b) out.push_back(constBound(false, b, kInf, fnDown(f, b)));

  std::vector<double> pts = grid(a, b, pieces, f == EnclosedFn::Log && b / a > 100);
  if ((f == EnclosedFn::Sigmoid || f == EnclosedFn::Tanh) && a < 0 && b > 0) {
    pts.push_back(0.0); // split at the inflection point
    std::sort(pts.begin(), pts.end());
    pts.erase(std::unique(pts.begin(), pts.end()), pts.end());
  }
  if (pts.size() == 1) { // a point interval: constant bounds there
    out.push_back(constBound(false, a, a, fnDown(f, a)));
    out.push_back(constBound(true, a, a, fnUp(f, a)));
  }

  // Global tangents of exp (lower) and log (upper), at every grid point and piece midpoint.
  if (f == EnclosedFn::Exp || f == EnclosedFn::Log) {
    std::vector<double> touch = pts;
    for (size_t i = 0; i + 1 < pts.size(); ++i)
      touch.push_back(pts[i] + (pts[i + 1] - pts[i]) / 2);
    for (double t : touch) {
      double s = f == EnclosedFn::Exp ? std::exp(t) : 1.0 / t;
      if (!(s > 0) || !std::isfinite(s)) continue;
      double L = std::log(s);
      LinearBound lb;
      lb.from = -kInf;
      lb.to = kInf;
      lb.slope = s;
      lb.t = 0;
      if (f == EnclosedFn::Exp) { // e^x >= s x + s (1 - ln s)
        double lnUp = widenUp(L);
        lb.upper = false;
        lb.v = down(s * down(1.0 - lnUp));
      } else { // log x <= s x - 1 - ln s  (x > 0)
        double lnDown = widenDown(L);
        lb.upper = true;
        lb.v = up(-1.0 - lnDown);
      }
      if (std::isfinite(lb.v)) out.push_back(lb);
    }
  }

  for (size_t i = 0; i + 1 < pts.size(); ++i) {
    double p = pts[i], q = pts[i + 1];
    double Lp = fnDown(f, p), Lq = fnDown(f, q), Up = fnUp(f, p), Uq = fnUp(f, q);
    // Monotone: L(p) <= y <= U(q) on [p, q].
    if (std::isfinite(Lp)) out.push_back(constBound(false, p, q, Lp));
    if (std::isfinite(Uq)) out.push_back(constBound(true, p, q, Uq));
    bool convex =
        f == EnclosedFn::Exp || ((f == EnclosedFn::Sigmoid || f == EnclosedFn::Tanh) && q <= 0);
    bool concave =
        f == EnclosedFn::Log || ((f == EnclosedFn::Sigmoid || f == EnclosedFn::Tanh) && p >= 0);
    // Chords: above a convex piece (through the U values), below a concave one (L values).
    if (convex && std::isfinite(Up) && std::isfinite(Uq)) out.push_back(chord(true, p, q, Up, Uq));
    if (concave && std::isfinite(Lp) && std::isfinite(Lq))
      out.push_back(chord(false, p, q, Lp, Lq));
    // Piece tangents of sigmoid / tanh at the midpoint, lowered (raised) by the slope error.
    if ((f == EnclosedFn::Sigmoid || f == EnclosedFn::Tanh) && (convex || concave)) {
      double t = p + (q - p) / 2;
      if (!(t > p && t < q)) continue;
      double s = derivative(f, t);
      if (!std::isfinite(s) || s < 0) continue;
      double R = up(std::max(up(t - p), up(q - t)));
      double E = up(up(s * kRel) + kAbs);
      double slack = up(E * R);
      LinearBound tb;
      tb.from = p;
      tb.to = q;
      tb.t = t;
      tb.slope = s;
      tb.upper = concave;
      tb.v = concave ? up(fnUp(f, t) + slack) : down(fnDown(f, t) - slack);
      if (std::isfinite(tb.v)) out.push_back(tb);
    }
  }
  return out;
}

} // namespace chassis::verifier

// Sound linear enclosures of exp, log, sigmoid and tanh on an interval, for the IR -> Z3 encoder
// (verifier/ir_encoder.cpp): each occurrence y = f(x) becomes a fresh real y constrained by the
// guarded linear bounds below, so the query stays in linear (or polynomial) real arithmetic.
//
// The maths (f increasing in every case; sqrt is encoded exactly by the encoder: y >= 0, y*y = x).
//   exp  (convex)  lower: the supporting lines  e^x >= s x + s (1 - ln s)  for slopes s > 0, valid
//                  for EVERY real x (convex conjugate: the tangent of slope s touches at x = ln s);
//                  upper: on each piece [p, q] the chord through (p, U(p)), (q, U(q)) with
//                  U >= e^. (a convex function is below its chords; raising both ends raises it);
//                  and y >= 0.
//   log  (concave, x > 0)  upper: log x <= s x - 1 - ln s for slopes s > 0 and every x > 0 (the
//                  tangent at x = 1/s); lower: on each piece [p, q], 0 < p, the chord through
//                  (p, L(p)), (q, L(q)) with L <= log.
//   sigmoid, tanh  increasing, convex on x <= 0 and concave on x >= 0 (sigma'' = s(1-s)(1-2s),
//                  tanh'' = -2 tanh (1 - tanh^2)): the pieces are split at 0; on each piece
//                  [p, q]:  L(p) <= y <= U(q) (monotone); on a convex piece the chord through the
//                  U values above and a tangent line below; on a concave one the reverse. And the
//                  ranges 0 <= sigmoid <= 1, -1 <= tanh <= 1.
// A piece bound is guarded: "p <= x <= q  =>  bound", so it constrains nothing outside its piece
// (and a wrong interval for x could only weaken the enclosure, never exclude the true value).
//
// Outward rounding. Every bound is stated with exact rationals (doubles read exactly by the
// encoder: a line is  y >= v + s (x - t), or the line through two points, with doubles v, s, t),
// so only the doubles chosen must be valid; they are:
//   L(x), U(x): f(x) computed in float64, then moved 8 ulps down (up) with nextafter and by a
//     further absolute 1e-300. glibc documents the errors of exp, log, tanh, cosh as <= 2 ulp
//     (x86_64, "Errors in Math Functions"); our formulas add at most three correctly rounded
//     operations (sigmoid(x) = 1/(1+e^-x) or e^x/(1+e^x)), so the computed value is within
//     4 ulp(f) of f(x) in the normal range; 8 ulps of the computed value are at least 4 ulps of
//     f (the ulp changes by at most a factor 2 between them), and the absolute 1e-300 covers the
//     subnormal range, where relative error bounds fail but absolute errors are < 1e-307.
//   A single correctly rounded operation r = fl(p) has pred(r) <= p <= succ(r) (round to nearest
//     never skips a double), so down(fl(a op b)) <= a op b <= up(fl(a op b)); the intercepts
//     below are computed that way, one nextafter after each operation in the safe direction.
//   exp tangents: slope s is any positive double; ln s <= up(L) where L is log(s) moved 8 ulps
//     and 1e-300 up; intercept c = down(s * down(1 - lnUp)) <= s (1 - ln s) since s > 0.
//   log tangents: intercept c = up(-1 - lnDown) >= -1 - ln s with lnDown <= ln s.
//   sigmoid/tanh tangents at t in a piece [p, q] (convex case; the concave case mirrors it):
//     with s the computed derivative (sigma(t) sigma(-t), or 1/cosh(t)^2; relative error
//     < 16 ulp = 2^-48, so |f'(t) - s| <= E := |s| 2^-40 + 1e-300) and R >= max(t-p, q-t),
//     the line  y >= v + s (x - t),  v = down(L(t) - up(E R)), is below f on [p, q]:
//     v + s (x-t) <= f(t) + f'(t)(x-t) + |f'(t) - s| |x-t| - E R <= f(t) + f'(t)(x-t) <= f(x).
#pragma once

#include <vector>

namespace chassis::verifier {

enum class EnclosedFn { Exp, Log, Sigmoid, Tanh };

/// One guarded linear bound:  from <= x <= to  =>  y (<= or >=) line(x), where line is
///   v + slope (x - t)                        (chord == false), or
///   v + (v2 - v) / (t2 - t) (x - t)          (chord == true, t2 > t: the line through two points)
/// in exact rational arithmetic on these doubles. from/to may be infinite (no guard on that
/// side); for log the encoder adds the guard x > 0 to every bound.
struct LinearBound {
  bool upper = false;
  double from = 0, to = 0;
  double t = 0, v = 0;
  double slope = 0;
  bool chord = false;
  double t2 = 0, v2 = 0;
};

/// The float64 value of f at x (sigmoid computed stably), and the outward-rounded values L, U.
double evalFn(EnclosedFn f, double x);
double fnDown(EnclosedFn f, double x);
double fnUp(EnclosedFn f, double x);

/// The interval image [L(lo), U(hi)] of [lo, hi] (f is increasing), lo/hi possibly infinite;
/// for log, lo <= 0 gives -inf.
std::pair<double, double> fnImage(EnclosedFn f, double lo, double hi);

/// The guarded bounds enclosing f on [lo, hi] (infinite ends allowed), with `pieces` pieces
/// over the finite part (more pieces: a tighter enclosure).
std::vector<LinearBound> enclose(EnclosedFn f, double lo, double hi, int pieces);

/// "exp", "log", "sigmoid", "tanh".
const char* fnName(EnclosedFn f);

} // namespace chassis::verifier

// The Planet (triangle) LP relaxation of a ReLU network on one branch-and-bound domain, solved by
// GLPK, with a RIGOROUS lower bound derived from GLPK's dual multipliers (GLPK's float optimum is
// never trusted as is).
//
// The LP. Columns: the inputs x (bounded by the box), every layer's pre-activations h_k (bounded
// by the domain's sound bounds nb, which already carry its phase splits) and, for each unstable
// ReLU (l < 0 < u), its output z (bounded by [0, u]); a stable ReLU's output is h (l >= 0) or 0
// (u <= 0) exactly. Rows: h_k = W_k z_{k-1} + b_k (the float64 weights, exact), and for each
// unstable ReLU z >= h and z - s h <= t with s = fl(u / (u - l)) and t >= max over h in [l, u] of
// relu(h) - s h (= max(-s l, u (1 - s)), rounded up), so every point the REAL network takes on
// the domain is feasible. A case C y <= d adds a column m (the margin) and rows C_r y - m <= d_r;
// the LP minimises m. If the certified lower bound of min m is > 0, no input of the domain
// satisfies every constraint of the case (any violating input is feasible with m = 0).
//
// The certificate (Neumaier and Shcherbina, "Safe bounds in linear and mixed-integer
// programming", Math. Prog. 2004). For the LP min c^T v s.t. rl <= A v <= ru, cl <= v <= cu
// (all column bounds finite) and ANY multipliers y (a row whose needed side is infinite gets
// y_r = 0): c^T v = y^T (A v) + (c - A^T y)^T v >= sum_r min(y_r rl_r, y_r ru_r)
//   + sum_j min(r_j cl_j, r_j cu_j),  r = c - A^T y  (real arithmetic).
// r is computed in float64 and enclosed by |r_j - fl(r_j)| <= gamma (|c_j| + sum_r |a_rj y_r|),
// the sum's own rounding by gamma sum |terms| (gamma = 2 (n + 2) 2^-53, Higham Thm 3.5, as in
// bounds.cpp), so the returned bound holds in real arithmetic whatever GLPK's duals are: a bad
// dual only makes it weak. Why GLPK: a Debian package (libglpk-dev), a plain C API, an exact
// (rational) simplex if ever needed, and GPL is fine for a tool.
#pragma once

#include "neural/affine_net.h"
#include "verifier/bounds.h"

#include <Eigen/Dense>

#include <memory>
#include <string>

namespace chassis::verifier {

struct LpCaseResult {
  bool solved = false;        // GLPK ran and the certificate was evaluated
  double certified = -INFINITY; // rigorous lower bound on the LP's min margin (real arithmetic)
  double lpValue = NAN;       // GLPK's float64 optimum (informative only)
  Eigen::VectorXd x;          // GLPK's input point (a counterexample candidate), when solved
  std::string reason;         // why not solved
};

/// One domain's LP (built once, then one solve per case). Uses GLPK through a per-thread
/// environment; an object is used by one thread at a time.
class LpRelaxation {
public:
  /// nb: sound pre-activation bounds of the domain (splits applied); must not be infeasible.
  LpRelaxation(const neural::AffineNet& net, const Box& box, const NetBounds& nb);
  ~LpRelaxation();
  LpRelaxation(const LpRelaxation&) = delete;
  LpRelaxation& operator=(const LpRelaxation&) = delete;

  /// False (with a reason) when the LP could not be built (non-finite bounds or weights).
  bool ok() const { return ok_; }
  const std::string& whyNot() const { return why_; }
  int columns() const { return static_cast<int>(cl_.size()); }

  /// The certified lower bound of min over the relaxation of max_r (C_r y - d_r) (> 0: the case
  /// C y <= d has no input in the domain). timeLimitSec caps GLPK's simplex (<= 0: none).
  LpCaseResult caseMargin(const Eigen::MatrixXd& C, const Eigen::VectorXd& d,
                          double timeLimitSec);

  /// The certified lower bound of min over the relaxation of c^T y (a bound of one output
  /// row, no case constraints).
  LpCaseResult minimise(const Eigen::RowVectorXd& c, double timeLimitSec);

private:
  struct Row {
    std::vector<int> idx; // 0-based columns
    std::vector<double> val;
    double lo, hi; // -inf / +inf for a free side
  };
  int addColumn(double lo, double hi);
  void addRow(Row r);
  LpCaseResult solve(const std::vector<Row>& extraRows, const std::vector<double>& objective,
                     double timeLimitSec);

  bool ok_ = true;
  std::string why_;
  int d_ = 0;
  std::vector<double> cl_, cu_; // column bounds
  std::vector<Row> rows_;
  std::vector<int> outCol_;    // output j's column, -1 if identically 0
  std::vector<double> outAbs_; // bound on |y_j|
};

} // namespace chassis::verifier

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

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

struct glp_prob; // GLPK's problem (glpk.h)

namespace chassis::verifier {

struct LpCaseResult {
  bool solved = false;        // GLPK ran and the certificate was evaluated
  double certified = -INFINITY; // rigorous lower bound on the LP's min margin (real arithmetic)
  double lpValue = NAN;       // GLPK's float64 optimum (informative only)
  Eigen::VectorXd x;          // GLPK's input point (a counterexample candidate), when solved
  std::vector<double> primal; // GLPK's value of every column (hColumn/zColumn index it), when
                              // primal feasible
  std::vector<double> duals;  // the row multipliers the certificate was computed from (the
                              // domain's rows, then the case's), for checkCaseCertificate
  std::string reason;         // why not solved
};

/// One domain's LP (built once, then one solve per case). Uses GLPK through a per-thread
/// environment; an object is used by one thread at a time.
class LpRelaxation {
public:
  /// nb: sound pre-activation bounds of the domain (splits applied); must not be infeasible.
  LpRelaxation(const neural::AffineNet& net, const Box& box, const NetBounds& nb);

  /// The compact form, for domains with few unstable ReLUs: columns only for the inputs, the
  /// unstable ReLUs' h and z and the outputs; a stable neuron is an affine form of the columns
  /// before it (its stable phase substituted), composed in float64 with a rigorous error
  /// radius e (Higham's gamma bounds over the columns' bounds), so each row defining an
  /// unstable h or an output y is the two-sided  c - e <= h - a^T v <= c + e  that every real
  /// point of the domain satisfies. A stable neuron's bound is dropped (a looser relaxation,
  /// still sound), except the sign h >= 0 / h <= 0 of one whose bound is exactly 0 (a phase
  /// split's clamp), kept as a row so that a fully split pattern's LP is exact up to e.
  struct Compact {};
  LpRelaxation(const neural::AffineNet& net, const Box& box, const NetBounds& nb, Compact);
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

  /// The bound caseMargin's certificate gives for the multipliers `duals` (one per row: the
  /// domain's, then the case's; a multiplier on a row's infinite side counts as 0), evaluated
  /// again without GLPK. Any multipliers give a valid (possibly useless) lower bound; -inf when
  /// their number is wrong.
  double checkCaseCertificate(const Eigen::MatrixXd& C, const Eigen::VectorXd& d,
                              const std::vector<double>& duals);

  /// One bound of a column (lp_intermediate.h): `upper` false: a certified lower bound of min
  /// v_column over the relaxation; true: a certified upper bound of max v_column.
  struct ColumnTask {
    int column = -1;
    bool upper = false;
  };
  /// Bounds the tasks' columns on ONE GLPK problem built once: each solve changes only the
  /// objective and is warm-started from the previous optimal basis (still primal feasible,
  /// so the primal simplex goes on from it). The tasks are pulled through `next` (shared by the
  /// threads calling this at once on the same object: the method only reads it) until none is
  /// left or `deadline` passes; out[i] gets task i's certified bound (the certificate of
  /// solve(), from GLPK's duals; -inf / +inf when not solved). Returns the number of solves.
  int boundColumns(const std::vector<ColumnTask>& tasks, std::atomic<size_t>& next,
                   std::vector<double>& out, std::chrono::steady_clock::time_point deadline) const;

  /// The column of layer k's pre-activation j, and of its ReLU output when that has its own
  /// column (an unstable ReLU), else -1.
  int hColumn(int k, Eigen::Index j) const { return hCols_[static_cast<size_t>(k)][static_cast<size_t>(j)]; }
  int zColumn(int k, Eigen::Index j) const { return zCols_[static_cast<size_t>(k)][static_cast<size_t>(j)]; }

private:
  struct Row {
    std::vector<int> idx; // 0-based columns
    std::vector<double> val;
    double lo, hi; // -inf / +inf for a free side
  };
  int addColumn(double lo, double hi);
  /// The domain's bounds exist and are feasible, the box finite (else ok_ false with the reason).
  bool acceptsDomain(const Box& box, const NetBounds& nb, int layers);
  void addRow(Row r);
  /// GLPK's problem of the domain's rows and `extraRows` with the objective (minimised), scaled.
  std::unique_ptr<::glp_prob, void (*)(::glp_prob*)>
  buildProblem(const std::vector<Row>& extraRows, const std::vector<double>& objective) const;
  LpCaseResult solve(const std::vector<Row>& extraRows, const std::vector<double>& objective,
                     double timeLimitSec);
  /// The case's rows C_r y - m <= d_r on a margin column m appended to the columns (the caller
  /// removes it), and the objective min m; false (reason set) when M is not finite.
  bool addMarginColumn(const Eigen::MatrixXd& C, const Eigen::VectorXd& d, std::vector<Row>& extra,
                       std::vector<double>& obj, std::string& reason);
  /// Neumaier-Shcherbina's safe bound for the multipliers y (see the top of this file).
  double certificate(const std::vector<Row>& extraRows, const std::vector<double>& objective,
                     std::vector<double> y) const;

  bool ok_ = true;
  std::string why_;
  int d_ = 0;
  std::vector<double> cl_, cu_; // column bounds
  std::vector<Row> rows_;
  std::vector<int> outCol_;    // output j's column, -1 if identically 0
  std::vector<double> outAbs_; // bound on |y_j|
  std::vector<std::vector<int>> hCols_, zCols_; // per layer and neuron (zColumn's -1s)
};

} // namespace chassis::verifier

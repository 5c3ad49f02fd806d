// The domain LP and its safe dual bound (see lp_relaxation.h for the maths).
#include "verifier/lp_relaxation.h"

#include <glpk.h>

#include <algorithm>
#include <cmath>
#include <mutex>

namespace chassis::verifier {
namespace {

constexpr double kUnit = 1.1102230246251565e-16; // 2^-53
constexpr double kTiny = 1e-290;
constexpr double kTinyWeight = 1e-7; // LP coefficients below this (relative) are relaxed away

double gammaN(size_t n) {
  return 2.0 * static_cast<double>(n + 2) * kUnit;
}

/// GLPK keeps its environment per thread when built with thread-local storage (Debian's is);
/// otherwise every use is serialised.
std::mutex& glpkMutex() {
  static std::mutex m;
  return m;
}
bool glpkThreadLocal() {
  static const bool tls = glp_config("TLS") != nullptr;
  return tls;
}

/// x rounded up/down by a relative 2u plus kTiny (one float64 product or sum).
double roundUp(double x) {
  return x + 2.0 * kUnit * std::fabs(x) + kTiny;
}
double roundDown(double x) {
  return x - 2.0 * kUnit * std::fabs(x) - kTiny;
}

} // namespace

int LpRelaxation::addColumn(double lo, double hi) {
  cl_.push_back(lo);
  cu_.push_back(hi);
  return static_cast<int>(cl_.size()) - 1;
}

void LpRelaxation::addRow(Row r) {
  rows_.push_back(std::move(r));
}

bool LpRelaxation::acceptsDomain(const Box& box, const NetBounds& nb, int layers) {
  if (nb.infeasible || static_cast<int>(nb.lo.size()) != layers) {
    ok_ = false;
    why_ = "the domain's bounds are infeasible or missing";
    return false;
  }
  for (int i = 0; i < d_; ++i)
    if (!std::isfinite(box.lo[i]) || !std::isfinite(box.hi[i]) || box.lo[i] > box.hi[i]) {
      ok_ = false;
      why_ = "the input box is not finite";
      return false;
    }
  return true;
}

LpRelaxation::LpRelaxation(const neural::AffineNet& net, const Box& box, const NetBounds& nb) {
  d_ = net.inputSize;
  const int L = static_cast<int>(net.layers.size());
  if (!acceptsDomain(box, nb, L)) return;
  // prevCol[i]: column of z_{k-1,i} (or x_i), -1 when it is identically 0; prevAbs its |max|.
  std::vector<int> prevCol(static_cast<size_t>(d_));
  std::vector<double> prevAbs(static_cast<size_t>(d_));
  for (int i = 0; i < d_; ++i) {
    prevCol[i] = addColumn(box.lo[i], box.hi[i]);
    prevAbs[i] = std::max(std::fabs(box.lo[i]), std::fabs(box.hi[i]));
  }
  for (int k = 0; k < L; ++k) {
    const auto& layer = net.layers[k];
    const Eigen::Index n = layer.W.rows();
    std::vector<int> hCol(static_cast<size_t>(n)), zCol(static_cast<size_t>(n)),
        ownZ(static_cast<size_t>(n), -1);
    std::vector<double> zAbs(static_cast<size_t>(n));
    for (Eigen::Index j = 0; j < n; ++j) {
      const double l = nb.lo[k][j], u = nb.hi[k][j];
      if (!std::isfinite(l) || !std::isfinite(u) || l > u || !std::isfinite(layer.b[j])) {
        ok_ = false;
        why_ = "a pre-activation bound or bias is not finite";
        return;
      }
      hCol[j] = addColumn(l, u);
      Row r; // h_j - W_j z = b_j
      r.idx.push_back(hCol[j]);
      r.val.push_back(1.0);
      double rowMax = 0.0;
      for (Eigen::Index i = 0; i < layer.W.cols(); ++i) {
        const double w = layer.W(j, i);
        if (!std::isfinite(w)) {
          ok_ = false;
          why_ = "a weight is not finite";
          return;
        }
        if (prevCol[i] >= 0) rowMax = std::max(rowMax, std::fabs(w));
      }
      // A weight under kTinyWeight x the row's largest (conv layers trained with weight decay
      // have some near 1e-10) makes GLPK's basis singular to working precision: its term
      // w z (|z| <= zAbs) moves into the row's range instead, h - W'_j z in [b_j - e, b_j + e]
      // with e >= sum of the dropped |w| zAbs (rounded up: a looser row, still sound).
      double dropped = 0.0;
      size_t droppedTerms = 0;
      for (Eigen::Index i = 0; i < layer.W.cols(); ++i) {
        const double w = layer.W(j, i);
        if (w == 0.0 || prevCol[i] < 0) continue;
        if (std::fabs(w) < kTinyWeight * rowMax) {
          dropped += std::fabs(w) * prevAbs[i];
          ++droppedTerms;
          continue;
        }
        r.idx.push_back(prevCol[i]);
        r.val.push_back(-w);
      }
      r.lo = r.hi = layer.b[j];
      if (droppedTerms > 0) {
        const double e = dropped * (1.0 + 2.0 * gammaN(droppedTerms)) + kTiny;
        r.lo = roundDown(layer.b[j] - e);
        r.hi = roundUp(layer.b[j] + e);
      }
      addRow(std::move(r));
      if (!layer.relu) {
        zCol[j] = hCol[j];
        zAbs[j] = std::max(std::fabs(l), std::fabs(u));
      } else if (u <= 0) {
        zCol[j] = -1;
        zAbs[j] = 0;
      } else if (l >= 0) {
        zCol[j] = hCol[j];
        zAbs[j] = u;
      } else {
        zCol[j] = addColumn(0.0, u);
        ownZ[static_cast<size_t>(j)] = zCol[j];
        zAbs[j] = u;
        addRow(Row{{zCol[j], hCol[j]}, {1.0, -1.0}, 0.0, INFINITY}); // z >= h
        // z <= s h + t: valid for the rounded s when t >= relu(h) - s h at both ends of [l, u]
        // (a convex function of h: its maximum is at an end). A slope under kTinyWeight (u
        // tiny against -l) would make the basis ill-conditioned: z <= u (z's bound) instead.
        const double s = u / (u - l);
        const double t = std::max(roundUp(-s * l), roundUp(u * roundUp(1.0 - s)));
        if (s >= kTinyWeight) addRow(Row{{zCol[j], hCol[j]}, {1.0, -s}, -INFINITY, t});
      }
    }
    hCols_.push_back(hCol);
    zCols_.push_back(std::move(ownZ));
    prevCol = std::move(zCol);
    prevAbs = std::move(zAbs);
  }
  outCol_ = std::move(prevCol);
  outAbs_ = std::move(prevAbs);
}

namespace {

/// x + its float64 rounding allowance, upward (a nonnegative error radius).
double radiusUp(double x, size_t terms) {
  return x * (1.0 + 2.0 * gammaN(terms)) + kTiny;
}

/// An affine form a^T v + c of the LP's columns, with |true value - form| <= e.
struct AffineForm {
  std::vector<double> a; // over the columns made so far (shorter: zeros)
  double c = 0, e = 0;
};

} // namespace

LpRelaxation::LpRelaxation(const neural::AffineNet& net, const Box& box, const NetBounds& nb,
                           Compact) {
  d_ = net.inputSize;
  const int L = static_cast<int>(net.layers.size());
  if (!acceptsDomain(box, nb, L)) return;
  std::vector<AffineForm> prev(static_cast<size_t>(d_));
  for (int i = 0; i < d_; ++i) {
    const int col = addColumn(box.lo[i], box.hi[i]);
    prev[static_cast<size_t>(i)].a.assign(static_cast<size_t>(col + 1), 0.0);
    prev[static_cast<size_t>(i)].a[static_cast<size_t>(col)] = 1.0;
  }
  // The row h - a^T v in [lo, hi] (-a^T v without h's column, hc = -1).
  auto defineRow = [&](int hc, const AffineForm& f, double lo, double hi) {
    Row r;
    if (hc >= 0) {
      r.idx.push_back(hc);
      r.val.push_back(1.0);
    }
    for (size_t j = 0; j < f.a.size(); ++j)
      if (f.a[j] != 0.0) {
        r.idx.push_back(static_cast<int>(j));
        r.val.push_back(-f.a[j]);
      }
    r.lo = lo;
    r.hi = hi;
    addRow(std::move(r));
  };
  for (int k = 0; k < L; ++k) {
    const auto& layer = net.layers[k];
    const Eigen::Index n = layer.W.rows(), m = layer.W.cols();
    std::vector<AffineForm> cur(static_cast<size_t>(n));
    std::vector<int> hCol(static_cast<size_t>(n), -1), ownZ(static_cast<size_t>(n), -1);
    const size_t terms = static_cast<size_t>(m) + 2;
    for (Eigen::Index j = 0; j < n; ++j) {
      const double l = nb.lo[k][j], u = nb.hi[k][j];
      if (!std::isfinite(l) || !std::isfinite(u) || l > u || !std::isfinite(layer.b[j])) {
        ok_ = false;
        why_ = "a pre-activation bound or bias is not finite";
        return;
      }
      // h = sum_i W_ji z_i + b_j with z_i = its form +- e_i.
      const size_t nc = cl_.size();
      AffineForm h;
      h.a.assign(nc, 0.0);
      std::vector<double> absAcc(nc, 0.0);
      double cAbs = std::fabs(layer.b[j]), eIn = 0.0;
      h.c = layer.b[j];
      for (Eigen::Index i = 0; i < m; ++i) {
        const double w = layer.W(j, i);
        if (!std::isfinite(w)) {
          ok_ = false;
          why_ = "a weight is not finite";
          return;
        }
        if (w == 0.0) continue;
        const AffineForm& z = prev[static_cast<size_t>(i)];
        for (size_t q = 0; q < z.a.size(); ++q)
          if (z.a[q] != 0.0) {
            h.a[q] += w * z.a[q];
            absAcc[q] += std::fabs(w * z.a[q]);
          }
        h.c += w * z.c;
        cAbs += std::fabs(w * z.c);
        eIn += std::fabs(w) * z.e;
      }
      // Rounding of the composed coefficients and constant (sums of m + 1 products), over
      // the columns' ranges.
      double spread = cAbs;
      for (size_t q = 0; q < nc; ++q)
        spread += absAcc[q] * std::max(std::fabs(cl_[q]), std::fabs(cu_[q]));
      h.e = radiusUp(radiusUp(eIn, terms) + gammaN(terms) * radiusUp(spread, nc + terms), 4);
      if (!std::isfinite(h.e)) {
        ok_ = false;
        why_ = "a composed affine form is not finite";
        return;
      }
      AffineForm& z = cur[static_cast<size_t>(j)];
      if (!layer.relu) { // an output: its own column
        hCol[j] = addColumn(l, u);
        defineRow(hCol[j], h, roundDown(h.c - h.e), roundUp(h.c + h.e));
        z.a.assign(cl_.size(), 0.0);
        z.a[static_cast<size_t>(hCol[j])] = 1.0;
      } else if (u <= 0) {
        if (u == 0.0) // a phase split's clamp h <= 0: a^T v + c - e <= 0, the row is -a^T v
          defineRow(-1, h, roundDown(h.c - h.e), INFINITY);
      } else if (l >= 0) {
        if (l == 0.0) // h >= 0: a^T v + c + e >= 0
          defineRow(-1, h, -INFINITY, roundUp(h.c + h.e));
        z = h;
      } else {
        hCol[j] = addColumn(l, u);
        defineRow(hCol[j], h, roundDown(h.c - h.e), roundUp(h.c + h.e));
        ownZ[static_cast<size_t>(j)] = addColumn(0.0, u);
        const int zc = ownZ[static_cast<size_t>(j)];
        addRow(Row{{zc, hCol[j]}, {1.0, -1.0}, 0.0, INFINITY}); // z >= h
        const double s = u / (u - l);
        const double t = std::max(roundUp(-s * l), roundUp(u * roundUp(1.0 - s)));
        addRow(Row{{zc, hCol[j]}, {1.0, -s}, -INFINITY, t});
        z.a.assign(cl_.size(), 0.0);
        z.a[static_cast<size_t>(zc)] = 1.0;
      }
    }
    hCols_.push_back(std::move(hCol));
    zCols_.push_back(std::move(ownZ));
    prev = std::move(cur);
  }
  // The outputs' columns (the last layer has no ReLU) or, after a ReLU, their z columns; an
  // output that is a composed form of a stable ReLU gets a column here.
  outCol_.assign(prev.size(), -1);
  outAbs_.assign(prev.size(), 0.0);
  const int last = L - 1;
  for (size_t j = 0; j < prev.size(); ++j) {
    const AffineForm& f = prev[j];
    int only = -1, nz = 0;
    for (size_t q = 0; q < f.a.size(); ++q)
      if (f.a[q] != 0.0) {
        only = static_cast<int>(q);
        ++nz;
      }
    const double l = nb.lo[last][static_cast<Eigen::Index>(j)],
                 u = nb.hi[last][static_cast<Eigen::Index>(j)];
    const double lo = net.layers[last].relu ? std::max(l, 0.0) : l;
    const double hi = net.layers[last].relu ? std::max(u, 0.0) : u;
    if (nz == 0 && f.c == 0.0 && f.e == 0.0) continue; // identically 0
    if (nz == 1 && f.a[static_cast<size_t>(only)] == 1.0 && f.c == 0.0 && f.e == 0.0) {
      outCol_[j] = only;
    } else {
      outCol_[j] = addColumn(lo, hi);
      defineRow(outCol_[j], f, roundDown(f.c - f.e), roundUp(f.c + f.e));
    }
    outAbs_[j] = std::max(std::fabs(lo), std::fabs(hi));
  }
}

LpRelaxation::~LpRelaxation() = default;

LpCaseResult LpRelaxation::minimise(const Eigen::RowVectorXd& c, double timeLimitSec) {
  std::vector<double> obj(cl_.size(), 0.0);
  for (Eigen::Index j = 0; j < c.size() && j < static_cast<Eigen::Index>(outCol_.size()); ++j)
    if (outCol_[j] >= 0) obj[outCol_[j]] += c[j]; // a column is one output's at most
  return solve({}, obj, timeLimitSec);
}

bool LpRelaxation::addMarginColumn(const Eigen::MatrixXd& C, const Eigen::VectorXd& d,
                                   std::vector<Row>& extra, std::vector<double>& obj,
                                   std::string& reason) {
  // The margin column m in [-M, M] with M >= max_r (C_r y - d_r) on the relaxation, so the LP
  // is feasible; any bound containing 0 keeps a violating input feasible (with m = 0).
  double M = 1.0;
  for (Eigen::Index r = 0; r < C.rows(); ++r) {
    double s = std::fabs(d[r]);
    for (Eigen::Index j = 0; j < C.cols(); ++j)
      s += std::fabs(C(r, j)) * outAbs_[static_cast<size_t>(j)];
    M = std::max(M, 2.0 * s + 1.0);
  }
  if (!std::isfinite(M)) {
    reason = "the output bounds are not finite";
    return false;
  }
  const int mCol = addColumn(-M, M);
  for (Eigen::Index r = 0; r < C.rows(); ++r) {
    Row row;
    for (Eigen::Index j = 0; j < C.cols(); ++j)
      if (C(r, j) != 0.0 && outCol_[static_cast<size_t>(j)] >= 0) {
        row.idx.push_back(outCol_[static_cast<size_t>(j)]);
        row.val.push_back(C(r, j));
      }
    row.idx.push_back(mCol);
    row.val.push_back(-1.0);
    row.lo = -INFINITY;
    row.hi = d[r];
    extra.push_back(std::move(row));
  }
  obj.assign(cl_.size(), 0.0);
  obj[static_cast<size_t>(mCol)] = 1.0;
  return true;
}

LpCaseResult LpRelaxation::caseMargin(const Eigen::MatrixXd& C, const Eigen::VectorXd& d,
                                      double timeLimitSec) {
  LpCaseResult res;
  if (!ok_) {
    res.reason = why_;
    return res;
  }
  std::vector<Row> extra;
  std::vector<double> obj;
  if (!addMarginColumn(C, d, extra, obj, res.reason)) return res;
  res = solve(extra, obj, timeLimitSec);
  cl_.pop_back();
  cu_.pop_back();
  return res;
}

double LpRelaxation::checkCaseCertificate(const Eigen::MatrixXd& C, const Eigen::VectorXd& d,
                                          const std::vector<double>& duals) {
  if (!ok_) return -INFINITY;
  std::vector<Row> extra;
  std::vector<double> obj;
  std::string why;
  if (!addMarginColumn(C, d, extra, obj, why)) return -INFINITY;
  double b = -INFINITY;
  if (duals.size() == rows_.size() + extra.size()) b = certificate(extra, obj, duals);
  cl_.pop_back();
  cu_.pop_back();
  return b;
}

std::unique_ptr<::glp_prob, void (*)(::glp_prob*)>
LpRelaxation::buildProblem(const std::vector<Row>& extraRows,
                           const std::vector<double>& objective) const {
  const int nc = static_cast<int>(cl_.size());
  const int nr = static_cast<int>(rows_.size() + extraRows.size());
  auto rowAt = [&](int i) -> const Row& {
    return i < static_cast<int>(rows_.size()) ? rows_[static_cast<size_t>(i)]
                                              : extraRows[static_cast<size_t>(i) - rows_.size()];
  };
  std::unique_ptr<glp_prob, void (*)(glp_prob*)> lp(glp_create_prob(), glp_delete_prob);
  glp_set_obj_dir(lp.get(), GLP_MIN);
  glp_add_cols(lp.get(), nc);
  for (int j = 0; j < nc; ++j) {
    const double lo = cl_[static_cast<size_t>(j)], hi = cu_[static_cast<size_t>(j)];
    glp_set_col_bnds(lp.get(), j + 1, lo == hi ? GLP_FX : GLP_DB, lo, hi);
    glp_set_obj_coef(lp.get(), j + 1, objective[static_cast<size_t>(j)]);
  }
  glp_add_rows(lp.get(), nr);
  std::vector<int> ind;
  std::vector<double> val;
  for (int i = 0; i < nr; ++i) {
    const Row& r = rowAt(i);
    int type = GLP_FX;
    if (r.lo != r.hi) {
      if (std::isinf(r.lo) && std::isinf(r.hi)) type = GLP_FR;
      else if (std::isinf(r.lo)) type = GLP_UP;
      else if (std::isinf(r.hi)) type = GLP_LO;
      else type = GLP_DB;
    }
    glp_set_row_bnds(lp.get(), i + 1, type, std::isinf(r.lo) ? 0.0 : r.lo,
                     std::isinf(r.hi) ? 0.0 : r.hi);
    ind.assign(1, 0); // GLPK's arrays are 1-based
    val.assign(1, 0.0);
    for (size_t t = 0; t < r.idx.size(); ++t) {
      ind.push_back(r.idx[t] + 1);
      val.push_back(r.val[t]);
    }
    glp_set_mat_row(lp.get(), i + 1, static_cast<int>(r.idx.size()), ind.data(), val.data());
  }
  glp_scale_prob(lp.get(), GLP_SF_AUTO);
  glp_adv_basis(lp.get(), 0);
  return lp;
}

int LpRelaxation::boundColumns(const std::vector<ColumnTask>& tasks, std::atomic<size_t>& next,
                               std::vector<double>& out,
                               std::chrono::steady_clock::time_point deadline) const {
  if (!ok_) return 0;
  std::unique_lock<std::mutex> serial(glpkMutex(), std::defer_lock);
  if (!glpkThreadLocal()) serial.lock();
  glp_term_out(GLP_OFF);
  const int nc = static_cast<int>(cl_.size());
  const int nr = static_cast<int>(rows_.size());
  std::vector<double> obj(static_cast<size_t>(nc), 0.0);
  std::unique_ptr<glp_prob, void (*)(glp_prob*)> lp(nullptr, glp_delete_prob);
  int solves = 0, prevColumn = -1;
  std::vector<double> y(static_cast<size_t>(nr));
  for (;;) {
    const double remaining =
        std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
    if (remaining <= 0) break;
    const size_t t = next.fetch_add(1);
    if (t >= tasks.size()) break;
    const ColumnTask& task = tasks[t];
    if (task.column < 0 || task.column >= nc) continue;
    // min v (lower) or min -v (upper: max v = -min -v).
    if (prevColumn >= 0) obj[static_cast<size_t>(prevColumn)] = 0.0;
    obj[static_cast<size_t>(task.column)] = task.upper ? -1.0 : 1.0;
    if (!lp) {
      lp = buildProblem({}, obj);
    } else {
      if (prevColumn >= 0) glp_set_obj_coef(lp.get(), prevColumn + 1, 0.0);
      glp_set_obj_coef(lp.get(), task.column + 1, obj[static_cast<size_t>(task.column)]);
    }
    prevColumn = task.column;
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    // The primal simplex: the first solve from GLPK's advanced basis, the next ones from the
    // previous optimum, primal feasible for the new objective (only the objective changed).
    // (The dual simplex failed on oval21's cifar_base from the advanced basis: singular.)
    parm.meth = GLP_PRIMAL;
    parm.presolve = GLP_OFF; // the duals of the original rows are needed
    parm.tm_lim = static_cast<int>(std::min(remaining * 1000.0, 2.0e9));
    int rc = glp_simplex(lp.get(), &parm);
    ++solves;
    if (rc != 0 && rc != GLP_ETMLIM && rc != GLP_EITLIM) {
      // A singular or ill-conditioned warm basis: once more from an advanced basis.
      glp_adv_basis(lp.get(), 0);
      rc = glp_simplex(lp.get(), &parm);
      ++solves;
      if (rc != 0 && rc != GLP_ETMLIM && rc != GLP_EITLIM) {
        lp.reset(); // rebuilt for the next task
        prevColumn = -1;
        std::fill(obj.begin(), obj.end(), 0.0);
        continue;
      }
    }
    for (int i = 0; i < nr; ++i)
      y[static_cast<size_t>(i)] = glp_get_row_dual(lp.get(), i + 1);
    const double b = certificate({}, obj, y); // lower bound of min obj^T v
    if (std::isfinite(b)) out[t] = task.upper ? -b : b;
  }
  return solves;
}

LpCaseResult LpRelaxation::solve(const std::vector<Row>& extraRows,
                                 const std::vector<double>& objective, double timeLimitSec) {
  LpCaseResult res;
  if (!ok_) {
    res.reason = why_;
    return res;
  }
  std::unique_lock<std::mutex> serial(glpkMutex(), std::defer_lock);
  if (!glpkThreadLocal()) serial.lock();
  glp_term_out(GLP_OFF);
  const int nc = static_cast<int>(cl_.size());
  const int nr = static_cast<int>(rows_.size() + extraRows.size());
  auto lp = buildProblem(extraRows, objective);
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  parm.meth = GLP_DUALP;
  parm.presolve = GLP_OFF; // the duals of the original rows are needed
  if (timeLimitSec > 0)
    parm.tm_lim = static_cast<int>(std::min(timeLimitSec * 1000.0, 2.0e9));
  const int rc = glp_simplex(lp.get(), &parm);
  if (rc != 0 && rc != GLP_ETMLIM && rc != GLP_EITLIM) {
    res.reason = "GLPK's simplex failed (code " + std::to_string(rc) + ")";
    return res;
  }
  res.lpValue = glp_get_obj_val(lp.get());
  if (glp_get_prim_stat(lp.get()) == GLP_FEAS) {
    res.x.resize(d_);
    for (int i = 0; i < d_; ++i)
      res.x[i] = std::clamp(glp_get_col_prim(lp.get(), i + 1), cl_[static_cast<size_t>(i)],
                            cu_[static_cast<size_t>(i)]);
    res.primal.resize(static_cast<size_t>(nc));
    for (int j = 0; j < nc; ++j)
      res.primal[static_cast<size_t>(j)] = glp_get_col_prim(lp.get(), j + 1);
  }
  // The safe bound from the duals (whatever GLPK's status: any y gives a valid bound).
  std::vector<double> y(static_cast<size_t>(nr));
  for (int i = 0; i < nr; ++i)
    y[static_cast<size_t>(i)] = glp_get_row_dual(lp.get(), i + 1);
  lp.reset();
  if (serial.owns_lock()) serial.unlock();
  res.certified = certificate(extraRows, objective, y);
  res.duals = std::move(y);
  res.solved = std::isfinite(res.certified);
  if (!res.solved) res.reason = "the certificate is not finite";
  return res;
}

double LpRelaxation::certificate(const std::vector<Row>& extraRows,
                                 const std::vector<double>& objective,
                                 std::vector<double> y) const {
  const int nc = static_cast<int>(cl_.size());
  const int nr = static_cast<int>(rows_.size() + extraRows.size());
  auto rowAt = [&](int i) -> const Row& {
    return i < static_cast<int>(rows_.size()) ? rows_[static_cast<size_t>(i)]
                                              : extraRows[static_cast<size_t>(i) - rows_.size()];
  };
  if (static_cast<int>(y.size()) != nr || static_cast<int>(objective.size()) != nc)
    return -INFINITY;
  for (int i = 0; i < nr; ++i) {
    double& yi = y[static_cast<size_t>(i)];
    const Row& r = rowAt(i);
    if (!std::isfinite(yi) || (yi > 0 && std::isinf(r.lo)) || (yi < 0 && std::isinf(r.hi)))
      yi = 0.0; // this row's needed side is infinite: it cannot carry a multiplier
  }
  std::vector<double> resid(objective), residErr(static_cast<size_t>(nc), 0.0);
  std::vector<size_t> nnz(static_cast<size_t>(nc), 0);
  for (size_t j = 0; j < resid.size(); ++j)
    residErr[j] = std::fabs(resid[j]);
  double sum = 0.0, sumAbs = 0.0;
  size_t terms = 0;
  for (int i = 0; i < nr; ++i) {
    const double yi = y[static_cast<size_t>(i)];
    if (yi == 0.0) continue;
    const Row& r = rowAt(i);
    for (size_t t = 0; t < r.idx.size(); ++t) {
      const size_t j = static_cast<size_t>(r.idx[t]);
      resid[j] -= r.val[t] * yi;
      residErr[j] += std::fabs(r.val[t] * yi);
      ++nnz[j];
    }
    const double term = yi > 0 ? yi * r.lo : yi * r.hi;
    sum += term;
    sumAbs += std::fabs(term);
    ++terms;
  }
  for (size_t j = 0; j < resid.size(); ++j) {
    const double lo = cl_[j], hi = cu_[j];
    const double e = gammaN(nnz[j] + 1) * residErr[j] * std::max(std::fabs(lo), std::fabs(hi));
    const double term = std::min(resid[j] * lo, resid[j] * hi) - e;
    sum += term;
    sumAbs += std::fabs(term);
    ++terms;
  }
  return sum - gammaN(terms + 1) * sumAbs - kTiny;
}

} // namespace chassis::verifier

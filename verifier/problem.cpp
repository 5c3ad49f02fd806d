// Case conversion and the float64 replay check (see problem.h).
#include "verifier/problem.h"

#include <limits>

namespace chassis::verifier {

CaseSpec toCaseSpec(const spec::VnnCase& c, int numOutputs) {
  CaseSpec cs;
  const Eigen::Index n = static_cast<Eigen::Index>(c.lo.size());
  cs.box.lo = Eigen::Map<const Eigen::VectorXd>(c.lo.data(), n);
  cs.box.hi = Eigen::Map<const Eigen::VectorXd>(c.hi.data(), n);
  const Eigen::Index m = static_cast<Eigen::Index>(c.constraints.size());
  cs.C = Eigen::MatrixXd::Zero(m, numOutputs);
  cs.d = Eigen::VectorXd::Zero(m);
  for (Eigen::Index i = 0; i < m; ++i) {
    for (int j = 0; j < numOutputs; ++j) cs.C(i, j) = c.constraints[i].coef[j];
    cs.d[i] = c.constraints[i].rhs;
  }
  return cs;
}

double violation(const neural::AffineNet& net, const CaseSpec& cs, const Eigen::VectorXd& x) {
  if (cs.C.rows() == 0) return -std::numeric_limits<double>::infinity();
  Eigen::VectorXd y = net.forward(x);
  return (cs.C * y - cs.d).maxCoeff();
}

bool replays(const neural::AffineNet& net, const CaseSpec& cs, const Eigen::VectorXd& x) {
  if (x.size() != cs.box.lo.size()) return false;
  for (Eigen::Index i = 0; i < x.size(); ++i)
    if (!(x[i] >= cs.box.lo[i] && x[i] <= cs.box.hi[i])) return false;
  if (cs.C.rows() == 0) return true;
  Eigen::VectorXd y = net.forward(x);
  for (Eigen::Index i = 0; i < cs.C.rows(); ++i) {
    double s = 0.0; // a plain left-to-right sum, independent of Eigen's kernels
    for (Eigen::Index j = 0; j < y.size(); ++j) s += cs.C(i, j) * y[j];
    if (!(s <= cs.d[i])) return false;
  }
  return true;
}

} // namespace chassis::verifier

// Case conversion and the float64 replay check (see problem.h).
#include "verifier/problem.h"

#include <limits>

namespace chassis::verifier {

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

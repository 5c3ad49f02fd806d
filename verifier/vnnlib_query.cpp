// VNN-LIB property -> NetworkQuery (see vnnlib_query.h).
#include "verifier/vnnlib_query.h"

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

NetworkQuery toNetworkQuery(const spec::VnnProperty& p, SourceLoc origin) {
  NetworkQuery q;
  q.numInputs = p.numInputs;
  q.numOutputs = p.numOutputs;
  q.origin = std::move(origin);
  q.cases.reserve(p.cases.size());
  for (const spec::VnnCase& c : p.cases)
    q.cases.push_back(toCaseSpec(c, p.numOutputs));
  return q;
}

} // namespace chassis::verifier

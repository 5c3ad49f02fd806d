// A complete float64 domain of the shared evaluator (symbolic/evaluator.h) and a statement
// back end on its generated dispatch, compiled by check.cmake (not linked): as is it must
// compile; with CHASSIS_OMIT_SQRT (a domain without one real operation), with
// CHASSIS_OMIT_FACTOR (a back end without one statement kind), or against a copy of
// spec/ir_nodes.def with one more operator, it must not.
#include "symbolic/evaluator.h"

#include <cmath>
#include <span>
#include <string>
#include <vector>

namespace {

using namespace chassis;

struct Val {
  double s = 0;
  std::vector<double> a;
};

struct Domain : symbolic::ExprEvaluator<Domain, Val>,
                symbolic::StmtDispatch<Domain, bool, std::vector<Val>&> {
  std::string error;
  double constant(double v) { return v; }
  double plain(double v) { return v; }
  bool fail(std::string m) {
    error = std::move(m);
    return false;
  }
  bool realNeg(double x, double& o) { return o = -x, true; }
  bool realAbs(double x, double& o) { return o = std::fabs(x), true; }
  bool realRelu(double x, double& o) { return o = x > 0 ? x : 0, true; }
  bool realExp(double x, double& o) { return o = std::exp(x), true; }
  bool realLog(double x, double& o) { return o = std::log(x), true; }
#ifndef CHASSIS_OMIT_SQRT
  bool realSqrt(double x, double& o) { return o = std::sqrt(x), true; }
#endif
  bool realSigmoid(double x, double& o) { return o = 1 / (1 + std::exp(-x)), true; }
  bool realTanh(double x, double& o) { return o = std::tanh(x), true; }
  bool realAdd(double l, double r, double& o) { return o = l + r, true; }
  bool realSub(double l, double r, double& o) { return o = l - r, true; }
  bool realMul(double l, double r, double& o) { return o = l * r, true; }
  bool realDiv(double l, double r, double& o) { return o = l / r, true; }
  bool realMin(double l, double r, double& o) { return o = l < r ? l : r, true; }
  bool realMax(double l, double r, double& o) { return o = l > r ? l : r, true; }
  bool realSum(std::span<const double> xs, double& o) {
    o = 0;
    for (double x : xs)
      o += x;
    return true;
  }
  bool realDot(std::span<const double> xs, std::span<const double> ys, double& o) {
    o = 0;
    for (size_t k = 0; k < xs.size(); ++k)
      o += xs[k] * ys[k];
    return true;
  }
  bool realCompare(ir::BinOp op, double l, double r, bool& o) {
    o = symbolic::ops::compare(op, l, r);
    return true;
  }
  bool realArgmax(std::span<const double>, size_t& best) { return best = 0, true; }
  bool affineRow(const ir::DenseLayer& l, int r, std::span<const double>, double& o) {
    return o = l.b(r), true;
  }
  bool callPure(const ir::Function&, std::vector<Val>&, std::vector<Val>&) { return false; }

  bool stmtLet(const ir::LetStmt& s, std::vector<Val>& fr) {
    return eval(s.value, fr, fr[size_t(s.var->slot())]);
  }
  bool stmtAssign(const ir::AssignStmt& s, std::vector<Val>& fr) {
    return eval(s.value, fr, fr[size_t(s.var->slot())]);
  }
  bool stmtSample(const ir::SampleStmt&, std::vector<Val>&) { return fail("no sampling"); }
  bool stmtObserve(const ir::ObserveStmt&, std::vector<Val>&) { return true; }
  bool stmtCondition(const ir::ConditionStmt&, std::vector<Val>&) { return true; }
#ifndef CHASSIS_OMIT_FACTOR
  bool stmtFactor(const ir::FactorStmt&, std::vector<Val>&) { return true; }
#endif
  bool stmtAssert(const ir::AssertStmt&, std::vector<Val>&) { return true; }
  bool stmtIf(const ir::IfStmt&, std::vector<Val>&) { return true; }
  bool stmtFor(const ir::ForStmt&, std::vector<Val>&) { return true; }
  bool stmtCall(const ir::CallStmt&, std::vector<Val>&) { return true; }
};

} // namespace

bool runOne(ir::Stmt s, std::vector<Val>& frame) {
  Domain d;
  return d.stmt(s, frame);
}

// The IR printer: a Program as deterministic, readable text (`chassis check --emit=ir`). Output
// depends only on the program (functions in their topological order, statements in order,
// numbers printed with the shortest digits that round-trip), never on pointer values or hash
// order, so it doubles as a golden-test hook. Expressions print as trees, infix operators fully
// parenthesised when nested, so the text is unambiguous without precedence rules:
//
//   enum Gear { Low, High }
//   module Controller(reading: real in [0.0, 200.0], speed: real in [0.0, 40.0]) -> (brake: bool) {
//     let stopping: real = (speed * speed) / 12.0
//     brake = reading <= (stopping + 5.0)
//   }
//   property brakes: forall reading: real in [0.0, 10.0], speed: real in [5.0, 30.0]:
//     Controller(reading, speed).brake
#include "spec/ir.h"

#include <charconv>
#include <cmath>
#include <ostream>
#include <sstream>

namespace chassis::ir {

std::string formatReal(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, ec == std::errc() ? end : buf);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}

namespace {

class Printer {
public:
  Printer(const Context& ctx, std::ostream& os) : ctx_(ctx), os_(os) {}

  std::string expr(Expr e, bool nested = false) {
    switch (e->kind()) {
    case ExprKind::Const: {
      auto* c = e->as<Const>();
      switch (e->type().scalar) {
      case ScalarKind::Bool:
        return c->boolValue() ? "true" : "false";
      case ScalarKind::Int:
        return std::to_string(c->intValue());
      case ScalarKind::Real:
        return formatReal(c->realValue());
      case ScalarKind::Enum: {
        const EnumDecl& d = ctx_.enums()[e->type().enumId];
        return d.name + "." + d.constants[c->intValue()];
      }
      case ScalarKind::Tuple:
        return "?";
      }
      return "?";
    }
    case ExprKind::Var:
      return e->as<Var>()->name();
    case ExprKind::Unary: {
      auto* u = e->as<Unary>();
      if (u->op() == UnOp::Neg || u->op() == UnOp::Not)
        return std::string(spelling(u->op())) + expr(u->arg(), true);
      return std::string(spelling(u->op())) + "(" + expr(u->arg()) + ")";
    }
    case ExprKind::Binary: {
      auto* b = e->as<Binary>();
      if (!isInfix(b->op()))
        return std::string(spelling(b->op())) + "(" + expr(b->lhs()) + ", " + expr(b->rhs()) + ")";
      std::string s =
          expr(b->lhs(), true) + " " + std::string(spelling(b->op())) + " " + expr(b->rhs(), true);
      return nested ? "(" + s + ")" : s;
    }
    case ExprKind::Select: {
      auto* s = e->as<Select>();
      std::string r =
          "select(" + expr(s->cond()) + ", " + expr(s->ifTrue()) + ", " + expr(s->ifFalse()) + ")";
      return r;
    }
    case ExprKind::ArrayLit:
      return "[" + list(e->operands()) + "]";
    case ExprKind::Index: {
      auto* x = e->as<Index>();
      return expr(x->array(), true) + "[" + expr(x->index()) + "]";
    }
    case ExprKind::Update: {
      auto* x = e->as<Update>();
      return "update(" + expr(x->array()) + ", " + expr(x->index()) + ", " + expr(x->value()) + ")";
    }
    case ExprKind::Call: {
      auto* c = e->as<Call>();
      return c->callee().name() + "(" + list(c->args()) + ")";
    }
    case ExprKind::CallResult: {
      auto* r = e->as<CallResult>();
      return expr(&r->call()) + "." + r->call().callee().outputs()[r->index()]->name();
    }
    case ExprKind::Affine: {
      auto* a = e->as<Affine>();
      return "affine<" + std::to_string(a->layer().rows) + "x" + std::to_string(a->layer().cols) +
             ", #" + std::to_string(e->id()) + ">(" + expr(a->input()) + ")";
    }
    case ExprKind::VecRelu:
      return "relu_layer(" + expr(e->operand(0)) + ")";
    }
    return "?";
  }

  std::string list(std::span<const Expr> es) {
    std::string s;
    for (size_t k = 0; k < es.size(); ++k)
      s += (k ? ", " : "") + expr(es[k]);
    return s;
  }

  std::string address(const std::string& name, const std::vector<Expr>& idx) {
    std::string s = name;
    for (Expr i : idx)
      s += "[" + expr(i) + "]";
    return s;
  }

  std::string dist(DistKind d, const std::vector<Expr>& params) {
    return std::string(signature(d).name) + "(" + list(params) + ")";
  }

  void block(const Block& b, int indent) {
    for (Stmt s : b)
      stmt(s, indent);
  }

  void stmt(Stmt s, int indent) {
    std::string pad(size_t(indent) * 2, ' ');
    os_ << pad;
    switch (s->kind()) {
    case StmtKind::Let: {
      auto* x = s->as<LetStmt>();
      os_ << "let " << x->var->name() << ": " << ctx_.typeName(x->var->type()) << " = "
          << expr(x->value) << "\n";
      break;
    }
    case StmtKind::Assign: {
      auto* x = s->as<AssignStmt>();
      os_ << x->var->name() << " = " << expr(x->value) << "\n";
      break;
    }
    case StmtKind::Sample: {
      auto* x = s->as<SampleStmt>();
      os_ << x->var->name() << " ~ " << dist(x->dist, x->params) << " @ "
          << address(x->name, x->indices);
      if (x->transformShift) os_ << " shift " << expr(x->transformShift);
      os_ << "\n";
      break;
    }
    case StmtKind::Observe: {
      auto* x = s->as<ObserveStmt>();
      os_ << "observe " << dist(x->dist, x->params) << " = " << expr(x->value) << "\n";
      break;
    }
    case StmtKind::Condition:
      os_ << "condition " << expr(s->as<ConditionStmt>()->cond) << "\n";
      break;
    case StmtKind::Factor:
      os_ << "factor " << expr(s->as<FactorStmt>()->logWeight) << "\n";
      break;
    case StmtKind::Assert: {
      auto* x = s->as<AssertStmt>();
      os_ << "assert " << expr(x->cond) << " : \"" << x->message << "\"\n";
      break;
    }
    case StmtKind::If: {
      auto* x = s->as<IfStmt>();
      os_ << "if " << expr(x->cond) << " {\n";
      block(x->thenBody, indent + 1);
      if (!x->elseBody.empty()) {
        os_ << pad << "} else {\n";
        block(x->elseBody, indent + 1);
      }
      os_ << pad << "}\n";
      break;
    }
    case StmtKind::For: {
      auto* x = s->as<ForStmt>();
      os_ << "for " << x->index->name() << " in " << x->lo << ".." << x->hi << " {\n";
      block(x->body, indent + 1);
      os_ << pad << "}\n";
      break;
    }
    case StmtKind::Call: {
      auto* x = s->as<CallStmt>();
      os_ << "(";
      for (size_t k = 0; k < x->results.size(); ++k)
        os_ << (k ? ", " : "") << (x->results[k] ? x->results[k]->name() : "_");
      os_ << ") = call " << x->callee->name() << "(" << list(x->args) << ") @ "
          << address(x->site, x->siteIndices) << "\n";
      break;
    }
    }
  }

  std::string range(const std::optional<std::pair<double, double>>& r) {
    if (!r) return "";
    return " in [" + formatReal(r->first) + ", " + formatReal(r->second) + "]";
  }

  void function(const Function& f) {
    const char* kw = f.kind() == FunctionKind::Module    ? "module"
                     : f.kind() == FunctionKind::Network ? "network"
                                                         : "external";
    os_ << kw << " " << f.name() << "(";
    for (size_t k = 0; k < f.inputs().size(); ++k) {
      const Param& p = f.inputs()[k];
      os_ << (k ? ", " : "") << p.var->name() << ": " << ctx_.typeName(p.var->type())
          << range(p.range);
    }
    os_ << ") -> (";
    for (size_t k = 0; k < f.outputs().size(); ++k)
      os_ << (k ? ", " : "") << f.outputs()[k]->name() << ": "
          << ctx_.typeName(f.outputs()[k]->type());
    os_ << ")";
    if (f.isRandom()) os_ << (f.hasWeight() ? " random weighted" : " random");
    if (f.kind() == FunctionKind::External) {
      os_ << " = \"" << f.externalFile() << "\"\n";
      return;
    }
    os_ << " {\n";
    block(f.body(), 1);
    os_ << "}\n";
  }

  void property(const Property& p) {
    os_ << "property " << p.name << ":";
    if (p.module || p.vars.empty()) {
      os_ << " " << propertyKindName(p.kind);
      if (p.module) os_ << "[" << p.module->name() << "]";
      os_ << ":";
    }
    // The quantifier prefix: a new `forall` / `exists` wherever the quantifier changes.
    for (size_t k = 0; k < p.vars.size(); ++k) {
      const QuantVar& q = p.vars[k];
      bool fresh = k == 0 || q.exists != p.vars[k - 1].exists;
      if (fresh)
        os_ << (k ? ": " : " ") << (q.exists ? "exists " : "forall ");
      else
        os_ << ", ";
      os_ << q.var->name() << ": " << ctx_.typeName(q.var->type());
      if (q.var->type().isNumeric())
        os_ << " in [" << formatReal(q.lo) << ", " << formatReal(q.hi) << "]";
    }
    if (!p.vars.empty()) os_ << ":";
    os_ << "\n  " << expr(p.body);
    if (p.given) os_ << " | " << expr(p.given);
    if (p.kind == PropertyKind::Probability || p.kind == PropertyKind::Expectation)
      os_ << "\n  " << spelling(p.cmp) << " " << formatReal(p.bound);
    os_ << "\n";
  }

private:
  const Context& ctx_;
  std::ostream& os_;
};

} // namespace

std::string str(Expr e, const Context& ctx) {
  std::ostringstream os;
  return Printer(ctx, os).expr(e);
}

void print(const Function& f, const Context& ctx, std::ostream& os) {
  Printer(ctx, os).function(f);
}

void print(const Program& program, std::ostream& os) {
  Printer p(program.ctx(), os);
  for (const EnumDecl& e : program.ctx().enums()) {
    os << "enum " << e.name << " {";
    for (size_t k = 0; k < e.constants.size(); ++k)
      os << (k ? ", " : " ") << e.constants[k];
    os << " }\n";
  }
  for (auto& f : program.functions())
    p.function(*f);
  for (const Property& prop : program.properties)
    p.property(prop);
}

} // namespace chassis::ir

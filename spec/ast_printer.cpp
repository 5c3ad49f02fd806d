// The AST dump (spec/ast_printer.h). Reals are printed in the shortest form that reads back to
// the same double (std::to_chars), with ".0" added if that form looks like an integer.
#include "spec/ast_printer.h"

#include <charconv>
#include <sstream>

namespace chassis::spec {

namespace {

std::string realText(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, ec == std::errc() ? p : buf);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0"; // n: inf / nan
  return s;
}

std::string join(const std::vector<ExprPtr>& args, size_t from = 0) {
  std::string s;
  for (size_t i = from; i < args.size(); ++i)
    s += (i > from ? ", " : "") + printExpr(*args[i]);
  return s;
}

std::string rangeText(const VarDecl& v) {
  if (!v.range) return "";
  bool isInt = v.type.kind == TypeKind::Int || (v.type.isArray() && v.type.elem == TypeKind::Int);
  auto num = [&](double x) {
    return isInt ? std::to_string(static_cast<int64_t>(x)) : realText(x);
  };
  return " in [" + num(v.range->lo) + ", " + num(v.range->hi) + "]";
}

std::string params(const std::vector<VarDecl*>& vs) {
  std::string s;
  for (size_t i = 0; i < vs.size(); ++i)
    s += (i ? ", " : "") + vs[i]->name + ": " + vs[i]->type.str() + rangeText(*vs[i]);
  return s;
}

const char* kindTag(VarKind k) {
  switch (k) {
  case VarKind::Input:
    return "input";
  case VarKind::Output:
    return "output";
  case VarKind::Let:
    return "let";
  case VarKind::Local:
    return "var";
  case VarKind::LoopIndex:
    return "index";
  case VarKind::Random:
    return "random";
  case VarKind::Quantified:
    return "bound";
  }
  return "?";
}

void stmts(std::ostringstream& os, const std::vector<StmtPtr>& body, int indent);

void stmt(std::ostringstream& os, const Stmt& s, int indent) {
  std::string pad(static_cast<size_t>(indent) * 2, ' ');
  auto target = [&]() {
    std::string t = s.name;
    if (s.index)
      t += "[" + printExpr(*s.index) + (s.index2 ? ", " + printExpr(*s.index2) : "") + "]";
    return t + " {" + (s.var ? kindTag(s.var->kind) : "?") + "}";
  };
  switch (s.kind) {
  case StmtKind::Let:
    os << pad << "let " << s.name << ": " << s.var->type.str() << " = " << printExpr(*s.value)
       << "\n";
    return;
  case StmtKind::LetTuple: {
    os << pad << "let (";
    for (size_t k = 0; k < s.vars.size(); ++k)
      os << (k ? ", " : "") << s.vars[k]->name << ": " << s.vars[k]->type.str();
    std::string call = printExpr(*s.value);
    if (auto dot = call.rfind(")."); dot != std::string::npos) call.resize(dot + 1);
    os << ") = " << call << "\n";
    return;
  }
  case StmtKind::Var:
    os << pad << "var " << s.name << ": " << s.var->type.str();
    if (s.value) os << " = " << printExpr(*s.value);
    os << "\n";
    return;
  case StmtKind::Assign:
    os << pad << target() << " = " << printExpr(*s.value) << " : " << s.value->type.str() << "\n";
    return;
  case StmtKind::Sample:
    os << pad << target() << " ~ " << printExpr(*s.value) << "\n";
    return;
  case StmtKind::Observe:
    os << pad << "observe " << printExpr(*s.value) << ", " << printExpr(*s.value2) << "\n";
    return;
  case StmtKind::Condition:
    os << pad << "condition " << printExpr(*s.value) << "\n";
    return;
  case StmtKind::Factor:
    os << pad << "factor " << printExpr(*s.value) << "\n";
    return;
  case StmtKind::Assert:
    os << pad << "assert " << printExpr(*s.value);
    if (!s.message.empty()) os << " : \"" << s.message << "\"";
    os << "\n";
    return;
  case StmtKind::If:
    os << pad << "if " << printExpr(*s.value) << "\n";
    stmts(os, s.body, indent + 1);
    if (!s.elseBody.empty()) {
      os << pad << "else\n";
      stmts(os, s.elseBody, indent + 1);
    }
    return;
  case StmtKind::For:
    os << pad << "for " << s.name << " in " << s.from << ".." << s.to << "\n";
    stmts(os, s.body, indent + 1);
    return;
  }
}

void stmts(std::ostringstream& os, const std::vector<StmtPtr>& body, int indent) {
  for (auto& s : body)
    stmt(os, *s, indent);
}

// A task, one clause per line, with what the checker resolved: the label's type, the
// network file's resolved path; options as written (integers without a decimal point).
void task(std::ostringstream& os, const TaskDecl& t) {
  auto number = [](double v, bool integral) {
    return integral ? std::to_string(static_cast<int64_t>(v)) : realText(v);
  };
  os << "task " << t.name << "\n";
  os << "  inputs " << t.inputsName << "\n";
  os << "  label " << t.labelModule << "." << t.labelOutput;
  if (t.labelVar) os << ": " << t.labelVar->type.str();
  os << "\n  network " << netSourceName(t.netSource) << "(";
  if (t.netSource == TaskDecl::NetSource::Onnx || t.netSource == TaskDecl::NetSource::Nnet) {
    os << "\"" << t.resolvedNetPath << "\"";
  } else {
    for (size_t i = 0; i < t.netOptions.size(); ++i) {
      const TaskOption& o = t.netOptions[i];
      os << (i ? ", " : "") << o.name << " = " << (o.isList ? "[" : "");
      for (size_t j = 0; j < o.values.size(); ++j)
        os << (j ? ", " : "") << number(o.values[j], o.integral);
      os << (o.isList ? "]" : "");
    }
  }
  os << ")\n";
  if (!t.box.empty()) {
    os << "  box";
    for (size_t i = 0; i < t.box.size(); ++i)
      os << (i ? ", " : " ") << t.box[i].name << " in [" << realText(t.box[i].lo) << ", "
         << realText(t.box[i].hi) << "]";
    os << "\n";
  }
  if (!t.propertyNames.empty()) {
    os << "  properties";
    for (size_t i = 0; i < t.propertyNames.size(); ++i)
      os << (i ? ", " : " ") << t.propertyNames[i];
    os << "\n";
  }
}

} // namespace

std::string printExpr(const Expr& e) {
  switch (e.kind) {
  case ExprKind::IntLit:
    return std::to_string(e.intValue);
  case ExprKind::RealLit:
    return realText(e.realValue);
  case ExprKind::BoolLit:
    return e.boolValue ? "true" : "false";
  case ExprKind::Name:
  case ExprKind::VarRef:
    return e.name;
  case ExprKind::Member:
    return printExpr(*e.args[0]) + "." + e.name;
  case ExprKind::EnumConst:
    return (e.enumDecl ? e.enumDecl->name + "." : std::string()) + e.name;
  case ExprKind::Index:
    return printExpr(*e.args[0]) + "[" + printExpr(*e.args[1]) +
           (e.args.size() > 2 ? ", " + printExpr(*e.args[2]) : "") + "]";
  case ExprKind::ArrayLit:
    return "[" + join(e.args) + "]";
  case ExprKind::Unary:
    return std::string("(") + unaryOpSpelling(e.unaryOp) + printExpr(*e.args[0]) + ")";
  case ExprKind::Binary:
    return "(" + printExpr(*e.args[0]) + " " + binaryOpSpelling(e.binaryOp) + " " +
           printExpr(*e.args[1]) + ")";
  case ExprKind::Cond:
    return "(if " + printExpr(*e.args[0]) + " then " + printExpr(*e.args[1]) + " else " +
           printExpr(*e.args[2]) + ")";
  case ExprKind::Promote:
    return "real(" + printExpr(*e.args[0]) + ")";
  case ExprKind::Builtin:
    return std::string(builtinName(e.builtin)) + "(" + join(e.args) + ")";
  case ExprKind::Dist:
    if (e.flatShape != FlatShape::None)
      return e.name + (e.flatShape == FlatShape::Simplex ? "(simplex)" : "(ordered)");
    return e.name + "(" + join(e.args) + ")";
  case ExprKind::Call: {
    if (e.flatShape != FlatShape::None) // Flat(simplex) before checking
      return e.name + (e.flatShape == FlatShape::Simplex ? "(simplex)" : "(ordered)");
    std::string s = e.name + "(" + join(e.args) + ")";
    if (e.callee && e.outputIndex >= 0 &&
        static_cast<size_t>(e.outputIndex) < e.callee->outputs.size())
      s += "." + e.callee->outputs[static_cast<size_t>(e.outputIndex)]->name;
    return s;
  }
  case ExprKind::Quant: {
    std::string s = e.isExists ? "(exists " : "(forall ";
    for (size_t i = 0; i < e.quantVars.size(); ++i) {
      const VarDecl& v = *e.quantVars[i];
      s += (i ? ", " : "") + v.name + ": " + v.type.str() + rangeText(v);
    }
    return s + ": " + printExpr(*e.args[0]) + ")";
  }
  case ExprKind::Always:
    return "always[" + e.name + "](" + printExpr(*e.args[0]) + ")";
  case ExprKind::Prob:
    return "P[" + e.name + "](" + printExpr(*e.args[0]) +
           (e.args.size() > 1 ? " | " + printExpr(*e.args[1]) : std::string()) + ")";
  case ExprKind::Expect:
    return "E[" + e.name + "](" + printExpr(*e.args[0]) + ")";
  }
  return "?";
}

std::string printProgram(const Program& p) {
  std::ostringstream os;
  for (auto& f : p.files) {
    os << "file " << f->path << "\n";
    for (auto& d : f->decls) {
      if (!d->doc.empty()) {
        std::istringstream doc(d->doc);
        for (std::string line; std::getline(doc, line);)
          os << "/// " << line << "\n";
      }
      switch (d->kind) {
      case DeclKind::Import:
        os << "import \"" << d->name << "\" -> " << static_cast<const ImportDecl&>(*d).resolvedPath
           << "\n";
        break;
      case DeclKind::Enum: {
        auto& en = static_cast<const EnumDecl&>(*d);
        os << "enum " << en.name << " {";
        for (size_t i = 0; i < en.constants.size(); ++i)
          os << (i ? ", " : " ") << en.constants[i].name << " = " << en.constants[i].value;
        os << " }\n";
        break;
      }
      case DeclKind::Module: {
        auto& m = static_cast<const ModuleDecl&>(*d);
        os << "module " << m.name << "(" << params(m.inputs) << ") -> (" << params(m.outputs)
           << ")\n";
        stmts(os, m.body, 1);
        break;
      }
      case DeclKind::Network: {
        auto& n = static_cast<const NetworkDecl&>(*d);
        os << "network " << n.name << "(" << params(n.inputs) << ") -> (" << params(n.outputs)
           << ") = " << (n.format == NetworkFormat::Onnx ? "onnx" : "nnet") << "(\""
           << n.resolvedPath << "\")\n";
        break;
      }
      case DeclKind::Property: {
        auto& pr = static_cast<const PropertyDecl&>(*d);
        os << "property " << pr.name << ": " << printExpr(*pr.body) << "\n";
        break;
      }
      case DeclKind::Task:
        task(os, static_cast<const TaskDecl&>(*d));
        break;
      }
    }
  }
  os << "order:";
  for (const CallableDecl* c : p.order)
    os << " " << c->name;
  os << "\n";
  return os.str();
}

} // namespace chassis::spec

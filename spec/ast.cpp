// Small helpers over the AST (spec/ast.h): operator and builtin spellings, program look-ups.
#include "spec/ast.h"

#include <array>

namespace chassis::spec {

static constexpr std::array<const char*, 18> kBuiltinNames = {
    "min", "max",    "abs", "relu",        "exp",     "log",  "sqrt", "sigmoid", "tanh",
    "sum", "dot",    "argmax", "fabs",     "square",  "pow",  "log_sum_exp", "log_mix", "lpdf"};

const char* builtinName(Builtin b) {
  return kBuiltinNames[static_cast<int>(b)];
}

std::optional<Builtin> builtinFromName(std::string_view name) {
  for (size_t i = 0; i < kBuiltinNames.size(); ++i)
    if (name == kBuiltinNames[i]) return static_cast<Builtin>(i);
  return std::nullopt;
}

const char* unaryOpSpelling(UnaryOp op) {
  return op == UnaryOp::Neg ? "-" : "!";
}

const char* binaryOpSpelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::Mod:
    return "%";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  case BinaryOp::And:
    return "&&";
  case BinaryOp::Or:
    return "||";
  case BinaryOp::Implies:
    return "=>";
  }
  return "?";
}

const CallableDecl* Program::findCallable(std::string_view name) const {
  for (const CallableDecl* c : order)
    if (c->name == name) return c;
  for (const ModuleDecl* m : modules)
    if (m->name == name) return m;
  for (const NetworkDecl* n : networks)
    if (n->name == name) return n;
  return nullptr;
}

const EnumDecl* Program::findEnum(std::string_view name) const {
  for (const EnumDecl* e : enums)
    if (e->name == name) return e;
  return nullptr;
}

const TaskDecl* Program::findTask(std::string_view name) const {
  for (const TaskDecl* t : tasks)
    if (t->name == name) return t;
  return nullptr;
}

const TaskOption* TaskDecl::findOption(std::string_view n) const {
  for (const TaskOption& o : netOptions)
    if (o.name == n) return &o;
  return nullptr;
}

double TaskDecl::option(std::string_view n, double dflt) const {
  const TaskOption* o = findOption(n);
  return o && !o->values.empty() ? o->values.front() : dflt;
}

const char* netSourceName(TaskDecl::NetSource s) {
  switch (s) {
  case TaskDecl::NetSource::Onnx:
    return "onnx";
  case TaskDecl::NetSource::Nnet:
    return "nnet";
  case TaskDecl::NetSource::Train:
    return "train";
  case TaskDecl::NetSource::Compile:
    return "compile";
  }
  return "?";
}

} // namespace chassis::spec

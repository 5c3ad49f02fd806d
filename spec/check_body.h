// The checker of code inside a module body or a property: scopes, name resolution and the
// statement rules (check_modules.cpp), the output assignment rule (check_assignment.cpp), and
// expression typing with explicit int->real Promote nodes (check_expressions.cpp; quantifiers and
// always / P / E queries are in check_properties.cpp). One BodyChecker checks one module or
// property at a time.
#pragma once

#include "spec/check_context.h"

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chassis::spec::check {

/// Whether an output has been assigned on the paths reaching a point: No, Yes, or on some (Maybe).
enum class AState : uint8_t { No, Yes, Maybe };

class BodyChecker {
public:
  explicit BodyChecker(CheckContext& ctx) : ctx_(ctx) {}

  /// Checks the body of module `m` (check_modules.cpp).
  void checkModule(ModuleDecl& m);
  /// Checks property `p`: its body is a bool in a shape the back ends take; a property with
  /// errors goes into CheckContext::badProps (check_properties.cpp).
  void checkProperty(PropertyDecl& p);

private:
  // ---- scopes and statements (check_modules.cpp) ----
  VarDecl* lookupVar(const std::string& name) const;
  void declare(VarDecl* v);
  bool topLevel() const { return scopes_.size() == 1 && loops_.empty(); }
  void undefined(const std::string& name, const SourceLoc& l);
  void block(std::vector<StmtPtr>& body);
  Type target(Stmt& s, VarDecl* v);
  /// `which`: 0 for a 1-D array's index, 1 for a matrix's row index, 2 for its column index.
  void index(ExprPtr& idx, const Type& arr, const std::string& name, int which = 0);
  /// The indices of a target `name[i]` / `name[i, j]` against v's type; the element's type.
  Type targetIndices(Stmt& s, const VarDecl& v);
  void stmt(Stmt& s);
  bool loopBound(const Expr& e, int64_t& out);
  void letTuple(Stmt& s);

  // ---- the output assignment rule (check_assignment.cpp) ----
  void assignOutput(VarDecl* o, Stmt& s);
  void checkOutputRead(const VarDecl& v, const SourceLoc& l);
  void joinBranches(const std::vector<AState>& thenStates); // after an if's else branch
  void checkOuterLoopExit();
  void reportUnassignedOutputs();

  // ---- expressions (check_expressions.cpp) ----
  bool coerce(ExprPtr& e, const Type& to);
  static Type set(ExprPtr& e, Type t) {
    e->type = t;
    return t;
  }
  Type expr(ExprPtr& e);
  Type name(ExprPtr& e);
  Type member(ExprPtr& e);
  Type binary(ExprPtr& e);
  Type arrayLit(ExprPtr& e);
  Type call(ExprPtr& e, bool selecting);
  Type lpdf(ExprPtr& e);
  Type builtin(ExprPtr& e, Builtin b);
  /// `vecLen` > 0: vectorised over an array of that many elements; `vecCols` > 0: that array is
  /// a matrix with rows of vecCols elements.
  Type dist(ExprPtr& e, const char* where, int64_t vecLen = 0, int64_t vecCols = 0);

  // ---- property expressions (check_properties.cpp) ----
  Type quant(ExprPtr& e);
  Type modelQuery(ExprPtr& e);

  CheckContext& ctx_;
  ModuleDecl* mod_ = nullptr;
  const CallableDecl* sizeOwner_ = nullptr; // whose int inputs may give sizes (resolveType)
  std::vector<std::unordered_map<std::string, VarDecl*>> scopes_;
  std::vector<AState> states_, loopBefore_;
  std::vector<const Stmt*> loops_;
  __int128 outerTrips_ = 1; // product of the trip counts of the enclosing loops (<= the cap)
  std::set<std::string> reportedUndefined_, reportedRead_;
  bool partialRead_ = false;
  bool badTarget_ = false; // an assignment to an undefined name in this module
};

} // namespace chassis::spec::check

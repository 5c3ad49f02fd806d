// The state the checker's passes share, and each pass's entry. spec/checker.cpp runs them in
// this order (each reports to the DiagnosticEngine and leaves the Program as spec/ast.h says):
//   collectNames       (check_names.cpp)       global names unique across files; enum constants
//   checkSignatures    (check_signatures.cpp)  parameter types, input ranges, network rules
//   checkModuleBodies  (check_modules.cpp)     scopes, statements; the output assignment rule
//                                               in check_assignment.cpp, expression typing in
//                                               check_expressions.cpp (spec/check_body.h)
//   checkDataSizes     (check_sizes.cpp)       inputs fixed by the run's data get their range
//   checkProperties    (check_properties.cpp)  property bodies typed; the shapes back ends take
//   checkCallGraph     (check_calls.cpp)       recursion, topological order, random modules
//   checkTasks         (check_tasks.cpp)       a task's modules, box, label, network, properties
// Constant folding (constEval, for ranges, loop bounds and constant indices), the sizes from the
// data (resolveType, dataSize, checkRange) and the "did you mean" suggestions are shared helpers.
// Every error is reported once at the token to look at; an expression that failed gets the Error
// type, which every later check accepts silently, so one mistake gives one message.
#pragma once

#include "spec/ast.h"
#include "spec/callgraph.h"
#include "spec/data_sizes.h"
#include "spec/diagnostics.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chassis::spec::check {

// ---- constant folding (check_constants.cpp) -----------------------------------------------------

struct ConstVal {
  bool isInt = true;
  int64_t i = 0;
  double r = 0;
  double real() const { return isInt ? static_cast<double>(i) : r; }
};

/// "3", or "0.5" (%g) for a real.
std::string formatNumber(const ConstVal& v);

/// The value of a name in a constant expression (an int input fixed by the run's data), or
/// nullopt with `why`.
using NameValue = std::function<std::optional<int64_t>(const Expr& name, std::string& why)>;

/// Literals, unary minus and + - * / % on them, and names that `names` knows (loop bounds may use
/// int inputs fixed by the data). `/` is real division (as in the language).
/// nullopt (with `why`) if the expression is not constant or the arithmetic fails.
std::optional<ConstVal> constEval(const Expr& e, std::string& why,
                                  const NameValue* names = nullptr);

/// "input", "output", "let binding", ... as messages name a variable of that kind.
const char* kindWord(VarKind k);
/// "network" or "module".
const char* callableWord(const CallableDecl* c);

// ---- the shared state
// ----------------------------------------------------------------------------

/// What the passes share: the program, the diagnostics, the run's data, and the tables the name
/// pass fills (and the call-graph pass completes) for the later passes.
struct CheckContext {
  CheckContext(Program& p, DiagnosticEngine& d, const DataSizes* s) : prog(p), diags(d), sizes(s) {}

  Program& prog;
  DiagnosticEngine& diags;
  const DataSizes* sizes; // the run's data, if any

  // Filled by collectNames.
  std::unordered_map<std::string, Decl*> globals;
  std::unordered_map<std::string, std::vector<std::pair<const EnumDecl*, int64_t>>> bareConstants;
  std::vector<EnumDecl*> enums;
  std::vector<CallableDecl*> callables;
  std::vector<PropertyDecl*> props;
  std::vector<TaskDecl*> tasks;
  // Filled by checkModuleBodies: every call of a module or network, from the module it is in.
  std::vector<CallEdge> edges;
  // Filled by checkCallGraph (see there): random (draws or weighs) and weighted modules.
  std::set<const CallableDecl*> random, weighted;
  // Filled by checkProperties: properties with errors (no further checks).
  std::set<const PropertyDecl*> badProps;

  // Sizes from the data (check_sizes.cpp).
  std::set<std::pair<const CallableDecl*, std::string>> sizeFailed; // sizes already reported
  bool sizeWhyShown = false;        // dataSize's last failure had been reported before
  std::deque<DataValue> rangeSizes; // sizes fixed by a one-value range (stable addresses)

  // "did you mean" searches done in the current module, property or task (check_names.cpp).
  int suggestions = 0;

  void error(const SourceLoc& l, std::string msg) { diags.error(l, std::move(msg)); }
  static std::string where(const SourceLoc& l) {
    return l.file + ":" + std::to_string(l.line) + ":" + std::to_string(l.col);
  }

  /// Whether a miss of `name` gets a suggestion: names of 3 characters or more, and only the
  /// first few misses of a module, property or task (bounded work).
  bool suggestionWanted(const std::string& name) const;
  /// " (did you mean 'x'?)" for the closest candidate within a small edit distance (1 for names
  /// of up to 4 characters, 2 for longer ones), else "". Ties go to the alphabetically first.
  std::string didYouMean(const std::string& name, const std::vector<std::string_view>& candidates);
};

// ---- sizes, types and ranges of declarations (check_sizes.cpp) ----------------------------------

/// The type a type expression names; an array length written as a name is a size from the data
/// (dataSize), allowed when `sizeOwner` is the callable whose int input it is.
Type resolveType(CheckContext& ctx, const TypeExpr& t, const CallableDecl* sizeOwner);

/// `name` used as an array length or in a loop bound (`what`) of `sizeOwner`: it must be an int
/// input whose value the run's data gives (or its range fixes), at least 1 for a length. Records
/// the value on the input (VarDecl::sizeValue). Reports an error at `at` and returns nullopt
/// otherwise, or, with `why`, leaves the report to the caller (once per name and callable).
std::optional<int64_t> dataSize(CheckContext& ctx, const CallableDecl* sizeOwner,
                                const std::string& name, const SourceLoc& at, const char* what,
                                std::string* why = nullptr);

/// Evaluates `in [lo, hi]` of `v` (type already resolved) into v.range; `what` names the kind of
/// variable in messages ("input", "quantified variable").
void checkRange(CheckContext& ctx, VarDecl& v, const char* what);

// ---- the passes' entries
// ---------------------------------------------------------------------------

/// Global names: enums, modules, networks, properties and tasks unique across all files and not
/// named like a builtin or a distribution; fills the context's tables and Program's lists; numbers
/// enum constants and indexes the bare ones.
void collectNames(CheckContext& ctx);

/// Every callable's parameters: their types (sizes from the data), no duplicates, the network
/// rules (real inputs and outputs, at least one of each), and the inputs' constant ranges.
void checkSignatures(CheckContext& ctx);

/// Every module body: scopes and name resolution, typing with explicit int->real Promote nodes,
/// loop bounds and the iteration cap, and the output assignment rule (each output assigned
/// exactly once on every path, or element-wise in one loop over its length). Records call edges.
void checkModuleBodies(CheckContext& ctx);

/// After the bodies: every input whose value the data fixes gets the range [value, value]
/// (checked against a declared range), and an input whose length is a data size must get an
/// array of that length from the data.
void checkDataSizes(CheckContext& ctx);

/// Every property: a bool expression over quantified variables and always / P / E queries of a
/// module's variables, in a shape the back ends take (only at the top, P / E against a constant).
void checkProperties(CheckContext& ctx);

/// The call graph: recursion is an error; Program::order gets a topological order (callees first);
/// modules are classified random / weighted; properties may run random modules only through
/// always / P / E.
void checkCallGraph(CheckContext& ctx);

/// Every task: its inputs module (deterministic weight, bounded box), its label (an output of a
/// deterministic module, its inputs bound to the features), its network clause, its properties.
void checkTasks(CheckContext& ctx);

} // namespace chassis::spec::check

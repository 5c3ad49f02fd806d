// Lowering: a checked .chs program (spec/ast.h, as the front end returns it) to the core IR
// (spec/ir.h). One pass over the declarations in topological order (callees first):
//   enums      -> Context enums (constants numbered in declaration order)
//   modules    -> ir::Function (kind Module); statements map one to one onto IR statements,
//                 `let` to Let, `var`/assignment to Assign (an indexed assignment to
//                 `y = update(y, i, v)`), `x ~ D` to Sample at address `x`, with the enclosing loop
//                 indices and the explicit index (`theta[j]` in loop j: theta[3]; a scalar in
//                 loops i, j: x[1][2]; the second statement sampling x: x#2), so an address is
//                 unique within a trace; loops stay loops.
//                 Calls of deterministic modules and of networks are Call expressions; a call of a
//                 random module is hoisted into a CallStmt just before the statement containing
//                 it (left to right), at call site `Callee` (`Callee#2` for the second call of
//                 the same callee in the same module; with the loop indices inside loops).
//                 A random call in an operand evaluated only on some paths (a branch of
//                 if-then-else, the right side of && || =>) is an error, not hoisted.
//                 Elementwise builtins and int->real promotions of arrays are expanded element
//                 by element (arrays are small and fixed-size).
//   networks   -> whatever the NetworkLoader hook returns (neural/'s ONNX/NNet loader); without
//                 a loader, an External function whose call fails at run time with
//                 "network 'N' is declared but networks cannot be loaded yet (file F)".
//   properties -> ir::Property: a prefix of forall/exists binders and a body; always[M](e);
//                 P[M](e | g) cmp c and E[M](e) cmp c with a constant c (either side).
// Anything the IR cannot represent is an Error at the construct's location, never a crash.
#pragma once

#include "spec/ast.h"
#include "spec/ir.h"

#include <functional>
#include <optional>
#include <string>

namespace chassis::ir {

/// Builds the IR function of a `network` declaration inside `program` (adding it with
/// Program::addFunction, kind Network, inputs and outputs of the declared types in order) and
/// returns it; or an Error (e.g. the file cannot be read) located at the declaration.
using NetworkLoader =
    std::function<Expected<const Function*>(const spec::NetworkDecl&, Program& program)>;

/// Swaps one module's implementation everywhere it is used (the comparison runs a task's properties
/// on the reference module, then on a network and on a circuit standing in for it). The module named
/// `module` is lowered as usual but under the name `module + "'reference"`; `build` then returns the
/// function that takes its place (added to the program by `build`, with the same inputs and outputs,
/// types in order, and deterministic). Every call of the module, in callers and in properties, calls
/// the replacement; the replacement may call the original (e.g. for the outputs it does not change).
struct ModuleReplacement {
  std::string module;
  std::function<Expected<const Function*>(const Function& original, Program& program)> build;
};

struct LowerOptions {
  /// How to load networks; empty: every network lowers to an External function.
  NetworkLoader networkLoader;
  /// At most one module replaced (see ModuleReplacement); empty: none.
  std::optional<ModuleReplacement> replaceModule;
};

/// The most expression nodes lowering may make for one program (the Context's limit while it
/// runs): about three per element of an array an elementwise builtin or arithmetic is applied to,
/// so `exp(v)` of a 340,000-element v fits; beyond, a located error suggests a loop (which the IR
/// keeps as a loop). Lowering 2^20 nodes takes about 1.4 s and 330 MB in a Release build (ASan
/// several times that: the front end's fuzzer must stay under libFuzzer's 10 s per input).
inline constexpr size_t kMaxLoweredNodes = size_t(1) << 20;

/// Lowers a checked program. The result's functions are in the AST's topological order.
Expected<Program> lower(const spec::Program& ast, const LowerOptions& options = {});

/// The IR type of a checked AST type (enums by their id in `enumIds` order: the index of the
/// enum in `ast.enums`).
Type lowerType(const spec::Type& t, const spec::Program& ast);

} // namespace chassis::ir

// From the IR of a .chs module whose random choices are all finite and discrete to a factor graph
// (symbolic/ve.h), built WITHOUT enumerating the joint distribution of the choices.
//
// The builder runs the module's statements once, symbolically: every variable holds a SymVal —
// a table of its value under each assignment of the few discrete variables it depends on (its
// scope; an empty scope is a known constant). An expression's scope is the union of the scopes of
// the variables it reads (and of the guard, below); its table is filled by the interpreter's
// evaluate() under each assignment of that scope, so every operator means exactly what it means
// when the model runs (symbolic/evaluator.h, op_semantics.h). Then, in program order (one method
// per statement kind, through the generated StmtDispatch):
//   x ~ D(params)       a new variable X with the union of the values D can take over its
//                       parameters' assignments as its states (Bernoulli {false, true},
//                       Categorical {0..K-1}, Binomial {0..n}, DiscreteUniform {lo..hi}), and the
//                       factor p_D(X | params) over scope(params) + {X};
//   observe(D(ps), v)   the factor p_D(v | ps) over scope(ps, v) (D may be continuous: a density);
//   condition(b)        the 0/1 factor [b]; factor(w): the factor exp(w);
//   let/assign          v's table; when its scope has two or more variables, a new deterministic
//                       variable V (its states: v's distinct values) and the 0/1 factor
//                       [V = v(scope)], so v's scope becomes {V} — chains such as
//                       `count = count + x[i]` stay a chain of small factors, never a table over
//                       every x;
//   if c {A} else {B}   with c constant, only the branch taken; otherwise both branches run under
//                       the guard g && c and g && !c: a choice inside a guarded branch exists only
//                       when its guard holds (when it does not, its variable takes its first state
//                       with probability 1), observes/factors/conditions are 1 where the guard is
//                       false, and an assignment keeps the old value there (v' = g ? e : v);
//   arrays              held element by element; x[i] with i constant reads one element, and
//                       x = update(x, i, v) with i constant writes one;
//   for                 unrolled (constant bounds, as in the IR), the index a constant;
//   Call statements     inlined, with the call site prefixing the addresses (as the interpreter);
//                       Call expressions (deterministic callees) are evaluated by evaluate().
// The product of the factors is then the module's unnormalised posterior over its choices, and
// its sum is P(evidence): prior factors are normalised, deterministic ones 0/1.
//
// Accepted: bounded loops, if on random values, random module calls (inlined), any deterministic
// expression. Refused with a located reason: continuous choices (Normal, Beta, ...), infinite
// discrete ones (Poisson, Geometric), addresses whose indices depend on random values, networks
// that are not loaded, and factors with more than kMaxFactorEntries entries. An assert is checked
// under every assignment of its scope where its guard holds (possibly including assignments of
// probability zero). Input ranges of inlined calls are not checked.
#pragma once

#include "spec/error.h"
#include "spec/ir.h"
#include "symbolic/interp.h"
#include "symbolic/ve.h"

#include <map>
#include <span>
#include <string>
#include <vector>

namespace chassis::symbolic {

inline constexpr size_t kMaxFactorEntries = size_t(1) << 22;

/// A value as a function of discrete variables: table[row-major index of the assignment of
/// `scope`, last variable fastest] (one entry when the scope is empty). An array variable is held
/// element by element instead (`elems`, each a scalar SymVal, row-major), so `x[i] ~ D` in a
/// loop gives x[i] its own small scope rather than one table over every element.
struct SymVal {
  std::vector<VarId> scope;
  std::vector<Value> table;
  std::vector<SymVal> elems; // non-empty: an array held element by element
};

struct DiscreteModel {
  FactorModel model;
  /// The value of each state of each variable, by VarId.
  std::vector<std::vector<Value>> states;
  /// Random choices by address (first occurrence), in program order.
  std::vector<std::pair<std::string, VarId>> choices;
  /// The module's outputs after the run, in output order.
  std::vector<SymVal> outputs;
  /// log of the constant factors (observes etc. that depend on no choice).
  double logConstant = 0;

  /// A variable whose states are the distinct values of `v` (v itself when it already is one
  /// variable listed in state order), with the deterministic factor linking it to v's scope.
  Expected<VarId> variableFor(const SymVal& v, const std::string& name);
};

/// Builds the factor graph of `f` on `inputs` (see the header comment).
Expected<DiscreteModel> buildDiscreteModel(const ir::Function& f, std::span<const Value> inputs);

} // namespace chassis::symbolic

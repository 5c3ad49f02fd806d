// A discrete Bayesian network: variables with named states and one conditional probability
// table per variable, P(X | parents(X)). It is what the BIF reader (bif.h) produces and what
// `chassis infer` and `chassis import-bif` consume; `toFactorModel` hands it to exact inference
// (ve.h) as one factor per CPT, and `writeChs` prints it as an equivalent .chs module.
#pragma once

#include "spec/error.h"
#include "symbolic/ve.h"

#include <string>
#include <string_view>
#include <vector>

namespace chassis::symbolic {

struct BnVariable {
  std::string name;
  std::vector<std::string> states;
  SourceLoc loc; // where it was declared
};

/// P(child | parents): one row per assignment of the parents, rows in row-major order of the
/// parents (the LAST parent varies fastest), each row holding card(child) probabilities that sum
/// to 1. With no parents there is a single row. `probs` is therefore exactly the table of the
/// factor over (parents..., child) in factor.h's layout.
struct BnCpt {
  int child = -1;
  std::vector<int> parents;
  std::vector<double> probs;
  SourceLoc loc;
};

struct BayesNet {
  std::string name;
  std::vector<BnVariable> vars;
  std::vector<BnCpt> cpts; // cpts[i].child == i

  /// Index of the variable called `name`, or -1.
  int find(std::string_view name) const;
  /// Index of `state` among variable v's states, or -1.
  int findState(int v, std::string_view state) const;
  /// One factor per CPT, over (parents..., child); variable ids are indices into `vars`.
  FactorModel toFactorModel() const;
  /// The variables ordered parents-first (ties by declaration order); an error if the parent
  /// relation has a cycle.
  Expected<std::vector<int>> topologicalOrder() const;
};

/// The network as a .chs program: an enum of state names per variable and one module, named
/// `moduleName`, without inputs, whose outputs are every variable (typed by its enum), drawn in
/// topological order by `Categorical` with the CPT row selected by array index. Names that are not
/// .chs identifiers, or clash with keywords or each other, are rewritten (a comment lists each
/// renaming). `source` is mentioned in the header comment. The network must be acyclic.
Expected<std::string> writeChs(const BayesNet& net, std::string_view moduleName,
                               std::string_view source);

} // namespace chassis::symbolic

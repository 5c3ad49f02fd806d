// Network-output properties of a .chs program through the network engine (branch and bound with
// bound propagation, verifier/network_verifier.h) instead of one monolithic Z3 query.
//
// Recognised: a `forall` property (every variable universally quantified, real, over a box)
// whose body is built from !, &&, ||, =>, true/false and comparisons <, <=, >, >= of linear
// terms (constants, +, -, unary -, * by a constant) over the outputs of ONE network call
// (a network function that net_chain.h reads back as an AffineNet) whose arguments are the
// quantified variables (each at most once) or real constants, e.g.
//     forall x in [0, 1], s in [5, 30]: Policy([x, s]).y[0] <= Policy([x, s]).y[1] + 3
// (equal calls are one hash-consed node). Anything else: nullopt (the Z3 path handles it).
//
// The translation. The negated body, in disjunctive normal form, is the unsafe set: each
// disjunct a case of the engine's query (problem.h, NetworkQuery: the variables' box, clamped
// like the network's NNet input clamp, and its atoms as the rows of C y <= d). A strict atom
// of the unsafe set (from a non-strict comparison in the body) is relaxed to its closure, so
// `unsat` still proves the property (the closure is bigger); a `sat` point is replayed in float64 through the interpreter
// on the property's body (verifier/replay.h), and is reported only if the body is false there.
// Coefficients are combined in float64 only when every operation is exact (checked); otherwise
// nullopt, so the reals the verdict is about are the program's own constants.
// Verdicts: unsat -> holds; sat -> violated with the replayed point (a point that does not
// replay: nullopt when a strict comparison was relaxed, the boundary case the exact Z3 path
// decides, else internal error);
// timeout / unknown -> unknown with the engine's reason. With VerifyOptions::emitSmt2, nullopt
// (the Z3 path writes the query).
#pragma once

#include "neural/affine_net.h"
#include "spec/error.h"
#include "spec/ir.h"
#include "verifier/problem.h"
#include "verifier/properties.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace chassis::verifier {

struct NetVerifyOptions; // network_verifier.h
struct VerifyResult;

/// A property's query for the network engine: the network its body calls (net_chain.h) and the
/// unsafe set over that network's inputs and outputs.
struct NetworkPropertyQuery {
  neural::AffineNet net;
  NetworkQuery query;     // origin: the property's location
  std::vector<int> varOf; // per network input: the quantified variable feeding it (-1: a constant)
  bool relaxedStrict = false; // a strict atom of the unsafe set was replaced by its closure
};

/// The translation above without running anything; nullopt when the property is outside the
/// subset. The query has no case when the negated body is false (the body holds). When the
/// property calls a network function that net_chain.h does not read as a chain, `whyNot` (if
/// given) receives that located reason (file:line:col: error: ...).
std::optional<NetworkPropertyQuery> networkQueryOf(const ir::Property& prop,
                                                   std::string* whyNot = nullptr);

/// What runs the engine for verifyNetworkProperty instead of verifyNetwork, if set: under
/// mpirun, `chassis verify` sets one on every rank (tools/mpi_search.h, SharedNetworkEngine) so
/// that the ranks share each network property's branch and bound.
using NetworkEngineRunner = std::function<Expected<VerifyResult>(
    const neural::AffineNet&, const NetworkQuery&, const NetVerifyOptions&)>;
/// Sets the runner (empty: verifyNetwork again); returns the one it replaces. Not thread-safe:
/// set it before the properties are verified.
NetworkEngineRunner setNetworkEngineRunner(NetworkEngineRunner runner);

/// nullopt: left to the Z3 path; `whyNot` as for networkQueryOf.
std::optional<PropertyResult> verifyNetworkProperty(const ir::Program& program,
                                                    const ir::Property& prop,
                                                    const VerifyOptions& opts,
                                                    std::string* whyNot = nullptr);

} // namespace chassis::verifier

// The module call graph (Boost.Graph): nodes are the program's modules and networks, edges go
// from a caller to each callee it calls (once per pair, at the first call site). Recursion, i.e.
// any cycle including a self-call, is rejected with an error naming the cycle at a call site on
// it ("recursion between modules: A -> B -> A"); an acyclic graph gives the topological order,
// callees before callers, which lowering and inference use to process callees first.
#pragma once

#include "spec/ast.h"
#include "spec/diagnostics.h"

#include <string>
#include <vector>

namespace chassis::spec {

struct CallEdge {
  const CallableDecl* caller;
  const CallableDecl* callee;
  SourceLoc loc; // the call site (the callee's name in the caller)
};

class CallGraph {
public:
  /// `nodes` in declaration order (it fixes the order of ties in the topological order).
  CallGraph(std::vector<const CallableDecl*> nodes, const std::vector<CallEdge>& edges);

  /// Reports each cycle found (one per back edge of a depth-first search from the nodes in
  /// declaration order) as "recursion between modules: A -> B -> A", located at the call of B in
  /// A (A: the cycle's first node reached by the search). Returns true if the graph is acyclic.
  bool checkAcyclic(DiagnosticEngine& diags) const;

  /// Callees before callers; ties broken by declaration order. Requires an acyclic graph (if it
  /// has cycles, the nodes are returned in declaration order).
  std::vector<const CallableDecl*> topologicalOrder() const;

  /// Graphviz DOT text of the graph (nodes in declaration order).
  std::string dot() const;

  size_t size() const { return nodes_.size(); }

private:
  std::vector<const CallableDecl*> nodes_;
  std::vector<CallEdge> edges_; // deduplicated, in first-occurrence order
};

} // namespace chassis::spec

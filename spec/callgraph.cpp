// The module call graph (spec/callgraph.h) on boost::adjacency_list. Cycles are found with a
// depth-first search whose back edges close them (the tree path from the back edge's target to
// its source, plus the back edge, is the cycle); the order comes from boost::topological_sort,
// which emits each vertex after everything reachable from it, i.e. callees first.
#include "spec/callgraph.h"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/topological_sort.hpp>

#include <algorithm>
#include <iterator>
#include <map>
#include <sstream>

namespace chassis::spec {

namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;
using GEdge = boost::graph_traits<Graph>::edge_descriptor;

struct CycleVisitor : boost::default_dfs_visitor {
  std::vector<Vertex>* parent;
  std::vector<std::pair<Vertex, Vertex>>* backEdges;
  void tree_edge(GEdge e, const Graph& g) const {
    (*parent)[boost::target(e, g)] = boost::source(e, g);
  }
  void back_edge(GEdge e, const Graph& g) const {
    backEdges->emplace_back(boost::source(e, g), boost::target(e, g));
  }
};

} // namespace

CallGraph::CallGraph(std::vector<const CallableDecl*> nodes, const std::vector<CallEdge>& edges)
    : nodes_(std::move(nodes)) {
  std::map<std::pair<const CallableDecl*, const CallableDecl*>, bool> seen;
  for (const CallEdge& e : edges)
    if (!seen[{e.caller, e.callee}]) {
      seen[{e.caller, e.callee}] = true;
      edges_.push_back(e);
    }
}

static Graph buildGraph(const std::vector<const CallableDecl*>& nodes,
                        const std::vector<CallEdge>& edges) {
  std::map<const CallableDecl*, Vertex> index;
  for (size_t i = 0; i < nodes.size(); ++i)
    index[nodes[i]] = i;
  Graph g(nodes.size());
  for (const CallEdge& e : edges) {
    auto a = index.find(e.caller), b = index.find(e.callee);
    if (a != index.end() && b != index.end()) boost::add_edge(a->second, b->second, g);
  }
  return g;
}

bool CallGraph::checkAcyclic(DiagnosticEngine& diags) const {
  Graph g = buildGraph(nodes_, edges_);
  std::vector<Vertex> parent(nodes_.size());
  for (size_t i = 0; i < parent.size(); ++i)
    parent[i] = i;
  std::vector<std::pair<Vertex, Vertex>> back;
  CycleVisitor vis;
  vis.parent = &parent;
  vis.backEdges = &back;
  std::vector<boost::default_color_type> color(nodes_.size());
  auto colorMap =
      boost::make_iterator_property_map(color.begin(), boost::get(boost::vertex_index, g));
  // Roots in declaration order, so the cycles found (and their rotation) are deterministic.
  for (Vertex v = 0; v < nodes_.size(); ++v)
    color[v] = boost::white_color;
  for (Vertex v = 0; v < nodes_.size(); ++v)
    if (color[v] == boost::white_color) boost::depth_first_visit(g, v, vis, colorMap);
  // Each cycle costs a walk along the tree path; a few are enough to show the problem.
  constexpr size_t kMaxCycles = 20, kMaxShown = 12;
  if (back.size() > kMaxCycles) back.resize(kMaxCycles);
  for (auto [u, v] : back) {
    // The cycle: v -> ... -> u (tree path, v is u's ancestor) -> v.
    std::vector<Vertex> path;
    for (Vertex w = u; w != v; w = parent[w])
      path.push_back(w);
    path.push_back(v);
    std::reverse(path.begin(), path.end());
    // A long cycle is abbreviated: its first and last few modules, and how many are between.
    std::string names;
    for (size_t i = 0; i < path.size(); ++i) {
      if (path.size() > kMaxShown && i == kMaxShown / 2) {
        size_t skip = path.size() - kMaxShown;
        names += "... (" + std::to_string(skip) + " more) -> ";
        i += skip - 1;
        continue;
      }
      names += nodes_[path[i]]->name + " -> ";
    }
    names += nodes_[v]->name;
    const CallableDecl* first = nodes_[path[0]];
    const CallableDecl* second = nodes_[path.size() > 1 ? path[1] : v];
    SourceLoc at = first->loc;
    for (const CallEdge& e : edges_)
      if (e.caller == first && e.callee == second) {
        at = e.loc;
        break;
      }
    diags.error(at, "recursion between modules: " + names);
  }
  return back.empty();
}

std::vector<const CallableDecl*> CallGraph::topologicalOrder() const {
  Graph g = buildGraph(nodes_, edges_);
  std::vector<Vertex> order;
  try {
    boost::topological_sort(g, std::back_inserter(order));
  } catch (const boost::not_a_dag&) {
    return nodes_; // documented: cycles were reported by checkAcyclic
  }
  std::vector<const CallableDecl*> out;
  for (Vertex v : order)
    out.push_back(nodes_[v]);
  return out;
}

std::string CallGraph::dot() const {
  std::ostringstream os;
  os << "digraph calls {\n";
  for (const CallableDecl* n : nodes_)
    os << "  \"" << n->name << "\"" << (n->kind == DeclKind::Network ? " [shape=box]" : "")
       << ";\n";
  for (const CallEdge& e : edges_)
    os << "  \"" << e.caller->name << "\" -> \"" << e.callee->name << "\";\n";
  os << "}\n";
  return os.str();
}

} // namespace chassis::spec

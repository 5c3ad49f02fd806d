// Variable elimination (see ve.h for the maths). The interaction graph lives in a Boost.Graph
// adjacency_list with set-based edge lists (so "are a and b adjacent" is a lookup); eliminating a
// vertex connects its neighbours pairwise and clears it.
#include "symbolic/ve.h"

#include <boost/graph/adjacency_list.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

namespace chassis::symbolic {
namespace {

using Graph = boost::adjacency_list<boost::setS, boost::vecS, boost::undirectedS>;

// Product of the factors mentioning v, with v summed out, replacing them in `pool`.
void eliminateVar(std::vector<Factor>& pool, VarId v) {
  Factor prod;
  bool any = false;
  std::vector<Factor> rest;
  rest.reserve(pool.size());
  for (Factor& f : pool) {
    if (f.contains(v)) {
      prod = any ? prod.product(f) : std::move(f);
      any = true;
    } else {
      rest.push_back(std::move(f));
    }
  }
  pool = std::move(rest);
  if (any) pool.push_back(prod.sumOut(v));
}

} // namespace

std::vector<VarId> minFillOrder(const std::vector<VarInfo>& vars,
                                const std::vector<Factor>& factors, std::span<const VarId> keep) {
  const size_t n = vars.size();
  Graph g(n);
  std::vector<bool> mentioned(n, false);
  for (const Factor& f : factors) {
    const auto& fv = f.vars();
    for (size_t i = 0; i < fv.size(); ++i) {
      mentioned[fv[i]] = true;
      for (size_t j = i + 1; j < fv.size(); ++j)
        boost::add_edge(fv[i], fv[j], g);
    }
  }
  std::vector<bool> todo(n, false);
  size_t remaining = 0;
  for (size_t v = 0; v < n; ++v)
    if (mentioned[v] && std::find(keep.begin(), keep.end(), VarId(v)) == keep.end()) {
      todo[v] = true;
      ++remaining;
    }
  std::vector<VarId> order;
  order.reserve(remaining);
  while (remaining > 0) {
    // (fill, degree, name, id) of the best candidate so far.
    long bestFill = -1;
    size_t bestDeg = 0, best = 0;
    for (size_t v = 0; v < n; ++v) {
      if (!todo[v]) continue;
      auto [nb, ne] = boost::adjacent_vertices(v, g);
      std::vector<size_t> nbrs(nb, ne);
      long fill = 0;
      for (size_t i = 0; i < nbrs.size(); ++i)
        for (size_t j = i + 1; j < nbrs.size(); ++j)
          if (!boost::edge(nbrs[i], nbrs[j], g).second) ++fill;
      const size_t deg = nbrs.size();
      const bool better = bestFill < 0 || std::tie(fill, deg, vars[v].name) <
                                              std::tie(bestFill, bestDeg, vars[best].name);
      // (equal keys keep the smaller id, found first)
      if (better) {
        bestFill = fill;
        bestDeg = nbrs.size();
        best = v;
      }
    }
    auto [nb, ne] = boost::adjacent_vertices(best, g);
    std::vector<size_t> nbrs(nb, ne);
    for (size_t i = 0; i < nbrs.size(); ++i)
      for (size_t j = i + 1; j < nbrs.size(); ++j)
        boost::add_edge(nbrs[i], nbrs[j], g);
    boost::clear_vertex(best, g);
    todo[best] = false;
    --remaining;
    order.push_back(static_cast<VarId>(best));
  }
  return order;
}

Expected<VeResult> variableElimination(const FactorModel& model, std::span<const VarId> query,
                                       std::span<const Observation> evidence) {
  const auto& vars = model.vars;
  const size_t n = vars.size();
  auto known = [&](VarId v) { return v >= 0 && static_cast<size_t>(v) < n; };
  for (const Factor& f : model.factors)
    for (size_t i = 0; i < f.vars().size(); ++i) {
      const VarId v = f.vars()[i];
      if (!known(v)) return Error("factor mentions unknown variable id " + std::to_string(v));
      if (f.cards()[i] != vars[v].card)
        return Error("factor gives variable '" + vars[v].name + "' cardinality " +
                     std::to_string(f.cards()[i]) + ", but it has " +
                     std::to_string(vars[v].card) + " states");
    }
  std::map<VarId, int> ev;
  for (const Observation& o : evidence) {
    if (!known(o.var)) return Error("evidence on unknown variable id " + std::to_string(o.var));
    if (o.state < 0 || o.state >= vars[o.var].card)
      return Error("evidence state " + std::to_string(o.state) + " out of range for variable '" +
                   vars[o.var].name + "' with " + std::to_string(vars[o.var].card) + " states");
    auto [it, fresh] = ev.emplace(o.var, o.state);
    if (!fresh && it->second != o.state)
      return Error("contradictory evidence on variable '" + vars[o.var].name + "'");
  }
  for (VarId q : query)
    if (!known(q)) return Error("query of unknown variable id " + std::to_string(q));

  // Condition every factor on the evidence once.
  std::vector<Factor> reduced;
  reduced.reserve(model.factors.size());
  for (const Factor& f : model.factors) {
    Factor r = f;
    for (auto [v, s] : ev)
      if (r.contains(v)) r = r.reduce(v, s);
    reduced.push_back(std::move(r));
  }

  VeResult res;
  // log Z(e): eliminate everything.
  {
    std::vector<Factor> pool = reduced;
    for (VarId v : minFillOrder(vars, reduced, {}))
      eliminateVar(pool, v);
    Factor z;
    for (const Factor& f : pool)
      z = z.product(f);
    res.logEvidence = z.logTotal();
  }
  if (!(res.logEvidence > -INFINITY)) return Error("the evidence has probability zero");

  for (VarId q : query) {
    std::vector<double> marg(vars[q].card, 0.0);
    if (auto it = ev.find(q); it != ev.end()) {
      marg[it->second] = 1.0;
      res.marginals.push_back(std::move(marg));
      continue;
    }
    const VarId keep[] = {q};
    std::vector<Factor> pool = reduced;
    for (VarId v : minFillOrder(vars, reduced, keep))
      eliminateVar(pool, v);
    Factor r;
    for (const Factor& f : pool)
      r = r.product(f);
    if (r.contains(q)) {
      marg = r.normalized();
    } else { // q is in no factor: every state has the same weight
      std::fill(marg.begin(), marg.end(), 1.0 / vars[q].card);
    }
    res.marginals.push_back(std::move(marg));
  }
  return res;
}

} // namespace chassis::symbolic

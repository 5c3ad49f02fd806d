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

// Bucket elimination along `order`, skipping `keep` (or none if keep < 0): each factor waits
// in the bucket of its earliest-eliminated variable; eliminating v multiplies its bucket, sums v
// out and files the result in the bucket of its next variable. Factors with no variable left to
// eliminate end in the last bucket, whose product is returned (a factor over `keep` alone, or a
// constant). Each factor is touched once, so a pass costs the sum of the factor sizes.
Factor eliminateAll(const std::vector<Factor>& factors, const std::vector<VarId>& order,
                    size_t nvars, VarId keep) {
  const size_t last = order.size();
  std::vector<size_t> pos(nvars, last);
  for (size_t i = 0; i < order.size(); ++i)
    if (order[i] != keep) pos[order[i]] = i;
  std::vector<std::vector<Factor>> bucket(last + 1);
  auto place = [&](Factor f) {
    size_t b = last;
    for (VarId v : f.vars())
      b = std::min(b, pos[v]);
    bucket[b].push_back(std::move(f));
  };
  for (const Factor& f : factors)
    place(f);
  for (size_t i = 0; i < last; ++i) {
    if (bucket[i].empty()) continue;
    Factor prod = std::move(bucket[i][0]);
    for (size_t j = 1; j < bucket[i].size(); ++j)
      prod = prod.product(bucket[i][j]);
    bucket[i].clear();
    place(prod.sumOut(order[i]));
  }
  Factor r;
  for (const Factor& f : bucket[last])
    r = r.product(f);
  return r;
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
  // Fill-in of v: pairs of its neighbours that are not adjacent. Cached, and recomputed only
  // for vertices whose neighbourhood an elimination touched (the eliminated vertex's neighbours
  // and their neighbours), so a step costs O(n) to pick plus the local updates.
  auto fillOf = [&](size_t v) {
    auto [nb, ne] = boost::adjacent_vertices(v, g);
    std::vector<size_t> nbrs(nb, ne);
    long fill = 0;
    for (size_t i = 0; i < nbrs.size(); ++i)
      for (size_t j = i + 1; j < nbrs.size(); ++j)
        if (!boost::edge(nbrs[i], nbrs[j], g).second) ++fill;
    return fill;
  };
  std::vector<long> fill(n, 0);
  for (size_t v = 0; v < n; ++v)
    if (todo[v]) fill[v] = fillOf(v);
  std::vector<VarId> order;
  order.reserve(remaining);
  while (remaining > 0) {
    // Smallest (fill, degree, name); equal keys keep the smaller id, found first.
    bool found = false;
    size_t best = 0, bestDeg = 0;
    for (size_t v = 0; v < n; ++v) {
      if (!todo[v]) continue;
      const size_t deg = boost::out_degree(v, g);
      if (!found ||
          std::tie(fill[v], deg, vars[v].name) < std::tie(fill[best], bestDeg, vars[best].name)) {
        found = true;
        best = v;
        bestDeg = deg;
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
    std::vector<size_t> touched = nbrs;
    for (size_t u : nbrs) {
      auto [ub, ue] = boost::adjacent_vertices(u, g);
      touched.insert(touched.end(), ub, ue);
    }
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (size_t u : touched)
      if (todo[u]) fill[u] = fillOf(u);
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
                     std::to_string(f.cards()[i]) + ", but it has " + std::to_string(vars[v].card) +
                     " states");
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

  // One min-fill order for the whole model. A query variable q is kept by skipping it in this
  // order: q then stays in every later factor, so each intermediate factor grows by at most
  // card(q) and the order is computed once instead of once per query.
  const std::vector<VarId> order = minFillOrder(vars, reduced, {});
  VeResult res;
  // log Z(e): eliminate everything.
  res.logEvidence = eliminateAll(reduced, order, n, -1).logTotal();
  if (!(res.logEvidence > -INFINITY)) return Error("the evidence has probability zero");

  for (VarId q : query) {
    std::vector<double> marg(vars[q].card, 0.0);
    if (auto it = ev.find(q); it != ev.end()) {
      marg[it->second] = 1.0;
      res.marginals.push_back(std::move(marg));
      continue;
    }
    const Factor r = eliminateAll(reduced, order, n, q);
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

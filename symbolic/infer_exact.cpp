// Exact inference by variable elimination over the IR's factor graph (see infer_exact.h).
#include "symbolic/infer_exact.h"

#include "symbolic/discrete_model.h"

#include <chrono>
#include <cmath>

namespace chassis::symbolic {

Expected<Posterior> inferExact(const ir::Function& f, std::span<const Value> inputs,
                               const InferOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  auto dm = buildDiscreteModel(f, inputs);
  if (!dm) return dm.error();
  // Choices for a default query of a module without outputs: a synthetic trace listing them.
  Trace listed;
  for (auto& [addr, id] : dm->choices) {
    (void)id;
    listed.choices.push_back({addr, DistKind::Categorical, {}, 0, 0, false});
  }
  auto qs = resolveQuery(f, options.query, &listed);
  if (!qs) return qs.error();
  std::vector<VarId> query;
  for (const Quantity& q : *qs) {
    if (q.output >= 0) {
      const SymVal& out = dm->outputs[size_t(q.output)];
      SymVal v = out;
      if (q.element >= 0) {
        if (!out.elems.empty()) {
          v = out.elems[size_t(q.element)];
        } else {
          v.table.clear();
          for (const Value& x : out.table) v.table.push_back(Value::scalar(x.a[size_t(q.element)]));
        }
      }
      auto id = dm->variableFor(v, q.name);
      if (!id) return id.error();
      query.push_back(*id);
    } else {
      VarId id = -1;
      for (auto& [addr, vid] : dm->choices)
        if (addr == q.address) id = vid;
      if (id < 0)
        return Error(f.loc(), "unknown query '" + q.name + "': no random choice has this address");
      query.push_back(id);
    }
  }
  auto ve = variableElimination(dm->model, query, {});
  if (!ve) {
    Error e = ve.error();
    if (e.message.find("zero") != std::string::npos || e.message.find("probability") != std::string::npos)
      e.message = "exact inference: " + e.message + " (the observations are impossible)";
    e.loc = f.loc();
    return e;
  }
  Posterior p;
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  p.method = InferMethod::Exact;
  p.quantities = *qs;
  p.chains = 0;
  p.logEvidence = ve->logEvidence + dm->logConstant;
  if (!std::isfinite(p.logEvidence))
    return Error(f.loc(), "exact inference: the evidence has probability zero");
  for (size_t i = 0; i < qs->size(); ++i) {
    QuantitySummary s;
    s.name = (*qs)[i].name;
    const auto& states = dm->states[size_t(query[i])];
    const auto& probs = ve->marginals[i];
    std::vector<std::pair<double, double>> dist;
    for (size_t k = 0; k < states.size(); ++k) {
      double v = states[k].s;
      if (!dist.empty() && dist.back().first == v)
        dist.back().second += probs[k];
      else
        dist.emplace_back(v, probs[k]);
    }
    double mean = 0, sq = 0;
    for (auto& [v, pr] : dist) mean += pr * v;
    for (auto& [v, pr] : dist) sq += pr * (v - mean) * (v - mean);
    s.mean = mean;
    s.sd = std::sqrt(sq);
    auto q = [&](double level) {
      double c = 0;
      for (auto& [v, pr] : dist) {
        c += pr;
        if (c >= level - 1e-12) return v;
      }
      return dist.back().first;
    };
    s.q5 = q(0.05);
    s.q50 = q(0.5);
    s.q95 = q(0.95);
    s.distribution = dist;
    p.summaries.push_back(std::move(s));
  }
  return p;
}

} // namespace chassis::symbolic

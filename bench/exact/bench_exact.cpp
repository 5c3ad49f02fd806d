// Benchmark (not a test) of Chassis's exact inference: variable elimination with the greedy
// min-fill order (symbolic/ve.h) on a random 40-node discrete Bayesian network of treewidth <= 8.
//
// The network, generated deterministically from --seed with chassis::Rng:
//   - A random partial 8-tree. The nodes are taken in a random construction order pi (a random
//     permutation of the variable ids, so ids carry no hint of the structure). The first 9 nodes
//     of pi form a 9-clique; every further node attaches to an 8-clique of the k-tree built so
//     far, chosen uniformly among all 8-cliques created so far, and the new 9-clique adds 8 new
//     8-cliques (the old one with one member swapped for the new node).
//   - Edges are oriented by construction order, and each node's parents are a random subset of
//     the clique it attached to (each member kept with probability 1/2; for the first 9 nodes,
//     a subset of the nodes before it). So every family {X} u pa(X) lies inside one clique of
//     the 8-tree, and so does every moralising edge (between two parents of X); the moral graph
//     is therefore a subgraph of the 8-tree, whose treewidth is 8, and the network's treewidth
//     is <= 8. The reverse construction order is a perfect elimination order of the 8-tree, so
//     its induced width on the moral graph is <= 8 too.
//   - 2 or 3 states per variable; each CPT row is Dirichlet(1,...,1): -log(u_i) for uniforms
//     u_i from Rng (Exponential(1) draws), divided by their sum.
//   - Evidence: 3 distinct random leaves (nodes that are nobody's parent), each in a random state.
//
// Measured: variableElimination() for all 40 posterior marginals plus log P(evidence), wall
// time by std::chrono::steady_clock, median of --runs runs (default 5). Printed: the nodes, the
// largest parent count, the induced width of the min-fill order that ve.h picks (on the
// evidence-reduced interaction graph, the graph ve.h orders), the size of the joint (product of
// the state counts, for scale) and the time.
//
// Checks (exit code 1 if one fails):
//   - every marginal sums to 1 within 1e-12;
//   - P(evidence) recomputed here by bucket elimination (Factor::product / sumOut) along a
//     second order, the reverse construction order (a reverse topological order), agrees with
//     ve.h's figure to 1e-9 relative (|log P1 - log P2| <= 1e-9, which is the relative error to
//     first order); both are printed;
//   - the 40 marginals recomputed along that second order agree with ve.h's to 1e-9 (max abs).
// No peer is run: WebPPL's enumeration would have to visit the joint's 2^40-odd states.
#include "spec/rng.h"
#include "symbolic/bayesnet.h"
#include "symbolic/factor.h"
#include "symbolic/ve.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

using namespace chassis;
using namespace chassis::symbolic;

namespace {

constexpr int kNodes = 40;
constexpr int kTree = 8; // the k of the partial k-tree
constexpr int kLeaves = 3;

// Uniform integer in [0, n), n > 0 (modulo bias ~ n / 2^64, irrelevant here).
int randInt(Rng& rng, int n) {
  return static_cast<int>(rng.nextU64() % static_cast<uint64_t>(n));
}

struct Generated {
  BayesNet net;
  std::vector<int> constructionOrder; // pi: position -> variable id
  std::vector<Observation> evidence;
};

Generated generate(uint64_t seed) {
  Rng rng(seed);
  Generated g;
  // Random construction order: Fisher-Yates on 0..n-1.
  std::vector<int> pi(kNodes);
  for (int i = 0; i < kNodes; ++i)
    pi[i] = i;
  for (int i = kNodes - 1; i > 0; --i)
    std::swap(pi[i], pi[randInt(rng, i + 1)]);
  g.constructionOrder = pi;

  // States.
  g.net.name = "random_partial_8tree";
  g.net.vars.resize(kNodes);
  for (int v = 0; v < kNodes; ++v) {
    g.net.vars[v].name = "X" + std::to_string(v);
    const int card = 2 + randInt(rng, 2);
    for (int s = 0; s < card; ++s)
      g.net.vars[v].states.push_back("s" + std::to_string(s));
  }

  // Structure: the partial 8-tree and the parents.
  std::vector<std::vector<int>> parents(kNodes);
  std::vector<std::vector<int>> cliques; // the 8-cliques of the k-tree so far (variable ids)
  auto pickSubset = [&](const std::vector<int>& from) {
    std::vector<int> out;
    for (int u : from)
      if (rng.uniform() < 0.5) out.push_back(u);
    std::sort(out.begin(), out.end());
    return out;
  };
  for (int i = 0; i < kNodes; ++i) {
    const int v = pi[i];
    if (i <= kTree) { // inside the initial 9-clique: attach to everything before
      parents[v] = pickSubset(std::vector<int>(pi.begin(), pi.begin() + i));
      if (i == kTree) // the 9-clique is complete: its nine 8-subsets
        for (int drop = 0; drop <= kTree; ++drop) {
          std::vector<int> c;
          for (int j = 0; j <= kTree; ++j)
            if (j != drop) c.push_back(pi[j]);
          cliques.push_back(c);
        }
      continue;
    }
    const std::vector<int> c = cliques[randInt(rng, static_cast<int>(cliques.size()))];
    parents[v] = pickSubset(c);
    for (size_t drop = 0; drop < c.size(); ++drop) {
      std::vector<int> nc = c;
      nc[drop] = v;
      cliques.push_back(nc);
    }
  }

  // CPTs: rows in row-major order of the parents (last fastest), Dirichlet(1) each.
  g.net.cpts.resize(kNodes);
  for (int v = 0; v < kNodes; ++v) {
    BnCpt& cpt = g.net.cpts[v];
    cpt.child = v;
    cpt.parents = parents[v];
    size_t rows = 1;
    for (int p : cpt.parents)
      rows *= g.net.vars[p].states.size();
    const size_t card = g.net.vars[v].states.size();
    for (size_t r = 0; r < rows; ++r) {
      std::vector<double> row(card);
      double sum = 0;
      for (double& x : row) {
        x = -std::log(rng.uniform());
        sum += x;
      }
      for (double x : row)
        cpt.probs.push_back(x / sum);
    }
  }

  // Evidence on kLeaves distinct random leaves.
  std::vector<bool> isParent(kNodes, false);
  for (const auto& ps : parents)
    for (int p : ps)
      isParent[p] = true;
  std::vector<int> leaves;
  for (int v = 0; v < kNodes; ++v)
    if (!isParent[v]) leaves.push_back(v);
  for (int k = 0; k < kLeaves && !leaves.empty(); ++k) {
    const int at = randInt(rng, static_cast<int>(leaves.size()));
    const int v = leaves[at];
    leaves.erase(leaves.begin() + at);
    g.evidence.push_back({v, randInt(rng, static_cast<int>(g.net.vars[v].states.size()))});
  }
  return g;
}

// The largest number of neighbours a variable has when eliminated along `order` on the
// interaction graph of `factors` (eliminating connects the neighbours pairwise): the induced
// width of the order.
int inducedWidth(int n, const std::vector<Factor>& factors, const std::vector<VarId>& order) {
  std::vector<std::set<int>> adj(n);
  for (const Factor& f : factors)
    for (VarId a : f.vars())
      for (VarId b : f.vars())
        if (a != b) adj[a].insert(b);
  int width = 0;
  for (VarId v : order) {
    const std::set<int> nb = adj[v];
    width = std::max(width, static_cast<int>(nb.size()));
    for (int a : nb) {
      adj[a].erase(v);
      for (int b : nb)
        if (a != b) adj[a].insert(b);
    }
    adj[v].clear();
  }
  return width;
}

// Bucket elimination of every variable in `order` except `keep` (-1: none); returns the product
// of what remains (a factor over `keep`, or a constant). Independent of ve.cpp's own copy so the
// second-order figures check ve.h rather than repeat it.
Factor eliminate(const std::vector<Factor>& factors, const std::vector<VarId>& order, int n,
                 VarId keep) {
  const size_t last = order.size();
  std::vector<size_t> pos(n, last);
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
    Factor prod;
    for (const Factor& f : bucket[i])
      prod = prod.product(f);
    bucket[i].clear();
    place(prod.sumOut(order[i]));
  }
  Factor r;
  for (const Factor& f : bucket[last])
    r = r.product(f);
  return r;
}

} // namespace

int main(int argc, char** argv) {
  uint64_t seed = 1;
  int runs = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seed" && i + 1 < argc) {
      seed = std::strtoull(argv[++i], nullptr, 10);
    } else if (a == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: bench_exact [--seed N] [--runs N]\n");
      return 2;
    }
  }

  const Generated g = generate(seed);
  const int n = kNodes;
  if (static_cast<int>(g.evidence.size()) < kLeaves) {
    std::fprintf(stderr, "error: seed %llu gives fewer than %d leaves; try another seed\n",
                 static_cast<unsigned long long>(seed), kLeaves);
    return 2;
  }
  const FactorModel model = g.net.toFactorModel();

  size_t maxParents = 0;
  double joint = 1;
  int twoState = 0, threeState = 0;
  for (int v = 0; v < n; ++v) {
    maxParents = std::max(maxParents, g.net.cpts[v].parents.size());
    const size_t c = g.net.vars[v].states.size();
    joint *= static_cast<double>(c);
    (c == 2 ? twoState : threeState)++;
  }
  size_t largestCpt = 0;
  for (const Factor& f : model.factors)
    largestCpt = std::max(largestCpt, f.size());

  // The evidence-reduced factors: the graph ve.h orders, and the input of the second order.
  std::vector<Factor> reduced;
  for (const Factor& f : model.factors) {
    Factor r = f;
    for (const Observation& o : g.evidence)
      if (r.contains(o.var)) r = r.reduce(o.var, o.state);
    reduced.push_back(std::move(r));
  }
  const std::vector<VarId> minFill = minFillOrder(model.vars, reduced, {});
  std::vector<VarId> reverseTopo(g.constructionOrder.rbegin(), g.constructionOrder.rend());
  // Evidence variables are in no reduced factor; ve.h's order leaves them out, so does this one.
  std::erase_if(reverseTopo, [&](VarId v) {
    return std::any_of(g.evidence.begin(), g.evidence.end(),
                       [&](const Observation& o) { return o.var == v; });
  });

  std::vector<VarId> query(n);
  for (int v = 0; v < n; ++v)
    query[v] = v;

  std::vector<double> seconds;
  VeResult res;
  for (int r = 0; r < runs; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    auto out = variableElimination(model, query, g.evidence);
    const auto t1 = std::chrono::steady_clock::now();
    if (!out) {
      std::fprintf(stderr, "error: variableElimination: %s\n", out.error().message.c_str());
      return 1;
    }
    res = std::move(*out);
    seconds.push_back(std::chrono::duration<double>(t1 - t0).count());
  }
  std::vector<double> sorted = seconds;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];

  // Checks.
  double worstSum = 0;
  for (const auto& m : res.marginals) {
    double s = 0;
    for (double p : m)
      s += p;
    worstSum = std::max(worstSum, std::abs(s - 1));
  }
  const auto t2 = std::chrono::steady_clock::now();
  const double logEv2 = eliminate(reduced, reverseTopo, n, -1).logTotal();
  double worstMarg = 0;
  for (int q = 0; q < n; ++q) {
    std::vector<double> m2(g.net.vars[q].states.size(), 0.0);
    bool observed = false;
    for (const Observation& o : g.evidence)
      if (o.var == q) {
        m2[o.state] = 1;
        observed = true;
      }
    if (!observed) m2 = eliminate(reduced, reverseTopo, n, q).normalized();
    for (size_t s = 0; s < m2.size(); ++s)
      worstMarg = std::max(worstMarg, std::abs(m2[s] - res.marginals[q][s]));
  }
  const double secondSeconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count();
  const double relEv = std::abs(std::expm1(logEv2 - res.logEvidence));
  const bool okSum = worstSum <= 1e-12, okEv = relEv <= 1e-9, okMarg = worstMarg <= 1e-9;

  std::printf("chassis exact inference (variable elimination, min-fill order), seed %llu\n",
              static_cast<unsigned long long>(seed));
  std::printf("network: random partial %d-tree, %d nodes (%d with 2 states, %d with 3), "
              "max parents %zu, largest CPT %zu entries\n",
              kTree, n, twoState, threeState, maxParents, largestCpt);
  std::printf("evidence on %d leaves:", kLeaves);
  for (const Observation& o : g.evidence)
    std::printf(" X%d=s%d", o.var, o.state);
  std::printf("\n");
  std::printf("joint size (product of state counts): %.6g (= 2^%.2f)\n", joint, std::log2(joint));
  std::printf("induced width: min-fill order %d, reverse topological order %d (treewidth <= %d "
              "by construction)\n",
              inducedWidth(n, reduced, minFill), inducedWidth(n, reduced, reverseTopo), kTree);
  size_t samePos = 0;
  for (size_t i = 0; i < minFill.size() && i < reverseTopo.size(); ++i)
    samePos += minFill[i] == reverseTopo[i];
  std::printf("the two orders: %zu variables each, %s (%zu positions agree)\n", minFill.size(),
              minFill == reverseTopo ? "IDENTICAL" : "different", samePos);
  std::printf("queries: all %d posterior marginals + log P(evidence)\n", n);
  std::printf("wall time, median of %d runs: %.3f ms  (runs:", runs, median * 1e3);
  for (double s : seconds)
    std::printf(" %.3f", s * 1e3);
  std::printf(" ms)\n");
  std::printf("check: max |sum of marginal - 1| = %.3g  (<= 1e-12: %s)\n", worstSum,
              okSum ? "ok" : "FAIL");
  std::printf("check: log P(e) min-fill (ve.h) = %.15g, P(e) = %.15g\n", res.logEvidence,
              std::exp(res.logEvidence));
  std::printf("check: log P(e) reverse topo    = %.15g, P(e) = %.15g\n", logEv2, std::exp(logEv2));
  std::printf("check: relative difference of P(e) = %.3g  (<= 1e-9: %s)\n", relEv,
              okEv ? "ok" : "FAIL");
  std::printf("check: max |marginal difference| between the two orders = %.3g  (<= 1e-9: %s; "
              "second order took %.3f ms for all)\n",
              worstMarg, okMarg ? "ok" : "FAIL", secondSeconds * 1e3);
  std::printf("peer: none -- WebPPL's enumeration would visit all %.3g joint states\n", joint);
  return okSum && okEv && okMarg ? 0 : 1;
}

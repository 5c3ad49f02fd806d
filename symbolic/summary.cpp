// Posterior summaries, query resolution and rendering (see summary.h and infer.h).
#include "symbolic/summary.h"

#include "symbolic/diagnostics.h"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <set>

namespace chassis::symbolic {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Base names of every sample statement reachable from `f` (through CallStmts).
void sampleNames(const ir::Function& f, std::set<std::string>& out,
                 std::set<const ir::Function*>& seen) {
  if (!seen.insert(&f).second) return;
  ir::forEachStmt(f.body(), [&](ir::Stmt s) {
    if (auto* x = s->as<ir::SampleStmt>()) out.insert(x->name);
    if (auto* c = s->as<ir::CallStmt>()) sampleNames(*c->callee, out, seen);
  });
}

/// The base name of an address: the last '/'-segment without its indices.
std::string baseName(const std::string& addr) {
  size_t slash = addr.rfind('/');
  std::string last = slash == std::string::npos ? addr : addr.substr(slash + 1);
  return last.substr(0, last.find('['));
}

bool isDiscrete(const ir::Type& t) { return t.scalar != ir::ScalarKind::Real; }

std::string fmt(double x) {
  if (std::isnan(x)) return "-";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.4g", x);
  return buf;
}

nlohmann::ordered_json num(double x) {
  return std::isfinite(x) ? nlohmann::ordered_json(x) : nlohmann::ordered_json(nullptr);
}

/// Value -> probability from values and normalised weights.
std::vector<std::pair<double, double>> histogram(const std::vector<double>& xs,
                                                 const std::vector<double>& ws) {
  std::map<double, double> m;
  for (size_t i = 0; i < xs.size(); ++i)
    if (!std::isnan(xs[i])) m[xs[i]] += ws[i];
  return {m.begin(), m.end()};
}

/// Weighted summary of present values (weights renormalised over them).
void weightedSummary(const std::vector<double>& xs, std::vector<double> ws, QuantitySummary& s) {
  double tot = 0;
  std::vector<std::pair<double, double>> vw;
  for (size_t i = 0; i < xs.size(); ++i)
    if (!std::isnan(xs[i]) && ws[i] > 0) {
      vw.emplace_back(xs[i], ws[i]);
      tot += ws[i];
    }
  s.present = 0;
  for (double x : xs) s.present += !std::isnan(x);
  if (vw.empty() || !(tot > 0)) return;
  double mean = 0, sq = 0;
  for (auto& [x, w] : vw) mean += w / tot * x;
  for (auto& [x, w] : vw) sq += w / tot * (x - mean) * (x - mean);
  s.mean = mean;
  s.sd = std::sqrt(sq);
  std::sort(vw.begin(), vw.end());
  auto q = [&](double p) {
    double c = 0;
    for (auto& [x, w] : vw) {
      c += w / tot;
      if (c >= p - 1e-12) return x;
    }
    return vw.back().first;
  };
  s.q5 = q(0.05);
  s.q50 = q(0.5);
  s.q95 = q(0.95);
  double sw2 = 0;
  for (auto& [x, w] : vw) sw2 += (w / tot) * (w / tot);
  double ess = 1.0 / sw2;
  s.mcse = s.sd / std::sqrt(ess);
  s.essBulk = ess;
}

} // namespace

std::string methodName(InferMethod m) {
  switch (m) {
  case InferMethod::Exact: return "exact";
  case InferMethod::LW: return "lw";
  case InferMethod::MH: return "mh";
  case InferMethod::NUTS: return "nuts";
  case InferMethod::SMC: return "smc";
  }
  return "?";
}

double logSumExp(std::span<const double> xs) {
  double m = -std::numeric_limits<double>::infinity();
  for (double x : xs) m = std::max(m, x);
  if (!std::isfinite(m)) return m;
  double s = 0;
  for (double x : xs) s += std::exp(x - m);
  return m + std::log(s);
}

namespace {

// Two doubles and two 64-bit integers as one value (GCC's and Clang's vector extension: an SSE2
// register on any x86-64; plain IEEE operations lane by lane, so the same bits on every machine).
using V2d = double __attribute__((vector_size(16)));
using V2i = int64_t __attribute__((vector_size(16)));

/// exp(x) lane by lane for x <= 0, x = -inf or NaN, by arithmetic alone (no table, no call, no
/// branch): x = k ln2 + r with |r| <= ln2/2 (Cody and Waite's two-part ln2, k ln2hi exact),
/// exp(r) by its Taylor polynomial to degree 12 (truncation below 2.5e-16 relative), times 2^k
/// from exponent bits; 0 below -708 (exp(x) < 2^-1021, nothing next to a sum holding exp(0) = 1).
/// Within a few ulps of std::exp (tests/symbolic/log_sum_exp_test.cpp).
inline V2d expNonPositive(V2d x) {
  constexpr double kLog2e = 1.4426950408889634, kShift = 0x1.8p52;
  constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
  const V2d lo = {-708.0, -708.0};
  const V2i below = (V2i)(x < lo);                   // all ones where x < -708 (not for NaN)
  const V2d xc = (V2d)(((V2i)x & ~below) | ((V2i)lo & below));
  const V2d kd = xc * kLog2e + kShift;          // round(x / ln2) + 1.5 2^52: k in its low bits
  const V2d k = kd - kShift;
  const V2d r = (xc - k * kLn2Hi) - k * kLn2Lo;
  V2d p = r * (1.0 / 479001600.0) + 1.0 / 39916800.0; // 1/12!, 1/11!
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  // 2^k, k in [-1022, 0]: the low 12 bits of kd's are k's (two's complement), shifted into the
  // exponent field and biased.
  const V2d scale = (V2d)(((V2i)kd << 52) + (int64_t(1023) << 52));
  return (V2d)((V2i)(p * scale) & ~below);
}

} // namespace

double expOfNonPositive(double x) {
  const V2d v = {x, x};
  return expNonPositive(v)[0];
}

LogSumExpPart logSumExpPart(std::span<const double> xs) {
  // Four lanes of maxima and sums (two pairs), combined in a fixed order at the end; a tail of
  // fewer than four terms fills the lanes with -inf (exp 0, adding exactly nothing).
  constexpr double kNegInf = -std::numeric_limits<double>::infinity();
  const size_t n = xs.size(), body = n - n % 4;
  double tail[4] = {kNegInf, kNegInf, kNegInf, kNegInf};
  for (size_t j = 0; body + j < n; ++j) tail[j] = xs[body + j];
  double mx[4] = {kNegInf, kNegInf, kNegInf, kNegInf};
  for (size_t i = 0; i < body; i += 4)
    for (size_t j = 0; j < 4; ++j) mx[j] = std::max(mx[j], xs[i + j]);
  LogSumExpPart part;
  for (size_t j = 0; j < 4; ++j) part.max = std::max(part.max, mx[j]);
  for (size_t i = body; i < n; ++i) part.max = std::max(part.max, xs[i]);
  if (!std::isfinite(part.max)) return part; // (sum 0: nothing to add, or +inf / NaN below)
  const double m = part.max;
  V2d acc0 = {0, 0}, acc1 = {0, 0}; // lanes 0, 1 and 2, 3
  auto add = [&](const double* four) {
    V2d a, b;
    std::memcpy(&a, four, sizeof a);
    std::memcpy(&b, four + 2, sizeof b);
    acc0 += expNonPositive(a - m);
    acc1 += expNonPositive(b - m);
  };
  for (size_t i = 0; i < body; i += 4) add(xs.data() + i);
  if (body < n) add(tail);
  part.sum = (acc0[0] + acc0[1]) + (acc1[0] + acc1[1]);
  return part;
}

double combineLogSumExp(std::span<const LogSumExpPart> parts) {
  double m = -std::numeric_limits<double>::infinity();
  for (const LogSumExpPart& p : parts) m = std::max(m, p.max);
  if (!std::isfinite(m)) return m;
  double s = 0;
  for (const LogSumExpPart& p : parts)
    if (p.sum != 0) s += p.sum * std::exp(p.max - m); // an empty or all -inf piece adds nothing
                                                      // (a NaN sum stays NaN, as in logSumExp)
  return m + std::log(s);
}

Expected<std::vector<Quantity>> resolveQuery(const ir::Function& f,
                                             const std::vector<std::string>& query,
                                             const Trace* firstRun) {
  std::vector<Quantity> out;
  auto addOutput = [&](int k, int elem) {
    const ir::Var* o = f.outputs()[k];
    Quantity q;
    // Element `elem` of the flat (row-major) storage, named by its index in each dimension:
    // y[3], or m[1][2] of a two-dimensional array (as the addresses of draws are written).
    std::string idx;
    const std::vector<int>& dims = o->type().dims;
    for (size_t d = dims.size(), rest = size_t(elem); elem >= 0 && d-- > 0;) {
      idx = "[" + std::to_string(rest % size_t(dims[d])) + "]" + idx;
      rest /= size_t(dims[d]);
    }
    q.name = o->name() + idx;
    q.output = k;
    q.element = elem;
    q.type = o->type().scalarType();
    out.push_back(q);
  };
  auto addAllElements = [&](int k) {
    const ir::Type& t = f.outputs()[k]->type();
    if (t.isArray())
      for (size_t e = 0; e < t.numScalars(); ++e) addOutput(k, int(e));
    else
      addOutput(k, -1);
  };
  auto addChoice = [&](const std::string& addr, ir::Type t) {
    Quantity q;
    q.name = q.address = addr;
    q.type = t;
    out.push_back(q);
  };
  auto choiceType = [](DistKind d) {
    switch (signature(d).result) {
    case DistResultType::Bool: return ir::Type::boolean();
    case DistResultType::Int: return ir::Type::integer();
    case DistResultType::Real: return ir::Type::real();
    }
    return ir::Type::real();
  };
  if (query.empty()) {
    for (size_t k = 0; k < f.outputs().size(); ++k) addAllElements(int(k));
    if (f.outputs().empty() && firstRun)
      for (const Choice& c : firstRun->choices) addChoice(c.address, choiceType(c.dist));
    return out;
  }
  std::set<std::string> names;
  std::set<const ir::Function*> seen;
  sampleNames(f, names, seen);
  for (const std::string& name : query) {
    if (int k = f.outputIndex(name); k >= 0) {
      addAllElements(k);
      continue;
    }
    // An output element "y[2]".
    if (auto br = name.find('['); br != std::string::npos && name.back() == ']') {
      int k = f.outputIndex(name.substr(0, br));
      if (k >= 0 && f.outputs()[k]->type().isArray()) {
        // One index per dimension: "y[2]", or "m[1][0]" of a two-dimensional output.
        const std::vector<int>& dims = f.outputs()[k]->type().dims;
        const char* p = name.c_str() + br;
        long flat = 0;
        size_t d = 0;
        bool ok = true;
        for (; ok && *p == '['; ++d) {
          char* end = nullptr;
          long e = std::strtol(p + 1, &end, 10);
          ok = end != p + 1 && *end == ']' && d < dims.size() && e >= 0 && e < dims[d];
          if (ok) flat = flat * dims[d] + e;
          p = ok ? end + 1 : p;
        }
        if (ok && *p == '\0' && d == dims.size()) {
          addOutput(k, int(flat));
          continue;
        }
        return Error("'" + name + "' is outside output '" + name.substr(0, br) + "'");
      }
    }
    if (names.count(baseName(name))) {
      // An array of random choices, "theta" for theta[0], theta[1], ...: every element the first
      // run drew (in the order drawn), unless "theta" is itself a choice.
      if (firstRun && name.find('[') == std::string::npos && !firstRun->find(name)) {
        const std::string prefix = name + "[";
        size_t added = 0;
        for (const Choice& c : firstRun->choices)
          if (c.address.compare(0, prefix.size(), prefix) == 0) {
            addChoice(c.address, choiceType(c.dist));
            ++added;
          }
        if (added > 0) continue;
      }
      ir::Type t = ir::Type::real();
      if (firstRun)
        if (const Choice* c = firstRun->find(name)) t = choiceType(c->dist);
      addChoice(name, t);
      continue;
    }
    std::string outs;
    for (const ir::Var* o : f.outputs()) outs += (outs.empty() ? "" : ", ") + o->name();
    return Error("unknown query '" + name + "': not an output of '" + f.name() +
                 "' (outputs: " + (outs.empty() ? "none" : outs) +
                 ") nor the address of one of its random choices");
  }
  return out;
}

void readQuantities(std::span<const Quantity> qs, const RunResult& run, std::vector<double>& out) {
  out.resize(qs.size());
  for (size_t i = 0; i < qs.size(); ++i) {
    const Quantity& q = qs[i];
    if (q.output >= 0) {
      const Value& v = run.outputs[q.output];
      out[i] = q.element >= 0 ? v.a[q.element] : v.s;
    } else {
      const Choice* c = run.trace.find(q.address);
      out[i] = c ? c->value : kNaN;
    }
  }
}

Status summarizePosterior(Posterior& p) {
  p.summaries.clear();
  p.warnings.clear();
  if (p.draws.size() != p.quantities.size())
    return Error("internal: draws for " + std::to_string(p.draws.size()) + " quantities, expected " +
                 std::to_string(p.quantities.size()));
  const bool weighted = !p.logWeights.empty();
  std::vector<double> ws;
  if (weighted) {
    double lse = logSumExp(p.logWeights);
    for (double l : p.logWeights) ws.push_back(std::isfinite(lse) ? std::exp(l - lse) : 0.0);
    double sw2 = 0;
    for (double w : ws) sw2 += w * w;
    p.ess = sw2 > 0 ? 1.0 / sw2 : 0.0;
    if (!std::isfinite(lse))
      p.warnings.push_back("every trace has weight zero (the evidence is impossible under the "
                           "prior draws): check the observations or use more --samples");
    else if (p.ess < 100)
      p.warnings.push_back("the effective sample size of the weights is " + fmt(p.ess) +
                           " (< 100): the estimates are unreliable; use more --samples or "
                           "--method mh/smc");
  }
  for (size_t q = 0; q < p.quantities.size(); ++q) {
    QuantitySummary s;
    s.name = p.quantities[q].name;
    const auto& chains = p.draws[q];
    std::vector<double> all;
    bool complete = true;
    for (auto& c : chains)
      for (double x : c) {
        all.push_back(x);
        if (!std::isfinite(x)) complete = false;
      }
    if (weighted) {
      if (all.size() != ws.size()) return Error("internal: draws and weights disagree in number");
      weightedSummary(all, ws, s);
      if (isDiscrete(p.quantities[q].type)) s.distribution = histogram(all, ws);
    } else {
      std::vector<double> present;
      for (double x : all)
        if (!std::isnan(x)) present.push_back(x);
      s.present = present.size();
      bool equal = !chains.empty();
      for (auto& c : chains) equal = equal && c.size() == chains[0].size();
      if (complete && equal && !chains.empty() && chains[0].size() >= 4) {
        auto d = summarizeDraws(chains);
        if (!d) return d.error();
        s.mean = d->mean;
        s.sd = d->sd;
        s.q5 = d->q5;
        s.q50 = d->q50;
        s.q95 = d->q95;
        s.rhat = d->rhat;
        s.essBulk = d->essBulk;
        s.essTail = d->essTail;
        s.mcse = d->mcseMean;
      } else if (!present.empty()) {
        std::vector<double> w(present.size(), 1.0 / double(present.size()));
        weightedSummary(present, w, s);
        s.essBulk = s.mcse = kNaN; // no autocorrelation-aware estimate for partial draws
        const std::vector<double> qs = quantiles7(present, {0.05, 0.5, 0.95});
        s.q5 = qs[0];
        s.q50 = qs[1];
        s.q95 = qs[2];
      }
      if (isDiscrete(p.quantities[q].type)) {
        std::vector<double> w(all.size(), present.empty() ? 0.0 : 1.0 / double(present.size()));
        s.distribution = histogram(all, w);
      }
      if (s.rhat > 1.01)
        p.warnings.push_back("R-hat of '" + s.name + "' is " + fmt(s.rhat) +
                             " > 1.01: the chains disagree; run longer (--warmup, --samples), "
                             "use more --chains, or reparameterise the model");
      const double perChain = 100.0 * double(std::max<size_t>(1, chains.size()));
      if (s.essBulk < perChain || s.essTail < perChain)
        p.warnings.push_back("ESS of '" + s.name + "' is low (bulk " + fmt(s.essBulk) + ", tail " +
                             fmt(s.essTail) + "; want >= 100 per chain): increase --samples or " +
                             "try another --method (nuts for continuous models)");
    }
    p.summaries.push_back(std::move(s));
  }
  if (p.divergences > 0)
    p.warnings.push_back(std::to_string(p.divergences) +
                         " divergent transitions after warm-up: the posterior may be biased; "
                         "raise the target acceptance (--adapt-delta 0.95) or reparameterise "
                         "(e.g. non-centred)");
  size_t depthHits = 0;
  for (const Posterior::SamplerChain& c : p.sampler)
    depthHits += c.maxDepthHits;
  if (depthHits > 0)
    p.warnings.push_back(std::to_string(depthHits) +
                         " transitions after warm-up stopped at the maximum tree depth " +
                         std::to_string(p.maxTreeDepth) +
                         ": the trajectories were cut short, so sampling is slower than it "
                         "should be; raise --max-depth or reparameterise");
  return Status::ok();
}

namespace {

std::string valueName(double v, const ir::Type& t, const ir::Context& ctx) {
  if (t.scalar == ir::ScalarKind::Bool) return v != 0 ? "true" : "false";
  if (t.scalar == ir::ScalarKind::Enum && t.enumId >= 0 && v >= 0 &&
      size_t(v) < ctx.enums()[t.enumId].constants.size())
    return ctx.enums()[t.enumId].constants[size_t(v)];
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

} // namespace

void printTable(const Posterior& p, const ir::Context& ctx, std::ostream& os) {
  size_t w = 8;
  for (auto& s : p.summaries) w = std::max(w, s.name.size() + 2);
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-*s %10s %10s %10s %10s %10s %7s %8s %8s %10s\n", int(w),
                "quantity", "mean", "sd", "5%", "50%", "95%", "R-hat", "ESS_bulk", "ESS_tail",
                "MCSE");
  os << "method = " << methodName(p.method);
  if (p.method == InferMethod::MH || p.method == InferMethod::NUTS)
    os << ", chains = " << p.chains << ", draws per chain = " << p.samplesPerChain;
  else if (p.method != InferMethod::Exact)
    os << ", samples = " << p.samplesPerChain;
  os << "\n" << buf;
  for (auto& s : p.summaries) {
    std::snprintf(buf, sizeof buf, "%-*s %10s %10s %10s %10s %10s %7s %8s %8s %10s\n", int(w),
                  s.name.c_str(), fmt(s.mean).c_str(), fmt(s.sd).c_str(), fmt(s.q5).c_str(),
                  fmt(s.q50).c_str(), fmt(s.q95).c_str(), fmt(s.rhat).c_str(),
                  fmt(s.essBulk).c_str(), fmt(s.essTail).c_str(), fmt(s.mcse).c_str());
    os << buf;
  }
  if (p.method == InferMethod::Exact) {
    for (size_t q = 0; q < p.summaries.size(); ++q) {
      const auto& s = p.summaries[q];
      if (s.distribution.empty()) continue;
      os << "P(" << s.name << "):\n";
      for (auto& [v, pr] : s.distribution) {
        std::snprintf(buf, sizeof buf, "  %-12s %.10f\n",
                      valueName(v, p.quantities[q].type, ctx).c_str(), pr);
        os << buf;
      }
    }
  }
  if (!std::isnan(p.logEvidence)) {
    std::snprintf(buf, sizeof buf, "%.10g", p.logEvidence);
    os << "log P(evidence) = " << buf
       << (p.method == InferMethod::Exact ? "" : " (estimate)");
    if (!std::isnan(p.logEvidenceSe)) {
      std::snprintf(buf, sizeof buf, "%.4g", p.logEvidenceSe);
      os << ", standard error " << buf << " (Lee-Whiteley, " << p.smcEves << " initial ancestors)";
    }
    os << "\n";
  }
  if (!std::isnan(p.ess)) os << "ESS of the weights = " << fmt(p.ess) << "\n";
  if (!std::isnan(p.acceptRate)) os << "acceptance rate = " << fmt(p.acceptRate) << "\n";
  if (p.method == InferMethod::SMC) os << "resamplings = " << p.resamplings << "\n";
  if (!p.sampler.empty()) {
    os << "sampler (after warm-up; maximum tree depth " << p.maxTreeDepth << "):\n";
    std::snprintf(buf, sizeof buf, "  %-6s %11s %11s %8s %10s %13s %10s\n", "chain",
                  "step size", "tree depth", "accept", "divergent", "at max depth", "leapfrogs");
    os << buf;
    for (size_t c = 0; c < p.sampler.size(); ++c) {
      const Posterior::SamplerChain& s = p.sampler[c];
      std::snprintf(buf, sizeof buf, "  %-6zu %11.4g %11.3g %8.3g %10zu %13zu %10zu\n", c + 1,
                    s.stepSize, s.meanTreeDepth, s.meanAcceptStat, s.divergences, s.maxDepthHits,
                    s.leapfrogs);
      os << buf;
    }
  }
  for (auto& w : p.warnings) os << "warning: " << w << "\n";
}

nlohmann::ordered_json toJson(const Posterior& p) {
  nlohmann::ordered_json j;
  j["method"] = methodName(p.method);
  j["chains"] = p.chains;
  j["samples"] = p.samplesPerChain;
  nlohmann::ordered_json qs = nlohmann::ordered_json::array();
  for (auto& s : p.summaries) {
    nlohmann::ordered_json q;
    q["name"] = s.name;
    q["mean"] = num(s.mean);
    q["sd"] = num(s.sd);
    q["q5"] = num(s.q5);
    q["q50"] = num(s.q50);
    q["q95"] = num(s.q95);
    q["rhat"] = num(s.rhat);
    q["ess_bulk"] = num(s.essBulk);
    q["ess_tail"] = num(s.essTail);
    q["mcse"] = num(s.mcse);
    nlohmann::ordered_json d = nlohmann::ordered_json::array();
    for (auto& [v, pr] : s.distribution) d.push_back({num(v), num(pr)});
    q["distribution"] = d;
    qs.push_back(q);
  }
  j["quantities"] = qs;
  j["log_evidence"] = num(p.logEvidence);
  if (p.method == InferMethod::SMC) {
    j["log_evidence_se"] = num(p.logEvidenceSe);
    j["rejuvenation_accept_rate"] = num(p.rejuvenationAcceptRate);
  }
  j["ess"] = num(p.ess);
  j["accept_rate"] = num(p.acceptRate);
  j["divergences"] = p.divergences;
  j["resamplings"] = p.resamplings;
  if (!p.sampler.empty()) {
    nlohmann::ordered_json sj = nlohmann::ordered_json::array();
    for (const Posterior::SamplerChain& s : p.sampler)
      sj.push_back({{"step_size", num(s.stepSize)},
                    {"mean_tree_depth", num(s.meanTreeDepth)},
                    {"mean_accept_stat", num(s.meanAcceptStat)},
                    {"divergences", s.divergences},
                    {"max_depth_hits", s.maxDepthHits},
                    {"leapfrogs", s.leapfrogs}});
    j["max_tree_depth"] = p.maxTreeDepth;
    j["sampler"] = sj;
  }
  j["warnings"] = p.warnings;
  return j;
}

} // namespace chassis::symbolic

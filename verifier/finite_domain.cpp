// Quantified properties over a finite domain, by enumeration. See verifier/finite_domain.h.
#include "verifier/finite_domain.h"

#include "symbolic/interp.h"
#include "verifier/replay.h"

#include <chrono>
#include <cmath>
#include <string>
#include <vector>

namespace chassis::verifier {
namespace {

/// One scalar of a quantified variable: its variable, its element, its integer range.
struct Digit {
  size_t var = 0, elem = 0;
  long lo = 0, hi = 0;
};

/// The domain's digits and its number of points; nullopt when `prop` is not enumerable.
std::optional<std::pair<std::vector<Digit>, long>>
domainOf(const ir::Program& program, const ir::Property& prop, const VerifyOptions& opts) {
  if (prop.kind != ir::PropertyKind::Forall && prop.kind != ir::PropertyKind::Exists)
    return std::nullopt;
  if (prop.vars.empty() || opts.emitSmt2) return std::nullopt;
  bool allForall = true, allExists = true;
  for (const ir::QuantVar& q : prop.vars)
    (q.exists ? allForall : allExists) = false;
  if (!allForall && !allExists) return std::nullopt;

  // The domain: every scalar of every variable, each over its integer range.
  std::vector<Digit> digits;
  double points = 1;
  for (size_t i = 0; i < prop.vars.size(); ++i) {
    const ir::QuantVar& q = prop.vars[i];
    const ir::Type& t = q.var->type();
    long lo = 0, hi = 0;
    switch (t.scalar) {
    case ir::ScalarKind::Bool:
      lo = 0, hi = 1;
      break;
    case ir::ScalarKind::Enum:
      lo = 0, hi = long(program.ctx().enums()[size_t(t.enumId)].constants.size()) - 1;
      break;
    case ir::ScalarKind::Int:
      if (!std::isfinite(q.lo) || !std::isfinite(q.hi)) return std::nullopt;
      lo = long(std::ceil(q.lo)), hi = long(std::floor(q.hi));
      break;
    default:
      return std::nullopt;
    }
    if (hi < lo) return std::nullopt; // an empty range: the Z3 path says what that means
    for (size_t e = 0; e < t.numScalars(); ++e) {
      digits.push_back({i, e, lo, hi});
      points *= double(hi - lo + 1);
      if (points > double(kMaxEnumeratedPoints)) return std::nullopt;
    }
  }
  return std::pair{std::move(digits), long(points)};
}

} // namespace

bool enumerable(const ir::Program& program, const ir::Property& prop, const VerifyOptions& opts) {
  return domainOf(program, prop, opts).has_value();
}

std::optional<PropertyResult> verifyByEnumeration(const ir::Program& program,
                                                  const ir::Property& prop,
                                                  const VerifyOptions& opts) {
  auto domain = domainOf(program, prop, opts);
  if (!domain) return std::nullopt;
  const std::vector<Digit>& digits = domain->first;
  const long points = domain->second;
  const bool existential = prop.vars.front().exists;

  const auto t0 = std::chrono::steady_clock::now();
  PropertyResult r;
  r.name = prop.name;
  r.loc = prop.loc;
  r.method = "enumeration of the " + std::to_string(points) +
             " points of the domain, each proved over the reals";
  std::vector<const ir::Var*> qv;
  std::vector<std::pair<double, double>> boxes;
  for (const ir::QuantVar& q : prop.vars) {
    qv.push_back(q.var);
    boxes.emplace_back(q.lo, q.hi);
  }
  // A fresh solver per point (RealPointCheck): with the point's values fixed, Z3's preprocessing
  // propagates them through the encoding; a push/pop solver over all points skips that and was
  // measured far slower (one point of parity's network took over 25 s).
  RealPointCheck real(prop.body, qv, boxes, opts.timeoutSec);
  if (!real.error().empty()) return std::nullopt; // not encodable: the Z3 path reports it

  std::vector<symbolic::Value> frame(size_t(prop.numSlots));
  for (const ir::QuantVar& q : prop.vars)
    frame[size_t(q.var->slot())] = symbolic::zeroValue(q.var->type());
  auto pointText = [&]() {
    std::string s;
    for (const ir::QuantVar& q : prop.vars)
      s += (s.empty() ? "" : ", ") + q.var->name() + " = " +
           symbolic::formatValue(frame[size_t(q.var->slot())], q.var->type(), program.ctx());
    return s;
  };
  std::vector<long> at(digits.size());
  for (size_t d = 0; d < digits.size(); ++d)
    at[d] = digits[d].lo;
  // The witness (exists) or counterexample (forall) value of the body.
  const bool decisive = existential;
  for (long p = 0; p < points; ++p) {
    for (size_t d = 0; d < digits.size(); ++d) {
      symbolic::Value& v = frame[size_t(prop.vars[digits[d].var].var->slot())];
      if (prop.vars[digits[d].var].var->type().isArray())
        v.a.set(digits[d].elem, double(at[d]));
      else
        v.s = double(at[d]);
    }
    auto value = symbolic::evaluate(prop.body, frame, prop.loc);
    if (!value) return std::nullopt; // undefined at a point: the Z3 path's rules apply
    const bool b = value->s != 0;
    if (b == decisive) {
      if (real.proves(frame, b)) {
        r.verdict = existential ? Verdict::Holds : Verdict::Violated;
        for (const ir::QuantVar& q : prop.vars)
          r.counterexample.push_back(
              {q.var->name(),
               symbolic::formatValue(frame[size_t(q.var->slot())], q.var->type(), program.ctx())});
        r.valueAtCounterexample = b ? "true" : "false";
        if (existential) r.reason = "witness proved over the reals";
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        return r;
      }
      r.verdict = Verdict::Unknown;
      r.reason = "float64 evaluates the property " + std::string(b ? "true" : "false") + " at " +
                 pointText() + ", but that is not proved over the reals" +
                 (real.error().empty() ? "" : ": " + real.error());
      return r;
    }
    if (!real.proves(frame, b)) {
      r.verdict = Verdict::Unknown;
      r.reason = "the property's value at " + pointText() + " is not proved over the reals" +
                 (real.error().empty() ? "" : " (" + real.error() + ")") + "; " +
                 std::to_string(p) + " of " + std::to_string(points) + " points were decided";
      return r;
    }
    // Next point (the last digit fastest).
    for (size_t d = digits.size(); d-- > 0;) {
      if (++at[d] <= digits[d].hi) break;
      at[d] = digits[d].lo;
    }
  }
  r.verdict = existential ? Verdict::Violated : Verdict::Holds;
  if (existential) r.reason = "no witness exists (every point of the domain proved false)";
  return r;
}

} // namespace chassis::verifier

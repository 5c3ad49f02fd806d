// Test helpers shared by the codegen tests: a program file loaded with its networks (when they
// load), and random input values for a module's parameters.
#pragma once

#include "neural/lower_network.h"
#include "spec/diagnostics.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "tests/symbolic/compile_chs.h"

#include <cmath>
#include <memory>
#include <random>
#include <string>

namespace chassis::testing {

inline std::unique_ptr<ir::Program> tryLoad(const std::string& path) {
  spec::DiagnosticEngine diags;
  const spec::DataSizes sizes = caseData(path); // a case's sizes (NAME.json)
  auto ast = spec::loadProgram(path, diags, &sizes);
  if (!ast) return nullptr;
  ir::LowerOptions lo;
  lo.networkLoader = neural::networkLoader();
  auto prog = ir::lower(*ast, lo);
  if (!prog) prog = ir::lower(*ast); // a network file missing: networks stay External
  if (!prog) return nullptr;
  return std::make_unique<ir::Program>(std::move(*prog));
}

/// One random scalar for input `p`: mostly inside its range, sometimes on or just beyond an end.
inline double drawScalar(const ir::Param& p, const ir::Context& ctx, std::mt19937_64& rng) {
  const ir::Type& t = p.var->type();
  std::uniform_real_distribution<double> u01(0, 1);
  double lo = p.range ? p.range->first : -10, hi = p.range ? p.range->second : 10;
  double pick = u01(rng);
  switch (t.scalar) {
  case ir::ScalarKind::Bool:
    return double(rng() % 2);
  case ir::ScalarKind::Enum:
    return double(rng() % ctx.enums()[size_t(t.enumId)].constants.size());
  case ir::ScalarKind::Int: {
    double a = std::ceil(lo), b = std::floor(hi);
    if (p.range && pick < 0.03) return pick < 0.015 ? a - 1 : b + 1;
    if (pick < 0.08) return pick < 0.055 ? a : b;
    if (pick < 0.12 && a <= 0 && 0 <= b) return 0;
    return double(std::uniform_int_distribution<int64_t>(int64_t(a), int64_t(b))(rng));
  }
  default:
    if (p.range && pick < 0.03) return pick < 0.015 ? lo - 0.5 : hi + 0.5;
    if (pick < 0.08) return pick < 0.055 ? lo : hi;
    if (pick < 0.12 && lo <= 0 && 0 <= hi) return 0;
    return lo + (hi - lo) * u01(rng);
  }
}

} // namespace chassis::testing

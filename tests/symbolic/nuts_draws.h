// Test helper shared by the NUTS posterior tests: the summary (mean, sd, ESS, R-hat, MCSE) of one
// quantity's draws, failing the test when the quantity is missing or cannot be summarised.
#pragma once

#include "symbolic/diagnostics.h"
#include "symbolic/infer_nuts.h"

#include <catch2/catch.hpp>

#include <string>

namespace chassis::testing {

inline symbolic::DrawSummary summaryOf(const symbolic::NutsResult& r, const std::string& name) {
  int q = r.find(name);
  INFO(name);
  REQUIRE(q >= 0);
  auto s = symbolic::summarizeDraws(r.chainsOf(size_t(q)));
  REQUIRE(s);
  return *s;
}

} // namespace chassis::testing

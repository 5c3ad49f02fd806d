// libFuzzer target for the Stan CSV reader (symbolic/stan_csv.h readStanCsv, what `chassis summary`
// reads): arbitrary text must give a chain or a located Error, never a crash, hang, leak or
// sanitizer report. An accepted chain must be rectangular (every row, warm-up or not, has one
// value per column) and its posterior summary (posteriorFromStanCsv: means, quantiles, R-hat,
// ESS) must compute without error when the chain has a quantity and a draw. Seeds in
// corpus/stan_csv/.
#include "symbolic/stan_csv.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <sstream>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chassis::symbolic;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  chassis::Expected<StanCsvChain> c = readStanCsv(in, "fuzz.csv");
  if (!c) {
    if (c.error().message.empty()) std::abort();
    return 0;
  }
  for (const auto* rows : {&c->rows, &c->warmupRows})
    for (const std::vector<double>& r : *rows)
      if (r.size() != c->columns.size()) std::abort();
  (void)posteriorFromStanCsv(std::span<const StanCsvChain>(&*c, 1));
  return 0;
}

// libFuzzer target for the VNN-LIB reader (spec/vnnlib.h parseVnnlib): arbitrary text must give a
// VnnProperty or a located Error (`file:line:col`), never a crash, hang, leak or sanitizer report.
// An accepted property must be what vnnlib.h promises: every case has one bound per input and a
// non-empty box (empty boxes are dropped), every constraint one coefficient per output, and no
// NaN anywhere. Seeds in corpus/vnnlib/, keywords in vnnlib.dict.
#include "spec/vnnlib.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chassis::spec;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  chassis::Expected<VnnProperty> p = parseVnnlib(text, "fuzz.vnnlib");
  if (!p) {
    if (p.error().message.empty()) std::abort();
    return 0;
  }
  const size_t nIn = static_cast<size_t>(p->numInputs), nOut = static_cast<size_t>(p->numOutputs);
  for (const VnnCase& c : p->cases) {
    if (c.lo.size() != nIn || c.hi.size() != nIn) std::abort();
    for (size_t i = 0; i < nIn; ++i)
      if (std::isnan(c.lo[i]) || std::isnan(c.hi[i]) || c.lo[i] > c.hi[i]) std::abort();
    for (const OutputConstraint& oc : c.constraints) {
      if (oc.coef.size() != nOut || std::isnan(oc.rhs)) std::abort();
      for (double a : oc.coef)
        if (std::isnan(a)) std::abort();
    }
  }
  return 0;
}

// libFuzzer target for the BIF reader (symbolic/bif.h parseBif): arbitrary text must give a
// BayesNet or a located Error, never a crash, hang, leak or sanitizer report. An accepted network
// must be consistent (one CPT per variable, in order, each with one row of probabilities per
// combination of parent states, each row summing to 1), and when it is acyclic `chassis
// import-bif`'s conversion (writeChs) must give a .chs module that the front end accepts.
// Seeds in corpus/bif/, keywords in bif.dict.
#include "spec/diagnostics.h"
#include "spec/frontend.h"
#include "symbolic/bayesnet.h"
#include "symbolic/bif.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chassis::symbolic;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  chassis::Expected<BayesNet> net = parseBif(text, "fuzz.bif");
  if (!net) {
    if (net.error().message.empty()) std::abort();
    return 0;
  }
  if (net->cpts.size() != net->vars.size()) std::abort();
  for (size_t v = 0; v < net->vars.size(); ++v) {
    const BnCpt& cpt = net->cpts[v];
    if (cpt.child != static_cast<int>(v)) std::abort();
    size_t rows = 1;
    for (int p : cpt.parents) {
      if (p < 0 || static_cast<size_t>(p) >= net->vars.size()) std::abort();
      rows *= net->vars[static_cast<size_t>(p)].states.size();
    }
    const size_t k = net->vars[v].states.size();
    if (k == 0 || cpt.probs.size() != rows * k) std::abort();
    for (size_t r = 0; r < rows; ++r) {
      double sum = 0;
      for (size_t s = 0; s < k; ++s) sum += cpt.probs[r * k + s];
      if (!(std::fabs(sum - 1.0) <= 1e-6)) std::abort();
    }
  }
  if (!net->topologicalOrder()) return 0;
  chassis::Expected<std::string> chs = writeChs(*net, "Net", "fuzz.bif");
  if (!chs) return 0;
  // The front end holds a few hundred bytes per array element: a network near the reader's
  // 2^21 probabilities (a default row over many parents) would take seconds and gigabytes to
  // check under ASan, a measure of size rather than of the conversion's correctness.
  size_t probabilities = 0;
  for (const BnCpt& cpt : net->cpts)
    probabilities += cpt.probs.size();
  if (probabilities > (size_t(1) << 14)) return 0;
  chassis::spec::DiagnosticEngine diags;
  if (!chassis::spec::fromString(*chs, "fuzz_bif.chs", diags)) {
    std::fprintf(stderr, "writeChs gave a .chs the front end rejects:\n%s\n%s\n", chs->c_str(),
                 diags.str().c_str());
    std::abort();
  }
  return 0;
}

// libFuzzer target for the language front end: runs the whole front end — lexer, parser, import
// resolution, checker, call graph (spec/frontend.h's fromString) — and the diagnostics printer on
// arbitrary bytes. The front end must never crash, hang, leak or read out of bounds, whatever the
// input: bad input is reported as diagnostics (values), nothing else; and a program is accepted
// only with no diagnostics. Built and run by scripts/fuzz (clang-14,
// -fsanitize=fuzzer,address,undefined); seeds in corpus/, keywords in chs.dict.
//
// The input is displayed as "ok/fuzz.chs", so imports resolve relative to ok/ of the current
// directory; scripts/fuzz runs in tests/spec, where the seeds' imports (lib/shapes.chs, ...) exist.
#include "spec/diagnostics.h"
#include "spec/frontend.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view source(reinterpret_cast<const char*>(data), size);
  chassis::spec::DiagnosticEngine diags;
  chassis::Expected<chassis::spec::Program> program =
      chassis::spec::fromString(source, "ok/fuzz.chs", diags);
  // Render every diagnostic with its source line and caret (exercises the location arithmetic).
  std::string out = diags.str();
  // The contract: an Error exactly when something was diagnosed. Anything else is a finding.
  if (static_cast<bool>(program) == diags.hasErrors()) std::abort();
  if (!program && out.empty()) std::abort();
  return 0;
}

// libFuzzer target for the language front end: runs the whole front end — lexer, parser, import
// resolution, checker, call graph (spec/frontend.h's fromString) — and the diagnostics printer on
// arbitrary bytes, then lowers every program the checker accepts to the core IR (spec/lower.h)
// and prints the IR. The front end must never crash, hang, leak or read out of bounds, whatever
// the input: bad input is reported as diagnostics (values), nothing else; a program is accepted
// exactly when there are no diagnostics; and lowering a checked program must not crash.
// With CHASSIS_FUZZ_STRICT=1 in the environment, a checked program that lowering rejects is a
// finding too (a gap between `chassis check` and the back ends). Built and run by scripts/fuzz
// (clang-14, -fsanitize=fuzzer,address,undefined); seeds in corpus/, keywords in chs.dict.
//
// The input is displayed as "ok/fuzz.chs", so imports resolve relative to ok/ of the current
// directory; scripts/fuzz runs in tests/spec, where the seeds' imports (lib/shapes.chs, ...) exist.
#include "spec/diagnostics.h"
#include "spec/frontend.h"
#include "spec/ir.h"
#include "spec/lower.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

namespace {
bool strictLowering() {
  static const bool strict = [] {
    const char* v = std::getenv("CHASSIS_FUZZ_STRICT");
    return v && std::string_view(v) == "1";
  }();
  return strict;
}
} // namespace

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
  if (!program) return 0;
  chassis::Expected<chassis::ir::Program> ir = chassis::ir::lower(*program);
  if (ir) {
    std::ostringstream text;
    chassis::ir::print(*ir, text);
  } else if (strictLowering()) {
    std::fprintf(stderr, "checked program rejected by lowering: %s\n", ir.error().str().c_str());
    std::abort();
  }
  return 0;
}

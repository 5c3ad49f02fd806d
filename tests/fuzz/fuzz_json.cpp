// libFuzzer target for the JSON data reader (symbolic/interp.h bindJsonInputs, what `chassis run
// --data` and `chassis infer --data` read, and parseValue, what `--input name=value` reads): the
// input is the text of a data file, bound to the inputs of each module of a fixed program that has
// every kind of input (real, int, bool, enum, ranged, arrays; the language has no nested arrays).
// Arbitrary text must bind or give an Error, never a crash, hang, leak or sanitizer report, and
// never a thrown exception (nlohmann::json throws; the reader must catch at its boundary). A bound
// value must have its input's shape, and print (formatValue) to text that parseValue reads back
// to the same value when it is finite. The same text is also parsed as an `--input` value of each
// input's type. Seeds in corpus/json/, JSON tokens in json.dict.
#include "spec/diagnostics.h"
#include "spec/frontend.h"
#include "spec/ir.h"
#include "spec/lower.h"
#include "symbolic/interp.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

namespace {
using namespace chassis;

constexpr std::string_view kProgram = R"(
enum Color { Red, Green, Blue }
module Scalars(x: real, n: int, b: bool, c: Color, r: real in [0, 1], k: int in [-3, 3]) -> (y: real) {
    y = x;
}
module Arrays(v: real[3], w: int[2], cs: Color[2], bs: bool[2]) -> (y: real) {
    y = v[0];
}
module NoInputs() -> (y: real) {
    y = 1.0;
}
)";

const ir::Program& program() {
  static const std::unique_ptr<ir::Program> prog = [] {
    spec::DiagnosticEngine diags;
    auto ast = spec::fromString(kProgram, "fuzz_json.chs", diags);
    if (!ast) {
      std::fprintf(stderr, "fuzz_json: the fixed program does not check:\n%s\n",
                   diags.str().c_str());
      std::abort();
    }
    auto ir = ir::lower(*ast);
    if (!ir) {
      std::fprintf(stderr, "fuzz_json: the fixed program does not lower: %s\n",
                   ir.error().str().c_str());
      std::abort();
    }
    return std::make_unique<ir::Program>(std::move(*ir));
  }();
  return *prog;
}

bool finite(const symbolic::Value& v) {
  if (!std::isfinite(v.s)) return false;
  for (double x : v.a)
    if (!std::isfinite(x)) return false;
  return true;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const ir::Program& prog = program();
  const ir::Context& ctx = prog.ctx();
  for (const auto& f : prog.functions()) {
    auto bound = symbolic::bindJsonInputs(*f, ctx, text, "fuzz.json");
    if (!bound) {
      if (bound.error().message.empty()) std::abort();
    } else {
      if (bound->size() != f->inputs().size()) std::abort();
      for (size_t k = 0; k < bound->size(); ++k) {
        const std::optional<symbolic::Value>& v = (*bound)[k];
        if (!v) continue;
        const ir::Type& t = f->inputs()[k].var->type();
        size_t elements = 1;
        for (int d : t.dims) elements *= static_cast<size_t>(d);
        if (t.isArray() ? v->a.size() != elements : !v->a.empty()) std::abort();
        (void)symbolic::checkInput(*f, k, *v);
        const std::string printed = symbolic::formatValue(*v, t, ctx);
        if (!finite(*v)) continue;
        auto back = symbolic::parseValue(printed, t, ctx, "printed");
        if (!back || !(*back == *v)) {
          std::fprintf(stderr, "value printed as %s does not read back\n", printed.c_str());
          std::abort();
        }
      }
    }
    for (const ir::Param& p : f->inputs())
      (void)symbolic::parseValue(text, p.var->type(), ctx, "input '" + p.var->name() + "'");
  }
  return 0;
}

// Test helper shared by the symbolic/ tests: a .chs source string checked and lowered to the IR,
// failing the current Catch2 test (with the diagnostics) if either step fails.
#pragma once

#include "spec/diagnostics.h"
#include "spec/frontend.h"
#include "spec/lower.h"

#include <catch2/catch.hpp>

#include <memory>
#include <string>

namespace chassis::testing {

struct CompiledChs {
  spec::Program ast;
  ir::Program ir;
};

inline CompiledChs compileChs(const std::string& src, const std::string& name = "t.chs") {
  spec::DiagnosticEngine diags;
  auto ast = spec::fromString(src, name, diags);
  INFO(src);
  INFO(diags.str());
  REQUIRE(ast);
  auto prog = ir::lower(*ast);
  INFO((prog ? "" : prog.error().str()));
  REQUIRE(prog);
  return {std::move(*ast), std::move(*prog)};
}

/// The lowered program alone (the AST is not needed after lowering).
inline std::unique_ptr<ir::Program> lowerChs(const std::string& src) {
  return std::make_unique<ir::Program>(std::move(compileChs(src, "model.chs").ir));
}

} // namespace chassis::testing

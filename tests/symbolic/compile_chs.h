// Test helper shared by the symbolic/ tests: a .chs source string checked and lowered to the IR,
// failing the current Catch2 test (with the diagnostics) if either step fails.
#pragma once

#include "spec/data_sizes.h"
#include "spec/diagnostics.h"
#include "spec/frontend.h"
#include "spec/lower.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
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

/// The data of a golden case: the sizes its NAME.json beside NAME.chs gives (as scripts/golden
/// passes it with --data), or none.
inline spec::DataSizes caseData(const std::string& chsPath) {
  namespace fs = std::filesystem;
  const fs::path data = fs::path(chsPath).replace_extension(".json");
  if (!fs::exists(data)) return {};
  std::ifstream in(data);
  std::stringstream ss;
  ss << in.rdbuf();
  auto read = spec::readDataSizes(ss.str(), data.string());
  INFO((read ? "" : read.error().str()));
  REQUIRE(read);
  return std::move(*read);
}

/// The lowered program alone (the AST is not needed after lowering).
inline std::unique_ptr<ir::Program> lowerChs(const std::string& src) {
  return std::make_unique<ir::Program>(std::move(compileChs(src, "model.chs").ir));
}

} // namespace chassis::testing

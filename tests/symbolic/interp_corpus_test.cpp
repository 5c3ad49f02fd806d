// Every checked .chs file of the repository (examples/ and tests/spec/ok/) lowers to the IR, its
// IR prints deterministically, and every module runs in the interpreter on default inputs (each
// input at the middle of its range, else zero / false / the first enum constant) without an
// internal error: a run either succeeds or fails with a located user-level error. A file with a
// NAME.json beside it is loaded with that data (its sizes, `y: real[T]`), as scripts/golden does.
#include "spec/frontend.h"
#include "spec/lower.h"
#include "symbolic/interp.h"
#include "tests/symbolic/compile_chs.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <sstream>

using namespace chassis;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> corpus() {
  std::vector<fs::path> files;
  for (const char* dir : {"examples", "tests/spec/ok"}) {
    fs::path d = fs::path(CHASSIS_SOURCE_DIR) / dir;
    if (!fs::exists(d)) continue;
    for (auto& e : fs::directory_iterator(d))
      if (e.path().extension() == ".chs") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

symbolic::Value defaultInput(const ir::Param& p) {
  double v = p.range ? (p.range->first + p.range->second) / 2 : 0;
  if (p.var->type().scalar == ir::ScalarKind::Int) v = std::floor(v);
  if (p.var->type().isArray())
    return symbolic::Value::array(std::vector<double>(p.var->type().numScalars(), v));
  return symbolic::Value::scalar(v);
}

} // namespace

TEST_CASE("corpus: every example lowers, prints and runs", "[interp][corpus]") {
  auto files = corpus();
  REQUIRE(files.size() >= 4);
  int modulesRun = 0;
  for (const fs::path& file : files) {
    INFO(file.string());
    spec::DiagnosticEngine diags;
    const spec::DataSizes sizes = testing::caseData(file.string());
    auto ast = spec::loadProgram(file.string(), diags, &sizes);
    INFO(diags.str());
    REQUIRE(ast);
    auto prog = ir::lower(*ast);
    INFO((prog ? std::string() : prog.error().str()));
    REQUIRE(prog);
    std::ostringstream a, b;
    ir::print(*prog, a);
    ir::print(*prog, b);
    CHECK(a.str() == b.str());
    CHECK(prog->properties.size() == ast->properties.size());
    for (auto& f : prog->functions()) {
      if (f->kind() == ir::FunctionKind::External) continue;
      std::vector<symbolic::Value> in;
      for (const ir::Param& p : f->inputs())
        in.push_back(defaultInput(p));
      Rng rng(1);
      auto r = symbolic::run(*f, in, rng);
      if (!r) {
        INFO(f->name() + ": " + r.error().str());
        CHECK(r.error().message.find("internal") == std::string::npos);
        CHECK(r.error().loc.line > 0);
      } else {
        ++modulesRun;
      }
    }
  }
  CHECK(modulesRun > 10);
}

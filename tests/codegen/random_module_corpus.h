// Test helper shared by the codegen differential tests (random_jit_test.cpp, mh_jit_test.cpp):
// the corpus of random modules they compare the compiled code with the interpreter on, and random
// inputs for a module.
#pragma once

#include "codegen/codegen.h"
#include "spec/ir.h"
#include "symbolic/interp.h"
#include "tests/codegen/program_files.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace chassis::testing {

/// The .chs files of examples/, tests/spec/ok/ and bench/ (subdirectories included), sorted.
inline std::vector<std::string> programFiles() {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const char* dir : {"examples", "tests/spec/ok", "bench"})
    for (auto& e : fs::recursive_directory_iterator(fs::path(CHASSIS_SOURCE_DIR) / dir))
      if (e.path().extension() == ".chs") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

/// One random module of the corpus, as forEachRandomModule gives it.
struct RandomModule {
  const std::string& file;
  const ir::Program& program;
  const ir::Function& function;
  /// The module compiled by the JIT; null when it is not compiled (`notCompiled` says why).
  const codegen::JitModel* jit;
  std::string notCompiled;
};

/// Calls `visit(const RandomModule&)` for every random module (FunctionKind::Module, isRandom) of
/// every program of programFiles() that loads (tryLoad), in file order and then in the program's
/// order, each compiled by the JIT first.
template <typename Visit> void forEachRandomModule(Visit&& visit) {
  for (const std::string& file : programFiles()) {
    auto prog = tryLoad(file);
    if (!prog) continue;
    for (auto& fp : prog->functions()) {
      const ir::Function& f = *fp;
      if (f.kind() != ir::FunctionKind::Module || !f.isRandom()) continue;
      auto jit = codegen::JitModel::create(f);
      const RandomModule m{file, *prog, f, jit ? jit->get() : nullptr,
                           jit ? std::string() : jit.error().str()};
      visit(m);
    }
  }
}

/// A value for each input of `f` in order, drawn by drawScalar (an array element by element).
inline std::vector<symbolic::Value> drawInputs(const ir::Function& f, const ir::Context& ctx,
                                               std::mt19937_64& rng) {
  std::vector<symbolic::Value> args;
  for (const ir::Param& p : f.inputs()) {
    if (p.var->type().isArray()) {
      std::vector<double> a;
      for (size_t k = 0; k < p.var->type().numScalars(); ++k)
        a.push_back(drawScalar(p, ctx, rng));
      args.push_back(symbolic::Value::array(std::move(a)));
    } else {
      args.push_back(symbolic::Value::scalar(drawScalar(p, ctx, rng)));
    }
  }
  return args;
}

} // namespace chassis::testing

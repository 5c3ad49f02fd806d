// Test helpers shared by the verifier tests that read .chs files from the source tree or run the
// `chassis` binary of this build: a file loaded, checked and lowered with its networks (failing
// the current Catch2 test, with the diagnostics, if a step fails; or nothing, for the test to
// require), a property of a program by name, and a subcommand run with its exit code and
// standard output captured.
#pragma once

#include "neural/lower_network.h"
#include "spec/diagnostics.h"
#include "spec/frontend.h"
#include "spec/lower.h"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

namespace chassis::testing {

/// `rel` relative to the source root, or itself if it is an absolute path.
inline std::string sourcePath(const std::string& rel) {
  return !rel.empty() && rel[0] == '/' ? rel : std::string(CHASSIS_SOURCE_DIR) + "/" + rel;
}

/// The .chs file at `rel` (relative to the source root, or an absolute path) lowered with its
/// networks loaded, or nullopt if it does not load or lower (its diagnostics then given to the
/// next assertion as a message).
inline std::optional<ir::Program> lowerChsFile(const std::string& rel) {
  spec::DiagnosticEngine diags;
  auto ast = spec::loadProgram(sourcePath(rel), diags);
  if (!ast) {
    UNSCOPED_INFO(diags.str());
    return std::nullopt;
  }
  ir::LowerOptions lo;
  lo.networkLoader = neural::networkLoader();
  auto prog = ir::lower(*ast, lo);
  if (!prog) {
    UNSCOPED_INFO(prog.error().str());
    return std::nullopt;
  }
  return std::move(*prog);
}

/// lowerChsFile's program, failing the current test (with the diagnostics) if there is none.
inline std::unique_ptr<ir::Program> loadChsFile(const std::string& rel) {
  auto prog = lowerChsFile(rel);
  REQUIRE(prog);
  return std::make_unique<ir::Program>(std::move(*prog));
}

/// The property `name` of `prog` (failing the current test if it has none).
inline const ir::Property& propertyNamed(const ir::Program& prog, const std::string& name) {
  for (const auto& q : prog.properties)
    if (q.name == name) return q;
  FAIL("no property " << name);
  return prog.properties.front();
}

struct CliRun {
  int code = -1;
  std::string out;
};

/// Runs `chassis ARGS` from the source root (paths in ARGS relative to it), capturing stdout;
/// `tag` keeps concurrent test binaries' scratch files apart.
inline CliRun runChassis(const std::string& args, const std::string& tag) {
  std::string bin = std::string(CHASSIS_BINARY_DIR) + "/tools/chassis";
  REQUIRE(std::filesystem::exists(bin));
  std::string out = (std::filesystem::temp_directory_path() /
                     ("chassis_" + tag + "_" + std::to_string(::getpid()) + "_out.txt"))
                        .string();
  std::string cmd = "cd '" + std::string(CHASSIS_SOURCE_DIR) + "' && '" + bin + "' " + args +
                    " > '" + out + "' 2>/dev/null";
  int st = std::system(cmd.c_str());
  CliRun c;
  REQUIRE(WIFEXITED(st));
  c.code = WEXITSTATUS(st);
  std::ifstream in(out);
  std::stringstream ss;
  ss << in.rdbuf();
  c.out = ss.str();
  std::filesystem::remove(out);
  return c;
}

} // namespace chassis::testing

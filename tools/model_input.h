// Loading a .chs model for a subcommand that runs one module: front end, lowering, the module
// looked up by name, and its inputs bound from `--data file.json` (keys by input name) and
// `--input name=value` (which wins), type- and range-checked. The same rules as `chassis run`,
// through the interpreter's shared binders (symbolic::bindJsonInputs, symbolic::parseValue).
#pragma once

#include "spec/diagnostics.h"
#include "spec/ir.h"
#include "symbolic/interp.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace chassis::tools {

struct LoadedModel {
  std::unique_ptr<ir::Program> program;
  const ir::Function* function = nullptr;
  std::vector<symbolic::Value> inputs;
};

/// Loads `file`, finds `module`, binds its inputs. On failure prints the diagnostics (through
/// `diags`, with source lines) and returns the exit code (kUsage); on success kOk.
/// `preset` (name, value text as --input takes it) binds inputs after --data and before
/// --input; names that are no input of the module are skipped (a replayed counterexample's
/// quantified variables need not all be the module's inputs).
int loadModel(const std::string& file, const std::string& module,
              const std::vector<std::string>& inputs, const std::string& dataFile,
              spec::DiagnosticEngine& diags, LoadedModel& out,
              const std::vector<std::pair<std::string, std::string>>& preset = {});

} // namespace chassis::tools

// The type checker and name resolver of the .chs language. It completes a parsed Program in
// place so that it meets every guarantee listed at the top of spec/ast.h (types, resolved names,
// explicit promotions, evaluated ranges and loop bounds, the output assignment rule, the call
// graph's topological order), reporting every violation to the DiagnosticEngine. Rules are stated
// in the grammar comment of spec/parser.h.
#pragma once

#include "spec/ast.h"
#include "spec/data_sizes.h"
#include "spec/diagnostics.h"

#include <cstdint>

namespace chassis::spec {

/// The most iterations a loop may run, counting nested loops as the product of their trip
/// counts (the back ends execute or unroll every iteration). A loop over it is an error at its
/// 'for': "loop runs N times; the limit is 1000000".
inline constexpr int64_t kMaxLoopIterations = 1'000'000;

/// Checks `program`, whose `files` hold parsed files (imports first, each file once); fills
/// `enums`, `modules`, `networks`, `properties`, `tasks` and `order`. The program is only
/// guaranteed to be well formed if no error was reported. `sizes` is the run's data: array
/// lengths and loop bounds written as an int input's name take its value there (without data,
/// such a size is an error saying to give the data).
void checkProgram(Program& program, DiagnosticEngine& diags, const DataSizes* sizes = nullptr);

} // namespace chassis::spec

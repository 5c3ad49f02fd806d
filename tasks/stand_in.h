// A network standing in for a module: the comparison runs a task's properties on the reference
// module, then again with the task's network, and again with a circuit of it, computing the
// reference module's label output. Nothing else changes: callers of the module, other outputs and
// the properties' text stay as written, so a verdict on the network is about the same statement.
//
// The stand-in for module R with label output `out` (ir::LowerOptions::replaceModule) has R's
// inputs and outputs. Its body:
//   let x = [enc(in_0), enc(in_1), ...]     the network's input vector, R's inputs flattened in
//                                           order: real as is, int as real, bool as 0/1, enum as
//                                           its constant's index (the encoding of
//                                           tasks/task_dataset.h)
//   let h_1 = relu(W_1 x + b_1); ...; let y = W_L h_{L-1} + b_L    (Affine / VecRelu nodes)
//   out = decide(y)     bool: y[1] > y[0] (two logits; with one output, y[0] > 0)
//                       enum with K constants: the constant of argmax(y) (first maximum)
//                       real: y[0]
//   every other output = that output of the original R (a call of R'reference)
// An int label has no exact decision from real logits and is refused.
#pragma once

#include "neural/affine_net.h"
#include "spec/ast.h"
#include "spec/error.h"
#include "spec/ir.h"

#include <string>

namespace chassis::tasks {

/// Lowers `ast` with `net` standing in for `module`'s output `output` (see above). Errors, located
/// at the module, when the network's input or output size does not fit or the label is an int.
Expected<ir::Program> lowerWithStandIn(const spec::Program& ast, const std::string& module,
                                       const std::string& output, const neural::AffineNet& net);

/// The number of network inputs R's inputs flatten to, and their column names (`x`, `v[0]`, ...).
std::vector<std::string> featureColumns(const ir::Function& R);

} // namespace chassis::tasks

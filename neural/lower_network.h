// Lowering a network file into the core IR (spec/ir.h) as layer nodes, for ir::lower's
// NetworkLoader hook: `network N(x: real[5]) -> (y: real[5]) = onnx("f.onnx");` becomes an
// ir::Function of kind Network whose body is
//     let h1 = affine(L1, x); let h2 = relu(h1); ... ; y = affine(Lk, h_{k-1})
// with one Affine node per folded affine layer (toAffineNet) and one VecRelu per ReLU, so bound
// propagation and codegen see whole layers. The declared inputs (real or real[N], in order) are
// concatenated into the network's input vector and the output vector is split over the declared
// outputs in order; the total sizes must match the file's.
// NNet files lower with the format's raw-input semantics: an elementwise clamp to the input box
// (min/max Binary nodes), the input normalisation folded into the first layer
// (W' = W diag(1/range), b' = b - W (mean/range)) and the output scaling into the last
// (W'' = range_out W, b'' = range_out b + mean_out); the same function in real arithmetic.
#pragma once

#include "neural/affine_net.h"
#include "spec/ast.h"
#include "spec/error.h"
#include "spec/ir.h"
#include "spec/lower.h"

#include <optional>

namespace chassis::neural {

/// An elementwise clamp of the input to [lo, hi] applied before the first layer.
struct InputClamp {
  Eigen::VectorXd lo, hi;
};

/// The IR form of one affine layer (its weights copied once, row-major, then shared).
std::shared_ptr<const ir::DenseLayer> denseLayer(const AffineLayer& L);

/// Adds the IR function of `decl` computing `net` (after the optional clamp) to `program`.
/// Errors, located at the declaration, when the declared signature does not fit the network.
Expected<const ir::Function*> lowerAffineNet(const AffineNet& net,
                                             const std::optional<InputClamp>& clamp,
                                             const spec::NetworkDecl& decl, ir::Program& program);

/// The loader to pass as ir::LowerOptions::networkLoader: reads decl.resolvedPath (ONNX or NNet
/// by decl.format) and lowers it; a file that cannot be read or is not an affine/ReLU chain is an
/// Error at the declaration's path.
ir::NetworkLoader networkLoader();

} // namespace chassis::neural

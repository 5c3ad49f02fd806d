// Reading a network back out of the IR: an ir::Function of kind Network whose body computes its
// outputs from its inputs with the layer nodes only becomes a neural::AffineNet (the same weights,
// so the same real function) with the map from the declared inputs/outputs to the network's
// input/output vector. Used by the IR encoder (to bound a whole inlined network with
// verifier/bounds.h) and by verifier/net_props.h (to hand a network property to the network
// engine).
//
// The reading is structural, an abstract evaluation of the body over the IR visitors, not a
// match of the one shape neural/lower_network.cpp writes. Every value is a scalar or a vector of
// network neurons, each neuron a unit of one layer of the net being built, read before or after
// its ReLU:
//     an input x (real or real[N]), an element x[i]     units of the input layer (layer 0)
//     min(max(e, lo), hi), max(min(e, hi), lo),         e an input unit: the same unit with an
//       max(e, c), min(e, c) (constants either side)     input clamp (clamps compose exactly)
//     affine(L, v)   rows of the layer above the highest layer v reads (a new layer, or more
//                    rows of an existing one); its columns are v's neurons, so v may be any
//                    vector literal of elements (a permutation, a subset, neurons of several
//                    layers)
//     vecrelu(v), relu(e), max(e, 0), max(0, e)   the same neurons after their ReLU (of an input
//                    unit: an identity row of layer 1)
//     [e0, ..., en], v[c] (c a constant), let/assign through variables, in any order
// Then the net is built layer by layer. A layer has its ReLU when one of its neurons is read
// after it; a neuron of it read before the ReLU is relu(u) - relu(-u) (one more row, -u). A
// neuron read by a layer more than one above its own (a skip connection) is carried up by one
// row per layer between (two when that layer has its ReLU). The outputs are units of the last
// layer, or rows of one more layer without ReLU when they read anything else. Weights are only
// copied, negated or multiplied by +-1; a neuron read twice by one row gets the sum of its
// weights only when that sum is exact in float64: the AffineNet is the body's function over
// the reals exactly. Anything else (tanh, a select, a condition, a constant, an element at a
// computed index, weights that do not add exactly) gives a located reason: file:line:col of the
// statement holding the node, naming it.
#pragma once

#include "neural/affine_net.h"
#include "spec/error.h"
#include "spec/ir.h"

#include <vector>

namespace chassis::verifier {

struct NetChain {
  neural::AffineNet net;
  /// Per layer of net: the Affine node whose value is exactly that layer's pre-activation (the
  /// layer is that node's rows alone and the node reads the whole previous layer in order), or
  /// null (rows of several nodes, an identity layer of ReLUs of inputs, permuted columns).
  std::vector<const ir::Affine*> layers;
  // Network input scalar j: declared input inParam[j], element inElem[j] (-1: a scalar input),
  // clamped to [clampLo[j], clampHi[j]] first (+-inf: no clamp). Sorted by (param, element).
  std::vector<int> inParam, inElem;
  std::vector<double> clampLo, clampHi;
  // Declared output k, element e (0 for a scalar output) is network output outIndex[k][e].
  std::vector<std::vector<int>> outIndex;
};

/// The chain of `f`, or the located reason it is not one (see above).
Expected<NetChain> extractChain(const ir::Function& f);

} // namespace chassis::verifier

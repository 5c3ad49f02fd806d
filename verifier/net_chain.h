// Reading a network back out of the IR: an ir::Function of kind Network whose body computes its
// outputs from its inputs with the layer nodes only becomes a neural::AffineNet (the same weights,
// so the same real function) with the map from the declared inputs/outputs to the network's
// input/output vector. Used by the IR encoder (to bound a whole inlined network with
// verifier/bounds.h) and by verifier/net_props.h (to hand a network property to the network
// engine).
//
// The reading is structural, an abstract evaluation of the body over the IR visitors, not a
// match of the one shape neural/lower_network.cpp writes. Every value is a scalar or a vector of
// network neurons, each neuron a unit of one layer of the net being built, before or after its
// ReLU:
//     an input x (real or real[N]), an element x[i]     units of the input layer (layer 0)
//     min(max(e, lo), hi), max(min(e, hi), lo),         e an input unit: the same unit with an
//       max(e, c), min(e, c) (constants either side)     input clamp (clamps compose exactly)
//     affine(L, v)   v's neurons all of layer k, read all before or all after the ReLU: rows of
//                    layer k+1 (a new layer, or more rows of layer k+1 when it is the last one);
//                    its columns are v's neurons, so v may be any vector literal of elements
//                    (a permutation, a subset; a neuron read twice only when its two weights add
//                    exactly in float64)
//     vecrelu(v), relu(e), max(e, 0), max(0, e)   the neurons after their ReLU (of an input unit:
//                    an identity row of layer 1 with its ReLU)
//     [e0, ..., en], v[c] (c a constant), let/assign through variables, in any order
// The outputs must all read the last layer, all before or all after its ReLU; every other layer
// is read by the next one only (a chain), all before or all after its ReLU. Anything else (sin, a
// select, a condition, a constant, a skip connection, a layer read both before and after its
// ReLU) gives a located reason: file:line:col of the statement holding the node, naming it.
// No weight is combined by a rounding operation: the AffineNet is the body's function over the
// reals exactly.
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

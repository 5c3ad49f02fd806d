// Reading a network back out of the IR: an ir::Function of kind Network whose body has the shape
// neural/lower_network.cpp generates,
//     [let x = [e_0, ..., e_{n-1}];]   e_j an input scalar (in[k] or in[k][i]), possibly clamped
//                                      as min(max(e_j, lo_j), hi_j)
//     let h1 = [relu](affine(L1, x)); ...; let hk = [relu](affine(Lk, h_{k-1}));
//     out_0 = ...; out_1 = ...         each an element hk[c], hk itself, or [hk[c], ...]
// becomes a neural::AffineNet (the same weights, so the same real function) with the map from
// the declared inputs/outputs to the network's input/output vector. Used by the IR encoder (to
// bound a whole inlined network with verifier/bounds.h) and by verifier/net_props.h (to hand a
// network property to the network engine). Anything else: nullopt.
#pragma once

#include "neural/affine_net.h"
#include "spec/ir.h"

#include <optional>
#include <vector>

namespace chassis::verifier {

struct NetChain {
  neural::AffineNet net;
  std::vector<const ir::Affine*> layers; // the Affine node of each layer, in order
  ir::Expr head = nullptr;               // the first layer's input (a variable of real[n])
  // Network input scalar j: declared input inParam[j], element inElem[j] (-1: a scalar input),
  // clamped to [clampLo[j], clampHi[j]] first (+-inf: no clamp).
  std::vector<int> inParam, inElem;
  std::vector<double> clampLo, clampHi;
  // Declared output k, element e (0 for a scalar output) is network output outIndex[k][e].
  std::vector<std::vector<int>> outIndex;
};

/// The chain of `f`, or nullopt when f is not a network of that shape (or has no layers).
std::optional<NetChain> extractChain(const ir::Function& f);

} // namespace chassis::verifier

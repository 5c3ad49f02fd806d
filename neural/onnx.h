// ONNX import and export for Network, through Debian's libonnx protobuf classes (no hand-written
// protobuf reader). Supported operations: Add, Sub, Mul, Div, Max, Min (with a constant or between
// two activations of one shape), Relu, Flatten, Reshape, Identity, MatMul, Gemm (alpha, beta,
// transB; transA only on a constant), Constant. Shapes are resolved statically from the single
// input's declared shape; its first dimension is the batch (symbolic or fixed) when the input
// has rank >= 2 or a symbolic first dimension. Initialisers are constants (float, double,
// int32, int64; raw_data or typed fields; external data is refused).
// Anything else is an Error naming the file, the node and the operation, e.g.
//   net.onnx: error: node 'Conv_3': unsupported operation 'Conv'
#pragma once

#include "neural/network.h"
#include "spec/error.h"

#include <string>

namespace chassis::neural {

/// Reads and checks an ONNX model file.
Expected<Network> loadOnnx(const std::string& path);
/// The same from the file's bytes; `displayName` is used in error messages.
Expected<Network> parseOnnx(const std::string& bytes, const std::string& displayName);

/// Writes `net` as an ONNX model (opset 13). Tensors are float32 when every constant is exactly
/// representable in float32 (so import gives back bit-identical constants), float64 otherwise
/// (the input and output are then declared double too).
Status saveOnnx(const Network& net, const std::string& path);
/// The serialised model, as saveOnnx writes it.
Expected<std::string> serializeOnnx(const Network& net);

} // namespace chassis::neural

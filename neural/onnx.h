// ONNX import and export for Network, through Debian's libonnx protobuf classes (no hand-written
// protobuf reader). Supported operations: Add, Sub, Mul, Div, Max, Min (with a constant or between
// two activations of one shape), Relu, Sigmoid, Tanh, Flatten, Reshape, Identity, Dropout
// (inference: the identity), MatMul, Gemm (alpha, beta, transB; transA only on a constant),
// Constant, and on 2-D (N x C x H x W) inputs: Conv (kernel, strides, pads, auto_pad, dilations,
// group, bias), BatchNormalization (inference), AveragePool, MaxPool, GlobalAveragePool,
// GlobalMaxPool. Conv and AveragePool become one dense Linear layer over the flattened sample;
// MaxPool becomes dense layers and ReLUs computing the window maxima exactly (max(a, b) =
// a + relu(b - a), rounds of pairs); BatchNormalization a per-channel Mul and Add; a Concat whose
// inputs are one common activation or single affine layers over it one dense layer. A dense map
// is refused beyond 2^25 entries. Shapes are resolved statically from the single
// input's declared shape; its first dimension is the batch (symbolic or fixed) when the input
// has rank >= 2 or a symbolic first dimension. Initialisers are constants (float, double,
// int32, int64; raw_data or typed fields; external data is refused).
// Anything else is an Error naming the file, the node and the operation, e.g.
//   net.onnx: error: node 'LSTM_3' (LSTM): unsupported operation 'LSTM'
#pragma once

#include "neural/network.h"
#include "spec/error.h"

#include <string>
#include <utility>
#include <vector>

namespace chassis::neural {

/// Reads and checks an ONNX model file.
Expected<Network> loadOnnx(const std::string& path);
/// The same from the file's bytes; `displayName` is used in error messages.
Expected<Network> parseOnnx(const std::string& bytes, const std::string& displayName);

/// The model's metadata_props (key/value strings, in file order). `chassis train` records there
/// what the network was trained on (tools/network_info.h); other producers put their own keys.
using OnnxMetadata = std::vector<std::pair<std::string, std::string>>;

/// The metadata_props of an ONNX model file (empty when it has none); the graph is not checked.
Expected<OnnxMetadata> loadOnnxMetadata(const std::string& path);
Expected<OnnxMetadata> parseOnnxMetadata(const std::string& bytes, const std::string& displayName);

/// Writes `net` as an ONNX model (opset 13). Tensors are float32 when every constant is exactly
/// representable in float32 (so import gives back bit-identical constants), float64 otherwise
/// (the input and output are then declared double too).
Status saveOnnx(const Network& net, const std::string& path);
/// The serialised model, as saveOnnx writes it.
/// `metadata` goes into metadata_props, in its order (keys must be distinct).
Expected<std::string> serializeOnnx(const Network& net, const OnnxMetadata& metadata = {});

} // namespace chassis::neural

// A feed-forward network as a small dataflow graph on Eigen: the operations the standard
// benchmark graphs (ACAS Xu, MNIST MLPs, VNN-COMP) are built from, in topological order.
//
// Shapes. Every value is a tensor whose first dimension may be the batch: `Network::batched`
// says whether the input has a leading batch dimension (declared symbolic or fixed in the ONNX
// file). Each layer records the per-sample shape of its output (the shape without the batch
// dimension). At run time a value is a row-major matrix with one row per sample and the sample's
// elements flattened in row-major (C) order, so Flatten, Reshape and Identity never move data.
//
// Semantics of the layer kinds (x = the activation input, per sample, flattened):
//   Elementwise  y = x op c        (op in + - * / max min; c a constant broadcast to x's shape)
//                y = c op x        (constantFirst; only - is allowed there: the others commute
//                                   or, for c / x, are not piecewise linear)
//                y = x op x2       (two activations of the same shape: + - * / max min)
//   Linear       y[.., n] = sum_k x[.., k] W(k, n) + b(n)   over the last axis (MatMul, Gemm);
//                when K is the whole per-sample size, over the flattened sample (a dense map: the
//                ONNX importer lowers Conv, AveragePool and the pieces of MaxPool to these)
//   Relu         y = max(x, 0)
//   Sigmoid      y = 1 / (1 + exp(-x))   (forward pass only: toAffineNet refuses it)
//   Tanh         y = tanh(x)             (forward pass only: toAffineNet refuses it)
//   Reshape      y = x with a new shape (ONNX Flatten, Reshape, Identity)
// Arithmetic is IEEE in the scalar type of the forward call (float64 or float32; float32 uses
// copies of the constants rounded once, made on the first float32 pass: a network only run in
// float64, like the verifier's, never holds them).
//
// float64 runs on Eigen alone (the verifier replays counterexamples in it: its results must not
// depend on the CPU). float32 Linear layers run on the runtime-dispatched AVX-512/AVX2 kernels of
// neural/gemm.h when the CPU has them, else on Eigen; the two agree to float32 rounding (each
// output one fused multiply-add chain from the bias). The first float32 pass packs the weights
// (prepareFloat32()) and fuses, as finalize() planned, into the kernel what directly follows a Linear layer and alone reads its value: an Add or Sub
// of a constant over the same features (the bias Add of ONNX MatMul+Add exports; folded into the
// kernel's bias, rounded once from float64), then a Relu (applied in registers).
#pragma once

#include "neural/affine_net.h"
#include "neural/gemm.h"
#include "spec/error.h"

#include <Eigen/Dense>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace chassis::neural {

using Shape = std::vector<int64_t>;

/// Number of elements of a per-sample shape (1 for the empty shape, a scalar).
int64_t numElements(const Shape& s);
std::string shapeStr(const Shape& s);

template <typename T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

enum class LayerKind { Elementwise, Linear, Relu, Reshape, Sigmoid, Tanh };
enum class ElemOp { Add, Sub, Mul, Div, Max, Min };

const char* elemOpName(ElemOp op); // the ONNX operation name: "Add", "Sub", ...

struct Layer {
  LayerKind kind = LayerKind::Relu;
  std::string name;   // the node's name (ONNX node name, or generated)
  std::string opType; // the ONNX operation it came from: "Gemm", "MatMul", "Flatten", ...
  int input = 0;      // value id of the activation input (0 is the network input)
  int input2 = -1;    // Elementwise between two activations: the second one
  int output = 0;     // value id this layer defines (values are defined once)
  Shape outShape;     // per-sample shape of the output

  // Elementwise
  ElemOp op = ElemOp::Add;
  bool constantFirst = false;  // y = c op x instead of x op c
  Eigen::RowVectorXd constant; // broadcast to the per-sample size of x (empty with input2)
  // Linear: W is K x N (input features x output features), bias empty or size N
  Eigen::MatrixXd W;
  Eigen::RowVectorXd bias;
  // Reshape: the ONNX Flatten axis (for export); -1 when it came from Reshape/Identity
  int flattenAxis = -1;

  // float32 copies, made by Network::prepareFloat32() (the first float32 pass), empty until then
  mutable Eigen::RowVectorXf constantF;
  mutable Eigen::MatrixXf WF;
  mutable Eigen::RowVectorXf biasF;
  mutable gemm::PackedB packedF; // Linear: WF and the (fused) bias packed for the float32 kernels
};

class Network;

/// Buffers for repeated forward passes of one network: reusing one across calls of the same
/// batch size allocates nothing after the first call. `isa` picks the float32 kernels (Auto: the
/// best the CPU has; Portable: Eigen only; a set the CPU lacks falls back to one it has).
template <typename T> struct Workspace {
  std::vector<RowMatrix<T>> slots;
  gemm::Isa isa = gemm::Isa::Auto;
};

class Network {
public:
  std::string name = "network";
  std::string inputName = "input", outputName = "output";
  Shape inputShape;          // per sample
  bool batched = true;       // the input has a leading batch dimension
  int64_t batchDim = -1;     // the declared batch dimension: -1 symbolic, else its fixed value
  std::vector<Layer> layers; // topological order
  int outputValue = 0;       // value id of the network's output

  int inputSize() const { return static_cast<int>(numElements(inputShape)); }
  int outputSize() const;
  /// The float64 values the layers hold: weights, biases and elementwise constants.
  int64_t numValues() const {
    int64_t n = 0;
    for (const Layer& L : layers)
      n += static_cast<int64_t>(L.W.size() + L.bias.size() + L.constant.size());
    return n;
  }
  const Shape& outputShape() const;

  /// Computes the buffer plan and the float32 kernels' fusions, and drops the float32 copies
  /// (remade by the next float32 pass). Loaders and builders call it; call it again after
  /// changing a layer by hand.
  void finalize();
  /// Makes the float32 copies of the constants and packs the Linear layers' weights for the
  /// float32 kernels, once (thread-safe; the float32 forward calls it). A float64-only user
  /// never pays for them (a TLL N=64 network: 540 MB). Safe against other float32 passes of
  /// the same network, but not against copying the network at the same time (the copy reads
  /// the float32 copies being written): call it before handing a network to threads that copy
  /// it.
  void prepareFloat32() const;

  /// One sample per row (n x inputSize) -> one output per row (n x outputSize).
  Eigen::MatrixXd forward(const Eigen::MatrixXd& X) const;
  Eigen::MatrixXf forward(const Eigen::MatrixXf& X) const;
  Eigen::VectorXd forward(const Eigen::VectorXd& x) const; // one sample
  /// The allocation-free form: the result lives in `ws` until its next use.
  const RowMatrix<float>& forward(const Eigen::Ref<const RowMatrix<float>>& X,
                                  Workspace<float>& ws) const;
  const RowMatrix<double>& forward(const Eigen::Ref<const RowMatrix<double>>& X,
                                   Workspace<double>& ws) const;

  /// A clear description, one layer a line (for `chassis eval --describe` and debugging).
  std::string describe() const;

private:
  template <typename T>
  const RowMatrix<T>& run(const Eigen::Ref<const RowMatrix<T>>& X, Workspace<T>& ws) const;
  std::vector<int> slotOf_; // value id -> buffer slot (Reshape outputs share their input's slot)
  // What the float32 kernel of a Linear layer also computes (see finalize()): the value it writes
  // and how many of the following layers that covers.
  struct Fusion {
    int out = 0;       // value written: the Linear's, or that of the last layer fused into it
    int skip = 0;      // following layers computed by the kernel (a bias Add/Sub, a Relu)
    bool relu = false; // the kernel applies max(0, .)
    Eigen::RowVectorXd bias; // the layer's bias plus the fused Add/Sub's constant (float64)
  };
  std::vector<Fusion> fusion_; // per layer (used for Linear layers)
  int numSlots_ = 0;
  bool finalized_ = false;
  // Whether the float32 copies are made. A copy of the network starts in its source's state
  // (the copies are copied with the layers).
  struct Float32State {
    std::atomic<bool> ready{false};
    std::mutex m;
    Float32State() = default;
    Float32State(const Float32State& o) : ready(o.ready.load(std::memory_order_acquire)) {}
    Float32State& operator=(const Float32State& o) {
      ready.store(o.ready.load(std::memory_order_acquire), std::memory_order_release);
      return *this;
    }
  };
  mutable Float32State f32_;
};

/// A multilayer perceptron as a Network: Linear (+Relu on all but the last) per weight matrix.
/// weights[i] is out x in (the AffineNet convention), biases[i] has `out` entries.
Network makeMlp(const std::vector<Eigen::MatrixXd>& weights,
                const std::vector<Eigen::VectorXd>& biases, const std::string& name = "mlp");

/// Folds a feed-forward affine/ReLU chain into AffineNet form: constant normalisation
/// (Add/Sub/Mul/Div by constants), Flatten/Reshape/Identity, MatMul, Gemm and bias Adds between
/// two ReLUs become one affine layer. Errors (naming the node) if the graph is not such a chain:
/// a branch, an operation between two activations, Max/Min, a division of a constant by x,
/// Sigmoid or Tanh (not supported by the verifier yet).
Expected<AffineNet> toAffineNet(const Network& net);

/// The Network computing the same function as an AffineNet (Linear layers with ReLU nodes).
Network fromAffineNet(const AffineNet& net, const std::string& name = "network");

} // namespace chassis::neural

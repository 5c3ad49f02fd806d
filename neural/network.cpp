// The forward pass of Network (float64 and float32) and its folding into AffineNet form.
//
// Forward: values are row-major matrices, one row per sample. A Linear layer over the last axis
// of a per-sample shape [.., K] with P = F/K leading elements is one GEMM on the same memory
// viewed as (rows*P) x K, which is why the storage is row-major: that view is free.
//
// Folding (toAffineNet): between two ReLUs the layers compose to one affine map y = A x + c on
// the flattened sample. Starting from A = I, c = 0 on the segment's input:
//   + k  : c += k              - k : c -= k            k - x : A = -A, c = k - c
//   * m  : A = diag(m) A, c = m.*c                     / d   : A = diag(1/d) A, c = c ./ d
//   Linear (W: K x N over the last axis, P leading elements): M = I_P (x) W^T, A = M A,
//          c = M c + (b repeated P times)
//   Reshape: no change (the flattened order is unchanged)
//   Relu : emit {A, c, relu}, restart from the identity.
// A trailing non-identity segment is emitted without ReLU.
//
// float32 Linear layers use the kernels of neural/gemm.h when the CPU has AVX2 or AVX-512 (see
// network.h); float64 always takes the Eigen code below, unchanged, so its results do not depend
// on the CPU.
#include "neural/network.h"

#include <Eigen/SparseCore>

#include <algorithm>
#include <sstream>
#include <type_traits>

namespace chassis::neural {

int64_t numElements(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s)
    n *= d;
  return n;
}

std::string shapeStr(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(s[i]);
  }
  out += ']';
  return out;
}

const char* elemOpName(ElemOp op) {
  switch (op) {
  case ElemOp::Add:
    return "Add";
  case ElemOp::Sub:
    return "Sub";
  case ElemOp::Mul:
    return "Mul";
  case ElemOp::Div:
    return "Div";
  case ElemOp::Max:
    return "Max";
  case ElemOp::Min:
    return "Min";
  }
  return "?";
}

const Shape& Network::outputShape() const {
  for (const Layer& L : layers)
    if (L.output == outputValue) return L.outShape;
  return inputShape;
}

int Network::outputSize() const {
  return static_cast<int>(numElements(outputShape()));
}

void Network::finalize() {
  int maxValue = outputValue;
  for (const Layer& L : layers)
    maxValue = std::max(maxValue, L.output);
  slotOf_.assign(maxValue + 1, -1);
  numSlots_ = 0;
  slotOf_[0] = numSlots_++;
  f32_.ready.store(false, std::memory_order_release);
  for (Layer& L : layers) {
    L.constantF = Eigen::RowVectorXf();
    L.WF = Eigen::MatrixXf();
    L.biasF = Eigen::RowVectorXf();
    L.packedF = gemm::PackedB(); // made by prepareFloat32()
    if (L.kind == LayerKind::Reshape && L.input >= 0 && L.input <= maxValue &&
        slotOf_[L.input] >= 0)
      slotOf_[L.output] = slotOf_[L.input];
    else
      slotOf_[L.output] = numSlots_++;
  }
  // Fusion for the float32 kernels: after a Linear layer, a constant Add/Sub over its N output
  // features (per-sample sizes K -> N, so the constant is a bias), then a Relu, each only when
  // it reads the previous value and nothing else does (no other layer, not the network output).
  std::vector<int64_t> numel(maxValue + 1, 0);
  numel[0] = inputSize();
  for (const Layer& L : layers)
    numel[L.output] = numElements(L.outShape);
  auto onlyReader = [&](int value, size_t reader) {
    if (value == outputValue) return false;
    for (size_t j = 0; j < layers.size(); ++j)
      if (j != reader && (layers[j].input == value || layers[j].input2 == value)) return false;
    return true;
  };
  fusion_.assign(layers.size(), Fusion{});
  for (size_t i = 0; i < layers.size(); ++i) {
    Layer& L = layers[i];
    if (L.kind != LayerKind::Linear) continue;
    const Eigen::Index K = L.W.rows(), N = L.W.cols();
    Fusion& f = fusion_[i];
    f.out = L.output;
    Eigen::RowVectorXd bias = Eigen::RowVectorXd::Zero(N);
    if (L.bias.size() == N) bias = L.bias;
    size_t j = i + 1;
    if (j < layers.size()) {
      const Layer& A = layers[j];
      if (A.kind == LayerKind::Elementwise && A.input == f.out && A.input2 < 0 &&
          !A.constantFirst && (A.op == ElemOp::Add || A.op == ElemOp::Sub) &&
          A.constant.size() == N && L.input >= 0 && L.input <= maxValue && numel[L.input] == K &&
          onlyReader(f.out, j)) {
        if (A.op == ElemOp::Add)
          bias += A.constant;
        else
          bias -= A.constant;
        f.out = A.output;
        ++f.skip;
        ++j;
      }
    }
    if (j < layers.size()) {
      const Layer& R = layers[j];
      if (R.kind == LayerKind::Relu && R.input == f.out && R.input2 < 0 && onlyReader(f.out, j)) {
        f.relu = true;
        f.out = R.output;
        ++f.skip;
      }
    }
    f.bias = std::move(bias);
  }
  finalized_ = true;
}

void Network::prepareFloat32() const {
  if (f32_.ready.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> lock(f32_.m);
  if (f32_.ready.load(std::memory_order_relaxed)) return;
  for (size_t i = 0; i < layers.size(); ++i) {
    const Layer& L = layers[i];
    L.constantF = L.constant.cast<float>();
    L.WF = L.W.cast<float>();
    L.biasF = L.bias.cast<float>();
    L.packedF = gemm::PackedB();
    if (L.kind != LayerKind::Linear || i >= fusion_.size()) continue;
    const Eigen::RowVectorXf biasF = fusion_[i].bias.cast<float>();
    L.packedF = gemm::pack(L.WF.data(), L.W.rows(), L.W.cols(), L.W.rows(), biasF.data());
  }
  f32_.ready.store(true, std::memory_order_release);
}

namespace {

template <typename T> const Eigen::Matrix<T, 1, Eigen::Dynamic>& constantOf(const Layer& L);
template <> const Eigen::RowVectorXd& constantOf<double>(const Layer& L) {
  return L.constant;
}
template <> const Eigen::RowVectorXf& constantOf<float>(const Layer& L) {
  return L.constantF;
}
template <typename T> const Eigen::Matrix<T, -1, -1>& weightOf(const Layer& L);
template <> const Eigen::MatrixXd& weightOf<double>(const Layer& L) {
  return L.W;
}
template <> const Eigen::MatrixXf& weightOf<float>(const Layer& L) {
  return L.WF;
}
template <typename T> const Eigen::Matrix<T, 1, Eigen::Dynamic>& biasOf(const Layer& L);
template <> const Eigen::RowVectorXd& biasOf<double>(const Layer& L) {
  return L.bias;
}
template <> const Eigen::RowVectorXf& biasOf<float>(const Layer& L) {
  return L.biasF;
}

/// y = a op b elementwise, written into y without a temporary (y must not alias a or b).
template <typename Y, typename A, typename B>
void assignOp(ElemOp op, Y&& y, const A& a, const B& b) {
  switch (op) {
  case ElemOp::Add:
    y = a + b;
    break;
  case ElemOp::Sub:
    y = a - b;
    break;
  case ElemOp::Mul:
    y = a.cwiseProduct(b);
    break;
  case ElemOp::Div:
    y = a.cwiseQuotient(b);
    break;
  case ElemOp::Max:
    y = a.cwiseMax(b);
    break;
  case ElemOp::Min:
    y = a.cwiseMin(b);
    break;
  }
}

} // namespace

template <typename T>
const RowMatrix<T>& Network::run(const Eigen::Ref<const RowMatrix<T>>& X, Workspace<T>& ws) const {
  assert(finalized_ && "Network::finalize() not called");
  if constexpr (std::is_same_v<T, float>) prepareFloat32();
  assert(X.cols() == inputSize());
  ws.slots.resize(numSlots_);
  const Eigen::Index n = X.rows();
  // float32 Linear layers go to the dispatched kernels unless the ISA resolves to Portable.
  const gemm::Isa isa = std::is_same_v<T, float> ? gemm::resolve(ws.isa) : gemm::Isa::Portable;
  // The input is copied into its slot only when something reads it there: the kernels read X in
  // place (a float32 batch of 1024 MNIST rows is 3 MB of copying saved per call).
  const int inSlot = slotOf_[0];
  bool inputCopied = false;
  auto needInput = [&] {
    if (!inputCopied) ws.slots[inSlot] = X;
    inputCopied = true;
  };
  // X may be one of this workspace's own buffers (a previous call's result fed back): then it is
  // copied first, as a buffer it lives in may be resized or overwritten below.
  bool aliased = false;
  for (const RowMatrix<T>& s : ws.slots)
    if (s.size() > 0 && X.data() >= s.data() && X.data() < s.data() + s.size()) aliased = true;
  if (isa == gemm::Isa::Portable || aliased) needInput();
  for (size_t li = 0; li < layers.size(); ++li) {
    const Layer& L = layers[li];
    const RowMatrix<T>& x = ws.slots[slotOf_[L.input]];
    if (L.kind == LayerKind::Reshape) continue; // shares its input's slot
    const bool readsInput = slotOf_[L.input] == inSlot;
    if constexpr (std::is_same_v<T, float>) {
      if (L.kind == LayerKind::Linear && isa != gemm::Isa::Portable) {
        const Eigen::Index cols = readsInput ? X.cols() : x.cols();
        const Eigen::Index K = L.WF.rows(), N = L.WF.cols(), P = cols / K;
        // X in place: rows of K with any row stride (P == 1), or contiguous rows.
        const bool inPlace = readsInput && !inputCopied && (P == 1 || X.outerStride() == X.cols());
        if (readsInput && !inPlace) needInput();
        const float* xp = inPlace ? X.data() : x.data();
        const Eigen::Index ldx = inPlace && P == 1 ? X.outerStride() : K;
        // The kernel also computes the layers fused into this one (finalize()): it writes the
        // last one's value and those layers are skipped.
        const Fusion& f = fusion_[li];
        RowMatrix<T>& out = ws.slots[slotOf_[f.out]];
        out.resize(n, P * N);
        gemm::gemmBiasAct(isa, n * P, xp, ldx, L.packedF, f.relu, out.data(), N);
        li += f.skip;
        continue;
      }
    }
    if (readsInput || (L.input2 >= 0 && slotOf_[L.input2] == inSlot)) needInput();
    RowMatrix<T>& y = ws.slots[slotOf_[L.output]];
    switch (L.kind) {
    case LayerKind::Relu:
      y.resize(n, x.cols());
      y = x.cwiseMax(T(0));
      break;
    case LayerKind::Sigmoid:
      y.resize(n, x.cols());
      // exp(-x) overflows to +inf for very negative x, and 1 / (1 + inf) is the limit 0.
      y = (T(1) + (-x.array()).exp()).inverse().matrix();
      break;
    case LayerKind::Tanh:
      y.resize(n, x.cols());
      y = x.array().tanh().matrix();
      break;
    case LayerKind::Linear: {
      const auto& W = weightOf<T>(L);
      const Eigen::Index K = W.rows(), N = W.cols();
      const Eigen::Index P = x.cols() / K;
      Eigen::Map<const RowMatrix<T>> xv(x.data(), n * P, K);
      y.resize(n, P * N);
      Eigen::Map<RowMatrix<T>> yv(y.data(), n * P, N);
      if (n * P == 1)
        yv.row(0).noalias() = xv.row(0) * W; // one row: Eigen's GEMV kernel, no GEMM blocking
      else
        yv.noalias() = xv * W;
      if (L.bias.size() > 0) yv.rowwise() += biasOf<T>(L);
      break;
    }
    case LayerKind::Elementwise: {
      if (L.input2 >= 0) {
        y.resize(n, x.cols());
        assignOp(L.op, y, x, ws.slots[slotOf_[L.input2]]);
      } else {
        // Row by row (rows are contiguous): the constant is never replicated in memory.
        const auto& c = constantOf<T>(L);
        y.resize(n, x.cols());
        for (Eigen::Index i = 0; i < n; ++i) {
          if (L.constantFirst)
            assignOp(L.op, y.row(i), c, x.row(i));
          else
            assignOp(L.op, y.row(i), x.row(i), c);
        }
      }
      break;
    }
    case LayerKind::Reshape:
      break;
    }
  }
  if (slotOf_[outputValue] == inSlot) needInput();
  return ws.slots[slotOf_[outputValue]];
}

const RowMatrix<float>& Network::forward(const Eigen::Ref<const RowMatrix<float>>& X,
                                         Workspace<float>& ws) const {
  return run<float>(X, ws);
}
const RowMatrix<double>& Network::forward(const Eigen::Ref<const RowMatrix<double>>& X,
                                          Workspace<double>& ws) const {
  return run<double>(X, ws);
}

Eigen::MatrixXd Network::forward(const Eigen::MatrixXd& X) const {
  Workspace<double> ws;
  RowMatrix<double> Xr = X;
  return run<double>(Xr, ws);
}

Eigen::MatrixXf Network::forward(const Eigen::MatrixXf& X) const {
  Workspace<float> ws;
  RowMatrix<float> Xr = X;
  return run<float>(Xr, ws);
}

Eigen::VectorXd Network::forward(const Eigen::VectorXd& x) const {
  Workspace<double> ws;
  RowMatrix<double> Xr = x.transpose();
  return run<double>(Xr, ws).row(0).transpose();
}

std::string Network::describe() const {
  std::ostringstream os;
  os << name << ": input '" << inputName << "' "
     << (batched ? (batchDim > 0 ? "[" + std::to_string(batchDim) + "]+" : std::string("[N]+"))
                 : std::string())
     << shapeStr(inputShape) << "\n";
  for (const Layer& L : layers) {
    os << "  %" << L.output << " = " << L.opType << " '" << L.name << "' (%" << L.input;
    if (L.input2 >= 0) os << ", %" << L.input2;
    os << ") -> " << shapeStr(L.outShape);
    if (L.kind == LayerKind::Linear)
      os << " W " << L.W.rows() << "x" << L.W.cols() << (L.bias.size() ? " +b" : "");
    os << "\n";
  }
  os << "  output '" << outputName << "' = %" << outputValue << " " << shapeStr(outputShape())
     << "\n";
  return os.str();
}

Network makeMlp(const std::vector<Eigen::MatrixXd>& weights,
                const std::vector<Eigen::VectorXd>& biases, const std::string& name) {
  assert(!weights.empty() && weights.size() == biases.size());
  Network net;
  net.name = name;
  net.inputShape = {weights[0].cols()};
  int v = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    Layer L;
    L.kind = LayerKind::Linear;
    L.opType = "Gemm";
    L.name = "dense_" + std::to_string(i + 1);
    L.input = v;
    L.output = ++v;
    L.W = weights[i].transpose();
    L.bias = biases[i].transpose();
    L.outShape = {weights[i].rows()};
    net.layers.push_back(std::move(L));
    if (i + 1 < weights.size()) {
      Layer R;
      R.kind = LayerKind::Relu;
      R.opType = "Relu";
      R.name = "relu_" + std::to_string(i + 1);
      R.input = v;
      R.output = ++v;
      R.outShape = {weights[i].rows()};
      net.layers.push_back(std::move(R));
    }
  }
  net.outputValue = v;
  net.finalize();
  return net;
}

Network fromAffineNet(const AffineNet& an, const std::string& name) {
  Network net;
  net.name = name;
  net.inputShape = {an.inputSize};
  int v = 0;
  for (size_t i = 0; i < an.layers.size(); ++i) {
    const AffineLayer& A = an.layers[i];
    Layer L;
    L.kind = LayerKind::Linear;
    L.opType = "Gemm";
    L.name = "affine_" + std::to_string(i + 1);
    L.input = v;
    L.output = ++v;
    L.W = A.W.transpose();
    L.bias = A.b.transpose();
    L.outShape = {A.W.rows()};
    net.layers.push_back(std::move(L));
    if (A.relu) {
      Layer R;
      R.kind = LayerKind::Relu;
      R.opType = "Relu";
      R.name = "relu_" + std::to_string(i + 1);
      R.input = v;
      R.output = ++v;
      R.outShape = {A.W.rows()};
      net.layers.push_back(std::move(R));
    }
  }
  net.outputValue = v;
  net.finalize();
  return net;
}

Expected<AffineNet> toAffineNet(const Network& net) {
  AffineNet out;
  out.inputSize = net.inputSize();
  // The segment's map y = A x + c. While `identity`, A is the identity of size n and is not
  // stored (an n x n identity after a ReLU of width n would need n^2 doubles): the first Linear
  // or Mul/Div of the segment builds A directly from its own matrix.
  Eigen::Index n = net.inputSize();
  Eigen::MatrixXd A;
  Eigen::VectorXd c = Eigen::VectorXd::Zero(n);
  bool identity = true;
  int current = 0; // the value the chain has reached
  auto fail = [&](const Layer& L, const std::string& why) {
    return Error(SourceLoc{net.name, 0, 0}, "node '" + L.name + "' (" + L.opType +
                                                "): not a feed-forward affine/ReLU chain: " + why);
  };
  // A dense folded matrix of rows x cols must fit in memory (1 GiB of doubles).
  constexpr double kMaxEntries = double(1 << 27);
  auto tooLarge = [&](const std::string& who, Eigen::Index rows, Eigen::Index cols) {
    return Error(SourceLoc{net.name, 0, 0}, who + ": the folded affine layer would be " +
                                                std::to_string(rows) + " x " +
                                                std::to_string(cols) + ", more than " +
                                                std::to_string(int64_t(kMaxEntries)) + " entries");
  };
  auto finite = [](const Eigen::MatrixXd& M) { return M.allFinite(); };
  for (const Layer& L : net.layers) {
    if (L.input != current)
      return fail(L, "its input is not the previous node's output (the graph branches)");
    if (L.input2 >= 0) return fail(L, "an operation between two activations");
    // A layer that leaves A as it was (a Reshape, a constant Add/Sub after the segment's
    // start): A was checked finite when it last changed, so only c is checked again (a pass
    // over a 4096 x 8192 TLL A per bias Add otherwise).
    bool onlyC = false;
    switch (L.kind) {
    case LayerKind::Reshape:
      onlyC = true;
      break;
    case LayerKind::Sigmoid:
    case LayerKind::Tanh:
      return Error(SourceLoc{net.name, 0, 0},
                   "node '" + L.name + "' (" + L.opType + "): " + L.opType +
                       " is not supported by the verifier yet (its bounds handle ReLU networks "
                       "only; the forward pass, e.g. chassis eval, computes it)");
    case LayerKind::Relu:
      if (identity) {
        if (double(n) * double(n) > kMaxEntries) return tooLarge("node '" + L.name + "'", n, n);
        A = Eigen::MatrixXd::Identity(n, n);
      }
      out.layers.push_back({std::move(A), c, true});
      A = Eigen::MatrixXd();
      c = Eigen::VectorXd::Zero(n);
      identity = true;
      break;
    case LayerKind::Linear: {
      const Eigen::Index K = L.W.rows(), N = L.W.cols(), P = n / K;
      if (double(P * N) * double(P * K) > kMaxEntries)
        return tooLarge("node '" + L.name + "'", P * N, P * K);
      Eigen::VectorXd d(P * N);
      for (Eigen::Index p = 0; p < P; ++p)
        d.segment(p * N, N) =
            L.bias.size() ? Eigen::VectorXd(L.bias.transpose()) : Eigen::VectorXd::Zero(N);
      // TLL networks chain wide, mostly zero Linear layers with no ReLU between them
      // (N=64: 4096 x 2048 times 2048 x 8192, under 0.1% non-zero): the dense product is
      // 7e10 flops, seconds of every load. Through a compressed copy of M = W^T it costs
      // nnz(M) * A.cols(). Each entry is then the sum of M's non-zero terms in column order;
      // the dense product adds the same terms plus exact zeros, so the two agree whenever
      // those sums are exact (TLL: 0/1 selection and +-1 bank weights) and otherwise differ
      // only by summation order. The copy is built from W's columns (M's rows) directly: no
      // dense M (a 4096 x 8192 TLL layer: 268 MB).
      if (!identity && P == 1) {
        if (double(N) * double(A.cols()) > kMaxEntries)
          return tooLarge("node '" + L.name + "'", N, A.cols());
        const Eigen::Index nnz = (L.W.array() != 0.0).count();
        if (double(nnz) < 0.1 * double(L.W.size())) {
          Eigen::SparseMatrix<double, Eigen::RowMajor> S(N, K);
          S.resizeNonZeros(nnz);
          auto* outer = S.outerIndexPtr();
          auto* inner = S.innerIndexPtr();
          double* val = S.valuePtr();
          Eigen::Index at = 0;
          for (Eigen::Index j = 0; j < N; ++j) {
            outer[j] = static_cast<int>(at);
            const double* col = L.W.col(j).data();
            for (Eigen::Index k = 0; k < K; ++k)
              if (col[k] != 0.0) {
                inner[at] = static_cast<int>(k);
                val[at] = col[k];
                ++at;
              }
          }
          outer[N] = static_cast<int>(at);
          Eigen::MatrixXd MA = S * A;
          A = std::move(MA);
          c = S * c + d;
          n = N;
          identity = false;
          break;
        }
      }
      Eigen::MatrixXd M;
      if (P == 1) {
        // W^T copied in 64 x 64 tiles (Eigen's plain transposed copy strides through W and
        // misses the cache on nearly every element of a wide layer).
        M.resize(N, K);
        constexpr Eigen::Index T = 64;
        for (Eigen::Index k0 = 0; k0 < K; k0 += T)
          for (Eigen::Index n0 = 0; n0 < N; n0 += T) {
            const Eigen::Index k1 = std::min(K, k0 + T), n1 = std::min(N, n0 + T);
            for (Eigen::Index k = k0; k < k1; ++k)
              for (Eigen::Index j = n0; j < n1; ++j)
                M(j, k) = L.W(k, j);
          }
      } else {
        M.setZero(P * N, P * K);
        for (Eigen::Index p = 0; p < P; ++p)
          M.block(p * N, p * K, N, K) = L.W.transpose();
      }
      if (identity) {
        if (double(M.rows()) * double(n) > kMaxEntries)
          return tooLarge("node '" + L.name + "'", M.rows(), n);
        c = M * c + d;
        A = std::move(M);
      } else {
        if (double(M.rows()) * double(A.cols()) > kMaxEntries)
          return tooLarge("node '" + L.name + "'", M.rows(), A.cols());
        // (A denser W, or P > 1 blocks: M built dense, then multiplied through a compressed
        // copy when it is under 10% non-zero, as above.)
        const Eigen::Index nnz = (M.array() != 0.0).count();
        if (double(nnz) < 0.1 * double(M.size())) {
          const Eigen::SparseMatrix<double, Eigen::RowMajor> S = M.sparseView(0.0, 0.0);
          Eigen::MatrixXd MA = S * A;
          A = std::move(MA);
          c = S * c + d;
        } else {
          A = M * A;
          c = M * c + d;
        }
      }
      n = P * N;
      identity = false;
      break;
    }
    case LayerKind::Elementwise: {
      const Eigen::VectorXd k = L.constant.transpose();
      if (identity) {
        if (double(n) * double(n) > kMaxEntries) return tooLarge("node '" + L.name + "'", n, n);
        A = Eigen::MatrixXd::Identity(n, n);
      }
      if (L.constantFirst) {
        if (L.op != ElemOp::Sub) return fail(L, "constant first in a non-affine operation");
        A = -A;
        c = k - c;
      } else if (L.op == ElemOp::Add) {
        onlyC = !identity;
        c += k;
      } else if (L.op == ElemOp::Sub) {
        onlyC = !identity;
        c -= k;
      } else if (L.op == ElemOp::Mul) {
        A = k.asDiagonal() * A;
        c = c.cwiseProduct(k);
      } else if (L.op == ElemOp::Div) {
        A.array().colwise() /= k.array();
        c = c.cwiseQuotient(k);
      } else {
        return fail(L, std::string("'") + elemOpName(L.op) + "' is not affine");
      }
      identity = false;
      break;
    }
    }
    // A division by a zero constant, or an overflow of the folded products, leaves no real
    // number: the verifier's exact rationals of such a map do not exist.
    if (!identity && ((!onlyC && !finite(A)) || !c.allFinite()))
      return Error(SourceLoc{net.name, 0, 0},
                   "node '" + L.name + "' (" + L.opType +
                       "): the folded affine map has a NaN or infinite coefficient (a division "
                       "by zero, or an overflow)");
    current = L.output;
  }
  if (current != net.outputValue)
    return Error(SourceLoc{net.name, 0, 0},
                 "not a feed-forward affine/ReLU chain: the output is not the last node's value");
  if (!identity || out.layers.empty()) {
    if (identity) A = Eigen::MatrixXd::Identity(n, n);
    out.layers.push_back({A, c, false});
  }
  return out;
}

} // namespace chassis::neural

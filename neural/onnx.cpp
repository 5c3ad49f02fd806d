// ONNX <-> Network. Import: parse the ModelProto, collect initialisers and Constant nodes as
// constants, sort the nodes topologically (Kahn), then translate each node to a Layer while
// resolving its per-sample output shape from the input's declared shape. Every size read from
// the file is checked before it is used (tensor element counts against the data actually
// present, dimensions against overflow), so a truncated or fuzzed file is an Error, not a crash.
// Export: the reverse mapping, one ONNX node per Layer (Linear with a bias over a vector input
// becomes Gemm, otherwise MatMul followed by Add).
#include "neural/onnx.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace chassis::neural {

namespace {

constexpr int64_t kMaxElements = int64_t(1) << 28;   // refuse tensors beyond 256M elements
constexpr int64_t kMaxActivation = int64_t(1) << 24; // and activations beyond 16M per sample

/// A constant: an initialiser or a Constant node's value, as doubles (and int64s for shapes).
struct Const {
  Shape shape;
  std::vector<double> data;
  std::vector<int64_t> ints; // filled for integer tensors
  bool isInt = false;
};

/// An activation: the value id and its per-sample shape.
struct Act {
  int id;
  Shape shape;
};

struct Importer {
  std::string file;
  Network net;
  std::map<std::string, Const> consts;
  std::map<std::string, Act> acts;
  int nextValue = 1;

  Error err(const std::string& msg) const { return Error(SourceLoc{file, 0, 0}, msg); }
  Error nodeErr(const onnx::NodeProto& n, const std::string& msg) const {
    return err("node '" + n.name() + "': " + msg);
  }

  Expected<Const> readTensor(const onnx::TensorProto& t, const std::string& what) const {
    Const c;
    int64_t count = 1;
    for (int64_t d : t.dims()) {
      if (d < 0) return err(what + ": negative dimension " + std::to_string(d));
      if (d > 0 && count > kMaxElements / d) return err(what + ": tensor too large");
      count *= d;
      c.shape.push_back(d);
    }
    if (t.data_location() == onnx::TensorProto::EXTERNAL)
      return err(what + ": external tensor data is not supported");
    const std::string& raw = t.raw_data();
    auto rawCheck = [&](size_t elem) -> std::optional<Error> {
      if (raw.size() != static_cast<size_t>(count) * elem)
        return err(what + ": raw data has " + std::to_string(raw.size()) + " bytes, expected " +
                   std::to_string(count * static_cast<int64_t>(elem)) + " for shape " +
                   shapeStr(c.shape));
      return std::nullopt;
    };
    auto countCheck = [&](int64_t have) -> std::optional<Error> {
      if (have != count)
        return err(what + ": has " + std::to_string(have) + " values, expected " +
                   std::to_string(count) + " for shape " + shapeStr(c.shape));
      return std::nullopt;
    };
    c.data.resize(count);
    switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
      if (t.has_raw_data()) {
        if (auto e = rawCheck(4)) return *e;
        for (int64_t i = 0; i < count; ++i) {
          float f;
          std::memcpy(&f, raw.data() + 4 * i, 4);
          c.data[i] = f;
        }
      } else {
        if (auto e = countCheck(t.float_data_size())) return *e;
        for (int64_t i = 0; i < count; ++i)
          c.data[i] = t.float_data(i);
      }
      break;
    case onnx::TensorProto::DOUBLE:
      if (t.has_raw_data()) {
        if (auto e = rawCheck(8)) return *e;
        std::memcpy(c.data.data(), raw.data(), 8 * count);
      } else {
        if (auto e = countCheck(t.double_data_size())) return *e;
        for (int64_t i = 0; i < count; ++i)
          c.data[i] = t.double_data(i);
      }
      break;
    case onnx::TensorProto::INT64:
      c.isInt = true;
      c.ints.resize(count);
      if (t.has_raw_data()) {
        if (auto e = rawCheck(8)) return *e;
        std::memcpy(c.ints.data(), raw.data(), 8 * count);
      } else {
        if (auto e = countCheck(t.int64_data_size())) return *e;
        for (int64_t i = 0; i < count; ++i)
          c.ints[i] = t.int64_data(i);
      }
      for (int64_t i = 0; i < count; ++i)
        c.data[i] = static_cast<double>(c.ints[i]);
      break;
    case onnx::TensorProto::INT32:
      c.isInt = true;
      c.ints.resize(count);
      if (t.has_raw_data()) {
        if (auto e = rawCheck(4)) return *e;
        for (int64_t i = 0; i < count; ++i) {
          int32_t v;
          std::memcpy(&v, raw.data() + 4 * i, 4);
          c.ints[i] = v;
        }
      } else {
        if (auto e = countCheck(t.int32_data_size())) return *e;
        for (int64_t i = 0; i < count; ++i)
          c.ints[i] = t.int32_data(i);
      }
      for (int64_t i = 0; i < count; ++i)
        c.data[i] = static_cast<double>(c.ints[i]);
      break;
    default:
      return err(what + ": unsupported tensor element type " + std::to_string(t.data_type()));
    }
    // A NaN or infinite weight has no real value: the verifier's exact rationals and every
    // verdict would be meaningless (an infinity's rational does not exist).
    for (int64_t i = 0; i < count; ++i)
      if (!std::isfinite(c.data[i]))
        return err(what + ": element " + std::to_string(i) + " is " +
                   (std::isnan(c.data[i]) ? "NaN" : "infinite") +
                   " (weights and constants must be finite)");
    return c;
  }

  /// Expands constant `c` to the per-sample shape `target` by NumPy broadcasting (the batch
  /// dimension, when present, must be 1 in the constant). The result must not grow `target`.
  Expected<Eigen::RowVectorXd> broadcast(const onnx::NodeProto& n, const Const& c,
                                         const Shape& target) const {
    Shape full = target;
    if (net.batched) full.insert(full.begin(), 1);
    if (c.shape.size() > full.size())
      return nodeErr(n, "shape mismatch: constant " + shapeStr(c.shape) +
                            " has more dimensions than the activation " + shapeStr(full));
    const size_t r = full.size(), off = r - c.shape.size();
    Shape cs(r, 1);
    for (size_t i = 0; i < c.shape.size(); ++i)
      cs[off + i] = c.shape[i];
    for (size_t i = 0; i < r; ++i)
      if (cs[i] != 1 && cs[i] != full[i])
        return nodeErr(n, "shape mismatch: constant " + shapeStr(c.shape) +
                              " does not broadcast to the activation " + shapeStr(full));
    const int64_t F = numElements(target);
    Eigen::RowVectorXd out(F);
    // Walk the target's elements in row-major order and index the constant with stride 0 on
    // its broadcast dimensions.
    std::vector<int64_t> idx(r, 0), cstride(r, 0);
    int64_t s = 1;
    for (size_t i = r; i-- > 0;) {
      cstride[i] = cs[i] == 1 ? 0 : s;
      s *= cs[i];
    }
    for (int64_t e = 0; e < F; ++e) {
      int64_t ci = 0;
      for (size_t i = 0; i < r; ++i)
        ci += idx[i] * cstride[i];
      out[e] = c.data[ci];
      for (size_t i = r; i-- > 0;) {
        if (++idx[i] < full[i]) break;
        idx[i] = 0;
      }
    }
    return out;
  }

  std::optional<const onnx::AttributeProto*> attr(const onnx::NodeProto& n,
                                                  const std::string& name) const {
    for (const auto& a : n.attribute())
      if (a.name() == name) return &a;
    return std::nullopt;
  }
  int64_t intAttr(const onnx::NodeProto& n, const std::string& name, int64_t dflt) const {
    auto a = attr(n, name);
    return a ? (*a)->i() : dflt;
  }
  float floatAttr(const onnx::NodeProto& n, const std::string& name, float dflt) const {
    auto a = attr(n, name);
    return a ? (*a)->f() : dflt;
  }

  int define(const onnx::NodeProto& n, Layer L, Shape outShape) {
    L.name = n.name();
    L.opType = n.op_type();
    L.output = nextValue++;
    L.outShape = outShape;
    acts[n.output(0)] = Act{L.output, std::move(outShape)};
    net.layers.push_back(std::move(L));
    return net.layers.back().output;
  }

  Status translate(const onnx::NodeProto& n);
  Expected<Network> run(const onnx::ModelProto& m);
};

Status Importer::translate(const onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  if (n.output_size() != 1) return nodeErr(n, "operation '" + op + "' must have one output");
  if (acts.count(n.output(0)) || consts.count(n.output(0)))
    return nodeErr(n, "value '" + n.output(0) + "' is defined twice");
  auto isAct = [&](int i) { return i < n.input_size() && acts.count(n.input(i)) > 0; };
  auto isConst = [&](int i) { return i < n.input_size() && consts.count(n.input(i)) > 0; };
  auto needInputs = [&](int lo, int hi) -> std::optional<Error> {
    if (n.input_size() < lo || n.input_size() > hi)
      return nodeErr(n, "operation '" + op + "' takes " +
                            (lo == hi ? std::to_string(lo)
                                      : std::to_string(lo) + " to " + std::to_string(hi)) +
                            " inputs, got " + std::to_string(n.input_size()));
    return std::nullopt;
  };

  if (op == "Constant") {
    if (auto e = needInputs(0, 0)) return *e;
    Const c;
    if (auto a = attr(n, "value")) {
      auto t = readTensor((*a)->t(), "node '" + n.name() + "'");
      if (!t) return t.error();
      c = std::move(*t);
    } else if (auto a = attr(n, "value_float")) {
      c.data = {(*a)->f()};
    } else if (auto a = attr(n, "value_floats")) {
      c.shape = {(*a)->floats_size()};
      c.data.assign((*a)->floats().begin(), (*a)->floats().end());
    } else if (auto a = attr(n, "value_ints")) {
      c.isInt = true;
      c.shape = {(*a)->ints_size()};
      c.ints.assign((*a)->ints().begin(), (*a)->ints().end());
      c.data.assign(c.ints.begin(), c.ints.end());
    } else if (auto a = attr(n, "value_int")) {
      c.isInt = true;
      c.ints = {(*a)->i()};
      c.data = {double((*a)->i())};
    } else {
      return nodeErr(n, "Constant without a supported value attribute");
    }
    consts[n.output(0)] = std::move(c);
    return Status::ok();
  }

  static const std::map<std::string, ElemOp> elem = {{"Add", ElemOp::Add}, {"Sub", ElemOp::Sub},
                                                     {"Mul", ElemOp::Mul}, {"Div", ElemOp::Div},
                                                     {"Max", ElemOp::Max}, {"Min", ElemOp::Min}};
  if (auto it = elem.find(op); it != elem.end()) {
    if (auto e = needInputs(2, 2)) return *e;
    Layer L;
    L.kind = LayerKind::Elementwise;
    L.op = it->second;
    if (isAct(0) && isAct(1)) {
      const Act &a = acts[n.input(0)], &b = acts[n.input(1)];
      if (a.shape != b.shape)
        return nodeErr(n, "shape mismatch: " + shapeStr(a.shape) + " and " + shapeStr(b.shape));
      L.input = a.id;
      L.input2 = b.id;
      define(n, std::move(L), a.shape);
      return Status::ok();
    }
    int ai = isAct(0) ? 0 : isAct(1) ? 1 : -1;
    if (ai < 0) return nodeErr(n, "operation '" + op + "' on constants only is not supported");
    if (!isConst(1 - ai))
      return nodeErr(n, "input '" + n.input(1 - ai) + "' is not defined (missing initializer?)");
    const Act& a = acts[n.input(ai)];
    auto c = broadcast(n, consts[n.input(1 - ai)], a.shape);
    if (!c) return c.error();
    L.input = a.id;
    L.constant = std::move(*c);
    L.constantFirst = ai == 1 && (L.op == ElemOp::Sub || L.op == ElemOp::Div);
    define(n, std::move(L), a.shape);
    return Status::ok();
  }

  // The remaining operations take an activation as their first input.
  if (op == "Relu" || op == "Flatten" || op == "Reshape" || op == "Identity" || op == "MatMul" ||
      op == "Gemm") {
    if (n.input_size() < 1) return nodeErr(n, "operation '" + op + "' needs an input");
    if (!isAct(0)) {
      if (isConst(0) && op == "Identity") {
        consts[n.output(0)] = consts[n.input(0)];
        return Status::ok();
      }
      if (isConst(0))
        return nodeErr(n, "operation '" + op + "' with a constant first input is not supported");
      return nodeErr(n, "input '" + n.input(0) + "' is not defined");
    }
  } else {
    return nodeErr(n, "unsupported operation '" + op + "'");
  }
  const Act x = acts[n.input(0)];
  Layer L;
  L.input = x.id;
  const int rank = static_cast<int>(x.shape.size()) + (net.batched ? 1 : 0);

  if (op == "Relu" || op == "Identity") {
    if (auto e = needInputs(1, 1)) return *e;
    L.kind = op == "Relu" ? LayerKind::Relu : LayerKind::Reshape;
    define(n, std::move(L), x.shape);
    return Status::ok();
  }
  if (op == "Flatten") {
    if (auto e = needInputs(1, 1)) return *e;
    int64_t axis = intAttr(n, "axis", 1);
    if (axis < 0) axis += rank;
    if (axis < 0 || axis > rank)
      return nodeErr(n, "Flatten axis " + std::to_string(intAttr(n, "axis", 1)) +
                            " out of range for rank " + std::to_string(rank));
    Shape out;
    if (net.batched) {
      if (axis == 0) return nodeErr(n, "Flatten axis 0 would fold the batch dimension");
      int64_t lead = 1, rest = 1;
      for (int64_t i = 0; i < axis - 1; ++i)
        lead *= x.shape[i];
      for (size_t i = axis - 1; i < x.shape.size(); ++i)
        rest *= x.shape[i];
      if (lead != 1)
        return nodeErr(n, "Flatten axis " + std::to_string(axis) +
                              " would fold sample dimensions into the batch dimension");
      out = {rest};
    } else {
      int64_t lead = 1, rest = 1;
      for (int64_t i = 0; i < axis; ++i)
        lead *= x.shape[i];
      for (size_t i = axis; i < x.shape.size(); ++i)
        rest *= x.shape[i];
      out = {lead, rest};
    }
    L.kind = LayerKind::Reshape;
    L.flattenAxis = static_cast<int>(axis);
    define(n, std::move(L), out);
    return Status::ok();
  }
  if (op == "Reshape") {
    if (auto e = needInputs(2, 2)) return *e;
    if (!isConst(1))
      return nodeErr(n, "Reshape's shape '" + n.input(1) +
                            "' must be a constant (dynamic shapes are not supported)");
    const Const& s = consts[n.input(1)];
    if (!s.isInt || s.shape.size() != 1) return nodeErr(n, "Reshape's shape must be a 1-D int64");
    std::vector<int64_t> dims = s.ints;
    const int64_t F = numElements(x.shape);
    if (net.batched) {
      if (dims.empty()) return nodeErr(n, "Reshape to a scalar would drop the batch dimension");
      // The first target dimension must stay the batch: 0 (copy), -1 (inferred) or the declared
      // fixed batch size.
      if (!(dims[0] == 0 || dims[0] == -1 || (net.batchDim > 0 && dims[0] == net.batchDim)))
        return nodeErr(n, "Reshape to " + shapeStr(dims) + " changes the batch dimension");
      if (dims[0] == -1)
        for (size_t i = 1; i < dims.size(); ++i)
          if (dims[i] == -1)
            return nodeErr(n,
                           "Reshape to " + shapeStr(dims) + ": cannot resolve two -1 dimensions");
      dims.erase(dims.begin());
    }
    Shape out;
    int inferAt = -1;
    int64_t known = 1;
    for (size_t i = 0; i < dims.size(); ++i) {
      int64_t d = dims[i];
      if (d == 0) {
        if (intAttr(n, "allowzero", 0) != 0)
          return nodeErr(n, "Reshape with allowzero and a zero dimension is not supported");
        size_t src = i; // position in the per-sample input shape
        if (src >= x.shape.size())
          return nodeErr(n, "Reshape: dimension " + std::to_string(i) + " copies a missing one");
        d = x.shape[src];
      } else if (d == -1) {
        if (inferAt >= 0) return nodeErr(n, "Reshape: cannot resolve two -1 dimensions");
        inferAt = static_cast<int>(i);
      } else if (d < -1) {
        return nodeErr(n, "Reshape: invalid dimension " + std::to_string(d));
      }
      if (d > 0) {
        if (known > kMaxElements / d) return nodeErr(n, "Reshape: shape too large");
        known *= d;
      }
      out.push_back(d);
    }
    if (inferAt >= 0) {
      if (known == 0 || F % known != 0)
        return nodeErr(n, "Reshape: cannot resolve -1 in " + shapeStr(s.ints) + " for " +
                              std::to_string(F) + " elements");
      out[inferAt] = F / known;
    } else if (known != F) {
      return nodeErr(n,
                     "shape mismatch: Reshape of " + shapeStr(x.shape) + " to " + shapeStr(s.ints));
    }
    L.kind = LayerKind::Reshape;
    define(n, std::move(L), out);
    return Status::ok();
  }
  if (op == "MatMul") {
    if (auto e = needInputs(2, 2)) return *e;
    if (!isConst(1)) {
      if (isAct(1)) return nodeErr(n, "MatMul of two activations is not supported");
      return nodeErr(n, "input '" + n.input(1) + "' is not defined (missing initializer?)");
    }
    const Const& w = consts[n.input(1)];
    if (w.shape.empty() || w.shape.size() > 2)
      return nodeErr(n, "MatMul weight of shape " + shapeStr(w.shape) + " is not supported");
    if (x.shape.empty()) return nodeErr(n, "MatMul of a scalar activation");
    const int64_t K = w.shape[0], N = w.shape.size() == 2 ? w.shape[1] : 1;
    if (x.shape.back() != K)
      return nodeErr(n,
                     "shape mismatch: MatMul of " + shapeStr(x.shape) + " by " + shapeStr(w.shape));
    L.kind = LayerKind::Linear;
    L.W = Eigen::Map<const RowMatrix<double>>(w.data.data(), K, N);
    Shape out(x.shape.begin(), x.shape.end() - 1);
    if (w.shape.size() == 2) out.push_back(N);
    define(n, std::move(L), out);
    return Status::ok();
  }
  // Gemm: Y = alpha * A' B' + beta * C, A = the activation (2-D).
  if (auto e = needInputs(2, 3)) return *e;
  if (rank != 2) return nodeErr(n, "Gemm input of rank " + std::to_string(rank) + " (expected 2)");
  if (intAttr(n, "transA", 0) != 0)
    return nodeErr(n, "Gemm with transA=1 on an activation is not supported");
  if (!isConst(1)) {
    if (isAct(1)) return nodeErr(n, "Gemm of two activations is not supported");
    return nodeErr(n, "input '" + n.input(1) + "' is not defined (missing initializer?)");
  }
  const Const& b = consts[n.input(1)];
  if (b.shape.size() != 2) return nodeErr(n, "Gemm weight must be 2-D, got " + shapeStr(b.shape));
  const bool transB = intAttr(n, "transB", 0) != 0;
  Eigen::MatrixXd B = Eigen::Map<const RowMatrix<double>>(b.data.data(), b.shape[0], b.shape[1]);
  if (transB) B.transposeInPlace();
  const int64_t K = B.rows(), N = B.cols();
  if (x.shape.back() != K)
    return nodeErr(n, "shape mismatch: Gemm of " + shapeStr(x.shape) + " by " + shapeStr(b.shape) +
                          (transB ? " (transB)" : ""));
  const double alpha = floatAttr(n, "alpha", 1.0f), beta = floatAttr(n, "beta", 1.0f);
  // alpha and beta are folded into the weights and the bias, which must stay finite like every
  // constant (found by tests/fuzz/fuzz_onnx.cpp: findings/onnx-crash-e2e3bce8...).
  if (!std::isfinite(alpha) || !std::isfinite(beta))
    return nodeErr(n, "Gemm alpha and beta must be finite, got alpha=" + std::to_string(alpha) +
                          ", beta=" + std::to_string(beta));
  L.kind = LayerKind::Linear;
  L.W = alpha == 1.0 ? B : Eigen::MatrixXd(alpha * B);
  if (!L.W.allFinite())
    return nodeErr(n, "Gemm alpha * B overflows: a weight is not finite");
  if (n.input_size() == 3 && !n.input(2).empty()) {
    if (!isConst(2)) {
      if (isAct(2)) return nodeErr(n, "Gemm with an activation as C is not supported");
      return nodeErr(n, "input '" + n.input(2) + "' is not defined (missing initializer?)");
    }
    const Const& c = consts[n.input(2)];
    for (size_t i = 0; i + 1 < c.shape.size(); ++i)
      if (c.shape[i] != 1)
        return nodeErr(n, "Gemm bias of shape " + shapeStr(c.shape) + " is not supported");
    if (c.shape.size() > 2 || (!c.shape.empty() && c.shape.back() != N && c.shape.back() != 1))
      return nodeErr(n, "shape mismatch: Gemm bias " + shapeStr(c.shape) + " for " +
                            std::to_string(N) + " outputs");
    L.bias.resize(N);
    for (int64_t j = 0; j < N; ++j) {
      double v = c.data.size() == 1 ? c.data[0] : c.data[j];
      L.bias[j] = beta == 1.0 ? v : beta * v;
    }
    if (!L.bias.allFinite()) return nodeErr(n, "Gemm beta * C overflows: a bias is not finite");
  }
  Shape out = x.shape;
  out.back() = N;
  define(n, std::move(L), out);
  return Status::ok();
}

Expected<Network> Importer::run(const onnx::ModelProto& m) {
  if (!m.has_graph()) return err("not an ONNX model: no graph");
  const onnx::GraphProto& g = m.graph();
  net.name = file;
  for (const auto& t : g.initializer()) {
    auto c = readTensor(t, "initializer '" + t.name() + "'");
    if (!c) return c.error();
    consts[t.name()] = std::move(*c);
  }
  // Inputs that are not initialisers (IR < 4 lists initialisers among the inputs).
  std::vector<const onnx::ValueInfoProto*> inputs;
  for (const auto& in : g.input())
    if (!consts.count(in.name())) inputs.push_back(&in);
  if (inputs.size() != 1)
    return err("wrong number of inputs: the graph has " + std::to_string(inputs.size()) +
               " (expected 1)");
  if (g.output_size() != 1)
    return err("wrong number of outputs: the graph has " + std::to_string(g.output_size()) +
               " (expected 1)");
  const onnx::ValueInfoProto& in = *inputs[0];
  net.inputName = in.name();
  net.outputName = g.output(0).name();
  if (!in.type().has_tensor_type() || !in.type().tensor_type().has_shape())
    return err("input '" + in.name() + "' has no declared tensor shape");
  const auto& tt = in.type().tensor_type();
  if (tt.elem_type() != onnx::TensorProto::FLOAT && tt.elem_type() != onnx::TensorProto::DOUBLE)
    return err("input '" + in.name() + "': unsupported element type " +
               std::to_string(tt.elem_type()));
  const auto& dims = tt.shape().dim();
  if (dims.empty()) return err("input '" + in.name() + "' is a scalar");
  net.batched = dims.size() >= 2 || !dims[0].has_dim_value();
  int64_t size = 1;
  for (int i = 0; i < dims.size(); ++i) {
    if (i == 0 && net.batched) {
      net.batchDim = dims[0].has_dim_value() ? dims[0].dim_value() : -1;
      continue;
    }
    if (!dims[i].has_dim_value() || dims[i].dim_value() <= 0)
      return err("input '" + in.name() + "': cannot resolve dimension " + std::to_string(i) +
                 (dims[i].has_dim_param() ? " ('" + dims[i].dim_param() + "')" : std::string()) +
                 ": only the batch dimension may be symbolic");
    if (size > kMaxElements / dims[i].dim_value()) return err("input shape too large");
    size *= dims[i].dim_value();
    net.inputShape.push_back(dims[i].dim_value());
  }
  acts[in.name()] = Act{0, net.inputShape};

  // Topological order (Kahn): a node is ready once all its non-empty inputs are defined.
  const int numNodes = g.node_size();
  std::set<std::string> defined;
  for (const auto& [name, c] : consts)
    defined.insert(name);
  defined.insert(in.name());
  std::map<std::string, std::vector<int>> consumers;
  std::vector<int> missing(numNodes, 0);
  for (int i = 0; i < numNodes; ++i) {
    const auto& nd = g.node(i);
    for (const auto& name : nd.input()) {
      if (name.empty() || defined.count(name)) continue;
      ++missing[i];
      consumers[name].push_back(i);
    }
  }
  std::vector<int> ready, order;
  for (int i = 0; i < numNodes; ++i)
    if (missing[i] == 0) ready.push_back(i);
  while (!ready.empty()) {
    // Smallest index first, so the order is the file's order whenever that is valid.
    auto it = std::min_element(ready.begin(), ready.end());
    int i = *it;
    ready.erase(it);
    order.push_back(i);
    for (const auto& out : g.node(i).output()) {
      if (!defined.insert(out).second) continue;
      for (int j : consumers[out])
        if (--missing[j] == 0) ready.push_back(j);
    }
  }
  if (static_cast<int>(order.size()) != numNodes) {
    for (int i = 0; i < numNodes; ++i) {
      if (missing[i] == 0) continue;
      const auto& nd = g.node(i);
      for (const auto& name : nd.input())
        if (!name.empty() && !defined.count(name))
          return err("node '" +
                     (nd.name().empty() ? nd.op_type() + "_" + std::to_string(i) : nd.name()) +
                     "': input '" + name + "' is not defined (missing initializer, or a cycle)");
    }
    return err("the graph has a cycle");
  }
  for (int i : order) {
    onnx::NodeProto nd = g.node(i);
    if (nd.name().empty()) nd.set_name(nd.op_type() + "_" + std::to_string(i));
    const size_t before = net.layers.size();
    if (auto s = translate(nd); !s) return s.error();
    // A fuzzed file can ask for a huge activation with little data (a MatMul over a long
    // leading axis): refuse it here rather than allocate it in forward().
    if (net.layers.size() > before && numElements(net.layers.back().outShape) > kMaxActivation)
      return err("node '" + nd.name() + "': an activation of " +
                 shapeStr(net.layers.back().outShape) + " per sample is too large");
  }
  auto out = acts.find(net.outputName);
  if (out == acts.end())
    return err("output '" + net.outputName + "' is not computed from the input");
  net.outputValue = out->second.id;
  net.finalize();
  return std::move(net);
}

// ---- export ----

bool floatExact(const Network& net) {
  auto exact = [](const auto& m) {
    for (Eigen::Index i = 0; i < m.size(); ++i) {
      double v = m.data()[i];
      if (static_cast<double>(static_cast<float>(v)) != v) return false;
    }
    return true;
  };
  for (const Layer& L : net.layers)
    if (!exact(L.W) || !exact(L.bias) || !exact(L.constant)) return false;
  return true;
}

void setTensor(onnx::TensorProto* t, const std::string& name, const Shape& shape,
               const double* data, int64_t count, bool asFloat) {
  t->set_name(name);
  for (int64_t d : shape)
    t->add_dims(d);
  if (asFloat) {
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t i = 0; i < count; ++i)
      t->add_float_data(static_cast<float>(data[i]));
  } else {
    t->set_data_type(onnx::TensorProto::DOUBLE);
    for (int64_t i = 0; i < count; ++i)
      t->add_double_data(data[i]);
  }
}

void setValueInfo(onnx::ValueInfoProto* v, const std::string& name, const Network& net,
                  const Shape& sample, bool asFloat) {
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(asFloat ? onnx::TensorProto::FLOAT : onnx::TensorProto::DOUBLE);
  auto* sh = tt->mutable_shape();
  if (net.batched) {
    auto* d = sh->add_dim();
    if (net.batchDim > 0)
      d->set_dim_value(net.batchDim);
    else
      d->set_dim_param("N");
  }
  for (int64_t d : sample)
    sh->add_dim()->set_dim_value(d);
}

} // namespace

Expected<Network> parseOnnx(const std::string& bytes, const std::string& displayName) {
  onnx::ModelProto m;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    return Error(SourceLoc{displayName, 0, 0}, "file too large");
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return Error(SourceLoc{displayName, 0, 0}, "not a valid ONNX model (protobuf parse failed)");
  Importer im;
  im.file = displayName;
  return im.run(m);
}

Expected<Network> loadOnnx(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return Error(SourceLoc{path, 0, 0}, "cannot open file");
  std::ostringstream ss;
  ss << f.rdbuf();
  return parseOnnx(ss.str(), path);
}

Expected<std::string> serializeOnnx(const Network& net) {
  const bool asFloat = floatExact(net);
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.set_producer_name("chassis");
  auto* opset = m.add_opset_import();
  opset->set_domain("");
  opset->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name(net.name);
  std::map<int, Shape> shapeOf{{0, net.inputShape}};
  auto valueName = [&](int v) {
    if (v == 0) return net.inputName;
    if (v == net.outputValue) return net.outputName;
    return "v" + std::to_string(v);
  };
  std::set<std::string> used;
  int counter = 0;
  for (const Layer& L : net.layers) {
    std::string nm = L.name.empty() ? L.opType + "_" + std::to_string(counter) : L.name;
    while (!used.insert(nm).second)
      nm += "_" + std::to_string(counter);
    ++counter;
    const std::string in = valueName(L.input), out = valueName(L.output);
    auto addNode = [&](const std::string& op, std::vector<std::string> ins, const std::string& o,
                       const std::string& name) {
      onnx::NodeProto* n = g->add_node();
      n->set_op_type(op);
      n->set_name(name);
      for (auto& s : ins)
        n->add_input(s);
      n->add_output(o);
      return n;
    };
    const Shape& inShape = shapeOf[L.input];
    switch (L.kind) {
    case LayerKind::Relu:
      addNode("Relu", {in}, out, nm);
      break;
    case LayerKind::Reshape:
      if (L.opType == "Identity") {
        addNode("Identity", {in}, out, nm);
      } else if (L.flattenAxis >= 0) {
        auto* n = addNode("Flatten", {in}, out, nm);
        auto* a = n->add_attribute();
        a->set_name("axis");
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(L.flattenAxis);
      } else {
        auto* t = g->add_initializer();
        t->set_name(nm + "_shape");
        t->set_data_type(onnx::TensorProto::INT64);
        t->add_dims(static_cast<int64_t>(L.outShape.size() + (net.batched ? 1 : 0)));
        if (net.batched) t->add_int64_data(0);
        for (int64_t d : L.outShape)
          t->add_int64_data(d);
        addNode("Reshape", {in, nm + "_shape"}, out, nm);
      }
      break;
    case LayerKind::Elementwise: {
      const char* op = elemOpName(L.op);
      if (L.input2 >= 0) {
        addNode(op, {in, valueName(L.input2)}, out, nm);
      } else {
        Shape cs = inShape;
        if (net.batched) cs.insert(cs.begin(), 1);
        setTensor(g->add_initializer(), nm + "_const", cs, L.constant.data(), L.constant.size(),
                  asFloat);
        if (L.constantFirst)
          addNode(op, {nm + "_const", in}, out, nm);
        else
          addNode(op, {in, nm + "_const"}, out, nm);
      }
      break;
    }
    case LayerKind::Linear: {
      const int64_t K = L.W.rows(), N = L.W.cols();
      RowMatrix<double> Wr = L.W;
      setTensor(g->add_initializer(), nm + "_W", {K, N}, Wr.data(), K * N, asFloat);
      const bool gemm = L.bias.size() > 0 && inShape.size() + (net.batched ? 1 : 0) == 2;
      if (gemm) {
        setTensor(g->add_initializer(), nm + "_B", {N}, L.bias.data(), N, asFloat);
        addNode("Gemm", {in, nm + "_W", nm + "_B"}, out, nm);
      } else if (L.bias.size() > 0) {
        const std::string mid = out + "_matmul";
        addNode("MatMul", {in, nm + "_W"}, mid, nm);
        setTensor(g->add_initializer(), nm + "_B", {N}, L.bias.data(), N, asFloat);
        addNode("Add", {mid, nm + "_B"}, out, nm + "_bias");
      } else {
        addNode("MatMul", {in, nm + "_W"}, out, nm);
      }
      break;
    }
    }
    shapeOf[L.output] = L.outShape;
  }
  setValueInfo(g->add_input(), net.inputName, net, net.inputShape, asFloat);
  setValueInfo(g->add_output(), net.outputName, net, net.outputShape(), asFloat);
  std::string bytes;
  if (!m.SerializeToString(&bytes)) return Error("cannot serialise the ONNX model");
  return bytes;
}

Status saveOnnx(const Network& net, const std::string& path) {
  auto bytes = serializeOnnx(net);
  if (!bytes) return bytes.error();
  std::ofstream f(path, std::ios::binary);
  if (!f) return Error(SourceLoc{path, 0, 0}, "cannot open file for writing");
  f << *bytes;
  if (!f) return Error(SourceLoc{path, 0, 0}, "write failed");
  return Status::ok();
}

} // namespace chassis::neural

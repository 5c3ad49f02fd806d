// Correctness of the runtime-dispatched float32 GEMM kernels (neural/gemm.h) and of the float32
// forward pass that uses them (bias and ReLU fused), against float64 references; and that the
// float64 forward pass is still exactly Eigen's (the verifier replays counterexamples in it).
// Every instruction set the CPU has is exercised (Portable always; AVX2 and AVX-512 when
// present). No timing here: throughput is bench/neural's business.
#include "neural/gemm.h"
#include "neural/network.h"
#include "neural/onnx.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

using namespace chassis::neural;

namespace {

// Deterministic values in [-1, 1) (an LCG; the test must not depend on a library's RNG).
struct Lcg {
  uint64_t s;
  explicit Lcg(uint64_t seed) : s(seed) {}
  float next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return float(double(s >> 40) / double(1ull << 24) * 2.0 - 1.0);
  }
};

std::vector<gemm::Isa> kernelIsas() {
  std::vector<gemm::Isa> out;
  for (gemm::Isa isa : {gemm::Isa::Avx2, gemm::Isa::Avx512})
    if (gemm::resolve(isa) == isa) out.push_back(isa);
  return out;
}

} // namespace

TEST_CASE("ISA resolution falls back to what the CPU has", "[neural][gemm]") {
  CHECK(gemm::resolve(gemm::Isa::Auto) == gemm::detectedIsa());
  CHECK(gemm::resolve(gemm::Isa::Portable) == gemm::Isa::Portable);
  CHECK(gemm::detectedIsa() != gemm::Isa::Auto);
  // Never more than asked for.
  CHECK(gemm::resolve(gemm::Isa::Avx2) != gemm::Isa::Avx512);
  CHECK(std::string(gemm::isaName(gemm::Isa::Avx512)) == "avx512f+fma");
  // Portable has no kernel: the call says so and leaves Y alone.
  gemm::PackedB B = gemm::pack(std::vector<float>(6, 1.0f).data(), 2, 3, 2, nullptr);
  std::vector<float> X{1, 2}, Y(3, 7.0f);
  CHECK_FALSE(gemm::gemmBiasAct(gemm::Isa::Portable, 1, X.data(), 2, B, false, Y.data(), 3));
  CHECK(Y == std::vector<float>(3, 7.0f));
}

TEST_CASE("packing puts B(k, n) at panel n/16, row k, lane n%16, zero-padded", "[neural][gemm]") {
  const int64_t K = 3, N = 19, ldw = 4; // ldw > K: the padding row of W must not be read
  std::vector<float> w(ldw * N, -99.0f), bias(N);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t k = 0; k < K; ++k)
      w[k + n * ldw] = float(100 * n + k);
    bias[n] = float(n) + 0.5f;
  }
  gemm::PackedB B = gemm::pack(w.data(), K, N, ldw, bias.data());
  REQUIRE(B.numPanels() == 2);
  REQUIRE(B.panels.size() == size_t(2 * K * 16));
  CHECK(reinterpret_cast<uintptr_t>(B.panels.data()) % 64 == 0);
  for (int64_t n = 0; n < 32; ++n) {
    for (int64_t k = 0; k < K; ++k)
      CHECK(B.panels.data()[(n / 16) * K * 16 + k * 16 + n % 16] ==
            (n < N ? float(100 * n + k) : 0.0f));
    CHECK(B.bias.data()[n] == (n < N ? float(n) + 0.5f : 0.0f));
  }
  gemm::PackedB C = B; // deep copy
  CHECK(C.panels.data() != B.panels.data());
  CHECK(C.panels.data()[16] == B.panels.data()[16]);
}

TEST_CASE("the GEMM kernels equal a float64 reference on awkward shapes", "[neural][gemm]") {
  const auto isas = kernelIsas();
  if (isas.empty()) WARN("this CPU has neither AVX2 nor AVX-512: only Portable is tested");
  Lcg rng(7);
  int checked = 0;
  for (int64_t K : {0, 1, 3, 16, 37, 300})
    for (int64_t N : {1, 5, 10, 16, 17, 33, 64, 65, 130})
      for (int64_t m : {1, 2, 5, 6, 7, 13})
        for (bool relu : {false, true})
          for (bool withBias : {false, true}) {
            const int64_t ldx = K + 3, ldy = N + 5, ldw = K + 1;
            std::vector<float> X(m * ldx), W(ldw * N), b(N);
            for (auto& v : X)
              v = rng.next();
            for (auto& v : W)
              v = rng.next();
            for (auto& v : b)
              v = rng.next();
            gemm::PackedB B = gemm::pack(W.data(), K, N, ldw, withBias ? b.data() : nullptr);
            std::vector<std::vector<float>> results;
            for (gemm::Isa isa : isas) {
              const float sentinel = 12345.0f;
              std::vector<float> Y(m * ldy, sentinel);
              REQUIRE(gemm::gemmBiasAct(isa, m, X.data(), ldx, B, relu, Y.data(), ldy));
              for (int64_t i = 0; i < m; ++i) {
                for (int64_t j = 0; j < N; ++j) {
                  double ref = withBias ? b[j] : 0.0, mag = std::abs(ref);
                  for (int64_t k = 0; k < K; ++k) {
                    ref += double(X[i * ldx + k]) * double(W[k + j * ldw]);
                    mag += std::abs(double(X[i * ldx + k]) * double(W[k + j * ldw]));
                  }
                  if (relu) ref = std::max(ref, 0.0);
                  // float32 rounding of a K-term sum: at most about K ulps of its magnitude.
                  const double tol = (K + 2) * 6e-8 * mag + 1e-30;
                  const float y = Y[i * ldy + j];
                  if (std::abs(double(y) - ref) > tol)
                    FAIL("isa " << gemm::isaName(isa) << " m=" << m << " K=" << K << " N=" << N
                                << " (" << i << "," << j << "): " << y << " vs " << ref);
                  if (relu) CHECK(y >= 0.0f);
                }
                // Columns past N in Y's row are not written.
                for (int64_t j = N; j < ldy; ++j)
                  if (Y[i * ldy + j] != sentinel) FAIL("wrote past column N");
              }
              results.push_back(Y);
              ++checked;
            }
            // AVX2 and AVX-512 sum in the same order with the same FMAs: bit-identical.
            for (size_t r = 1; r < results.size(); ++r)
              if (results[r] != results[0])
                FAIL("AVX2 and AVX-512 differ at K=" << K << " N=" << N);
          }
  CHECK(checked == int(isas.size()) * 6 * 9 * 6 * 4);
}

TEST_CASE("the fused ReLU keeps NaN and zeroes negatives", "[neural][gemm]") {
  for (gemm::Isa isa : kernelIsas()) {
    // Two rows, K = N = 1, B = [1]: the outputs are the inputs.
    std::vector<float> W{1};
    gemm::PackedB B = gemm::pack(W.data(), 1, 1, 1, nullptr);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> X{-3.0f, nan}, Y(2);
    REQUIRE(gemm::gemmBiasAct(isa, 2, X.data(), 1, B, true, Y.data(), 1));
    CHECK(Y[0] == 0.0f);
    CHECK(std::isnan(Y[1]));
  }
}

namespace {

Network randomMlp(const std::vector<int>& widths, uint64_t seed) {
  Lcg rng(seed);
  std::vector<Eigen::MatrixXd> Ws;
  std::vector<Eigen::VectorXd> bs;
  for (size_t l = 0; l + 1 < widths.size(); ++l) {
    Eigen::MatrixXd W(widths[l + 1], widths[l]);
    for (Eigen::Index i = 0; i < W.size(); ++i)
      W.data()[i] = rng.next() * std::sqrt(3.0 / widths[l]);
    Eigen::VectorXd b(widths[l + 1]);
    for (Eigen::Index i = 0; i < b.size(); ++i)
      b[i] = 0.1 * rng.next();
    Ws.push_back(W);
    bs.push_back(b);
  }
  return makeMlp(Ws, bs);
}

RowMatrix<float> randomInput(Eigen::Index n, Eigen::Index d, uint64_t seed) {
  Lcg rng(seed);
  RowMatrix<float> X(n, d);
  for (Eigen::Index i = 0; i < X.size(); ++i)
    X.data()[i] = rng.next();
  return X;
}

// Max |a - b| relative to max(1, max |b|).
double relErr(const RowMatrix<float>& a, const Eigen::MatrixXd& b) {
  return (a.cast<double>() - b).cwiseAbs().maxCoeff() / std::max(1.0, b.cwiseAbs().maxCoeff());
}

} // namespace

TEST_CASE("float32 forward on every ISA agrees with float64 and with Eigen's float32",
          "[neural][gemm][forward]") {
  Network net = randomMlp({784, 256, 256, 10}, 3);
  for (Eigen::Index n : {1, 5, 64, 1024}) {
    RowMatrix<float> X = randomInput(n, 784, 11 + n);
    Eigen::MatrixXd ref = net.forward(Eigen::MatrixXd(X.cast<double>()));
    Workspace<float> portable;
    portable.isa = gemm::Isa::Portable;
    const RowMatrix<float> Yp = net.forward(X, portable);
    CHECK(relErr(Yp, ref) < 1e-5);
    for (gemm::Isa isa : kernelIsas()) {
      Workspace<float> ws;
      ws.isa = isa;
      const RowMatrix<float> Y = net.forward(X, ws);
      REQUIRE(Y.rows() == n);
      REQUIRE(Y.cols() == 10);
      CHECK(relErr(Y, ref) < 1e-5);
      CHECK((Y - Yp).cwiseAbs().maxCoeff() < 1e-4);
      // The same workspace at another batch size, then back: same values (no stale state).
      net.forward(randomInput(3, 784, 99), ws);
      CHECK(net.forward(X, ws) == Y);
    }
  }
}

TEST_CASE("a result fed back through the same workspace is read before it is overwritten",
          "[neural][gemm][forward]") {
  Network net = randomMlp({20, 20, 20}, 9);
  RowMatrix<float> X = randomInput(7, 20, 4);
  for (gemm::Isa isa : {gemm::Isa::Portable, gemm::Isa::Avx2, gemm::Isa::Avx512}) {
    Workspace<float> fresh1, fresh2, ws;
    fresh1.isa = fresh2.isa = ws.isa = isa;
    const RowMatrix<float> once = net.forward(X, fresh1);
    const RowMatrix<float> twice = net.forward(once, fresh2);
    const RowMatrix<float>& y = net.forward(X, ws);
    CHECK(net.forward(y, ws) == twice);
    // A strided view of the input (every other row of a bigger matrix) is read in place.
    RowMatrix<float> big(14, 20);
    for (int i = 0; i < 7; ++i)
      big.row(2 * i) = X.row(i);
    Eigen::Map<const RowMatrix<float>, 0, Eigen::OuterStride<>> view(big.data(), 7, 20,
                                                                     Eigen::OuterStride<>(40));
    CHECK(net.forward(view, ws) == once);
  }
}

TEST_CASE("ReLU is fused only where the Linear output has no other reader",
          "[neural][gemm][forward]") {
  // x -> Linear(%1) -> Relu(%2); output = %1 + %2 (Add of two activations): %1 is read twice,
  // so it must be materialised, and the Relu computed from it.
  Network net;
  net.inputShape = {3};
  Layer L;
  L.kind = LayerKind::Linear;
  L.opType = "Gemm";
  L.name = "lin";
  L.input = 0;
  L.output = 1;
  L.W = Eigen::MatrixXd(3, 20);
  for (Eigen::Index i = 0; i < L.W.size(); ++i)
    L.W.data()[i] = std::sin(0.7 * double(i));
  L.bias = Eigen::RowVectorXd::LinSpaced(20, -1, 1);
  L.outShape = {20};
  Layer R;
  R.kind = LayerKind::Relu;
  R.opType = "Relu";
  R.name = "relu";
  R.input = 1;
  R.output = 2;
  R.outShape = {20};
  Layer A;
  A.kind = LayerKind::Elementwise;
  A.opType = "Add";
  A.name = "add";
  A.op = ElemOp::Add;
  A.input = 1;
  A.input2 = 2;
  A.output = 3;
  A.outShape = {20};
  net.layers = {L, R, A};
  net.outputValue = 3;
  net.finalize();
  RowMatrix<float> X(4, 3);
  X << 1, -2, 0.5, -1, 0, 2, 0.25, 0.25, -3, 2, 1, 1;
  Eigen::MatrixXd Xd = X.cast<double>();
  Eigen::MatrixXd Z = (Xd * L.W).rowwise() + L.bias;
  Eigen::MatrixXd want = Z + Eigen::MatrixXd(Z.cwiseMax(0.0));
  REQUIRE((Z.array() < 0).any());
  REQUIRE((Z.array() > 0).any());
  for (gemm::Isa isa : {gemm::Isa::Portable, gemm::Isa::Avx2, gemm::Isa::Avx512}) {
    Workspace<float> ws;
    ws.isa = isa;
    CHECK(relErr(net.forward(X, ws), want) < 1e-6);
  }
  // The network's output is the Linear itself with a Relu after it: no fusion either.
  net.layers = {L, R};
  net.outputValue = 1;
  net.finalize();
  Workspace<float> ws;
  CHECK(relErr(net.forward(X, ws), Z) < 1e-6);
}

TEST_CASE("a constant Add/Sub after a Linear layer folds into the kernel's bias",
          "[neural][gemm][forward]") {
  // x -> MatMul(%1) -> Sub c (%2) -> Relu(%3) -> MatMul(%4) -> Add d (%5) -> Add e (%6).
  // Folded: Sub and Relu into the first kernel, Add d into the second; Add e stays (one
  // constant per Linear), and it is the output.
  auto layer = [](LayerKind kind, int in, int out, int64_t width) {
    Layer L;
    L.kind = kind;
    L.opType = kind == LayerKind::Linear ? "MatMul" : kind == LayerKind::Relu ? "Relu" : "Add";
    L.name = "n" + std::to_string(out);
    L.input = in;
    L.output = out;
    L.outShape = {width};
    return L;
  };
  Lcg rng(17);
  auto fill = [&](Eigen::Index r, Eigen::Index c) {
    Eigen::MatrixXd M(r, c);
    for (Eigen::Index i = 0; i < M.size(); ++i)
      M.data()[i] = rng.next();
    return M;
  };
  Network net;
  net.inputShape = {9};
  Layer m1 = layer(LayerKind::Linear, 0, 1, 21);
  m1.W = fill(9, 21);
  Layer s1 = layer(LayerKind::Elementwise, 1, 2, 21);
  s1.op = ElemOp::Sub;
  s1.constant = fill(1, 21);
  Layer r1 = layer(LayerKind::Relu, 2, 3, 21);
  Layer m2 = layer(LayerKind::Linear, 3, 4, 4);
  m2.W = fill(21, 4);
  m2.bias = fill(1, 4); // a bias of its own, plus the Add's constant
  Layer a2 = layer(LayerKind::Elementwise, 4, 5, 4);
  a2.constant = fill(1, 4);
  Layer a3 = layer(LayerKind::Elementwise, 5, 6, 4);
  a3.constant = fill(1, 4);
  net.layers = {m1, s1, r1, m2, a2, a3};
  net.outputValue = 6;
  net.finalize();
  RowMatrix<float> X = randomInput(11, 9, 2);
  Eigen::MatrixXd Xd = X.cast<double>();
  Eigen::MatrixXd H = ((Xd * m1.W).rowwise() - s1.constant).cwiseMax(0.0);
  Eigen::MatrixXd want =
      (((H * m2.W).rowwise() + m2.bias).rowwise() + a2.constant).rowwise() + a3.constant;
  REQUIRE(((Xd * m1.W).rowwise() - s1.constant).minCoeff() < 0);
  CHECK((net.forward(Xd) - want).cwiseAbs().maxCoeff() < 1e-12);
  for (gemm::Isa isa : {gemm::Isa::Portable, gemm::Isa::Avx2, gemm::Isa::Avx512}) {
    Workspace<float> ws;
    ws.isa = isa;
    CHECK(relErr(net.forward(X, ws), want) < 1e-5);
  }
  // The packed bias is the sum, rounded once: m2's bias + a2's constant.
  for (int j = 0; j < 4; ++j)
    CHECK(net.layers[3].packedF.bias.data()[j] == float(m2.bias[j] + a2.constant[j]));
  CHECK(net.layers[0].packedF.bias.data()[0] == float(-s1.constant[0]));
}

TEST_CASE("float64 forward is exactly Eigen's GEMM, bias add and max", "[neural][gemm][forward]") {
  // The verifier replays counterexamples in float64: this path must not depend on the CPU.
  Network net = randomMlp({37, 20, 9, 3}, 5);
  Eigen::MatrixXd X = randomInput(17, 37, 8).cast<double>();
  Eigen::MatrixXd H = X;
  for (const Layer& L : net.layers) {
    if (L.kind == LayerKind::Linear) {
      RowMatrix<double> Z(H.rows(), L.W.cols());
      Z.noalias() = RowMatrix<double>(H) * L.W;
      Z.rowwise() += L.bias;
      H = Z;
    } else {
      H = H.cwiseMax(0.0);
    }
  }
  CHECK((net.forward(X).array() == H.array()).all());
}

TEST_CASE("ACAS Xu float32 on the kernels agrees with float64", "[neural][gemm][forward]") {
  auto net = loadOnnx(std::string(CHASSIS_SOURCE_DIR) +
                      "/tests/data/acasxu/ACASXU_run2a_1_1_batch_2000.onnx");
  REQUIRE(net);
  RowMatrix<float> X = randomInput(1, 5, 21) * 0.5f;
  Eigen::MatrixXd ref = net->forward(Eigen::MatrixXd(X.cast<double>()));
  for (gemm::Isa isa : {gemm::Isa::Portable, gemm::Isa::Avx2, gemm::Isa::Avx512}) {
    Workspace<float> ws;
    ws.isa = isa;
    CHECK(relErr(net->forward(X, ws), ref) < 1e-5);
  }
}

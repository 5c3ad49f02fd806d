// Sparse layers (under 10% non-zero, as in TLL networks) take the sparse products of
// bounds.cpp's timesWeights and of the forward bounder: the products agree with the dense ones,
// and the bounds still contain the network's values at sampled points.
#include "neural/affine_net.h"
#include "spec/rng.h"
#include "verifier/bounds.h"
#include "verifier/nv_forward.h"

#include "random_net_test_util.h"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace chassis;
using namespace chassis::verifier;
using Eigen::MatrixXd;
using Eigen::VectorXd;

namespace {

/// A random net whose hidden-to-hidden weights are 97% zeros.
neural::AffineNet sparseNet(Rng& rng, int in, int width) {
  auto net = testing::randomReluNet(rng, in, 3, width, 2, 4.0, 0.3);
  for (size_t k = 1; k + 1 < net.layers.size(); ++k)
    for (Eigen::Index i = 0; i < net.layers[k].W.size(); ++i)
      if (rng.uniform() < 0.97) net.layers[k].W.data()[i] = 0.0;
  return net;
}

} // namespace

TEST_CASE("sparse weight products agree with dense ones", "[verifier][bounds][sparse]") {
  Rng rng(5);
  auto net = sparseNet(rng, 3, 120);
  const MatrixXd& W = net.layers[1].W;
  REQUIRE(10 * (W.array() != 0.0).count() < W.size());
  MatrixXd Lam = MatrixXd::Random(17, W.rows());
  MatrixXd dense = Lam * W, sparse = timesWeights(Lam, W);
  CHECK((dense - sparse).cwiseAbs().maxCoeff() <= 1e-12 * (1.0 + dense.cwiseAbs().maxCoeff()));
}

TEST_CASE("bounds on sparse networks contain sampled values", "[verifier][bounds][sparse]") {
  Rng rng(77);
  int violations = 0;
  for (int t = 0; t < 6; ++t) {
    auto net = sparseNet(rng, 2, 120);
    Box box{VectorXd(2), VectorXd(2)};
    for (int i = 0; i < 2; ++i) {
      box.lo[i] = 2 * rng.uniform() - 1;
      box.hi[i] = box.lo[i] + 0.5 * rng.uniform();
    }
    NetBounds sb = symbolicBounds(net, box);
    ForwardBounder fb(net);
    NetBounds fw;
    fb.bound(box, fw);
    refineBounds(net, box, fw);
    MatrixXd C(2, 2);
    C << 1, -1, -1, 0.5;
    LinearLower ll = outputLowerBound(net, box, sb, C);
    for (int s = 0; s < 500; ++s) {
      VectorXd x(2);
      for (int i = 0; i < 2; ++i)
        x[i] = std::clamp(box.lo[i] + rng.uniform() * (box.hi[i] - box.lo[i]), box.lo[i],
                          box.hi[i]);
      VectorXd y = x;
      for (size_t k = 0; k < net.layers.size(); ++k) {
        VectorXd h = net.layers[k].W * y + net.layers[k].b;
        for (Eigen::Index j = 0; j < h.size(); ++j)
          if (h[j] < sb.lo[k][j] || h[j] > sb.hi[k][j] || h[j] < fw.lo[k][j] || h[j] > fw.hi[k][j])
            ++violations;
        y = net.layers[k].relu ? VectorXd(h.cwiseMax(0.0)) : h;
      }
      VectorXd cy = C * y;
      for (Eigen::Index i = 0; i < 2; ++i)
        if (cy[i] < ll.lower[i]) ++violations;
    }
  }
  CHECK(violations == 0);
}

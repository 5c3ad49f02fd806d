// toAffineNet on chains of Linear layers with no ReLU between them: the folded map is the
// product of the layers' matrices whether the fold multiplies densely or (for mostly zero layers,
// the TLL shape) through a compressed copy. With small integer weights every sum is exact, so the
// fold must equal the product exactly; with real weights it must agree to rounding, and the
// folded net must compute what the layer-by-layer network computes.
#include "neural/network.h"

#include <catch2/catch.hpp>

#include <random>

using namespace chassis::neural;

namespace {

/// A rows x cols matrix with `perRow` non-zeros per row at random columns, values from `value`.
template <class F>
Eigen::MatrixXd sparseRows(Eigen::Index rows, Eigen::Index cols, int perRow, std::mt19937& gen,
                           F value) {
  Eigen::MatrixXd M = Eigen::MatrixXd::Zero(rows, cols);
  std::uniform_int_distribution<Eigen::Index> col(0, cols - 1);
  for (Eigen::Index i = 0; i < rows; ++i)
    for (int k = 0; k < perRow; ++k)
      M(i, col(gen)) = value(gen);
  return M;
}

/// input(3) -> 8 relu -> 60 -> 80 -> 50 -> 4 (the last four Linear without ReLU between them).
AffineNet chain(std::mt19937& gen, bool integer, int perRow) {
  std::uniform_int_distribution<int> ints(-2, 2);
  std::uniform_real_distribution<double> reals(-1.0, 1.0);
  auto value = [&](std::mt19937& g) { return integer ? double(ints(g)) : reals(g); };
  AffineNet an;
  an.inputSize = 3;
  Eigen::MatrixXd W0 = Eigen::MatrixXd::NullaryExpr(8, 3, [&] { return value(gen); });
  an.layers.push_back({W0, Eigen::VectorXd::NullaryExpr(8, [&] { return value(gen); }), true});
  const Eigen::Index sizes[] = {8, 60, 80, 50, 4};
  for (int k = 1; k < 5; ++k) {
    Eigen::MatrixXd W = sparseRows(sizes[k], sizes[k - 1], perRow, gen, value);
    Eigen::VectorXd b = Eigen::VectorXd::NullaryExpr(sizes[k], [&] { return value(gen); });
    an.layers.push_back({W, b, false});
  }
  return an;
}

} // namespace

TEST_CASE("folding chained sparse and dense Linear layers gives their product", "[neural][fold]") {
  std::mt19937 gen(7);
  for (int perRow : {1, 2, 40}) { // 1 and 2 per row: under 10% non-zero (sparse fold); 40: dense
    for (bool integer : {true, false}) {
      CAPTURE(perRow, integer);
      const AffineNet an = chain(gen, integer, perRow);
      auto folded = toAffineNet(fromAffineNet(an));
      REQUIRE(folded);
      REQUIRE(folded->layers.size() == 2);
      // The expected fold of layers 1..4: W4 W3 W2 W1 and the biases carried through.
      Eigen::MatrixXd A = an.layers[1].W;
      Eigen::VectorXd c = an.layers[1].b;
      for (int k = 2; k < 5; ++k) {
        A = an.layers[k].W * A;
        c = an.layers[k].W * c + an.layers[k].b;
      }
      const AffineLayer& F = folded->layers[1];
      REQUIRE(F.W.rows() == A.rows());
      REQUIRE(F.W.cols() == A.cols());
      CHECK_FALSE(F.relu);
      if (integer) {
        CHECK(F.W == A);
        CHECK(F.b == c);
      } else {
        CHECK((F.W - A).cwiseAbs().maxCoeff() <= 1e-12 * (1.0 + A.cwiseAbs().maxCoeff()));
        CHECK((F.b - c).cwiseAbs().maxCoeff() <= 1e-12 * (1.0 + c.cwiseAbs().maxCoeff()));
      }
      CHECK(folded->layers[0].W == an.layers[0].W);
      // The folded net computes the unfolded network's function.
      const Network net = fromAffineNet(an);
      for (int s = 0; s < 5; ++s) {
        Eigen::VectorXd x = Eigen::VectorXd::Random(3);
        Eigen::VectorXd h = (folded->layers[0].W * x + folded->layers[0].b).cwiseMax(0.0);
        Eigen::VectorXd y = F.W * h + F.b;
        Eigen::VectorXd ref = (an.layers[0].W * x + an.layers[0].b).cwiseMax(0.0);
        for (int k = 1; k < 5; ++k)
          ref = an.layers[k].W * ref + an.layers[k].b;
        CHECK((y - ref).cwiseAbs().maxCoeff() <= 1e-9 * (1.0 + ref.cwiseAbs().maxCoeff()));
      }
    }
  }
}

// alpha-CROWN slope optimisation (see alpha_crown.h for the maths): the optimiser is
// beta_crown.cpp's, without split multipliers.
#include "verifier/alpha_crown.h"
#include "verifier/beta_crown.h"

namespace chassis::verifier {

using Eigen::MatrixXd;

LinearLower alphaCrownBound(const neural::AffineNet& net, const Box& box, const NetBounds& nb,
                            const MatrixXd& C, const AlphaCrownOptions& opt, Slopes* alphaIO,
                            std::vector<MatrixXd>* lamOut, const WeightProducts* wp) {
  return betaCrownBound(net, box, nb, C, Splits{}, opt, alphaIO, nullptr, lamOut, wp);
}

} // namespace chassis::verifier

// The network verifier with LP leaves (lp_relaxation.h) and no Z3 leaves: on random small
// networks its verdicts agree with the exact Z3 encoding in both splitting modes, and the LP's
// certified bounds are what closes domains (without them, a domain that cannot be split further
// is left undecided).
#include "neural/affine_net.h"
#include "spec/rng.h"
#include "spec/vnnlib.h"
#include "verifier/bounds.h"
#include "verifier/network_verifier.h"
#include "verifier/problem.h"
#include "verifier/vnnlib_query.h"
#include "verifier/z3_encoder.h"

#include "random_net_test_util.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

using namespace chassis;
using namespace chassis::verifier;
using Eigen::VectorXd;

namespace {

/// One case over a random box with one or two constraints whose right-hand sides lie near the
/// sampled minimum (both verdicts occur).
spec::VnnProperty randomProperty(Rng& rng, const neural::AffineNet& net, double width) {
  spec::VnnProperty p;
  p.numInputs = net.inputSize;
  p.numOutputs = net.outputSize();
  spec::VnnCase vc;
  for (int i = 0; i < net.inputSize; ++i) {
    double a = 2 * rng.uniform() - 1;
    vc.lo.push_back(a);
    vc.hi.push_back(a + width * (0.2 + rng.uniform()));
  }
  const int nCons = 1 + static_cast<int>(rng.uniform() * 2);
  for (int k = 0; k < nCons; ++k) {
    spec::OutputConstraint oc;
    oc.coef.assign(p.numOutputs, 0.0);
    for (auto& v : oc.coef)
      v = rng.normal();
    VectorXd cv = Eigen::Map<VectorXd>(oc.coef.data(), p.numOutputs);
    double lo = INFINITY, hi = -INFINITY;
    for (int s = 0; s < 40; ++s) {
      VectorXd x(net.inputSize);
      for (int i = 0; i < net.inputSize; ++i)
        x[i] = vc.lo[i] + rng.uniform() * (vc.hi[i] - vc.lo[i]);
      double v = cv.dot(net.forward(x));
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    oc.rhs = lo - (hi - lo + 0.05) * (rng.uniform() * 0.15 - 0.03);
    vc.constraints.push_back(oc);
  }
  p.cases.push_back(vc);
  return p;
}

} // namespace

TEST_CASE("LP leaves decide random networks in agreement with the exact Z3 encoding",
          "[verifier][lp]") {
  Rng rng(4242);
  int referenced = 0, agree = 0, decided = 0, wrong = 0, sats = 0, unsats = 0;
  long lpClosed = 0;
  for (int t = 0; t < 24; ++t) {
    const bool inputMode = t % 2 == 0;
    const int in = 2 + t % 3;
    auto net = testing::randomReluNet(rng, in, 2, 10, 2, 1.5, 0.3);
    spec::VnnProperty prop = randomProperty(rng, net, 1.0);
    CaseSpec cs = toCaseSpec(prop.cases[0], prop.numOutputs);
    Z3Encoder z3(net);
    LeafResult ref = z3.solveDomain(cs, cs.box, symbolicBounds(net, cs.box), 20);
    if (ref.status == Verdict::Unknown) continue; // Z3 timed out: no reference verdict
    ++referenced;
    NetVerifyOptions opt;
    opt.timeoutSec = 20;
    opt.attack = false;     // the search and its LP leaves decide, not the falsifier
    opt.leafMaxNeurons = 0; // no Z3 leaves at all
    opt.maxDepth = 12;
    opt.lpMaxUnstable = 8;
    opt.lpInputMinDepth = 2;
    opt.inputSplitMaxDim = inputMode ? 16 : 0;
    auto r = verifyNetwork(net, toNetworkQuery(prop), opt);
    REQUIRE(r);
    lpClosed += r->lpClosed;
    if (r->verdict == Verdict::Holds || r->verdict == Verdict::Violated) {
      ++decided;
      const bool sat = r->verdict == Verdict::Violated;
      if (sat == (ref.status == Verdict::Violated)) ++agree;
      else ++wrong;
      if (sat) {
        ++sats;
        CHECK(replays(net, cs, r->x));
      } else {
        ++unsats;
      }
    }
  }
  CHECK(wrong == 0);
  CHECK(agree == decided);
  CHECK(referenced >= 16);
  CHECK(4 * decided >= 3 * referenced);
  CHECK(sats > 0);
  CHECK(unsats > 0);
  CHECK(lpClosed > 0);
}

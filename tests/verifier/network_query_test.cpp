// The network engine's query (verifier/problem.h, NetworkQuery) from its two sources:
//  - ACAS Xu property 3 as VNN-LIB (tests/data/vnnlib/prop_3.vnnlib, through vnnlib_query.h)
//    and written in .chs (tests/data/verify/enc_acas_prop3.chs, through net_props.h's
//    translation of the IR, once as a disjunction and once as a negated conjunction) give the
//    same query: the same box and the same rows of C y <= d, bit for bit; and the network
//    net_chain.h reads back from the IR computes what the ONNX file's folded network computes;
//  - the engine's size checks report a located error at the query's origin.
#include "neural/affine_net.h"
#include "neural/lower_network.h"
#include "neural/onnx.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "spec/vnnlib.h"
#include "verifier/net_props.h"
#include "verifier/network_verifier.h"
#include "verifier/vnnlib_query.h"

#include "chs_file_test_util.h"

#include <catch2/catch.hpp>

#include <string>

using namespace chassis;
using namespace chassis::verifier;

namespace {

void requireSameQuery(const NetworkQuery& a, const NetworkQuery& b) {
  REQUIRE(a.numInputs == b.numInputs);
  REQUIRE(a.numOutputs == b.numOutputs);
  REQUIRE(a.cases.size() == b.cases.size());
  for (size_t i = 0; i < a.cases.size(); ++i) {
    INFO("case " << i);
    const CaseSpec& x = a.cases[i];
    const CaseSpec& y = b.cases[i];
    CHECK(x.box.lo == y.box.lo);
    CHECK(x.box.hi == y.box.hi);
    REQUIRE(x.C.rows() == y.C.rows());
    REQUIRE(x.C.cols() == y.C.cols());
    CHECK(x.C == y.C);
    CHECK(x.d == y.d);
  }
}

} // namespace

TEST_CASE("a VNN-LIB property and the same property in .chs give the same network query",
          "[verifier][network_query]") {
  const std::string data = std::string(CHASSIS_SOURCE_DIR) + "/tests/data/";
  auto vp = spec::readVnnlib(data + "vnnlib/prop_3.vnnlib");
  REQUIRE(vp);
  SourceLoc file;
  file.file = "prop_3.vnnlib";
  const NetworkQuery fromVnnlib = toNetworkQuery(*vp, file);
  REQUIRE(fromVnnlib.cases.size() == 1);
  CHECK(fromVnnlib.origin.file == "prop_3.vnnlib");

  auto prog = testing::lowerChsFile(data + "verify/enc_acas_prop3.chs");
  REQUIRE(prog);
  auto onnx = neural::loadOnnx(data + "acasxu/ACASXU_run2a_1_2_batch_2000.onnx");
  REQUIRE(onnx);
  auto folded = neural::toAffineNet(*onnx);
  REQUIRE(folded);
  for (const char* name : {"prop3_1_2", "prop3_1_7"}) {
    INFO(name);
    const ir::Property& p = testing::propertyNamed(*prog, name);
    auto fromChs = networkQueryOf(p);
    REQUIRE(fromChs);
    requireSameQuery(fromChs->query, fromVnnlib);
    CHECK(fromChs->query.origin.line == p.loc.line);
    CHECK(fromChs->varOf == std::vector<int>{0, 1, 2, 3, 4});
    // The negated body's atoms y0 - yk <= 0 are not strict: nothing was relaxed.
    CHECK_FALSE(fromChs->relaxedStrict);
    if (std::string(name) == "prop3_1_2") {
      // The IR's network is the ONNX file's: the same function on the box.
      const CaseSpec& cs = fromChs->query.cases[0];
      for (double t : {0.0, 0.25, 0.5, 1.0}) {
        Eigen::VectorXd x = cs.box.lo + t * (cs.box.hi - cs.box.lo);
        Eigen::VectorXd y1 = fromChs->net.forward(x), y2 = folded->forward(x);
        CHECK((y1 - y2).cwiseAbs().maxCoeff() <= 1e-12 * (1.0 + y2.cwiseAbs().maxCoeff()));
      }
    }
  }
}

TEST_CASE("the network engine reports a size mismatch at the query's origin",
          "[verifier][network_query]") {
  neural::AffineNet net;
  net.inputSize = 2;
  neural::AffineLayer l;
  l.W = Eigen::MatrixXd::Identity(2, 2);
  l.b = Eigen::VectorXd::Zero(2);
  l.relu = false;
  net.layers.push_back(l);
  NetworkQuery q;
  q.numInputs = 3;
  q.numOutputs = 2;
  q.origin.file = "p.vnnlib";
  q.origin.line = 4;
  q.origin.col = 1;
  auto r = verifyNetwork(net, q, NetVerifyOptions{});
  REQUIRE_FALSE(r);
  CHECK(r.error().str() == "p.vnnlib:4:1: error: the property has 3 inputs but the network has 2");

  q.numInputs = 2; // right sizes, but a case whose box has one input
  CaseSpec c;
  c.box.lo = Eigen::VectorXd::Zero(1);
  c.box.hi = Eigen::VectorXd::Ones(1);
  c.C = Eigen::MatrixXd::Zero(1, 2);
  c.d = Eigen::VectorXd::Zero(1);
  q.cases.push_back(c);
  auto r2 = verifyNetwork(net, q, NetVerifyOptions{});
  REQUIRE_FALSE(r2);
  CHECK(r2.error().loc.line == 4);
  CHECK(r2.error().message.find("case 0") != std::string::npos);
}

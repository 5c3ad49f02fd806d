// Ground truth by construction: every compiled example network (a piecewise-linear module compiled
// into an exact ReLU network, neural/compile_module.h) has a known circuit, and every discovery
// method must recover it: edge ROC-AUC 1.0 on the task's data, under zero and under mean
// ablation. Compiled networks are dense (every nonzero edge computes something), so each is first
// widened with distractor units: random incoming weights, no outgoing ones (the units are computed
// and go nowhere, as a trained network's dead ends do). The edges into them have large weights and
// are not in the circuit; a method must rank every ground-truth edge above them.
#include "tasks/compare.h"

#include "neural/circuit.h"
#include "neural/circuit_discovery.h"
#include "spec/diagnostics.h"

#include "spec/rng.h"

#include <catch2/catch.hpp>
#include <cmath>

using namespace chassis;

namespace {

/// `net` with `k` distractor units appended to each hidden layer (random incoming weights and bias,
/// zero outgoing weights); `truth` widened to match (the new edges are not in the circuit).
void addDistractors(neural::AffineNet& net, std::vector<neural::EdgeMask>& truth, int k,
                    uint64_t seed) {
  Rng rng(seed);
  auto uniform = [&]() { return 4.0 * rng.uniform() - 2.0; };
  for (size_t l = 0; l + 1 < net.layers.size(); ++l) {
    neural::AffineLayer& L = net.layers[l];
    neural::AffineLayer& Next = net.layers[l + 1];
    const Eigen::Index rows = L.W.rows(), cols = L.W.cols();
    L.W.conservativeResize(rows + k, cols);
    L.b.conservativeResize(rows + k);
    for (Eigen::Index i = rows; i < rows + k; ++i) {
      for (Eigen::Index j = 0; j < cols; ++j)
        L.W(i, j) = uniform();
      L.b[i] = uniform();
    }
    Next.W.conservativeResize(Next.W.rows(), rows + k);
    Next.W.rightCols(k).setZero();
    truth[l].conservativeResize(rows + k, cols);
    truth[l].bottomRows(k).setConstant(false);
    truth[l + 1].conservativeResize(truth[l + 1].rows(), rows + k);
    truth[l + 1].rightCols(k).setConstant(false);
  }
}

/// Values this small are the compiler's rounding allowances, not computation.
constexpr double kNegligible = 1e-6;

struct CompiledTask {
  const char* file;
  const char* task;
};

} // namespace

TEST_CASE("every discovery method recovers the ground-truth circuit of compiled networks",
          "[tasks][ground-truth]") {
  const CompiledTask cases[] = {
      {"examples/compare/comparator.chs", "comparator_compiled"},
      {"examples/compare/parity.chs", "parity_compiled"},
      {"examples/compare/modular_addition.chs", "modular_addition_compiled"},
      {"tests/data/compare/small_comparator.chs", "exact"},
  };
  for (const CompiledTask& c : cases) {
    INFO(c.file << " task " << c.task);
    spec::DiagnosticEngine diags;
    auto t = tasks::loadTask(std::string(CHASSIS_SOURCE_DIR) + "/" + c.file, c.task, diags);
    INFO((t ? "" : t.error().str()) << diags.str());
    REQUIRE(t);
    std::vector<neural::EdgeMask> truth;
    auto net = tasks::taskNetwork(*t, nullptr, &truth);
    INFO((net ? "" : net.error().str()));
    REQUIRE(net);
    REQUIRE(truth.size() == net->layers.size());
    addDistractors(*net, truth, 3, 7);
    long kept = 0, total = 0;
    for (size_t l = 0; l < truth.size(); ++l) {
      REQUIRE(truth[l].rows() == net->layers[l].W.rows());
      REQUIRE(truth[l].cols() == net->layers[l].W.cols());
      kept += truth[l].count();
      total += truth[l].size();
    }
    CHECK(kept > 0);
    auto data = tasks::drawTaskData(*t, 400, 5);
    auto patch = tasks::drawTaskData(*t, 400, 6);
    REQUIRE(data);
    REQUIRE(patch);
    const neural::BehaviourData bd = tasks::behaviourData(*data, *patch, t->classification);
    // The ground truth on the task's domain: the construction's edges that carry computation
    // there. An edge from a unit that is never active carries nothing; under mean ablation
    // neither does one from a unit whose value is the same on every input (cutting it only moves
    // a bias); nor does an edge into a unit that feeds nothing that matters (modular addition's
    // carries of a and b end in a step that is never active on the 49 inputs). "Never active"
    // allows kNegligible, the compiler's float64 allowances. (On finite domains the compiler has
    // already pruned what computes nothing there, neural/compile_module.h, so these rules only
    // matter for the real-valued tasks.)
    const std::vector<Eigen::MatrixXd> acts = neural::layerActivations(*net, bd.X);
    auto truthUnder = [&](neural::Ablation a) {
      std::vector<neural::EdgeMask> t2 = truth;
      // A unit of a layer's input carries something when its value is not negligible on the data
      // (and, under mean ablation, varies); an edge is in the circuit when its weight is not
      // negligible, its source carries something, and its target is live: an output, or a
      // carrying unit with a circuit edge out of it (decided from the output layer down).
      auto carries = [&](size_t l, Eigen::Index j) {
        const Eigen::VectorXd col = acts[l].col(j);
        const bool dead = col.cwiseAbs().maxCoeff() <= kNegligible;
        const bool constant = col.maxCoeff() - col.minCoeff() <= kNegligible;
        return !(dead || (a == neural::Ablation::Mean && constant));
      };
      std::vector<bool> live(size_t(t2.back().rows()), true); // the outputs
      for (size_t l = t2.size(); l-- > 0;) {
        std::vector<bool> liveIn(size_t(t2[l].cols()), false);
        for (Eigen::Index i = 0; i < t2[l].rows(); ++i)
          for (Eigen::Index j = 0; j < t2[l].cols(); ++j) {
            bool keep = t2[l](i, j) && live[size_t(i)] &&
                        std::fabs(net->layers[l].W(i, j)) > kNegligible &&
                        (l == 0 || carries(l, j));
            t2[l](i, j) = keep;
            if (keep) liveIn[size_t(j)] = true;
          }
        live = std::move(liveIn);
      }
      return t2;
    };
    for (neural::Ablation a : {neural::Ablation::Zero, neural::Ablation::Mean})
      for (neural::DiscoveryMethod m : {neural::DiscoveryMethod::Acdc, neural::DiscoveryMethod::Eap,
                                        neural::DiscoveryMethod::Magnitude}) {
        INFO(neural::methodName(m) << ", " << neural::ablationName(a) << " ablation; " << kept
                                   << " of " << total << " edges in the ground truth");
        const neural::EdgeScores s = neural::scoreEdges(*net, m, a, bd);
        CHECK(neural::edgeRocAuc(s, truthUnder(a)) == 1.0);
      }
  }
}

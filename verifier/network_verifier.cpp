// The verification pipeline and its branch-and-bound work queue (see network_verifier.h).
// Soundness rests on three facts: bounds.cpp's bounds are sound for real arithmetic on the
// domain (outward rounded); the children of a split cover their parent (input halves share the
// midpoint; ReLU phases h >= 0 and h <= 0 cover every h); Z3 leaf queries are exact. A domain
// is discarded only when proved empty of violations; `sat` only after `replays`.
#include "verifier/network_verifier.h"
#include "verifier/cancellation.h"

#include "verifier/alpha_crown.h"
#include "verifier/lp_intermediate.h"
#include "verifier/beta_crown.h"
#include "verifier/bounds.h"
#include "verifier/exact_leaf.h"
#include "verifier/lp_relaxation.h"
#include "verifier/nv_forward.h"
#include "verifier/z3_encoder.h"
#include "verifier/z3_limits.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>

namespace chassis::verifier {

using Clock = std::chrono::steady_clock;
using Eigen::VectorXd;

namespace {

/// A sub-domain of one group's box; live[k] says whether case k of the group is still open.
struct Domain {
  int group = 0;
  Box box;
  Splits splits; // empty in input-splitting mode
  int depth = 0;
  std::vector<char> live;
  std::shared_ptr<const Slopes> alpha;           // ReLU splitting: the parent's optimised slopes
  std::shared_ptr<const NetBounds> parentBounds; // ... and its pre-activation bounds
  std::shared_ptr<const Slopes> beta;            // ... and its split multipliers (beta_crown.h)
  int unrefinedFrom = 1 << 30; // ... the lowest layer split since its bounds were last refined
  bool rootAllLayers = false;  // ReLU splitting: the root again, undecided by its first bounds
                               // (parentBounds: those), with alpha-CROWN on every ReLU layer
  uint64_t id = 0, parent = 0; // for SearchHooks' tree records
};

/// What the last process() call on this thread ended with, for SearchHooks::record.
thread_local char processOutcome = 'c';

/// The problem's shape for the choice of splitting: the most input dimensions of positive
/// width in any case's box (an input fixed by its box needs no split, so a 784-input property
/// that perturbs 10 pixels splits its input like a 10-input one).
int freeDimensions(const std::vector<CaseSpec>& cases) {
  int most = 0;
  for (const CaseSpec& cs : cases) {
    int n = 0;
    for (Eigen::Index i = 0; i < cs.box.lo.size(); ++i)
      if (cs.box.hi[i] > cs.box.lo[i]) ++n;
    most = std::max(most, n);
  }
  return most;
}

/// Shared state of one BaB run.
class Search : public SearchControl {
public:
  /// groups: indices of cases sharing one input box (their domains are bounded once).
  Search(const neural::AffineNet& net, const std::vector<CaseSpec>& cases,
         std::vector<std::vector<int>> groups, const NetVerifyOptions& opt,
         Clock::time_point deadline)
      : net_(net), weights_(net), cases_(cases), groups_(std::move(groups)), opt_(opt), deadline_(deadline),
        inputMode_(freeDimensions(cases) <= opt.inputSplitMaxDim), hooks_(opt.hooks) {
    if (hooks_) nextId_ = hooks_->idBase() + 1;
    for (const auto& L : net.layers)
      if (L.relu) reluCount_ += static_cast<int>(L.W.rows());
  }

  void run(std::vector<Domain> roots) {
    stack_ = std::move(roots);
    std::vector<std::thread> ts;
    int n = std::max(1, opt_.threads);
    // The threads' forward bounders share one prepared copy of the weights.
    std::shared_ptr<const ForwardWeights> forwardWeights;
    if (inputMode_ && opt_.forwardBounds)
      forwardWeights = std::make_shared<const ForwardWeights>(net_);
    for (int i = 0; i < n; ++i) {
      encoders_.push_back(std::make_unique<Z3Encoder>(net_));
      // The forward bounder holds a (d + 1)-column matrix per neuron and layer: built only where
      // it is used (input splitting), not for a conv net's thousands of inputs.
      if (inputMode_ && opt_.forwardBounds)
        forward_.push_back(std::make_unique<ForwardBounder>(
            forwardWeights, opt_.areaSlope ? LowerSlope::Area : LowerSlope::Parallel));
      else
        forward_.push_back(nullptr);
    }
    for (int i = 0; i < n; ++i)
      ts.emplace_back([this, i] { worker(*encoders_[i], forward_[i].get()); });
    // The watchdog: at the deadline, or when the run is asked to stop (SIGINT, the overall time
    // or memory limit: spec/run_control.h, polled every 20 ms), stop the search and interrupt
    // any running Z3 query.
    // With hooks, they are polled here (this thread only) every 2 ms.
    while (true) {
      {
        std::unique_lock<std::mutex> lk(mu_);
        if (finished_ >= n) break;
        auto wake =
            std::min(deadline_, Clock::now() + std::chrono::milliseconds(hooks_ ? 2 : 20));
        cv_.wait_until(lk, wake);
        bool stopRun = run::stopRequested();
        if ((Clock::now() >= deadline_ || stopRun) && finished_ < n) {
          stop_ = true;
          cancel_ = true;
          timedOut = !stopRun;
          incomplete = true;
          if (stopRun) reason = stopWord();
          else if (reason.empty()) reason = "timeout";
          for (auto& e : encoders_)
            e->interrupt();
          cv_.notify_all();
          break;
        }
      }
      if (hooks_) hooks_->poll(*this);
    }
    for (auto& t : ts)
      t.join();
  }

  /// A counterexample found outside the search (the attack running beside it): stops the
  /// search as if a worker had found it. Safe to call from another thread at any time.
  void satFromOutside(const VectorXd& cx, int ci, const char* how) {
    finishSat(cx, ci, how);
    cv_.notify_all();
  }

  // Outcome.
  bool sat = false, timedOut = false, incomplete = false;
  VectorXd x;
  int caseIndex = -1;
  std::string reason;
  std::atomic<long> domains{0}, leaves{0}, lpSolves{0}, lpClosed{0};
  std::string rootLpReport; // tightenRootByLp's summaries (read once the search is over)

  /// Numbers the roots (ids for the tree records).
  void numberRoots(std::vector<Domain>& roots) {
    for (Domain& r : roots)
      r.id = nextId_++;
  }

  // SearchControl (search_hooks.h).
  std::vector<PortableDomain> donate(size_t n) override {
    std::lock_guard<std::mutex> lk(mu_);
    n = std::min(n, stack_.size());
    std::vector<PortableDomain> out;
    for (size_t i = 0; i < n; ++i) {
      const Domain& d = stack_[i];
      out.push_back(
          PortableDomain{d.id, d.parent, d.group, d.depth, d.box.lo, d.box.hi, d.splits, d.live});
    }
    stack_.erase(stack_.begin(), stack_.begin() + static_cast<std::ptrdiff_t>(n));
    return out;
  }
  void inject(std::vector<PortableDomain> domains) override {
    {
      std::lock_guard<std::mutex> lk(mu_);
      for (PortableDomain& p : domains) {
        Domain d;
        d.id = p.id;
        d.parent = p.parent;
        d.group = p.group;
        d.depth = p.depth;
        d.box.lo = std::move(p.lo);
        d.box.hi = std::move(p.hi);
        d.splits = std::move(p.splits);
        d.live = std::move(p.live);
        stack_.push_back(std::move(d));
      }
    }
    cv_.notify_all();
  }
  bool idle() const override {
    std::lock_guard<std::mutex> lk(mu_);
    return stack_.empty() && active_ == 0;
  }
  size_t pending() const override {
    std::lock_guard<std::mutex> lk(mu_);
    return stack_.size();
  }
  void finish() override {
    {
      std::lock_guard<std::mutex> lk(mu_);
      ended_ = true;
    }
    cv_.notify_all();
  }
  void stop(const std::string& why) override {
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (!sat) {
        incomplete = true;
        if (reason.empty()) reason = why;
      }
      stop_ = true;
      cancel_ = true;
    }
    for (auto& e : encoders_)
      e->interrupt();
    cv_.notify_all();
  }
  void satFound(const Eigen::VectorXd& cx, int ci, const std::string& how) override {
    finishSat(cx, ci, how.c_str());
    cv_.notify_all();
  }
  bool hasSat() const override {
    std::lock_guard<std::mutex> lk(mu_);
    return sat;
  }
  bool isIncomplete() const override {
    std::lock_guard<std::mutex> lk(mu_);
    return incomplete;
  }

private:
  void worker(Z3Encoder& z3, ForwardBounder* fb) {
    CancelScope scope(deadline_, &cancel_);
    while (true) {
      // ReLU splitting takes up to opt_.batchDomains domains at once (processBatch), at most
      // an equal share of the pending ones so that every thread has work.
      std::vector<Domain> ds;
      {
        std::unique_lock<std::mutex> lk(mu_);
        while (!stop_ && stack_.empty() && (active_ > 0 || (hooks_ && !ended_)))
          cv_.wait_for(lk, std::chrono::milliseconds(50));
        if (stop_ || stack_.empty()) {
          ++finished_;
          cv_.notify_all();
          return;
        }
        size_t take = 1;
        if (batchedOutputBounds() && opt_.batchDomains > 1) {
          const size_t threads = static_cast<size_t>(std::max(1, opt_.threads));
          take = std::min(static_cast<size_t>(opt_.batchDomains),
                          std::max<size_t>(1, (stack_.size() + threads - 1) / threads));
        }
        for (size_t i = 0; i < take && !stack_.empty(); ++i) {
          ds.push_back(std::move(stack_.back()));
          stack_.pop_back();
        }
        ++active_;
      }
      std::vector<std::vector<Domain>> children(ds.size());
      const bool recording = hooks_ && hooks_->recording();
      const auto started = recording ? Clock::now() : Clock::time_point();
      std::vector<char> outcome(ds.size(), 'c');
      processOutcome = 'c';
      try {
        if (ds.size() == 1) {
          process(ds[0], z3, fb, children[0]);
          outcome[0] = processOutcome;
        } else {
          processBatch(ds, z3, fb, children, outcome);
        }
      } catch (const Cancelled&) { // the deadline, a stop or a decision cut a bound short
        for (auto& c : children) c.clear();
        std::fill(outcome.begin(), outcome.end(), 'c');
        if (run::stopRequested()) finishIncomplete(false, stopWord());
        else finishIncomplete(Clock::now() >= deadline_, "timeout");
      }
      for (size_t i = 0; i < ds.size(); ++i)
        for (Domain& c : children[i]) {
          c.id = nextId_++;
          c.parent = ds[i].id;
        }
      if (recording) {
        // A batch's time is shared equally by its domains.
        const double each = std::chrono::duration<double>(Clock::now() - started).count() /
                            static_cast<double>(ds.size());
        for (size_t i = 0; i < ds.size(); ++i)
          hooks_->record(DomainRecord{ds[i].id, ds[i].parent, 0, each,
                                      children[i].empty() ? outcome[i] : 's'});
      }
      {
        std::lock_guard<std::mutex> lk(mu_);
        --active_;
        // In the reverse of the order they were popped: the first popped (the stack's top) has
        // its children on top, as one domain at a time would.
        for (size_t i = ds.size(); i-- > 0;)
          for (auto& c : children[i])
            stack_.push_back(std::move(c));
        if (stack_.size() > opt_.maxQueue && !stop_) {
          stop_ = true;
          incomplete = true;
          reason = "work queue exceeded its cap of " + std::to_string(opt_.maxQueue) + " domains";
        }
      }
      cv_.notify_all();
    }
  }

  void finishSat(const VectorXd& cx, int ci, const char* how) {
    processOutcome = 'x';
    std::lock_guard<std::mutex> lk(mu_);
    if (sat) return;
    sat = true;
    stop_ = true;
    cancel_ = true;
    x = cx;
    caseIndex = ci;
    reason = how;
  }
  void finishIncomplete(bool timeout, const std::string& why) {
    processOutcome = 'i';
    std::lock_guard<std::mutex> lk(mu_);
    incomplete = true;
    if (timeout) {
      timedOut = true;
      stop_ = true;
    }
    if (reason.empty()) reason = why;
  }

  /// A conjunction of constraints C y <= d is infeasible if some convex combination
  /// lambda^T C y > lambda^T d everywhere. lambda is found by projected subgradient ascent on
  /// g(lambda) = min_box sum_j lambda_j (A_j x + c_j - d_j) (the rows' linear lower bounds),
  /// then the combined row is bounded afresh; the comparison allows for the rounding of
  /// lambda^T C (times the largest |y|) and of lambda^T d.
  bool combinedSafe(const Box& box, const NetBounds& nb, const LinearLower& ll,
                    const CaseSpec& cs) {
    const Eigen::Index m = cs.C.rows();
    VectorXd lam = VectorXd::Constant(m, 1.0 / static_cast<double>(m)), best = lam;
    double bestG = -INFINITY;
    for (int it = 0; it < 40; ++it) {
      Eigen::RowVectorXd w = lam.transpose() * ll.A;
      VectorXd x(box.lo.size());
      for (Eigen::Index i = 0; i < x.size(); ++i)
        x[i] = w[i] > 0 ? box.lo[i] : box.hi[i];
      VectorXd sub = ll.A * x + ll.c - cs.d;
      double g = lam.dot(sub);
      if (g > bestG) {
        bestG = g;
        best = lam;
      }
      double scale = sub.cwiseAbs().maxCoeff();
      if (!(scale > 0)) break;
      lam -= (0.5 / (1.0 + it)) * sub / scale; // ascend: weight the rows that are violated less
      lam = projectSimplex(lam);
    }
    if (!(bestG > 0)) return false;
    Eigen::MatrixXd row = best.transpose() * cs.C;
    const int L = static_cast<int>(net_.layers.size());
    VectorXd ymax = net_.layers.back().relu
                        ? VectorXd(nb.hi[L - 1].cwiseMax(0.0))
                        : VectorXd(nb.lo[L - 1].cwiseAbs().cwiseMax(nb.hi[L - 1].cwiseAbs()));
    const double u = 1.1102230246251565e-16, gm = 2.0 * static_cast<double>(m + 2) * u;
    double rhs = best.dot(cs.d);
    double margin = gm * (best.cwiseAbs().dot(cs.d.cwiseAbs())) +
                    gm * (best.cwiseAbs().transpose() * cs.C.cwiseAbs()).dot(ymax) + 1e-300;
    LinearLower l2 =
        outputLowerBound(net_, box, nb, row, nullptr, nullptr, nullptr, nullptr, &weights_);
    return l2.lower[0] > rhs + margin;
  }

  /// The network's value at x through the prepared sparse weights (weights_: another summation
  /// order than AffineNet::forward's), and in *mag the largest magnitude met (|x|_1, then every
  /// pre-activation's): not a replay, only a screen or a heuristic's estimate.
  VectorXd sparseForward(const VectorXd& x, double* mag) const {
    Eigen::MatrixXd z = x.transpose();
    *mag = x.cwiseAbs().sum();
    for (size_t k = 0; k < net_.layers.size(); ++k) {
      const auto& L = net_.layers[k];
      Eigen::MatrixXd h = weights_.rowsThrough(static_cast<int>(k), z);
      h.row(0) += L.b.transpose();
      *mag = std::max(*mag, h.cwiseAbs().maxCoeff());
      z = L.relu ? Eigen::MatrixXd(h.cwiseMax(0.0)) : h;
    }
    return z.row(0).transpose();
  }

  /// A screen before replays() (the authority), used where replays' dense float64 pass costs
  /// more than a pass through the non-zero weights (`screen`: ReLU splitting, where that pass
  /// through a conv net was 19% of the search's CPU on oval21's cifar_base, and input splitting
  /// on a net with sparse layers): false when the network's value at x, computed through the
  /// prepared sparse weights (another summation order), satisfies some row of the case's
  /// C y <= d by more than a rounding margin, so x cannot replay as a violation; true
  /// otherwise. It only skips candidates: a counterexample is still only what replays() confirms.
  bool mayViolate(const CaseSpec& cs, const VectorXd& x, bool screen) const {
    if (!screen || cs.C.rows() == 0 || x.size() != net_.inputSize) return true;
    double mag = 0;
    const VectorXd y = sparseForward(x, &mag);
    const VectorXd cy = cs.C * y;
    for (Eigen::Index i = 0; i < cy.size(); ++i)
      if (cy[i] > cs.d[i] + 1e-6 * (1.0 + std::fabs(cs.d[i]) + mag)) return false;
    return true;
  }

  static VectorXd projectSimplex(const VectorXd& v) {
    std::vector<double> s(v.data(), v.data() + v.size());
    std::sort(s.rbegin(), s.rend());
    double cum = 0, theta = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      cum += s[i];
      double t = (cum - 1.0) / static_cast<double>(i + 1);
      if (s[i] - t > 0) theta = t;
    }
    return (v.array() - theta).cwiseMax(0.0).matrix();
  }

  /// A domain's bounds, between process's phases (see processBatch).
  struct Bounded {
    bool fwd = false;      // input splitting by forward symbolic intervals
    bool refined = false;  // nbLocal reflects every split of the domain (ReLU splitting)
    bool sparseFwd = false; // input splitting on a net with sparse layers (TLL)
    NetBounds nbLocal;
    Eigen::MatrixXd Cs;    // the rows of every live case of the group
    Eigen::VectorXd ds;    // ... and their right-hand sides (C y <= d)
    std::vector<Eigen::MatrixXd> lam;
    Slopes alpha, beta;
    LinearLower all;
  };

  /// ReLU splitting with optimised output bounds: the phase processBatch batches.
  bool batchedOutputBounds() const { return !inputMode_ && opt_.alphaIterations > 0; }

  /// alpha/beta-CROWN steps of a domain's output bound: a child starts from its parent's slopes
  /// and multipliers, near their optimum, and takes a quarter of the root's steps (oval21's
  /// searches need many domains more than a slightly tighter bound on each).
  int outputBoundSteps(const Domain& d) const {
    return d.alpha ? std::max(1, opt_.alphaIterations / 4) : opt_.alphaIterations;
  }

  void process(const Domain& d, Z3Encoder& z3, ForwardBounder* fb, std::vector<Domain>& children) {
    Bounded b;
    if (!boundDomain(d, fb, b)) return;
    outputBound(d, fb, b);
    decide(d, z3, fb, b, children);
  }

  /// ReLU splitting: the domains `ds` processed together, their output bounds' alpha/beta-CROWN
  /// optimisations run as one (beta_crown.h betaCrownBounds: each layer's product stacks every
  /// domain's rows, where one domain's few rows leave the sparse conv products' overhead per
  /// non-zero unpaid). The same bounds as process() gives each domain (the rows are
  /// independent), except for the summation order of the products. Domains taking different
  /// numbers of steps (a root) go in separate batches. children[i]: ds[i]'s.
  void processBatch(const std::vector<Domain>& ds, Z3Encoder& z3, ForwardBounder* fb,
                    std::vector<std::vector<Domain>>& children, std::vector<char>& outcome) {
    const size_t n = ds.size();
    children.assign(n, {});
    std::vector<Bounded> bs(n);
    std::vector<char> ok(n, 0);
    for (size_t i = 0; i < n; ++i) {
      if (stopRequestedHere()) return;
      ok[i] = boundDomain(ds[i], fb, bs[i]) ? 1 : 0;
    }
    std::vector<char> done(n, 0);
    for (size_t i = 0; i < n; ++i) {
      if (!ok[i] || done[i]) continue;
      const int steps = outputBoundSteps(ds[i]);
      std::vector<BetaCrownQuery> qs;
      std::vector<size_t> idx;
      for (size_t j = i; j < n; ++j) {
        if (!ok[j] || done[j] || outputBoundSteps(ds[j]) != steps) continue;
        const Domain& d = ds[j];
        Bounded& b = bs[j];
        if (d.alpha) b.alpha = *d.alpha;
        if (d.beta) b.beta = *d.beta;
        BetaCrownQuery q;
        q.box = &d.box;
        q.nb = &b.nbLocal;
        q.C = &b.Cs;
        q.splits = &d.splits;
        q.alpha = &b.alpha;
        q.beta = opt_.betaCrown ? &b.beta : nullptr;
        q.lamOut = &b.lam;
        // Every row above its d: decide() finds every live case safe, whatever more steps give.
        q.stopAbove = &b.ds;
        qs.push_back(q);
        idx.push_back(j);
        done[j] = 1;
      }
      AlphaCrownOptions ao;
      ao.iterations = steps;
      std::vector<LinearLower> all = betaCrownBounds(net_, qs, ao, &weights_);
      for (size_t t = 0; t < idx.size(); ++t) bs[idx[t]].all = std::move(all[t]);
    }
    for (size_t i = 0; i < n; ++i) {
      if (!ok[i]) continue;
      if (stopRequestedHere()) return;
      processOutcome = 'c';
      decide(ds[i], z3, fb, bs[i], children[i]);
      outcome[i] = processOutcome;
    }
  }

  bool stopRequestedHere() {
    std::lock_guard<std::mutex> lk(mu_);
    return stop_;
  }

  /// process's first phase: the domain's pre-activation bounds and the rows to bound; false
  /// when the domain is done (the deadline, infeasible splits).
  bool boundDomain(const Domain& d, ForwardBounder* fb, Bounded& b) {
    if (Clock::now() >= deadline_) {
      finishIncomplete(true, "timeout");
      return false;
    }
    ++domains;
    // Input splitting (no phase splits): forward symbolic intervals, cheap and nearly as
    // tight as back-substitution when the input is low-dimensional.
    const bool fwd = fb && inputMode_ && opt_.forwardBounds && d.splits.empty();
    b.fwd = fwd;
    // A net with sparse layers (TLL): candidates are screened by a sparse forward pass first.
    b.sparseFwd = fwd && fb->hasSparseLayer();
    NetBounds& nbLocal = b.nbLocal;
    bool& refined = b.refined;
    refined = !d.parentBounds; // nbLocal reflects every split of d (ReLU splitting)
    if (fwd) {
      // The parent's bounds (refined, sound on its larger box) tighten the child's layer by
      // layer before its ReLUs are relaxed: fewer unstable ReLUs, so fewer to refine below.
      fb->bound(d.box, nbLocal, d.parentBounds.get());
      // Back-substitution through the forward bounds tightens deep layers a lot (on ACAS Xu
      // it cuts the domains 20-70 fold); skipped when almost every ReLU is already stable.
      // On a network with sparse layers (TLL) the same bounds by fb->refine, whose objectives
      // span only the neurons they depend on (refineBounds' span whole layers).
      if (nbLocal.unstable(net_) >= opt_.refineMinUnstable) {
        if (fb->hasSparseLayer())
          fb->refine(d.box, nbLocal);
        else
          refineBounds(net_, d.box, nbLocal, &weights_);
      }
    } else if (d.rootAllLayers && d.parentBounds) {
      // The root undecided by its first bounds: alpha-CROWN on the pre-activations of every
      // ReLU layer above the first, bottom up (each layer's optimisation uses the tightened
      // layers below), from those first bounds (tightenLayerByAlphaCrown keeps the tighter of
      // the old and new bound of each neuron). Every sub-domain inherits them.
      nbLocal = *d.parentBounds;
      refined = true; // a root: no splits
      if (alphaAllLayersApplies(nbLocal.unstable(net_))) {
        AlphaCrownOptions ao;
        ao.iterations = opt_.alphaIterations;
        tightenLayersByAlphaCrown(net_, d.box, nbLocal, ao, &weights_);
      }
      if (rootLpApplies() && !nbLocal.infeasible) tightenRootByLp(d.box, nbLocal);
    } else if (d.parentBounds && d.depth % std::max(1, opt_.reboundEvery) != 0) {
      // ReLU splitting: the parent's pre-activation bounds stay sound on the child (a subset
      // of its domain); only the new split's clamp is applied. Tightening them (one
      // back-substitution per unstable neuron, hundreds in high dimension) is done every
      // reboundEvery levels only; the output bound below is re-optimised on every domain.
      nbLocal = subdomainBounds(net_, d.box, *d.parentBounds, d.splits, 1 << 30);
    } else if (d.parentBounds) {
      // Every reboundEvery levels: the parent's bounds, clamped, tightened layer by layer by
      // back-substitution through the splits (subdomainBounds), from the layer above the lowest
      // split made since they were last tightened (the layers below cannot gain). They keep
      // what alpha-CROWN gained at the root (bounds recomputed from scratch lose it;
      // re-optimising them on the child cost 40% of the search's time on oval21's cifar_base).
      nbLocal = subdomainBounds(net_, d.box, *d.parentBounds, d.splits,
                                d.unrefinedFrom < (1 << 30) ? d.unrefinedFrom + 1 : 1 << 30,
                                &weights_);
      refined = true;
    } else {
      nbLocal = symbolicBounds(net_, d.box, d.splits, &weights_);
      // alpha-CROWN on the pre-activations of the last opt_.rootAlphaLayers ReLU layers (their
      // bounds decide the output bound's relaxation), once at the root: every sub-domain
      // inherits them (subdomainBounds keeps the tighter of its own and the parent's).
      if (!inputMode_ && opt_.alphaIterations > 0 && !nbLocal.infeasible) {
        AlphaCrownOptions ao;
        ao.iterations = opt_.alphaIterations;
        // The last rootAlphaLayers ReLU layers above the first (exact interval bounds), bottom
        // up (each layer's optimisation uses the tightened layers below).
        std::vector<int> last;
        for (int k = static_cast<int>(net_.layers.size()) - 1; k >= 1; --k)
          if (net_.layers[k].relu && static_cast<int>(last.size()) < opt_.rootAlphaLayers)
            last.insert(last.begin(), k);
        for (int k : last) {
          tightenLayerByAlphaCrown(net_, d.box, nbLocal, k, ao, &weights_);
          if (nbLocal.infeasible) break;
        }
      }
    }
    const NetBounds& nb = nbLocal;
    if (nb.infeasible) return false;
    const std::vector<int>& group = groups_[d.group];
    // One back-substitution for the rows of every live case of the group.
    Eigen::Index rows = 0;
    for (size_t k = 0; k < group.size(); ++k)
      if (d.live[k]) rows += cases_[group[k]].C.rows();
    Eigen::MatrixXd& Cs = b.Cs;
    Cs.resize(rows, net_.outputSize());
    b.ds.resize(rows);
    Eigen::Index r0 = 0;
    for (size_t k = 0; k < group.size(); ++k)
      if (d.live[k]) {
        const auto& C = cases_[group[k]].C;
        Cs.middleRows(r0, C.rows()) = C;
        b.ds.segment(r0, C.rows()) = cases_[group[k]].d;
        r0 += C.rows();
      }
    return true;
  }

  /// process's second phase: the domain's output bound (processBatch batches it).
  void outputBound(const Domain& d, ForwardBounder* fb, Bounded& b) {
    const NetBounds& nb = b.nbLocal;
    const Eigen::MatrixXd& Cs = b.Cs;
    // ReLU splitting (high dimension): alpha-CROWN's optimised slopes with beta-CROWN's split
    // multipliers, warm-started from the parent's; the objective per layer (lam) feeds the
    // branching score below.
    if (batchedOutputBounds()) {
      if (d.alpha) b.alpha = *d.alpha;
      if (d.beta) b.beta = *d.beta;
      AlphaCrownOptions ao;
      ao.iterations = outputBoundSteps(d);
      b.all = betaCrownBound(net_, d.box, nb, Cs, d.splits, ao, &b.alpha,
                             opt_.betaCrown ? &b.beta : nullptr, &b.lam, &weights_);
    } else {
      b.all = outputLowerBound(net_, d.box, nb, Cs, nullptr, inputMode_ ? nullptr : &b.lam,
                               nullptr, nullptr, &weights_);
    }
    if (b.fwd) { // the better of back-substitution and the forward output functions, per row
      LinearLower& all = b.all;
      LinearLower f;
      fb->outputLower(d.box, Cs, f);
      for (Eigen::Index r = 0; r < Cs.rows(); ++r)
        if (f.lower[r] > all.lower[r]) {
          all.A.row(r) = f.A.row(r);
          all.c[r] = f.c[r];
          all.lower[r] = f.lower[r];
        }
    }
  }

  /// process's last phase: the domain decided from its bounds, or split into children.
  void decide(const Domain& d, Z3Encoder& z3, ForwardBounder* fb, Bounded& bd,
              std::vector<Domain>& children) {
    const bool fwd = bd.fwd;
    const bool refined = bd.refined;
    const NetBounds& nb = bd.nbLocal;
    const Eigen::MatrixXd& Cs = bd.Cs;
    const LinearLower& all = bd.all;
    const std::vector<Eigen::MatrixXd>& lam = bd.lam;
    Slopes& alpha = bd.alpha;
    Slopes& beta = bd.beta;
    const std::vector<int>& group = groups_[d.group];
    Eigen::Index r0 = 0;
    const VectorXd& lo = d.box.lo;
    const VectorXd& hi = d.box.hi;
    std::vector<char> live = d.live;
    VectorXd smear = VectorXd::Zero(lo.size()), gsmear = VectorXd::Zero(lo.size());
    double worstMargin = INFINITY;
    Eigen::RowVectorXd worstRow;
    int worstCase = -1;
    Eigen::Index worstGlobalRow = -1; // its row in Cs
    bool anyLive = false;
    // Candidates are screened through the sparse weights before the dense replay in ReLU
    // splitting and on a net with sparse layers (mayViolate).
    const bool screen = !inputMode_ || bd.sparseFwd;
    r0 = 0;
    for (size_t k = 0; k < group.size(); ++k) {
      if (!d.live[k]) continue;
      const CaseSpec& cs = cases_[group[k]];
      const Eigen::Index m = cs.C.rows();
      LinearLower ll{all.A.middleRows(r0, m), all.c.segment(r0, m), all.lower.segment(r0, m)};
      r0 += m;
      Eigen::Index best = 0;
      bool safe = false;
      for (Eigen::Index r = 0; r < m && !safe; ++r) {
        if (ll.lower[r] > cs.d[r])
          safe = true; // this constraint cannot hold anywhere
        else if (ll.lower[r] - cs.d[r] > ll.lower[best] - cs.d[best])
          best = r;
      }
      if (!safe && m > 1 && combinedSafe(d.box, nb, ll, cs)) safe = true;
      if (safe) {
        live[k] = 0;
        continue;
      }
      anyLive = true;
      // Counterexample candidates: the minimiser of the most promising bound, the centre.
      if (m > 0) {
        VectorXd corner(lo.size());
        for (Eigen::Index i = 0; i < lo.size(); ++i)
          corner[i] = ll.A(best, i) > 0 ? lo[i] : hi[i];
        if (mayViolate(cs, corner, screen) && replays(net_, cs, corner))
          return finishSat(corner, group[k], "bound minimiser");
        // Local PGD from it: on every domain in input splitting. In ReLU splitting only without
        // the attacks (opt_.attack false; then where the intermediate bounds are recomputed):
        // with them, the attack at the root has already failed and the attack beside the
        // search goes on, while a PGD's forward and backward passes through a conv net cost
        // about a third of a domain's bounds (oval21 cifar_base img8194: 95 instead of 63
        // domains per CPU second without it). Not on a net with sparse layers, whose dense
        // passes cost more than the domain's bounds (TLL N=64: 0.03 s of CPU each, about 7 per
        // PGD; its refined bounds 0.02-0.2 s): the attack beside the search goes on there too.
        const bool localPgd =
            inputMode_ ? !bd.sparseFwd
                       : !opt_.attack && d.depth % std::max(1, opt_.reboundEvery) == 0;
        if (localPgd)
          if (auto p = pgd(net_, cs, corner, 3)) return finishSat(*p, group[k], "local PGD");
        double margin = ll.lower[best] - cs.d[best];
        if (margin < worstMargin) { // the live case furthest from being proved
          worstMargin = margin;
          worstRow = cs.C.row(best);
          worstCase = group[k];
          worstGlobalRow = r0 - m + best;
        }
        smear += ll.A.row(best).transpose().cwiseAbs();
      } else {
        smear += VectorXd::Ones(lo.size());
      }
      VectorXd centre = ((lo + hi) * 0.5).cwiseMax(lo).cwiseMin(hi);
      if (mayViolate(cs, centre, screen) && replays(net_, cs, centre))
        return finishSat(centre, group[k], "domain centre");
    }
    if (!anyLive) return;
    int unstable = nb.unstable(net_);
    bool smallNet = reluCount_ <= opt_.leafMaxNeurons;
    // The LP relaxation of the domain: tighter than the bounds above (the triangle for every
    // unstable ReLU at once, the case's constraints jointly), costlier: used when few ReLUs are
    // left unstable (or none can be split); in input splitting only deep, or, on a network too
    // large for Z3 leaves, once at most lpInputMaxUnstable ReLUs are unstable (there it is
    // nearly exact: on ACAS Xu 3_3/prop_2 such domains at depth 30-40 with margins of -1e-4 are
    // closed by 99.9% of their LPs, where input splitting goes on for many levels).
    const bool unsplittable = unstable == 0 || d.depth >= opt_.maxDepth;
    // Input splitting on a large net: a domain with few unstable ReLUs (the LP's case above,
    // widened) goes to the exact leaf (exact_leaf.h: LPs over its phase patterns, split lazily;
    // its first LP is the one above). Undecided within its budget: input splitting goes on.
    if (opt_.lp && inputMode_ && !smallNet && unstable <= opt_.exactLeafMaxUnstable &&
        d.depth >= opt_.exactLeafMinDepth) {
      ExactLeafOptions eo;
      eo.maxLps = opt_.exactLeafMaxLps;
      for (size_t k = 0; k < group.size(); ++k) {
        if (!live[k]) continue;
        double remaining = std::chrono::duration<double>(deadline_ - Clock::now()).count();
        if (remaining <= 0) return finishIncomplete(true, "timeout");
        eo.lpTimeLimit = std::min(remaining, opt_.lpTimeLimit);
        const CaseSpec& cs = cases_[group[k]];
        ExactLeafResult r = exactLeaf(net_, cs, d.box, nb, eo, &weights_);
        lpSolves += r.lps;
        if (r.status == Verdict::Holds) {
          live[k] = 0;
          ++lpClosed;
        } else if (r.status == Verdict::Violated) {
          return finishSat(r.x, group[k], "exact leaf");
        }
      }
      if (std::none_of(live.begin(), live.end(), [](char c) { return c != 0; })) return;
    } else if (opt_.lp && (unstable <= opt_.lpMaxUnstable || unsplittable) &&
        (!inputMode_ || d.depth >= opt_.lpInputMinDepth || unsplittable ||
         (!smallNet && unstable <= opt_.lpInputMaxUnstable))) {
      LpRelaxation lp(net_, d.box, nb);
      for (size_t k = 0; k < group.size() && lp.ok(); ++k) {
        if (!live[k]) continue;
        double remaining = std::chrono::duration<double>(deadline_ - Clock::now()).count();
        if (remaining <= 0) return finishIncomplete(true, "timeout");
        const CaseSpec& cs = cases_[group[k]];
        LpCaseResult r = lp.caseMargin(cs.C, cs.d, std::min(remaining, opt_.lpTimeLimit));
        ++lpSolves;
        if (r.solved && r.certified > 0) {
          live[k] = 0;
          ++lpClosed;
          continue;
        }
        if (r.x.size() == lo.size() && replays(net_, cs, r.x))
          return finishSat(r.x, group[k], "LP minimiser");
      }
      if (std::none_of(live.begin(), live.end(), [](char c) { return c != 0; })) return;
    }
    // Interval-gradient smear (already times the width) of the most promising row of the
    // live case furthest from being proved: the domain is closed only once that case is.
    if (fwd && worstRow.size() > 0) fb->gradientSmear(d.box, nb, worstRow, gsmear);
    const bool useGradient = fwd && gsmear.maxCoeff() > 0;

    bool leaf = (unstable <= opt_.leafUnstable && smallNet) || d.depth >= opt_.maxDepth;
    Domain a = d, b = d;
    a.rootAllLayers = b.rootAllLayers = false;
    a.depth = b.depth = d.depth + 1;
    a.live = b.live = live;
    if (!leaf && inputMode_) {
      // Input splitting: the dimension with the largest smear (|coefficient| x width).
      Eigen::Index dim = -1;
      double bestScore = -1;
      for (Eigen::Index i = 0; i < lo.size(); ++i) {
        double w = hi[i] - lo[i];
        double mid = lo[i] + 0.5 * w;
        if (!(mid > lo[i] && mid < hi[i])) continue; // cannot split further
        double score = smear[i] * w;
        if (useGradient) score = gsmear[i];
        if (score > bestScore) {
          bestScore = score;
          dim = i;
        }
      }
      if (dim < 0) {
        leaf = true;
      } else {
        double mid = lo[dim] + 0.5 * (hi[dim] - lo[dim]);
        a.box.hi[dim] = mid;
        b.box.lo[dim] = mid;
        if (fwd) a.parentBounds = b.parentBounds = std::make_shared<const NetBounds>(nb);
      }
    } else if (!leaf && rootAgainWithAllLayers(d, unstable)) {
      // The root undecided with alpha-CROWN on its last rootAlphaLayers ReLU layers: bounded
      // once more with every layer optimised before any split (its only child, same box).
      Domain r = d;
      r.live = live;
      r.rootAllLayers = true;
      r.parentBounds = std::make_shared<const NetBounds>(nb);
      r.alpha = r.beta = nullptr; // new intermediate bounds: the output slopes from scratch
      children.push_back(std::move(r));
      return;
    } else if (!leaf) {
      // ReLU splitting: the unstable neuron whose relaxation costs the bound of the worst row
      // most (BaBSR-like): with Lambda its coefficient on z = relu(h), the upper side loses up
      // to -Lambda s (-l) (at h = 0), the lower side z >= a h up to Lambda max((1-a) u, -a l).
      // The triangle area -l u / (u - l) breaks ties (and is the score without a row).
      // Filtered smart branching then bounds the worst row on both children of the best few
      // candidates (chooseSplit) and keeps the one whose weaker child is strongest.
      const bool scored = worstGlobalRow >= 0 && lam.size() == net_.layers.size();
      std::vector<SplitCandidate> cands;
      for (size_t k = 0; k < net_.layers.size(); ++k) {
        if (!net_.layers[k].relu) continue;
        for (Eigen::Index j = 0; j < nb.lo[k].size(); ++j) {
          double l = nb.lo[k][j], u = nb.hi[k][j];
          if (!(l < 0 && u > 0)) continue;
          double sc = -l * u / (u - l);
          if (scored && lam[k].rows() > worstGlobalRow) {
            const double lv = lam[k](worstGlobalRow, j), s = u / (u - l);
            double a = u > -l ? 1.0 : 0.0;
            if (alpha.size() > k && alpha[k].rows() > worstGlobalRow && alpha[k].cols() > j)
              a = std::clamp(alpha[k](worstGlobalRow, j), 0.0, 1.0);
            const double loss = lv < 0 ? -lv * s * (-l) : lv * std::max((1 - a) * u, -a * l);
            sc = loss + 1e-9 * sc;
          }
          cands.push_back({sc, static_cast<int>(k), j});
        }
      }
      int bk = -1;
      Eigen::Index bj = -1;
      if (!cands.empty()) {
        const SplitCandidate c =
            scored ? chooseSplit(d, nb, Cs.row(worstGlobalRow), worstGlobalRow, alpha, beta, cands)
                   : *std::max_element(cands.begin(), cands.end(),
                                       [](const SplitCandidate& x, const SplitCandidate& y) {
                                         return x.score < y.score;
                                       });
        bk = c.layer;
        bj = c.neuron;
      }
      if (bk < 0) {
        leaf = true;
      } else {
        for (Domain* c : {&a, &b}) {
          if (c->splits.empty()) c->splits.resize(net_.layers.size());
          if (c->splits[bk].empty()) c->splits[bk].assign(nb.lo[bk].size(), 0);
        }
        a.splits[bk][bj] = 1;
        b.splits[bk][bj] = -1;
        if (!alpha.empty() && live == d.live) // same rows: the children start from these slopes
          a.alpha = b.alpha = std::make_shared<const Slopes>(std::move(alpha));
        else
          a.alpha = b.alpha = nullptr;
        if (!beta.empty() && live == d.live) // ... and multipliers
          a.beta = b.beta = std::make_shared<const Slopes>(std::move(beta));
        else
          a.beta = b.beta = nullptr;
        a.parentBounds = b.parentBounds = std::make_shared<const NetBounds>(nb);
        a.unrefinedFrom = b.unrefinedFrom = std::min(refined ? 1 << 30 : d.unrefinedFrom, bk);
      }
    }
    if (leaf) {
      if (!smallNet) // exact rationals make Z3 far too slow on big nets: give up this domain
        return finishIncomplete(false, "depth limit reached on a domain of a large network");
      for (size_t k = 0; k < group.size(); ++k) {
        if (!live[k]) continue;
        ++leaves;
        double remaining = std::chrono::duration<double>(deadline_ - Clock::now()).count();
        if (remaining <= 0) return finishIncomplete(true, "timeout");
        LeafResult r = z3.solveDomain(cases_[group[k]], d.box, nb, remaining);
        if (r.status == Verdict::Holds) continue;
        if (r.status == Verdict::Violated) return finishSat(r.x, group[k], "z3 leaf");
        bool timeout = Clock::now() >= deadline_ || r.reason.find("timeout") != std::string::npos ||
                       r.reason.find("canceled") != std::string::npos;
        return finishIncomplete(timeout, r.reason);
      }
      return;
    }
    // Depth-first order: the child whose centre comes closer to violating the hardest case
    // is explored first (pushed last), so counterexamples are reached sooner.
    bool aFirst = true;
    // (On a net with sparse layers the centres' values come through the sparse weights: the
    // dense pass of a TLL N=64 net was 16% of the search's CPU. The order is a heuristic: each
    // child's bounds and verdict do not depend on it.)
    if (inputMode_ && worstCase >= 0) {
      const CaseSpec& wc = cases_[worstCase];
      auto centreViolation = [&](const Box& box) {
        const VectorXd x = (box.lo + box.hi) * 0.5;
        if (!bd.sparseFwd || wc.C.rows() == 0) return violation(net_, wc, x);
        double mag = 0;
        return (wc.C * sparseForward(x, &mag) - wc.d).maxCoeff();
      };
      const double va = centreViolation(a.box), vb = centreViolation(b.box);
      aFirst = !(vb < va);
    }
    if (aFirst) {
      children.push_back(std::move(b));
      children.push_back(std::move(a));
    } else {
      children.push_back(std::move(a));
      children.push_back(std::move(b));
    }
  }

  /// ReLU splitting: whether the undecided root d, with `unstable` unstable ReLUs, is to be
  /// bounded again with alpha-CROWN on every ReLU layer (opt_.rootAlphaAllLayers; only if it was
  /// bounded with fewer, and at most opt_.rootAlphaAllMaxUnstable are unstable).
  bool rootAgainWithAllLayers(const Domain& d, int unstable) const {
    if (inputMode_ || d.depth != 0 || d.parentBounds || d.rootAllLayers) return false;
    return alphaAllLayersApplies(unstable) || rootLpApplies();
  }
  /// ... or with its last layers' bounds tightened by LP (opt_.rootLpLayers, on a net of at
  /// least opt_.rootLpMinRelus ReLUs).
  bool rootLpApplies() const {
    return !inputMode_ && opt_.lp && opt_.rootLpLayers > 0 && opt_.rootLpShare > 0 &&
           reluCount_ >= opt_.rootLpMinRelus;
  }
  /// The root's bounds tightened by LP within opt_.rootLpShare of the timeout.
  void tightenRootByLp(const Box& box, NetBounds& nb) {
    const auto budget = std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double>(opt_.rootLpShare * opt_.timeoutSec));
    const auto until = std::min(deadline_, Clock::now() + budget);
    const LpTightenStats st =
        tightenLastLayersByLp(net_, box, nb, opt_.rootLpLayers, until, std::max(1, opt_.threads));
    lpSolves += st.solves;
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "%d layers, %d of %d bounds certified (%d tighter) in %d simplex runs, "
                  "unstable ReLUs %d -> %d",
                  st.layers, st.solved, st.tasks, st.tightened, st.solves, st.unstableBefore,
                  st.unstableAfter);
    std::lock_guard<std::mutex> lock(rootLpMutex_);
    rootLpReport += (rootLpReport.empty() ? "" : "; ") + std::string(buf);
  }
  /// The alpha-CROWN part: opt_.rootAlphaAllLayers, at most opt_.rootAlphaAllMaxUnstable
  /// unstable ReLUs, and layers above the rootAlphaLayers already optimised.
  bool alphaAllLayersApplies(int unstable) const {
    if (inputMode_ || !opt_.rootAlphaAllLayers || opt_.alphaIterations <= 0 ||
        unstable > opt_.rootAlphaAllMaxUnstable)
      return false;
    int above = 0; // ReLU layers above the first
    for (size_t k = 1; k < net_.layers.size(); ++k)
      if (net_.layers[k].relu) ++above;
    return above > opt_.rootAlphaLayers;
  }

  struct SplitCandidate {
    double score; // BaBSR-like estimate of what the split gains the worst row
    int layer;
    Eigen::Index neuron;
  };

  /// Filtered smart branching (De Palma et al. 2021): the opt_.branchCandidates candidates of
  /// highest score are each split, and the worst row bounded on both children (DeepPoly/CROWN
  /// back-substitution with the domain's slopes and multipliers, the intermediate bounds only
  /// clamped by the new split: one pass per child, no optimisation); the candidate whose weaker
  /// child bound is highest wins, ties to the higher score.
  /// The bounds only rank the candidates: any choice is sound.
  SplitCandidate chooseSplit(const Domain& d, const NetBounds& nb, const Eigen::MatrixXd& row,
                             Eigen::Index rowIndex, const Slopes& alpha, const Slopes& beta,
                             std::vector<SplitCandidate>& cands) {
    auto higher = [](const SplitCandidate& x, const SplitCandidate& y) {
      return x.score > y.score;
    };
    const size_t keep = static_cast<size_t>(std::max(1, opt_.branchCandidates));
    if (cands.size() > keep) {
      std::partial_sort(cands.begin(), cands.begin() + static_cast<std::ptrdiff_t>(keep),
                        cands.end(), higher);
      cands.resize(keep);
    } else {
      std::sort(cands.begin(), cands.end(), higher);
    }
    if (cands.size() == 1) return cands[0];
    // The worst row's slopes and multipliers (one-row matrices).
    Slopes a1(alpha.size()), b1(beta.size());
    for (size_t k = 0; k < alpha.size(); ++k)
      if (alpha[k].rows() > rowIndex) a1[k] = alpha[k].row(rowIndex);
    for (size_t k = 0; k < beta.size(); ++k)
      if (beta[k].rows() > rowIndex) b1[k] = beta[k].row(rowIndex);
    size_t best = 0;
    double bestMin = -INFINITY;
    // Both children of every candidate bounded in one batch (bounds.h outputLowerBounds: one
    // product per layer for all of them).
    std::vector<NetBounds> child(2 * cands.size(), nb);
    std::vector<BoundQuery> qs(child.size());
    for (size_t i = 0; i < cands.size(); ++i) {
      const int k = cands[i].layer;
      const Eigen::Index j = cands[i].neuron;
      child[2 * i].lo[k][j] = 0.0;     // active
      child[2 * i + 1].hi[k][j] = 0.0; // inactive
      for (size_t c = 2 * i; c < 2 * i + 2; ++c) {
        qs[c].box = &d.box;
        qs[c].nb = &child[c];
        qs[c].C = &row;
        qs[c].alpha = &a1;
        qs[c].splits = &d.splits;
        qs[c].beta = beta.empty() ? nullptr : &b1;
        qs[c].magnitudes = &nb; // child[c] is nb clamped: one rounding product for all
      }
    }
    const std::vector<LinearLower> bounds = outputLowerBounds(net_, qs, &weights_);
    for (size_t i = 0; i < cands.size(); ++i) {
      const double weaker = std::min(bounds[2 * i].lower[0], bounds[2 * i + 1].lower[0]);
      if (weaker > bestMin) {
        bestMin = weaker;
        best = i;
      }
    }
    return cands[best];
  }

  const neural::AffineNet& net_;
  const WeightProducts weights_; // net_'s weights prepared once for every bound computation
  const std::vector<CaseSpec>& cases_;
  std::vector<std::vector<int>> groups_;
  const NetVerifyOptions& opt_;
  Clock::time_point deadline_;
  bool inputMode_;
  int reluCount_ = 0;
  mutable std::mutex mu_;
  std::mutex rootLpMutex_; // guards rootLpReport
  std::condition_variable cv_;
  std::vector<Domain> stack_;
  std::vector<std::unique_ptr<Z3Encoder>> encoders_;
  std::vector<std::unique_ptr<ForwardBounder>> forward_;
  int active_ = 0, finished_ = 0;
  bool stop_ = false;
  std::atomic<bool> cancel_{false}; // stop_ for the bound computations (cancellation.h)
  SearchHooks* hooks_;
  bool ended_ = false; // with hooks: finish() was called (else idle workers wait for work)
  std::atomic<uint64_t> nextId_{1};
};

} // namespace

Expected<VerifyResult> verifyNetwork(const neural::AffineNet& net, const NetworkQuery& query,
                                     const NetVerifyOptions& opt) {
  auto t0 = Clock::now();
  // The property's own limit, cut to what is left of the run's overall one (spec/run_control.h).
  auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                           std::max(0.0, std::min(opt.timeoutSec, run::remainingSeconds()))));
  if (query.numInputs != net.inputSize)
    return Error(query.origin, "the property has " + std::to_string(query.numInputs) +
                                   " inputs but the network has " + std::to_string(net.inputSize));
  if (query.numOutputs != net.outputSize())
    return Error(query.origin, "the property has " + std::to_string(query.numOutputs) +
                                   " outputs but the network has " +
                                   std::to_string(net.outputSize()));
  const std::vector<CaseSpec>& cases = query.cases;
  for (size_t i = 0; i < cases.size(); ++i)
    if (cases[i].box.lo.size() != query.numInputs || cases[i].box.hi.size() != query.numInputs ||
        cases[i].C.cols() != query.numOutputs || cases[i].d.size() != cases[i].C.rows())
      return Error(query.origin, "case " + std::to_string(i) + " of the property has a box of " +
                                     std::to_string(cases[i].box.lo.size()) + " inputs and " +
                                     std::to_string(cases[i].C.cols()) + " output columns, not " +
                                     std::to_string(query.numInputs) + " and " +
                                     std::to_string(query.numOutputs));

  VerifyResult res;
  auto finish = [&](Verdict v) {
    res.verdict = v;
    if (v == Verdict::Violated) res.y = net.forward(res.x);
    res.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return res;
  };

  if (opt.naive) {
    Z3Encoder z3(net);
    std::mutex wm;
    std::condition_variable wcv;
    bool done = false;
    std::thread watchdog([&] { // enforces the deadline inside Z3
      std::unique_lock<std::mutex> lk(wm);
      while (!done) {
        if (Clock::now() >= deadline || run::stopRequested()) {
          z3.interrupt();
          break;
        }
        wcv.wait_until(lk, std::min(deadline, Clock::now() + std::chrono::milliseconds(20)));
      }
    });
    struct Joiner {
      std::thread& t;
      std::mutex& m;
      std::condition_variable& cv;
      bool& done;
      ~Joiner() {
        {
          std::lock_guard<std::mutex> lk(m);
          done = true;
        }
        cv.notify_all();
        t.join();
      }
    } joiner{watchdog, wm, wcv, done};
    bool incomplete = false;
    for (size_t i = 0; i < cases.size(); ++i) {
      double remaining = std::chrono::duration<double>(deadline - Clock::now()).count();
      if (run::stopRequested()) {
        res.reason = stopWord();
        return finish(Verdict::Unknown);
      }
      if (remaining <= 0) {
        res.reason = "timeout";
        return finish(Verdict::Timeout);
      }
      LeafResult r = z3.solveNaive(cases[i], remaining);
      if (r.status == Verdict::Violated) {
        res.x = r.x;
        res.caseIndex = static_cast<int>(i);
        res.reason = "naive z3";
        return finish(Verdict::Violated);
      }
      if (r.status == Verdict::Unknown) {
        incomplete = true;
        if (res.reason.empty()) res.reason = r.reason;
        if (Clock::now() >= deadline) return finish(Verdict::Timeout);
      }
    }
    return finish(incomplete ? Verdict::Unknown : Verdict::Holds);
  }

  // 1. Falsification: every case at once (falsifyCases takes PGD batches from each case in
  // turn), time-capped so that a hard or safe instance reaches the bounds soon; the attack
  // beside branch and bound below goes on from there.
  for (size_t i = 0; i < cases.size(); ++i) {
    if (cases[i].C.rows() == 0) { // no output constraint: every input of the box violates
      VectorXd c = ((cases[i].box.lo + cases[i].box.hi) * 0.5)
                       .cwiseMax(cases[i].box.lo)
                       .cwiseMin(cases[i].box.hi);
      if (replays(net, cases[i], c)) {
        res.x = c;
        res.caseIndex = static_cast<int>(i);
        res.reason = "unconstrained output";
        return finish(Verdict::Violated);
      }
    }
  }
  // A search sharing another process's work (search_hooks.h) starts empty, without attacks.
  const bool ownsRoots = !opt.hooks || opt.hooks->ownsRoots();
  if (opt.attack && ownsRoots) {
    double cap = opt.attackFirstSeconds >= 0 ? opt.attackFirstSeconds
                                             : std::clamp(0.02 * opt.timeoutSec, 0.2, 2.0);
    auto attackDeadline = std::min(deadline, t0 + std::chrono::duration_cast<Clock::duration>(
                                                      std::chrono::duration<double>(cap)));
    Rng rng(SplitMix(opt.seed).next());
    if (auto r = falsifyCases(net, cases, opt.attackOptions, rng, attackDeadline)) {
      res.x = r->x;
      res.caseIndex = r->caseIndex;
      res.reason = "falsification";
      return finish(Verdict::Violated);
    }
  }
  // 2-5. Branch and bound over every case.
  // Cases with the same box (prop_6: 2 boxes x 4 output disjuncts) form one group.
  std::vector<std::vector<int>> groups;
  for (size_t i = 0; i < cases.size(); ++i) {
    bool placed = false;
    for (auto& g : groups)
      if (cases[g[0]].box.lo == cases[i].box.lo && cases[g[0]].box.hi == cases[i].box.hi) {
        g.push_back(static_cast<int>(i));
        placed = true;
        break;
      }
    if (!placed) groups.push_back({static_cast<int>(i)});
  }
  std::vector<Domain> roots;
  for (size_t g = ownsRoots ? groups.size() : 0; g-- > 0;)
    roots.push_back(Domain{static_cast<int>(g),
                           cases[groups[g][0]].box,
                           {},
                           0,
                           std::vector<char>(groups[g].size(), 1),
                           nullptr,
                           nullptr,
                           nullptr});
  Search search(net, cases, groups, opt, deadline);
  search.numberRoots(roots);
  // A long attack beside branch and bound, started once the search has run for
  // opt.backgroundAttackAfter seconds (most instances are decided before, and pay nothing):
  // violations in thin regions (ACAS Xu 5_3/prop_2, 1_9/prop_7) are found by many more PGD
  // starts sooner than by splitting down to them. It stops when the search decides. Once the
  // search has run opt.backgroundAttackFullSeconds, an attack that has found nothing is
  // throttled to opt.backgroundAttackLateDuty of one thread: on a holding instance its thread
  // would otherwise take a third of two cores from the search until the proof ends.
  std::mutex bgMu;
  std::condition_variable bgCv;
  bool searchDone = false;
  std::atomic<bool> attackStop{false};
  std::thread attacker;
  // Its share of one thread's time: in ReLU splitting (where the first attack already found
  // nothing) at most backgroundAttackDutyReluSplit.
  const bool reluSplitting = freeDimensions(cases) > opt.inputSplitMaxDim;
  const double baseDuty =
      reluSplitting ? std::min(opt.backgroundAttackDuty, opt.backgroundAttackDutyReluSplit)
                    : opt.backgroundAttackDuty;
  const auto searchStart = Clock::now();
  if (opt.attack && ownsRoots && opt.backgroundAttackAfter >= 0) {
    attacker = std::thread([&] {
      {
        std::unique_lock<std::mutex> lk(bgMu);
        if (bgCv.wait_for(lk, std::chrono::duration<double>(opt.backgroundAttackAfter),
                          [&] { return searchDone; }))
          return;
      }
      AttackOptions lo = opt.attackOptions;
      lo.restarts = 1 << 24; // until found, stopped, or the deadline
      Rng rng(opt.seed ^ 0x9e3779b97f4a7c15ULL);
      double duty = baseDuty;
      if (!(duty < 1.0)) {
        // Unthrottled until the search has run backgroundAttackFullSeconds (the whole run if
        // that is negative or the late duty is not below 1).
        const bool later =
            opt.backgroundAttackFullSeconds >= 0 && opt.backgroundAttackLateDuty < 1.0;
        const auto fullEnd =
            later ? std::min(deadline, searchStart + std::chrono::duration_cast<Clock::duration>(
                                                         std::chrono::duration<double>(
                                                             opt.backgroundAttackFullSeconds)))
                  : deadline;
        if (auto r = falsifyCases(net, cases, lo, rng, fullEnd, &attackStop)) {
          search.satFromOutside(r->x, r->caseIndex, "falsification beside branch and bound");
          return;
        }
        if (!later || attackStop || Clock::now() >= deadline) return;
        duty = opt.backgroundAttackLateDuty;
      }
      // Throttled: bursts of opt.backgroundAttackBurst seconds, each followed by a pause that
      // leaves the attack that fraction of one thread's time (each burst goes on from a fresh
      // stream of the same generator, its sampling first).
      duty = std::max(duty, 0.01);
      const double burst = std::max(opt.backgroundAttackBurst, 0.01);
      const auto pause = std::chrono::duration<double>(burst * (1.0 - duty) / duty);
      for (uint64_t round = 0;; ++round) {
        const auto burstEnd =
            std::min(deadline, Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(burst)));
        Rng burstRng = rng.split(round);
        if (auto r = falsifyCases(net, cases, lo, burstRng, burstEnd, &attackStop)) {
          search.satFromOutside(r->x, r->caseIndex, "falsification beside branch and bound");
          return;
        }
        std::unique_lock<std::mutex> lk(bgMu);
        if (bgCv.wait_for(lk, pause, [&] { return searchDone; }) || Clock::now() >= deadline)
          return;
      }
    });
  }
  search.run(std::move(roots));
  {
    std::lock_guard<std::mutex> lk(bgMu);
    searchDone = true;
  }
  attackStop = true;
  bgCv.notify_all();
  if (attacker.joinable()) attacker.join();
  res.domains = search.domains;
  res.leaves = search.leaves;
  res.lpSolves = search.lpSolves;
  res.lpClosed = search.lpClosed;
  res.rootLp = search.rootLpReport;
  res.reason = search.reason;
  if (search.sat) {
    res.x = search.x;
    res.caseIndex = search.caseIndex;
    return finish(Verdict::Violated);
  }
  if (search.timedOut || (search.incomplete && Clock::now() >= deadline))
    return finish(Verdict::Timeout);
  if (search.incomplete) return finish(Verdict::Unknown);
  res.reason = "branch and bound";
  return finish(Verdict::Holds);
}

std::string vnncompResult(const VerifyResult& r) {
  std::string out = std::string(vnncompName(r.verdict)) + "\n";
  if (r.verdict != Verdict::Violated) return out;
  char buf[64];
  out += "(";
  for (Eigen::Index i = 0; i < r.x.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%.17g", r.x[i]);
    out += std::string(i == 0 ? "" : "\n ") + "(X_" + std::to_string(i) + " " + buf + ")";
  }
  for (Eigen::Index i = 0; i < r.y.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%.17g", r.y[i]);
    out += "\n (Y_" + std::to_string(i) + " " + buf + ")";
  }
  out += ")\n";
  return out;
}

} // namespace chassis::verifier

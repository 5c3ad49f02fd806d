// HMC / NUTS over the AD tape of a model (the algorithm and the adaptation are in infer_nuts.h).
// One Sampler per chain owns the tape, the RNG stream and every work vector: a transition
// allocates nothing (the tree's per-depth temporaries are preallocated for depths 0..max); only
// the warm-up's variance estimate uses a temporary per iteration.
#include "symbolic/infer_nuts.h"

#include "spec/run_control.h"
#include "symbolic/ad.h"
#include "symbolic/special.h"
#include "symbolic/summary.h"

#include <Eigen/Dense>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>

namespace chassis::symbolic {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
using Vec = Eigen::VectorXd;
using Mat = Eigen::MatrixXd;

/// A point of phase space: position, momentum, log density and its gradient there.
struct PhasePoint {
  Vec q, p, g;
  double logp = 0;
  void resize(size_t d) {
    q.setZero(Eigen::Index(d));
    p.setZero(Eigen::Index(d));
    g.setZero(Eigen::Index(d));
  }
};

/// Stan's stepsize_adaptation (dual averaging of log eps).
struct StepSizeAdaptation {
  double mu = 0, sBar = 0, xBar = 0, delta = 0.8;
  double gamma = 0.05, t0 = 10, kappa = 0.75;
  double counter = 0;
  void restart() { counter = sBar = xBar = 0; }
  void learn(double& eps, double acceptStat) {
    ++counter;
    acceptStat = std::min(acceptStat, 1.0);
    double eta = 1.0 / (counter + t0);
    sBar = (1 - eta) * sBar + eta * (delta - acceptStat);
    double x = mu - sBar * std::sqrt(counter) / gamma;
    double xEta = std::pow(counter, -kappa);
    xBar = (1 - xEta) * xBar + xEta * x;
    eps = std::exp(x);
  }
  void complete(double& eps) const { eps = std::exp(xBar); }
};

/// Stan's windowed_adaptation + var_adaptation (Welford variance within windows), or, for the
/// dense metric, + covar_adaptation (Welford covariance within the same windows).
struct MetricAdaptation {
  bool dense = false;
  Mat m2Dense; // dense: the sum of outer products of deviations
  size_t numWarmup = 0, initBuffer = 75, termBuffer = 50, baseWindow = 25;
  size_t windowCounter = 0, windowSize = 0, nextWindow = 0;
  bool enabled = true;
  // Welford.
  size_t n = 0;
  Vec mean, m2;

  void init(size_t warmup, size_t d) {
    numWarmup = warmup;
    if (warmup < 20) {
      enabled = false;
    } else if (initBuffer + baseWindow + termBuffer > warmup) {
      initBuffer = size_t(0.15 * double(warmup));
      termBuffer = size_t(0.1 * double(warmup));
      baseWindow = warmup - (initBuffer + termBuffer);
    }
    windowCounter = 0;
    windowSize = baseWindow;
    nextWindow = initBuffer + windowSize - 1;
    mean.setZero(Eigen::Index(d));
    m2.setZero(Eigen::Index(d));
    if (dense) m2Dense.setZero(Eigen::Index(d), Eigen::Index(d));
    n = 0;
  }
  bool inWindow() const {
    return windowCounter >= initBuffer && windowCounter < numWarmup - termBuffer &&
           windowCounter != numWarmup;
  }
  bool endOfWindow() const { return windowCounter == nextWindow && windowCounter != numWarmup; }
  void computeNextWindow() {
    if (nextWindow == numWarmup - termBuffer - 1) return;
    windowSize *= 2;
    nextWindow = windowCounter + windowSize;
    if (nextWindow != numWarmup - termBuffer - 1) {
      size_t boundary = nextWindow + 2 * windowSize;
      if (boundary >= numWarmup - termBuffer) nextWindow = numWarmup - termBuffer - 1;
    }
  }
  /// Adds q to the estimator; at the end of a window sets invMetric (dense: invMetricDense, the
  /// covariance regularised as Stan does, (n/(n+5)) C + 1e-3 (5/(n+5)) I) and returns true.
  bool learn(Vec& invMetric, Mat& invMetricDense, const Vec& q) {
    if (!enabled) return false;
    if (inWindow()) {
      ++n;
      Vec delta = q - mean; // d-sized temporary, once per iteration during warm-up
      mean += delta / double(n);
      if (dense)
        m2Dense += (q - mean) * delta.transpose();
      else
        m2 += delta.cwiseProduct(q - mean);
    }
    if (endOfWindow()) {
      computeNextWindow();
      double nn = double(n);
      if (dense) {
        Mat cov = m2Dense / (nn - 1.0);
        invMetricDense = (nn / (nn + 5.0)) * cov;
        invMetricDense.diagonal().array() += 1e-3 * (5.0 / (nn + 5.0));
        invMetric = invMetricDense.diagonal();
        m2Dense.setZero();
      } else {
        Vec var = m2 / (nn - 1.0);
        invMetric = (nn / (nn + 5.0)) * var.array() + 1e-3 * (5.0 / (nn + 5.0));
      }
      n = 0;
      mean.setZero();
      m2.setZero();
      ++windowCounter;
      return true;
    }
    ++windowCounter;
    return false;
  }
};

struct TransitionStats {
  double acceptStat = 0;
  int depth = 0;
  size_t leapfrogs = 0;
  bool divergent = false;
  double energy = 0; // H at the drawn state (recorded only; it feeds nothing)
};

/// Per-depth temporaries of build_tree.
struct Level {
  Vec pInitEnd, pSharpInitEnd, rhoInit, pFinalBeg, pSharpFinalBeg, rhoFinal, rhoSub, rhoExt;
  PhasePoint zProposeFinal;
  void resize(size_t d) {
    for (Vec* v : {&pInitEnd, &pSharpInitEnd, &rhoInit, &pFinalBeg, &pSharpFinalBeg, &rhoFinal,
                   &rhoSub, &rhoExt})
      v->setZero(Eigen::Index(d));
    zProposeFinal.resize(d);
  }
};

class Sampler {
public:
  Sampler(LogDensityGradientFn gradient, size_t dimension, Rng& rng, const NutsOptions& opt)
      : gradient_(std::move(gradient)), rng_(rng), opt_(opt), d_(dimension) {
    invMetric_ = Vec::Ones(Eigen::Index(d_));
    dense_ = opt.denseMetric;
    if (dense_) {
      invMetricDense_ = Mat::Identity(Eigen::Index(d_), Eigen::Index(d_));
      metricUpper_ = invMetricDense_;
      momentum_.setZero(Eigen::Index(d_));
    }
    for (PhasePoint* z : {&z_, &zFwd_, &zBck_, &zSample_, &zPropose_, &zInit_})
      z->resize(d_);
    for (Vec* v : {&pFwdFwd_, &pSharpFwdFwd_, &pFwdBck_, &pSharpFwdBck_, &pBckFwd_, &pSharpBckFwd_,
                   &pBckBck_, &pSharpBckBck_, &rho_, &rhoFwd_, &rhoBck_, &rhoExt_})
      v->setZero(Eigen::Index(d_));
    levels_.resize(size_t(opt.maxTreeDepth) + 1);
    for (Level& l : levels_)
      l.resize(d_);
  }

  std::optional<Error> error_;

  /// Sets the position (which must have a finite log density).
  bool setPosition(const std::vector<double>& q) {
    for (size_t k = 0; k < d_; ++k)
      z_.q[Eigen::Index(k)] = q[k];
    return evaluate(z_);
  }
  const Vec& position() const { return z_.q; }
  double stepSize() const { return eps_; }
  double logDensity() const { return z_.logp; }
  Vec& invMetric() { return invMetric_; }
  Mat& invMetricDense() { return invMetricDense_; }
  /// After invMetricDense() changed: its Cholesky factor, M^{-1} = U'U. The adapted covariance is
  /// positive definite (a sum of outer products plus a positive ridge); a factorisation that fails
  /// numerically is an error rather than a wrong sampler.
  bool metricChanged() {
    if (!dense_) return true;
    Eigen::LLT<Mat> llt(invMetricDense_);
    if (llt.info() != Eigen::Success) {
      error_ = Error("NUTS: the adapted dense metric is not positive definite (use --metric diag)");
      return false;
    }
    metricUpper_ = llt.matrixU();
    return true;
  }

  /// Stan's init_stepsize: double or halve eps until the acceptance probability of one leapfrog
  /// step from a fresh momentum crosses 0.8.
  bool initStepSize() {
    if (d_ == 0) return true;
    copyPoint(zInit_, z_);
    double dH = oneStepDeltaH();
    if (error_) return false;
    int direction = dH > std::log(0.8) ? 1 : -1;
    for (int it = 0; it < 200; ++it) {
      dH = oneStepDeltaH();
      if (error_) return false;
      if (direction == 1 && !(dH > std::log(0.8))) break;
      if (direction == -1 && !(dH < std::log(0.8))) break;
      eps_ = direction == 1 ? 2 * eps_ : 0.5 * eps_;
      if (eps_ > 1e7 || eps_ == 0) {
        error_ = Error("NUTS: the step size cannot be initialised (" +
                       std::string(eps_ == 0 ? "it underflows to 0" : "it grows beyond 1e7") +
                       "): the posterior may be improper or not differentiable");
        return false;
      }
    }
    copyPoint(z_, zInit_);
    return true;
  }

  TransitionStats transition() {
    TransitionStats st;
    if (d_ == 0) return st;
    sampleMomentum(z_);
    copyPoint(zFwd_, z_);
    copyPoint(zBck_, z_);
    copyPoint(zSample_, z_);
    copyPoint(zPropose_, z_);
    Vec& p = z_.p;
    pFwdFwd_ = p;
    sharp(p, pSharpFwdFwd_);
    pFwdBck_ = p;
    pSharpFwdBck_ = pSharpFwdFwd_;
    pBckFwd_ = p;
    pSharpBckFwd_ = pSharpFwdFwd_;
    pBckBck_ = p;
    pSharpBckBck_ = pSharpFwdFwd_;
    rho_ = p;
    double logSumWeight = 0;
    double H0 = hamiltonian(z_);
    size_t nLeapfrog = 0;
    double sumMetroProb = 0;
    divergent_ = false;
    int depth = 0;
    while (depth < opt_.maxTreeDepth) {
      rhoFwd_.setZero();
      rhoBck_.setZero();
      bool valid;
      double logSumWeightSubtree = -kInf;
      if (rng_.uniform() > 0.5) {
        copyPoint(z_, zFwd_);
        rhoBck_ = rho_;
        pBckFwd_ = pFwdFwd_;
        pSharpBckFwd_ = pSharpFwdFwd_;
        valid = buildTree(depth, zPropose_, pSharpFwdBck_, pSharpFwdFwd_, rhoFwd_, pFwdBck_,
                          pFwdFwd_, H0, 1, nLeapfrog, logSumWeightSubtree, sumMetroProb);
        copyPoint(zFwd_, z_);
      } else {
        copyPoint(z_, zBck_);
        rhoFwd_ = rho_;
        pFwdBck_ = pBckBck_;
        pSharpFwdBck_ = pSharpBckBck_;
        valid = buildTree(depth, zPropose_, pSharpBckFwd_, pSharpBckBck_, rhoBck_, pBckFwd_,
                          pBckBck_, H0, -1, nLeapfrog, logSumWeightSubtree, sumMetroProb);
        copyPoint(zBck_, z_);
      }
      if (error_) return st;
      if (!valid) break;
      ++depth;
      if (logSumWeightSubtree > logSumWeight) {
        copyPoint(zSample_, zPropose_);
      } else {
        double acceptProb = std::exp(logSumWeightSubtree - logSumWeight);
        if (rng_.uniform() < acceptProb) copyPoint(zSample_, zPropose_);
      }
      logSumWeight = logAddExp(logSumWeight, logSumWeightSubtree);
      rho_ = rhoBck_ + rhoFwd_;
      bool persist = criterion(pSharpBckBck_, pSharpFwdFwd_, rho_);
      rhoExt_ = rhoBck_ + pFwdBck_;
      persist = persist && criterion(pSharpBckBck_, pSharpFwdBck_, rhoExt_);
      rhoExt_ = rhoFwd_ + pBckFwd_;
      persist = persist && criterion(pSharpBckFwd_, pSharpFwdFwd_, rhoExt_);
      if (!persist) break;
    }
    st.depth = depth;
    st.leapfrogs = nLeapfrog;
    st.acceptStat = nLeapfrog ? sumMetroProb / double(nLeapfrog) : 0;
    st.divergent = divergent_;
    copyPoint(z_, zSample_);
    st.energy = hamiltonian(z_);
    return st;
  }

  double eps_ = 1.0;

private:
  static void copyPoint(PhasePoint& to, const PhasePoint& from) {
    to.q = from.q;
    to.p = from.p;
    to.g = from.g;
    to.logp = from.logp;
  }

  /// log density and gradient at z.q; false (and error_ set) on a model error.
  bool evaluate(PhasePoint& z) {
    auto l = gradient_(std::span<const double>(z.q.data(), d_), std::span<double>(z.g.data(), d_));
    if (!l) {
      error_ = l.error();
      z.logp = -kInf;
      return false;
    }
    z.logp = *l;
    return true;
  }

  /// out = M^{-1} p (the velocity).
  void sharp(const Vec& p, Vec& out) const {
    if (dense_)
      out.noalias() = invMetricDense_ * p;
    else
      out = invMetric_.cwiseProduct(p);
  }

  /// p ~ N(0, M): diagonal, p_k = u_k / sqrt(M^{-1}_kk); dense (Stan's dense_e_metric), p solves
  /// U p = u with M^{-1} = U'U, so that cov(p) = U^{-1} U^{-T} = M.
  void sampleMomentum(PhasePoint& z) {
    if (dense_) {
      for (size_t k = 0; k < d_; ++k) momentum_[Eigen::Index(k)] = rng_.normal();
      z.p = metricUpper_.triangularView<Eigen::Upper>().solve(momentum_);
      return;
    }
    for (size_t k = 0; k < d_; ++k)
      z.p[Eigen::Index(k)] = rng_.normal() / std::sqrt(invMetric_[Eigen::Index(k)]);
  }

  double hamiltonian(const PhasePoint& z) const {
    if (!(z.logp > -kInf)) return kInf;
    if (dense_) return 0.5 * z.p.dot(invMetricDense_ * z.p) - z.logp;
    return 0.5 * z.p.dot(invMetric_.cwiseProduct(z.p)) - z.logp;
  }

  /// One leapfrog step of size e (negative: backwards in time).
  void leapfrog(PhasePoint& z, double e) {
    z.p += 0.5 * e * z.g;
    sharp(z.p, velocity_);
    z.q += e * velocity_;
    evaluate(z);
    if (z.logp > -kInf) z.p += 0.5 * e * z.g;
  }

  double oneStepDeltaH() {
    copyPoint(z_, zInit_);
    sampleMomentum(z_);
    double H0 = hamiltonian(z_);
    leapfrog(z_, eps_);
    double h = hamiltonian(z_);
    if (std::isnan(h)) h = kInf;
    return H0 - h;
  }

  static bool criterion(const Vec& pSharpMinus, const Vec& pSharpPlus, const Vec& rho) {
    return pSharpPlus.dot(rho) > 0 && pSharpMinus.dot(rho) > 0;
  }

  bool buildTree(int depth, PhasePoint& zPropose, Vec& pSharpBeg, Vec& pSharpEnd, Vec& rho,
                 Vec& pBeg, Vec& pEnd, double H0, double sign, size_t& nLeapfrog,
                 double& logSumWeight, double& sumMetroProb) {
    if (depth == 0) {
      leapfrog(z_, sign * eps_);
      ++nLeapfrog;
      if (error_) return false;
      double h = hamiltonian(z_);
      if (std::isnan(h)) h = kInf;
      if (h - H0 > opt_.maxDeltaH) divergent_ = true;
      logSumWeight = logAddExp(logSumWeight, H0 - h);
      sumMetroProb += H0 - h > 0 ? 1 : std::exp(H0 - h);
      copyPoint(zPropose, z_);
      sharp(z_.p, pSharpBeg);
      pSharpEnd = pSharpBeg;
      rho += z_.p;
      pBeg = z_.p;
      pEnd = pBeg;
      return !divergent_;
    }
    Level& L = levels_[size_t(depth)];
    // The initial subtree.
    double logSumWeightInit = -kInf;
    L.rhoInit.setZero();
    bool validInit = buildTree(depth - 1, zPropose, pSharpBeg, L.pSharpInitEnd, L.rhoInit, pBeg,
                               L.pInitEnd, H0, sign, nLeapfrog, logSumWeightInit, sumMetroProb);
    if (!validInit || error_) return false;
    // The final subtree.
    double logSumWeightFinal = -kInf;
    L.rhoFinal.setZero();
    bool validFinal =
        buildTree(depth - 1, L.zProposeFinal, L.pSharpFinalBeg, pSharpEnd, L.rhoFinal, L.pFinalBeg,
                  pEnd, H0, sign, nLeapfrog, logSumWeightFinal, sumMetroProb);
    if (!validFinal || error_) return false;
    // Multinomial sample from the right subtree.
    double logSumWeightSubtree = logAddExp(logSumWeightInit, logSumWeightFinal);
    logSumWeight = logAddExp(logSumWeight, logSumWeightSubtree);
    if (logSumWeightFinal > logSumWeightSubtree) {
      copyPoint(zPropose, L.zProposeFinal);
    } else {
      double acceptProb = std::exp(logSumWeightFinal - logSumWeightSubtree);
      if (rng_.uniform() < acceptProb) copyPoint(zPropose, L.zProposeFinal);
    }
    L.rhoSub = L.rhoInit + L.rhoFinal;
    rho += L.rhoSub;
    bool persist = criterion(pSharpBeg, pSharpEnd, L.rhoSub);
    L.rhoExt = L.rhoInit + L.pFinalBeg;
    persist = persist && criterion(pSharpBeg, L.pSharpFinalBeg, L.rhoExt);
    L.rhoExt = L.rhoFinal + L.pInitEnd;
    persist = persist && criterion(L.pSharpInitEnd, pSharpEnd, L.rhoExt);
    return persist;
  }

  LogDensityGradientFn gradient_;
  Rng& rng_;
  const NutsOptions& opt_;
  size_t d_;
  Vec invMetric_;
  bool dense_ = false;
  Mat invMetricDense_, metricUpper_; // dense: M^{-1} and its Cholesky factor U (M^{-1} = U'U)
  Vec momentum_, velocity_;           // temporaries of sampleMomentum and leapfrog
  PhasePoint z_, zFwd_, zBck_, zSample_, zPropose_, zInit_;
  Vec pFwdFwd_, pSharpFwdFwd_, pFwdBck_, pSharpFwdBck_, pBckFwd_, pSharpBckFwd_, pBckBck_,
      pSharpBckBck_, rho_, rhoFwd_, rhoBck_, rhoExt_;
  std::vector<Level> levels_;
  bool divergent_ = false;
};

/// Progress shared by the chains (called from one thread at a time).
struct Progress {
  std::mutex mu;
  size_t done = 0, total = 1;
  const std::function<void(double)>* fn = nullptr;
  void step(size_t n) {
    if (!fn || !*fn) return;
    std::lock_guard<std::mutex> lock(mu);
    done += n;
    (*fn)(double(done) / double(total));
  }
};

Expected<NutsChainResult> runChain(const ir::Function& f, std::span<const Value> inputs,
                                   const NutsOptions& opt, size_t chain, Progress& progress,
                                   std::vector<std::string>* names, size_t* numChoices) {
  Rng rng = Rng(opt.seed).split(chain);
  LogDensityTape tape(f, std::vector<Value>(inputs.begin(), inputs.end()), opt.fuseTape);
  auto q0 = tape.initialize(rng, opt.initRadius);
  if (!q0) return q0.error();
  size_t d = tape.dimension();
  if (names) {
    *names = tape.addresses();
    names->insert(names->end(), tape.outputNames().begin(), tape.outputNames().end());
    *numChoices = d;
  }
  size_t nq = d + tape.outputNames().size();
  LogDensityGradientFn gradient =
      opt.gradient ? opt.gradient(tape)
                   : LogDensityGradientFn([&tape](std::span<const double> u, std::span<double> g) {
                       return tape.logDensity(u, g);
                     });
  Sampler s(std::move(gradient), d, rng, opt);
  StepSizeAdaptation stepAdapt;
  stepAdapt.delta = opt.targetAccept;
  // As Stan's services (hmc_nuts_diag_e_adapt: set_mu(log(10 * stepsize)) before
  // run_adaptive_sampler's init_stepsize): the first window's dual averaging centres on ten times
  // the nominal initial step size (1), not on the heuristic's result; after each metric update mu
  // is log(10 eps) of the re-initialised eps.
  stepAdapt.mu = std::log(10 * s.eps_);
  if (!s.setPosition(*q0) || !s.initStepSize()) return *s.error_;
  MetricAdaptation metricAdapt;
  metricAdapt.dense = opt.denseMetric;
  metricAdapt.init(opt.warmup, d);
  bool adapt = opt.warmup > 0;

  NutsChainResult out;
  out.draws.assign(nq, {});
  for (auto& v : out.draws)
    v.reserve(opt.samples);
  std::vector<double> values(nq);
  double sumAccept = 0, sumDepth = 0;
  size_t kept = 0;
  size_t total = opt.warmup + opt.samples * opt.thin;
  const size_t kProgressEvery = 50;
  out.drawStats.reserve(opt.samples);
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  Clock::time_point warmupEnd = start;
  for (size_t it = 0; it < total; ++it) {
    // SIGINT, --time-limit, --memory (spec/run_control.h): no summary of a cut-short chain.
    if (run::stopRequested()) return Error("stopped: " + run::stopMessage());
    if (it == opt.warmup) warmupEnd = Clock::now();
    const double stepSize = s.eps_; // the step size this transition uses
    TransitionStats st = s.transition();
    if (s.error_) return *s.error_;
    out.leapfrogSteps += st.leapfrogs;
    if (it < opt.warmup) {
      if (adapt) {
        stepAdapt.learn(s.eps_, st.acceptStat);
        if (metricAdapt.learn(s.invMetric(), s.invMetricDense(), s.position())) {
          if (!s.metricChanged() || !s.initStepSize()) return *s.error_;
          stepAdapt.mu = std::log(10 * s.eps_);
          stepAdapt.restart();
        }
        if (it + 1 == opt.warmup) stepAdapt.complete(s.eps_);
      }
    } else {
      if (st.divergent) ++out.divergences;
      if (st.depth >= opt.maxTreeDepth) ++out.maxDepthHits;
      sumAccept += st.acceptStat;
      sumDepth += st.depth;
      ++kept;
      if ((it - opt.warmup) % opt.thin == 0) {
        const Eigen::VectorXd& q = s.position();
        auto l = tape.logDensity(std::span<const double>(q.data(), d));
        if (!l) return l.error();
        tape.readChoices(std::span<double>(values.data(), d));
        tape.readOutputs(std::span<double>(values.data() + d, nq - d));
        for (size_t k = 0; k < nq; ++k)
          out.draws[k].push_back(values[k]);
        out.drawStats.push_back({s.logDensity(), st.acceptStat, stepSize, st.depth, st.leapfrogs,
                                 st.divergent, st.energy});
      }
    }
    if ((it + 1) % kProgressEvery == 0) progress.step(kProgressEvery);
  }
  const Clock::time_point end = Clock::now();
  if (total <= opt.warmup) warmupEnd = end;
  out.warmupSeconds = std::chrono::duration<double>(warmupEnd - start).count();
  out.samplingSeconds = std::chrono::duration<double>(end - warmupEnd).count();
  out.stepSize = s.eps_;
  out.invMetric.assign(s.invMetric().data(), s.invMetric().data() + d);
  if (opt.denseMetric) {
    out.invMetricDense.resize(d * d);
    for (size_t r = 0; r < d; ++r)
      for (size_t c = 0; c < d; ++c)
        out.invMetricDense[r * d + c] = s.invMetricDense()(Eigen::Index(r), Eigen::Index(c));
  }
  out.meanAcceptStat = kept ? sumAccept / double(kept) : 0;
  out.meanTreeDepth = kept ? sumDepth / double(kept) : 0;
  return out;
}

} // namespace

Chains NutsResult::chainsOf(size_t q) const {
  Chains c;
  for (const NutsChainResult& r : chains)
    c.push_back(r.draws[q]);
  return c;
}

int NutsResult::find(std::string_view name) const {
  for (size_t k = 0; k < names.size(); ++k)
    if (names[k] == name) return int(k);
  return -1;
}

Expected<NutsResult> runNuts(const ir::Function& f, std::span<const Value> inputs,
                             const NutsOptions& opt) {
  if (opt.chains == 0) return Error("NUTS: --chains must be at least 1");
  if (opt.thin == 0) return Error("NUTS: --thin must be at least 1");
  if (opt.maxTreeDepth < 1 || opt.maxTreeDepth > 30)
    return Error("NUTS: the maximum tree depth must be in [1, 30]");
  if (!(opt.targetAccept > 0 && opt.targetAccept < 1))
    return Error("NUTS: the target acceptance statistic must be in (0, 1)");
  NutsResult res;
  std::vector<size_t> ids = opt.chainIds;
  if (ids.empty())
    for (size_t c = 0; c < opt.chains; ++c) ids.push_back(c);
  const size_t K = ids.size();
  std::vector<std::optional<Expected<NutsChainResult>>> results(K);
  std::vector<std::vector<std::string>> names(K);
  std::vector<size_t> numChoices(K, 0);
  Progress progress;
  progress.fn = &opt.progress;
  progress.total = K * (opt.warmup + opt.samples * opt.thin);
  std::atomic<size_t> next{0};
  auto worker = [&]() {
    for (size_t k; (k = next.fetch_add(1)) < K;)
      results[k].emplace(runChain(f, inputs, opt, ids[k], progress, &names[k], &numChoices[k]));
  };
  size_t nThreads = std::clamp<size_t>(size_t(std::max(1, opt.threads)), 1, std::max<size_t>(1, K));
  std::vector<std::thread> pool;
  for (size_t t = 1; t < nThreads; ++t)
    pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool)
    t.join();
  for (size_t k = 0; k < K; ++k) {
    if (!*results[k]) return results[k]->error();
    res.chains.push_back(std::move(**results[k]));
  }
  if (K == 0) return res;
  res.names = std::move(names[0]);
  res.numChoices = numChoices[0];
  res.sumChains();
  return res;
}

void NutsResult::sumChains() {
  divergences = 0;
  double acc = 0;
  for (const NutsChainResult& r : chains) {
    divergences += r.divergences;
    acc += r.meanAcceptStat;
  }
  meanAcceptStat = acc / double(chains.size());
}

NutsOptions nutsOptionsOf(const InferOptions& options) {
  NutsOptions no;
  no.warmup = options.warmup;
  no.samples = options.samples;
  no.chains = options.chains;
  no.thin = options.thin;
  no.seed = options.seed;
  no.threads = options.threads;
  no.targetAccept = options.targetAccept;
  no.maxTreeDepth = options.maxTreeDepth;
  no.initRadius = options.initRadius;
  no.denseMetric = options.denseMetric;
  no.progress = options.progress;
  return no;
}

Expected<Posterior> inferNuts(const ir::Function& f, std::span<const Value> inputs,
                              const InferOptions& options, NutsResult* sampler) {
  const auto start = std::chrono::steady_clock::now();
  auto r = runNuts(f, inputs, nutsOptionsOf(options));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!r) return r.error();
  return nutsPosterior(f, options, std::move(*r), seconds, sampler);
}

Expected<Posterior> nutsPosterior(const ir::Function& f, const InferOptions& options,
                                  NutsResult run, double seconds, NutsResult* sampler) {
  NutsResult* r = &run;
  // Name the choices for resolveQuery with a trace listing them.
  Trace listed;
  for (size_t k = 0; k < r->numChoices; ++k)
    listed.choices.push_back({r->names[k], DistKind::Normal, {}, 0.0, 0.0, false});
  auto qs = resolveQuery(f, options.query, &listed);
  if (!qs) return qs.error();
  // Offsets of each output's scalars among the output names.
  std::vector<size_t> offset;
  size_t off = r->numChoices;
  for (const ir::Var* o : f.outputs()) {
    offset.push_back(off);
    off += o->type().numScalars();
  }
  Posterior p;
  p.method = InferMethod::NUTS;
  p.quantities = *qs;
  p.chains = r->chains.size();
  p.samplesPerChain = r->chains.empty()            ? 0
                      : r->chains[0].draws.empty() ? 0
                                                   : r->chains[0].draws[0].size();
  for (const Quantity& q : p.quantities) {
    int idx;
    if (q.output >= 0) {
      idx = int(offset[size_t(q.output)]) + std::max(0, q.element);
    } else {
      idx = r->find(q.address);
      if (idx < 0 || size_t(idx) >= r->numChoices)
        return Error(f.loc(),
                     "'" + q.address + "' is not a continuous random choice of '" + f.name() + "'");
    }
    p.draws.push_back(r->chainsOf(size_t(idx)));
  }
  p.divergences = r->divergences;
  p.acceptRate = r->meanAcceptStat;
  p.seconds = seconds;
  p.maxTreeDepth = options.maxTreeDepth;
  // Over the kept draws, as `chassis summary` recomputes it from the CmdStan CSV columns.
  for (const NutsChainResult& c : r->chains) {
    Posterior::SamplerChain sc;
    sc.stepSize = c.stepSize;
    double depth = 0, accept = 0;
    for (const NutsDrawStats& d : c.drawStats) {
      depth += double(d.treeDepth);
      accept += d.acceptStat;
      sc.divergences += d.divergent ? 1 : 0;
      sc.maxDepthHits += d.treeDepth >= options.maxTreeDepth ? 1 : 0;
      sc.leapfrogs += d.leapfrogs;
    }
    if (!c.drawStats.empty()) {
      sc.meanTreeDepth = depth / double(c.drawStats.size());
      sc.meanAcceptStat = accept / double(c.drawStats.size());
    }
    p.sampler.push_back(sc);
  }
  if (Status s = summarizePosterior(p); !s) return s.error();
  if (sampler) *sampler = std::move(*r);
  return p;
}

} // namespace chassis::symbolic

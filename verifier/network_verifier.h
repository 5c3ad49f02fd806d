// Verification of a network query (problem.h: NetworkQuery, from a VNN-LIB file or a .chs
// property) on a piecewise-linear network, cheapest step first:
//   1. falsification (random sampling, PGD, all cases together) in every case's box, capped
//      in time (attackFirstSeconds), then continued beside the search (one thread, throttled
//      to a tenth of it once the search has run 10 s without it finding anything);
//   2. symbolic bound propagation on each sub-domain: with input splitting, forward symbolic
//      intervals (nv_forward.h, tightened by the parent domain's bounds) refined by
//      back-substitution (bounds.h), otherwise DeepPoly
//      back-substitution with the phase splits, alpha-CROWN's optimised output slopes and
//      beta-CROWN's multipliers of the split constraints (beta_crown.h); a domain is safe when
//      some constraint's sound lower bound (or a convex combination of them) exceeds its
//      right-hand side;
//   3. branch and bound: input splitting (the dimension with the largest interval-gradient smear
//      of the most promising constraint, nv_forward.h) when the input has few free dimensions,
//      ReLU splitting otherwise (filtered smart branching: the best few neurons by a BaBSR-like
//      score, then the one whose children's cheap bounds are best); every domain's bound
//      minimiser is tried as a counterexample;
//   4. a domain the bounds do not close, once few unstable ReLUs are left (in input splitting:
//      at most lpInputMaxUnstable on a large net, or deep), is bounded by its Planet LP
//      relaxation (lp_relaxation.h: GLPK, but only a bound certified from its duals in
//      rounded-error-bounded arithmetic counts); in input splitting on a large net, a domain
//      with at most exactLeafMaxUnstable unstable ReLUs goes to the exact leaf instead
//      (exact_leaf.h: the same certified LPs, compact, over its phase patterns split lazily,
//      within a budget of LPs); exact Z3 leaf
//      queries (z3_encoder.h) once few unstable ReLUs are left on small networks;
//   5. two worker threads over a depth-first work stack (bounded memory), a deadline checked
//      before every domain and passed to every Z3 query.
// Every `sat` carries a counterexample that passed `replays` (float64 forward pass, inside the
// box, every constraint satisfied). `unsat` means: in real arithmetic on the float64 weights, no
// input of any case's box satisfies the case's constraints.
#pragma once

#include "neural/affine_net.h"
#include "spec/error.h"
#include "verifier/attack.h"
#include "verifier/problem.h"
#include "verifier/search_hooks.h"
#include "verifier/verdict.h"

#include <Eigen/Dense>

#include <string>

namespace chassis::verifier {

struct NetVerifyOptions {
  double timeoutSec = 60.0;
  int threads = 2;
  uint64_t seed = 1;
  bool naive = false;         // the baseline: one Z3 query per case, ReLU as ite, no bounds
  bool attack = true;         // run the falsification step first
  int leafUnstable = 2;       // a domain with at most this many unstable ReLUs goes to Z3 ...
  int leafMaxNeurons = 64;    // ... if the net has at most this many ReLUs (exact rationals
                              // make Z3's simplex slow on big nets: those keep splitting)
  int maxDepth = 80;          // a domain this deep goes to Z3 whatever is left
  size_t maxQueue = 200000;   // cap on pending domains (memory bound); exceeded -> unknown
  int inputSplitMaxDim = 16;  // input splitting up to this many free inputs (of positive width
                              // in the box), ReLU splitting beyond (gcas, 14 inputs: input
                              // splitting decides in 0.2 s what ReLU splitting does not in 30)
  bool forwardBounds = true;  // input splitting bounds by forward symbolic intervals (nv_forward.h)
  bool areaSlope = false;     // their unstable-ReLU lower slope: 0/1 by area (else parallel)
  int refineMinUnstable = 10; // ... refined by back-substitution if this many ReLUs are unstable
  int alphaIterations = 20;   // ReLU splitting: alpha-CROWN steps per root domain (a quarter on a
                              // child, warm-started from its parent; 0: DeepPoly's slopes)
  bool betaCrown = true;      // ... with the phase splits' multipliers (beta_crown.h) optimised
                              // jointly, also warm-started from the parent's
  int branchCandidates = 16;  // ReLU splitting: the neurons of highest BaBSR-like score whose
                              // children are bounded to choose the split (1: the score alone).
                              // 16, not 8: the score ranks the best split low (oval21 boxes
                              // shrunk to close: cifar_base img8194 x0.985, 2,739 domains with
                              // 8, 1,021 with 12, 549 with 16-32; cifar_deep img7878 x0.97,
                              // 613 -> 31; less CPU too)
  int batchDomains = 16;      // ReLU splitting: up to this many domains per thread bounded at
                              // once (their alpha/beta-CROWN steps stacked; 1: one at a time)
  bool lp = true;              // a domain the bounds did not close is tried by its LP relaxation
                              // (lp_relaxation.h, certified dual bound) when ...
  int lpMaxUnstable = 40;     // ... at most this many ReLUs are unstable, or it cannot be split
  int lpInputMinDepth = 1000; // input splitting: only domains at least this deep, besides those
                              // that cannot be split (they are many and cheap to bound: on the
                              // robot nets LPs from depth 12 cut the domains/s 50-fold, closing
                              // too few of them to pay)
  int lpInputMaxUnstable = 4; // ... and, on a net beyond leafMaxNeurons, any domain with at
                              // most this many unstable ReLUs
  int exactLeafMaxUnstable = 8; // input splitting, on a net beyond leafMaxNeurons: a domain the
                              // bounds did not close with at most this many unstable ReLUs goes
                              // to the exact leaf (exact_leaf.h) instead of the single LP
                              // (-1: never) ...
  int exactLeafMinDepth = 0;  // ... if at least this deep ...
  int exactLeafMaxLps = 32;   // ... with this budget of LPs per case (then input splitting
                              // goes on)
  double lpTimeLimit = 5.0;   // s per LP solve (GLPK's simplex time limit)
  int reboundEvery = 2;       // ReLU splitting: intermediate bounds recomputed every this many
                              // levels, else the parent's reused (with the new split); 2, not 4:
                              // oval21 cifar_deep's 6 ReLU layers gain from it (a shrunk img7878
                              // box: 41 domains instead of 81, less CPU time)
  int rootAlphaLayers = 1;    // ReLU splitting: alpha-CROWN on the pre-activation bounds of
                              // the last this many ReLU layers (above the first) at the root.
                              // All of them shrink a tree (cifar_deep img7878, box x0.96: 21
                              // domains instead of 81) but cost the root 2.5 s of CPU there and
                              // 21 s on cifar_deep img8366 (eps 0.055, decided at the root in
                              // 3.5 s with 1): so all of them only on a root not decided
                              // with these
  bool rootAlphaAllLayers = false; // ... and a root those bounds leave undecided is bounded
                              // again, with alpha-CROWN on every ReLU layer above the first,
                              // before it is split (the decided ones do not pay for it) ...
  int rootAlphaAllMaxUnstable = 1000; // ... if at most this many of its ReLUs are unstable
                              // (cifar_deep img4168, 1,269, spent over 10 CPU s there without
                              // ending). Off: fewer domains but more CPU to close what closes
                              // (oval21 boxes shrunk, 2 threads, load 7-10: cifar_deep img7878
                              // x0.96 28 domains instead of 41, 5.8 CPU s instead of 3.0;
                              // cifar_base img8194 x0.95 80 instead of 91, 4.8 instead of 2.8),
                              // and no open instance closed with it at 240 s
  int rootLpLayers = 0;       // ReLU splitting: a root undecided by its bounds (alpha-CROWN) is
                              // bounded again before it is split, the pre-activation bounds of
                              // the unstable ReLUs of its last this many ReLU layers (above the
                              // first) tightened by certified LPs (lp_intermediate.h; 0: never)
                              // and inherited by every sub-domain. Off: measured not to pay on
                              // oval21 (cifar_base img8194, 2 threads, load 5-6): the last
                              // ReLU layer's 34 unstable neurons, 68 LPs in about 70 s, each
                              // bound tighter than alpha-CROWN's by 0.01-0.1% of its width, no
                              // neuron made stable (the triangle LP over the same lower-layer
                              // bounds is what alpha-CROWN's optimum approaches); the conv
                              // layer below (171 unstable): 50 s per cold LP, 0.7% of a width.
                              // Tighter needs relaxations beyond the triangle (cuts) ...
  int rootLpMinRelus = 2000;  // ... on a net of at least this many ReLUs (small nets' domains
                              // are cheap: their search gains less from it than it costs) ...
  double rootLpShare = 0.1;   // ... within this share of the timeout
  AttackOptions attackOptions;
  double backgroundAttackAfter = 1.0; // s of search before a long attack runs beside it (<0: never)
  double backgroundAttackDuty = 1.0;  // the fraction of one thread's time it takes (< 1: bursts
  double backgroundAttackBurst = 0.5; // of this many seconds, each followed by a pause)
  double backgroundAttackDutyReluSplit = 0.25; // ReLU splitting (high dimension): the duty is at
                              // most this (its bounds keep both threads busy; PGD through a conv
                              // net there costs a thread's time as much as the search's steps)
  double backgroundAttackFullSeconds = 10.0; // with duty 1: s of search after which the attack,
                                             // if it has found nothing, is throttled to ...
  double backgroundAttackLateDuty = 0.1;     // ... this duty (>= 1 or FullSeconds < 0: never;
                                             // ACAS Xu 1_9/prop_7's is found within 6 s)
  double attackFirstSeconds = -1.0;   // cap on the first attack (<0: 2% of the timeout, 0.2-2 s)
  SearchHooks* hooks = nullptr;       // sharing the search with other processes, recording its
                                      // tree (search_hooks.h); null: the search alone
};

struct VerifyResult {
  Verdict verdict = Verdict::Unknown;
  Eigen::VectorXd x, y; // the counterexample and its float64 output, when Sat
  int caseIndex = -1;   // the case it violates
  std::string reason;   // for Unknown / Timeout, and which step decided
  double seconds = 0.0;
  long domains = 0; // sub-domains bounded
  long leaves = 0;  // Z3 leaf queries
  long lpSolves = 0, lpClosed = 0; // LP relaxations solved, cases closed by their certified bound
  std::string rootLp; // what the root's LP-tightened bounds did (rootLpLayers), if they ran
};

/// Checks sizes (query vs network, and every case's against the query's) and runs the pipeline.
/// Errors only for a mismatch, located at query.origin. A result's caseIndex indexes query.cases.
Expected<VerifyResult> verifyNetwork(const neural::AffineNet& net, const NetworkQuery& query,
                                     const NetVerifyOptions& opt);

/// The VNN-COMP result text: "unsat\n", "timeout\n", "unknown\n", or "sat\n" followed by
/// "((X_0 v)\n (X_1 v)\n ... (Y_m v))\n" with round-trip float64 values.
std::string vnncompResult(const VerifyResult& r);

} // namespace chassis::verifier

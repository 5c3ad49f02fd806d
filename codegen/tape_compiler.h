// NUTS on compiled code: the recorded AD tape of a model's log density (symbolic/ad.h), fused
// (the default) or not, compiled by LLVM 14 (ORC LLJIT through codegen/jit_session.h, host CPU)
// into one function
//     int f(const double* u, double* grad, double* logDensity, double* work)
// that does the tape's forward sweep (values; data and numbers folded into the code as constants)
// and its reverse sweep (adjoints), node by node, with the interpreted sweeps' arithmetic (`work`
// holds workSize() doubles: the values, adjoints and partials, as the tape's arrays; every node
// loads its operands from it and stores its results, so that code generation stays linear in
// the tape's length):
//   - every operation is the one ad.cpp's forward sweep does, in the same order (sums and dot
//     products left to right from 0, adjoints accumulated over the nodes in reverse, a node's
//     operands in order, a node whose adjoint is 0 skipped); no fast-math flags, no fused
//     multiply-add (the target's AllowFPOpFusion stays Standard and no `contract` flag is set),
//     so LLVM's optimisations keep every operation and its order;
//   - a fused log-density node (LogDensitySum, NormalLinearSum, BernoulliLogitLinearSum) is a
//     loop over its elements, its data and coefficients constant arrays in the module and its
//     position-dependent operands slot arrays into the workspace; the elements' terms summed, and
//     the partials of the bases (and of a shared sigma) accumulated, from 0 in element order, as
//     ad.cpp's fused sweeps do, and its reverse step as ad.cpp's (fusedBackward);
//   - exp, log, log1p, tanh, sigmoid, the logit Jacobian and the log densities other than Normal
//     (with their partials: symbolic::logDensityGradient) are calls of the same C++ functions the
//     tape calls; Normal's log density, sqrt, abs, min, max and relu are inline, the same
//     expressions;
//   so at a position where the tape's sweeps succeed the compiled function returns the same log
//   density and gradient bit for bit (fused or not; tests/codegen/tape_compiler_test.cpp), and
//   NUTS draws the same chains at a seed.
// Pieces: the sweeps are split into functions of at most kNodesPerFunction nodes (forward
// pieces in tape order, then reverse pieces in reverse order, called from the entry; values and
// adjoints pass through the workspace as between any two nodes, so no operation or order
// changes), so that LLVM's passes, whose cost grows faster than the function, work on short
// functions. The adjoints cleared before the reverse sweep are the variable slots' (all the
// slots when those are most of them: a regression's tape has thousands of constant slots).
// Optimisation (TapeOptLevel::Auto): tapes of at most kOptimizeUpToNodes nodes get LLVM's O2
// module pipeline and the default code generation level (the fused bench tapes of 3-20 nodes:
// 12-41 ms of CPU); longer ones (straight-line code, e.g. GARCH's volatility recursion, 1609
// nodes fused) the lean level: no IR passes, the default code generation level without the
// machine scheduler. GARCH, thread CPU time on a loaded machine (load 20-28 on 2 cores): the
// tape 13.3 us per gradient; fast level 12.1 us after 0.17-0.23 s compiling; O2 in one function
// 9.5 us after 4.4 s, in pieces of 300 nodes 8.4-8.7 us after 1.6-2.6 s; no IR passes with the
// default code generation 8.3 us after 2.3 s (the IR passes gain nothing here, the code
// generator does: register allocation instead of the fast level's spills); lean, pieces of 300,
// 8.35 us after 0.74-0.80 s (the machine scheduler took 1.1 s of the 1.8 and gained nothing).
// The function returns 0 when every node's value is finite, no node left its domain (a log of
// x <= 0, a division by 0, an invalid distribution parameter), every guard (a comparison or an
// argmax on position-dependent values) has the outcome recorded and the gradient is finite. Any
// other case returns 1 and the caller asks the tape itself, which rejects the point (-inf) or,
// when a guard's outcome changed, records the tape afresh; the compiled function is then rebuilt
// for the new tape (CompiledLogDensity; or found in the cache), at most kMaxCompilesPerTape times
// per chain, after which that chain stays on the interpreted tape (the model's control flow
// depends on the position).
// Compiled functions are cached by the tape's identity (its nodes, operands, the constants its
// nodes read and guard outcomes; not position-dependent values), so the chains of one run share
// one compilation. A tape with a node kind this compiler does not know (TapeNodeKind::Other) does
// not compile: its evaluations stay interpreted.
#pragma once

#include "spec/error.h"
#include "symbolic/ad.h"
#include "symbolic/infer_nuts.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace chassis::codegen {

/// How hard LLVM works on a tape: O2 is LLVM's O2 module pipeline and the default code
/// generation level; Fast no IR passes and CodeGenOpt::None; Lean no IR passes and the default
/// code generation level without the machine scheduler (MachineSchedulerOff); Auto O2 up to
/// kOptimizeUpToNodes nodes, else Lean (see the header comment).
enum class TapeOptLevel : uint8_t { Auto, O2, Fast, Lean };
constexpr size_t kOptimizeUpToNodes = 600;
/// The most nodes one generated function holds (the sweeps are split into pieces of this size;
/// see CompiledTape::compile).
constexpr size_t kNodesPerFunction = 300;

/// A tape compiled to native code.
class CompiledTape {
public:
  using Fn = int (*)(const double* u, double* grad, double* logDensity, double* work);
  /// Compiles `tape` (or returns the cached compilation of an identical tape: then *cached is
  /// set). Errors: an unrecorded tape, a node kind this compiler does not know, an LLVM failure.
  static Expected<std::shared_ptr<const CompiledTape>> compile(
      const symbolic::TapeView& tape, bool* cached = nullptr,
      TapeOptLevel level = TapeOptLevel::Auto, size_t nodesPerFunction = kNodesPerFunction);
  ~CompiledTape();

  /// 0: *logDensity and grad hold L(u) and its gradient; 1: ask the tape (see the header).
  /// `work` holds workSize() doubles (one workspace per thread).
  int operator()(const double* u, double* grad, double* logDensity, double* work) const {
    return fn_(u, grad, logDensity, work);
  }
  size_t workSize() const { return workSize_; }
  /// Wall seconds spent compiling (IR generation, LLVM codegen and linking), and the compiling
  /// thread's CPU seconds (LLJIT compiles on the calling thread).
  double compileSeconds() const { return seconds_; }
  double compileCpuSeconds() const { return cpuSeconds_; }
  size_t nodes() const { return nodes_; }
  /// Compiled at O2 (else at the fast level).
  bool optimized() const { return optimized_; }
  /// The level compiled at (never Auto), and "at O2", "at its lean level" or "at its fast level".
  TapeOptLevel level() const { return level_; }
  const char* levelName() const;
  /// The functions the sweeps were split into (forward and reverse pieces; 2 for a tape of at
  /// most nodesPerFunction nodes).
  size_t functions() const { return functions_; }

  struct Impl;

private:
  CompiledTape() = default;
  Fn fn_ = nullptr;
  double seconds_ = 0, cpuSeconds_ = 0;
  size_t nodes_ = 0, workSize_ = 0, functions_ = 0;
  bool optimized_ = false;
  TapeOptLevel level_ = TapeOptLevel::Fast;
  std::unique_ptr<Impl> impl_; // the LLJIT holding the code
};

/// What the compiled gradients of a run did (shared by its chains; read after the run).
struct TapeJitStats {
  std::atomic<size_t> compiles{0};     // tapes compiled (cache misses)
  std::atomic<size_t> cacheHits{0};    // tapes found compiled
  std::atomic<size_t> compiledEvals{0}, interpretedEvals{0};
  std::atomic<size_t> gaveUp{0};       // chains that stayed interpreted after re-recordings
  std::mutex mu;                       // guards the two below
  double compileSeconds = 0;           // of the compiles
  std::string firstFailure;            // why a tape did not compile (empty: every tape did)
};

/// The most compilations (or cache look-ups) one chain's tape triggers: its first recording and
/// its re-recordings.
constexpr int kMaxCompilesPerTape = 4;

/// L(u) and its gradient for NUTS on the compiled tape of `tape` (one chain's), falling back to
/// the tape's own sweeps as the header describes. `stats` may be null.
class CompiledLogDensity {
public:
  CompiledLogDensity(symbolic::LogDensityTape& tape, std::shared_ptr<TapeJitStats> stats);
  Expected<double> operator()(std::span<const double> u, std::span<double> grad);

private:
  void refresh();
  symbolic::LogDensityTape* tape_;
  std::shared_ptr<TapeJitStats> stats_;
  std::shared_ptr<const CompiledTape> compiled_;
  std::vector<double> work_;
  size_t compiledAt_ = 0; // tape.recordings() when compiled_ was (re)chosen
  int compiles_ = 0;
  bool gaveUp_ = false;
};

/// CPU seconds of the calling thread (CLOCK_THREAD_CPUTIME_ID): timings that a loaded machine
/// does not inflate.
double threadCpuSeconds();

/// For NutsOptions::gradient: each chain's log density and gradient on its compiled tape.
std::function<symbolic::LogDensityGradientFn(symbolic::LogDensityTape&)>
compiledGradient(std::shared_ptr<TapeJitStats> stats);

} // namespace chassis::codegen

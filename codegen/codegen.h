// Native code for deterministic IR functions through LLVM 14: ahead-of-time object files with a C
// header, textual LLVM IR, and an in-process ORC LLJIT. The semantics are the interpreter's
// (symbolic/interp.h, spec/ir.h), reproduced operation by operation so that results agree bit for
// bit with it. Expressions are lowered by the evaluator skeleton the interpreter and the AD tape
// run on (symbolic/evaluator.h), in an LLVM domain whose values are the code computing them: the
// skeleton fixes the order of evaluation and, through symbolic/op_semantics.h's generic
// operations, the integer ops and the index check; where a float64 domain decides on a value
// (select, && || =>, an index) the LLVM domain emits a branch and a phi or a check. Statements are
// codegen's own visitor. What is kept:
//   - every value is a float64, as in the interpreter: bools are 0/1, ints integral doubles
//     (|v| <= 2^53, beyond is an error), enums their constant's index; arrays are flattened
//     row-major;
//   - int `/` truncates toward zero and `%` takes the dividend's sign (LLVM sdiv/srem on int64);
//     a divisor 0 is an error; a real result of + - * / exp log sum dot or an affine layer that is
//     not a finite float64 is an error; log needs x > 0, sqrt x >= 0; sigmoid is 1/(1+e^-x) for
//     x >= 0 and e^x/(1+e^x) otherwise; exp, log, tanh are libm calls; min/max/relu/argmax are the
//     interpreter's comparisons; sums and dot products accumulate left to right (no reassociation,
//     no fused multiply-add);
//   - operands run left to right, && || => and select evaluate only what they need, so the first
//     error met is the interpreter's first error; If and For stay branches and loops, as do the
//     Affine/VecRelu nodes of networks (weights are constant global arrays);
//   - a Call runs the callee's compiled function, which checks its inputs against the callee's
//     declared ranges like the interpreter's call does.
// The generated function, for a module M, is C-callable:
//     int chassis_M(const double* in, double* out);
// `in` holds the inputs in declaration order (arrays expanded), `out` receives the outputs the
// same way; the result is 0 or one of the ErrorCode values (then `out` is unspecified).
// Variables live on the stack, at most 65536 doubles per function (larger frames are rejected).
// Through JitFunction and emitLlvmIr (without its runtime flag) only deterministic functions
// compile (no sample/observe/condition/factor, directly or through a call); compileObject takes
// random modules too, behind a seeded entry (see there); calls of networks that are not
// loaded are Errors located at the offending statement or module. LLVM errors never escape this
// library.
//
// Random modules compile through JitModel: every function then takes a third argument, the run's
// state (codegen/runtime.h: the generator and the trace's totals), and a compiled module is
//     int chassis_M(const double* in, double* out, void* rt);
// sample/observe/condition/factor call the runtime's C functions, which call the project's own
// Rng and symbolic/distributions.h exactly as the interpreter does, so a compiled run draws the
// interpreter's stream at a seed and scores the same weights bit for bit. A failing statement
// stores its site number in the runtime before returning its code, so an error is located where
// the interpreter locates it (the innermost failing statement; a callee's input check at the
// calling statement). A run whose JitRuntime::tracing is set records its choices with their
// addresses (in binary form, runtime.h JitChoice) and replays the values of a given trace, as
// symbolic::RunOptions::replay does (codegen/infer_mh_jit.h runs single-site MH on it); a run
// without it records none (likelihood weighting), at the cost of one test per sample.
#pragma once

#include "codegen/runtime.h"
#include "spec/error.h"
#include "spec/ir.h"

#include <memory>
#include <string>
#include <string_view>

namespace chassis::codegen {

/// The status codes returned by a compiled function (documented again in the generated header).
enum ErrorCode : int {
  kOk = 0,
  kInputInvalid = 1,   // an input outside its declared range, not integral / bool, or not finite
  kDivisionByZero = 2, // `/` or `%` by zero
  kDomain = 3,         // log of x <= 0, sqrt of x < 0
  kNotFinite = 4,      // a real result that is NaN or infinite
  kIntOverflow = 5,    // an int result beyond 2^53
  kIndexRange = 6,     // an array index outside [0, n)
  kAssertFailed = 7,   // an assert was false
  // Random modules only (JitModel):
  kInvalidParameter = 8, // a distribution parameter is invalid (symbolic::validateParams)
  kFlatPrior = 9,        // a sample from a flat prior, which nothing can be drawn from
  kFactorNaN = 10,       // factor(NaN)
  // Ahead-of-time random modules only (chassis_rt_run_seeded): the run completed, but a
  // condition was false (its outputs are written; its log weight is -infinity).
  kConditionFailed = 11,
};
/// "ok", "input invalid", "division by zero", ...
std::string_view errorCodeName(int code);

/// The C name of the compiled function of `f`: "chassis_" + its name (characters that are not
/// letters, digits or '_' become '_').
std::string symbolName(const ir::Function& f);

/// Whether `f` can be compiled: an Error at the first unsupported construct, or ok.
Status checkCompilable(const ir::Function& f);
/// Whether JitModel can compile `f` (random modules too): an Error at the first unsupported
/// construct, or ok.
Status checkCompilableRandom(const ir::Function& f);

/// The LLVM IR of `f` (and the functions it calls) as text, after the O2 pipeline when `optimize`;
/// `withRuntime`: as JitModel compiles it (random modules compile, with the runtime argument);
/// `lwBlock` (with it): with JitModel::runLwBlock's loop, the `_lwblock` function.
Expected<std::string> emitLlvmIr(const ir::Function& f, bool optimize = true,
                                 bool withRuntime = false, bool lwBlock = false);

/// An object file (ELF for the host, position independent) defining `symbolName(f)`, compiled at
/// O2 for the generic CPU of the target (runs on any x86-64), or, with `hostCpu`, for this
/// machine's CPU and its features (AVX2/AVX-512 where present: the object may not run elsewhere).
/// The bytes are returned, so the caller writes the file whole.
/// A deterministic function also gets `int chassis_M_batch(const double* in, double* out, size_t
/// rows)`: rows one after the other, each row's outputs those of chassis_M bit for bit, 0 or the
/// first failing row's code. A network that is a plain chain of dense (ReLU) layers runs it in
/// tiles of rows, 8 rows x 4 outputs accumulated in vector registers (each weight read once per
/// 8 rows; every row's sums in the same order); anything else is a loop over chassis_M.
/// A random module (f.isRandom()) compiles too, as
///     int chassis_M(const double* in, double* out, uint64_t seed, double* log_weight);
/// which runs the module once on the generator chassis::Rng(seed) (the stream of `chassis run
/// --seed`) through chassis_rt_run_seeded (runtime.h); the object then calls the runtime's C
/// functions, which are in aotRuntimeArchive(): link both.
Expected<std::string> compileObject(const ir::Function& f, bool hostCpu = false);

/// The static archive (ar format, position independent x86-64 objects) holding the runtime a
/// compiled random module calls: codegen/runtime.cpp with the samplers and densities of
/// symbolic/distributions.cpp and special.cpp and the generator of spec/rng.cpp, the very code
/// the interpreter runs, compiled when Chassis was built and embedded in it. It is C++ (it needs
/// libstdc++ and libm at link time: `cc prog.c m.o m_runtime.a -lstdc++ -lm`).
std::string_view aotRuntimeArchive();

/// The C header declaring the compiled function, its calling convention and error codes, and the
/// position of every input and output in `in` / `out` (for a random module, the seeded
/// convention of compileObject and how to link its runtime archive).
std::string cHeader(const ir::Function& f, const ir::Context& ctx, const std::string& sourceFile);

/// `f` compiled in process by ORC LLJIT (O2, host CPU). Callable from any thread once built.
class JitFunction {
public:
  using Fn = int (*)(const double* in, double* out);
  static Expected<std::unique_ptr<JitFunction>> create(const ir::Function& f);
  ~JitFunction();
  JitFunction(const JitFunction&) = delete;
  JitFunction& operator=(const JitFunction&) = delete;

  int operator()(const double* in, double* out) const { return fn_(in, out); }
  Fn function() const { return fn_; }
  /// Number of doubles of `in` and `out`.
  size_t numInputs() const { return numIn_; }
  size_t numOutputs() const { return numOut_; }

private:
  JitFunction() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Fn fn_ = nullptr;
  size_t numIn_ = 0, numOut_ = 0;
};

/// A random (or deterministic) module compiled by ORC LLJIT with the runtime of codegen/runtime.h.
/// Callable from any thread once built (one JitRuntime per run).
class JitModel {
public:
  using Fn = int (*)(const double* in, double* out, void* rt);
  /// Compiles `f` and the functions it calls; an Error (located) for a network that is not
  /// loaded or a frame too large, as for JitFunction. `lwBlock`: also runLwBlock's loop (a
  /// second, untraced copy of the module's code: more to compile, for likelihood weighting).
  static Expected<std::unique_ptr<JitModel>> create(const ir::Function& f, bool lwBlock = true);
  ~JitModel();
  JitModel(const JitModel&) = delete;
  JitModel& operator=(const JitModel&) = delete;

  int operator()(const double* in, double* out, JitRuntime& rt) const { return fn_(in, out, &rt); }
  /// Whether runLwBlock is there (create's lwBlock).
  bool hasLwBlock() const { return lwBlock_ != nullptr; }
  /// Likelihood weighting's untraced runs, `n` back to back in one generated loop (the module's
  /// code inlined, the generator's state and the run's totals in registers): run i on the
  /// generator *rt.rng as operator() on a fresh JitRuntime would run it, its outputs at
  /// rows + i * numOutputs(), its log weight (logLikelihood + logFactor, -infinity when a
  /// condition failed) at logWeights[i]. Returns kOk with done = n and *rt.rng advanced past
  /// the runs; or the code of the first failing run, done = its index, rt.errSite its site and
  /// *rt.rng the state that run started from.
  int runLwBlock(const double* in, double* rows, JitRuntime& rt, int64_t n, double* logWeights,
                 int64_t& done) const {
    return lwBlock_(in, rows, &rt, n, logWeights, &done);
  }
  size_t numInputs() const { return numIn_; }
  size_t numOutputs() const { return numOut_; }
  /// Where a failed run failed: the statement of site `errSite`, or the module for -1.
  const SourceLoc& siteLocation(int errSite) const;
  /// The names of choices and call sites by the id their address keys use (runtime.h JitChoice).
  const std::vector<std::string>& choiceNames() const;
  /// Wall seconds spent generating, optimising and compiling the code.
  double compileSeconds() const { return compileSeconds_; }

private:
  JitModel() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  using LwBlockFn = int (*)(const double* in, double* rows, void* rt, int64_t n,
                           double* logWeights, int64_t* done);
  Fn fn_ = nullptr;
  LwBlockFn lwBlock_ = nullptr;
  size_t numIn_ = 0, numOut_ = 0;
  double compileSeconds_ = 0;
};

} // namespace chassis::codegen

// `chassis infer FILE Module --method exact|lw|mh|nuts|smc ...`: inference on a .chs model. The
// options are added to the `infer` subcommand of tools/cmd_infer.cpp (which handles .bif
// networks) by addChsInferOptions; the returned function runs a .chs model:
//   --method exact|lw|mh|nuts|smc  (default mh)   --samples N (per chain; LW traces; SMC particles)
//   --chains K  --warmup W  --thin T  --seed S  --data data.json  --input x=1  --query a,b  --json
//   --timing (the inference time on stderr). --method nuts dispatches to symbolic::inferNuts;
//   its settings --adapt-delta D --max-depth K --init R --metric diag|dense (CmdStan's adapt
//   delta, max_depth, init, metric; dense: a full covariance adapted in the same windows),
//   and after the table the sampler's state per chain (step size, tree depth, divergences,
//   transitions at the maximum depth), with a warning when divergences or depth hits occur.
//   --plot out.html: a self-contained page (inline SVG, no script or network access) with a trace
//   plot (MCMC) and a density per quantity (tools/posterior_plot.h); not for --method exact.
//   --output draws.csv (nuts only): the draws in CmdStan's CSV layout (symbolic/stan_csv.h), one
//   file per chain, draws_1.csv ... draws_K.csv when K > 1 (CmdStan's naming), draws.csv for one.
// --method smc: --smc-moves M --smc-lag L (rejuvenation, symbolic/infer_smc.h).
// --backend interp|jit|auto (default auto: the JIT where it pays): jit compiles the module with LLVM (codegen/
//   codegen.h's JitModel) once per run and runs --method lw's traces as native code, the
//   interpreter's streams and weights bit for bit (codegen/infer_lw_jit.h), and --method mh's
//   re-executions as traced compiled runs, the interpreter's chains bit for bit (codegen/
//   infer_mh_jit.h); smc and exact stay interpreted (an error says why). auto picks jit
//   where it pays, for a module that compiles: --method lw with at least kJitPaysFromTraces
//   traces and a query of outputs only; --method mh from kJitPaysFromMhSweeps sweeps (chains x
//   iterations); else interp. (Measured on bench/webppl's gauss: compiling took 20-60 ms and
//   saved 0.7-1.3 us per LW trace, so it pays from 15000-85000 traces, 50000 is the middle; and
//   about 1.5 us per MH move, one move per sweep there, so from about 25000 sweeps. A larger
//   module compiles longer and saves more per trace or sweep.) Under mpirun, mh's chains stay
//   interpreted (tools/mpi_chains.h). --verbose prints the backend chosen and its compile time
//   on stderr (--timing prints the compile time too).
//   --method nuts: jit compiles the log density's AD tape (fused, as interp runs it; recorded at
//   chain 0's first position) with its gradient by LLVM (codegen/tape_compiler.h) before the
//   run, and every chain evaluates the compiled function (the same draws at a seed as interp; a
//   point where the compiled code cannot answer, or where control flow changes, goes to the
//   tape, which re-records; a tape that does not compile stays interpreted, said under
//   --verbose). auto estimates the run's gradients as chains x iterations x
//   kNutsLeapfrogsPerIteration and times the tape's gradient (20 ms); when all of them on the
//   tape take less than twice the least a compilation of the tape's size costs
//   (kTapeCompileLeastSeconds...), it does not compile; else it compiles, times the compiled
//   gradient, and takes jit when it is faster than the tape (by 5%: the compile time is spent
//   either way, and the chains share the compilation); --verbose prints the figures. Under mpirun the chains stay interpreted.
// The output is a table (one row per quantity: mean, sd, 5%, 50%, 95%, R-hat, ESS bulk/tail,
// MCSE; for exact the full distribution of each discrete quantity and log P(evidence)) or JSON
// (symbolic/summary.h); the same --seed gives byte-identical output. A progress bar goes to
// stderr when stderr is a terminal. Exit codes: 0 done; 2 bad input or a model the method cannot
// handle (with the reason); 1 a run-time failure of the model (assert, invalid parameter, ...).
#include "tools/command.h"

#include "codegen/codegen.h"
#include "codegen/infer_lw_jit.h"
#include "codegen/infer_mh_jit.h"
#include "codegen/tape_compiler.h"
#include "tools/json_report.h"

#include "spec/diagnostics.h"
#include "spec/run_control.h"
#include "symbolic/infer.h"
#include "symbolic/infer_exact.h"
#include "symbolic/infer_lw.h"
#include "symbolic/infer_mh.h"
#include "symbolic/infer_smc.h"
#include "symbolic/stan_csv.h"
#include "symbolic/summary.h"
#include "tools/model_input.h"
#include "tools/mpi_chains.h"
#include "tools/mpi_world.h"
#include "tools/output_file.h"
#include "tools/posterior_plot.h"

#include "symbolic/ad.h"
#include "symbolic/infer_nuts.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

namespace chassis::tools {

using ChsRunner = std::function<int(const std::string& model, const std::string& module,
                                    const std::vector<std::string>& query,
                                    const std::vector<std::string>& evidence, bool json)>;

namespace {

/// --backend auto: the traces from which compiling pays (see the header comment).
constexpr size_t kJitPaysFromTraces = 50000;
/// --backend auto, --method mh: the sweeps (chains x iterations) from which compiling pays.
constexpr size_t kJitPaysFromMhSweeps = 25000;
/// --backend auto, --method nuts: the gradients per iteration the estimate assumes (a tree of
/// depth 4; Stan's posteriors typically take depth 2-5).
constexpr double kNutsLeapfrogsPerIteration = 16;
/// --backend auto, --method nuts: the least a tape's compilation costs (CPU seconds: a fixed
/// part and a part per node; from below the bench models' 12-41 ms for 3-20 nodes at O2 and
/// 0.74-0.80 s for GARCH's 1609 at the lean level, codegen/tape_compiler.h).
constexpr double kTapeCompileLeastSeconds = 0.01, kTapeCompileLeastSecondsPerNode = 3e-4;

struct ChsOptions {
  std::string method = "mh";
  size_t samples = 1000, chains = 4, warmup = 1000, thin = 1;
  uint64_t seed = 0;
  std::string data;
  std::vector<std::string> inputs;
  bool timing = false;
  bool quiet = false; // --quiet: no progress bar, no warnings on stderr (results and errors only)
  std::string output; // --output: Stan CSV files (NUTS only)
  std::string plot;   // --plot: trace and density SVGs in one HTML page (tools/posterior_plot.h)
  // NUTS settings (CmdStan's adapt delta, max_depth and init); unset: the defaults.
  std::optional<double> adaptDelta, init;
  std::optional<int> maxDepth;
  std::string metric; // --metric diag|dense (NUTS); empty: diag
  std::optional<size_t> smcMoves, smcLag; // SMC rejuvenation; unset: the defaults
  std::string backend = "auto";           // --backend interp|jit|auto
  bool verbose = false;
};

/// The `condition` statements of `f` and of the functions it calls (each function once).
void findConditions(const ir::Function& f, std::vector<const ir::Function*>& seen,
                    std::vector<SourceLoc>& found) {
  if (std::find(seen.begin(), seen.end(), &f) != seen.end()) return;
  seen.push_back(&f);
  std::function<void(const ir::Block&)> walk = [&](const ir::Block& b) {
    for (ir::Stmt s : b) {
      if (s->as<ir::ConditionStmt>()) found.push_back(s->loc());
      if (auto* i = s->as<ir::IfStmt>()) walk(i->thenBody), walk(i->elseBody);
      if (auto* l = s->as<ir::ForStmt>()) walk(l->body);
      if (auto* c = s->as<ir::CallStmt>()) findConditions(*c->callee, seen, found);
    }
  };
  walk(f.body());
}

/// NUTS follows the gradient of a smooth log density; `condition(b)` makes the density 0 on a
/// region, which the sampler can neither see coming nor cross. Warned at each condition.
void warnHardConstraints(const ir::Function& f) {
  std::vector<const ir::Function*> seen;
  std::vector<SourceLoc> found;
  findConditions(f, seen, found);
  for (const SourceLoc& l : found)
    std::cerr << (l.file.empty() ? std::string("<input>") : l.file) << ":" << l.line << ":"
              << l.col
              << ": warning: condition(...) is a hard constraint: the log density is -inf where "
                 "it fails, which breaks NUTS (HMC needs a smooth density); use a constrained "
                 "parameter (e.g. a distribution with the right support) or a soft factor(...) "
                 "penalty, or another --method\n";
}

/// The Stan CSV file of chain c (0-based) of `chains`: `draws.csv` itself for one chain, else
/// CmdStan's convention `draws_1.csv`, `draws_2.csv`, ... (the suffix before the extension).
std::string chainFile(const std::string& output, size_t c, size_t chains) {
  if (chains <= 1) return output;
  size_t slash = output.find_last_of('/');
  size_t dot = output.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash) || dot == 0 ||
      (slash != std::string::npos && dot == slash + 1))
    return output + "_" + std::to_string(c + 1);
  return output.substr(0, dot) + "_" + std::to_string(c + 1) + output.substr(dot);
}

/// Writes one Stan CSV file per chain (symbolic/stan_csv.h); false after a diagnostic.
bool writeStanCsvFiles(const ChsOptions& o, const std::string& file, const std::string& module,
                       const symbolic::Posterior& p, const symbolic::NutsResult& run,
                       const symbolic::InferOptions& opt) {
  std::vector<symbolic::StanCsvChain> chains = symbolic::stanCsvChainsOf(p, run);
  for (size_t c = 0; c < chains.size(); ++c) {
    symbolic::StanCsvSettings s;
    s.model = module;
    s.modelFile = file;
    s.dataFile = o.data;
    s.numSamples = opt.samples * opt.thin; // CmdStan's num_samples counts iterations
    s.numWarmup = opt.warmup;
    s.thin = opt.thin;
    s.numChains = run.chains.size();
    s.chainId = c + 1;
    s.seed = opt.seed;
    s.adaptDelta = opt.targetAccept;
    s.maxDepth = opt.maxTreeDepth;
    s.init = opt.initRadius;
    s.denseMetric = opt.denseMetric;
    s.outputFile = chainFile(o.output, c, run.chains.size());
    std::ostringstream text;
    symbolic::writeStanCsv(text, s, chains[c]);
    if (!writeFileAtomic(s.outputFile, text.str())) return false;
  }
  return true;
}

/// A one-line progress bar on stderr, redrawn when the percentage changes.
struct ProgressBar {
  int last = -1;
  void operator()(double frac) {
    int pct = int(frac * 100);
    if (pct == last) return;
    last = pct;
    std::string bar(size_t(pct / 5), '#');
    std::fprintf(stderr, "\r[%-20s] %3d%%", bar.c_str(), pct);
    if (pct >= 100) std::fprintf(stderr, "\r%30s\r", "");
    std::fflush(stderr);
  }
};

/// --method nuts with --backend jit or auto: the tape compiled before the run (cached for the
/// chains), and whether to use it.
struct NutsJitPlan {
  bool use = false;
  double compileSeconds = 0;
  std::string note; // for --verbose
  std::shared_ptr<codegen::TapeJitStats> stats;
};

/// CPU seconds per call of `f` (the thread's CPU time, which other processes on a loaded
/// machine do not inflate), timed over at least 20 ms.
template <typename F> double secondsPerCall(F f) {
  const double start = codegen::threadCpuSeconds();
  size_t n = 0;
  double elapsed = 0;
  do {
    for (int k = 0; k < 16; ++k)
      f();
    n += 16;
    elapsed = codegen::threadCpuSeconds() - start;
  } while (elapsed < 0.02);
  return elapsed / double(n);
}

NutsJitPlan planNutsJit(const ir::Function& f, const std::vector<symbolic::Value>& inputs,
                        const symbolic::InferOptions& opt, bool autoMode) {
  NutsJitPlan plan;
  char buf[512];
  // Chain 0's tape, recorded where runNuts records it (fused, as the run's), so that its
  // compilation is found cached.
  symbolic::LogDensityTape tape(f, inputs);
  Rng rng = Rng(opt.seed).split(0);
  auto u0 = tape.initialize(rng, opt.initRadius);
  if (!u0) { // the run reports the model's error itself
    plan.note = "interp (no tape recorded: " + u0.error().message + ")";
    return plan;
  }
  const double evals = double(std::max<size_t>(1, opt.chains)) *
                       double(opt.warmup + opt.samples * opt.thin) * kNutsLeapfrogsPerIteration;
  std::vector<double> grad(u0->size());
  double tInterp = 0;
  if (autoMode) {
    // Without compiling: when all the tape's gradients of the run take less than twice what
    // compiling a tape of this size costs at least, no compiled gradient can pay.
    tInterp = secondsPerCall([&] { (void)tape.logDensity(*u0, grad); });
    const double leastCompile =
        kTapeCompileLeastSeconds + double(tape.tapeSize()) * kTapeCompileLeastSecondsPerNode;
    if (evals * tInterp < 2 * leastCompile) {
      std::snprintf(buf, sizeof buf,
                    "interp (auto: about %.0f gradients of %.2f us on the tape, %.3f s, less "
                    "than twice the %.0f ms compiling its %zu nodes takes at least: not compiled)",
                    evals, tInterp * 1e6, evals * tInterp, leastCompile * 1e3, tape.tapeSize());
      plan.note = buf;
      return plan;
    }
  }
  auto compiled = codegen::CompiledTape::compile(tape.view());
  if (!compiled) {
    plan.note = "interp (" + compiled.error().message + ")";
    return plan;
  }
  plan.compileSeconds = (*compiled)->compileSeconds();
  const double compileCpu = (*compiled)->compileCpuSeconds();
  plan.stats = std::make_shared<codegen::TapeJitStats>();
  std::snprintf(buf, sizeof buf,
                "jit, the log density's tape (%zu nodes) compiled by LLVM %s in %.1f ms "
                "(%.1f ms CPU)",
                tape.tapeSize(), (*compiled)->levelName(),
                plan.compileSeconds * 1e3, compileCpu * 1e3);
  plan.note = buf;
  if (!autoMode) {
    plan.use = true;
    return plan;
  }
  double lp;
  std::vector<double> work((*compiled)->workSize());
  const double tJit =
      secondsPerCall([&] { (void)(**compiled)(u0->data(), grad.data(), &lp, work.data()); });
  // The compilation is done (and cached for the chains): its cost is spent whichever gradient
  // the run takes, so the faster one is taken (by at least 5%: the timings' noise).
  const double saved = evals * (tInterp - tJit);
  plan.use = tJit < 0.95 * tInterp;
  std::snprintf(buf, sizeof buf,
                " (auto: a gradient takes %.2f us compiled, %.2f us on the tape (CPU); about "
                "%.0f gradients: %.3f s saved, after %.3f s compiling: %s)",
                tJit * 1e6, tInterp * 1e6, evals, saved, compileCpu,
                plan.use ? "the compiled gradient" : "the tape (not faster compiled)");
  plan.note = (plan.use ? plan.note : "interp, " + plan.note) + buf;
  return plan;
}

int runChs(const ChsOptions& o, const std::string& file, const std::string& module,
           const std::vector<std::string>& query, const std::vector<std::string>& evidence,
           bool json) {
  spec::DiagnosticEngine diags;
  if (!evidence.empty()) {
    std::cerr << "error: --evidence is for .bif networks; in a .chs model write the evidence as "
                 "observe(...) or condition(...), or bind it with --input/--data\n";
    return kUsage;
  }
  symbolic::InferOptions opt;
  if (o.method == "exact") opt.method = symbolic::InferMethod::Exact;
  else if (o.method == "lw") opt.method = symbolic::InferMethod::LW;
  else if (o.method == "mh") opt.method = symbolic::InferMethod::MH;
  else if (o.method == "nuts") opt.method = symbolic::InferMethod::NUTS;
  else if (o.method == "smc") opt.method = symbolic::InferMethod::SMC;
  else {
    std::cerr << "error: unknown --method '" << o.method << "' (expected exact, lw, mh, nuts or smc)\n";
    return kUsage;
  }
  if (o.adaptDelta || o.maxDepth || o.init) {
    if (opt.method != symbolic::InferMethod::NUTS) {
      std::cerr << "error: --adapt-delta, --max-depth and --init are settings of --method nuts\n";
      return kUsage;
    }
    if (o.adaptDelta && !(*o.adaptDelta > 0 && *o.adaptDelta < 1)) {
      std::cerr << "error: --adapt-delta must be in (0, 1), got " << *o.adaptDelta << "\n";
      return kUsage;
    }
    if (o.maxDepth && (*o.maxDepth < 1 || *o.maxDepth > 30)) {
      std::cerr << "error: --max-depth must be in [1, 30], got " << *o.maxDepth << "\n";
      return kUsage;
    }
    if (o.init && !(*o.init >= 0 && std::isfinite(*o.init))) {
      std::cerr << "error: --init must be a finite radius >= 0, got " << *o.init << "\n";
      return kUsage;
    }
    if (o.adaptDelta) opt.targetAccept = *o.adaptDelta;
    if (o.maxDepth) opt.maxTreeDepth = *o.maxDepth;
    if (o.init) opt.initRadius = *o.init;
  }
  if (!o.metric.empty()) {
    if (opt.method != symbolic::InferMethod::NUTS) {
      std::cerr << "error: --metric is a setting of --method nuts\n";
      return kUsage;
    }
    if (o.metric != "diag" && o.metric != "dense") {
      std::cerr << "error: unknown --metric '" << o.metric << "' (expected diag or dense)\n";
      return kUsage;
    }
    opt.denseMetric = o.metric == "dense";
  }
  if (o.smcMoves || o.smcLag) {
    if (opt.method != symbolic::InferMethod::SMC) {
      std::cerr << "error: --smc-moves and --smc-lag are settings of --method smc\n";
      return kUsage;
    }
    if (o.smcMoves) opt.smcRejuvenationMoves = *o.smcMoves;
    if (o.smcLag) opt.smcRejuvenationLag = *o.smcLag;
  }
  if (!o.output.empty()) {
    if (opt.method != symbolic::InferMethod::NUTS) {
      std::cerr << "error: --output writes CmdStan's sampler CSV, which only --method nuts "
                   "produces (its lp__, accept_stat__, ... columns); "
                << o.method << " has no such draws\n";
      return kUsage;
    }
    std::vector<std::string> files;
    for (size_t c = 0; c < std::max<size_t>(1, o.chains); ++c)
      files.push_back(chainFile(o.output, c, o.chains));
    if (!checkWritable(files)) return kUsage;
  }
  if (!o.plot.empty()) {
    if (opt.method == symbolic::InferMethod::Exact) {
      std::cerr << "error: --plot draws traces and densities of samples; --method exact has no "
                   "draws (its distributions are printed exactly)\n";
      return kUsage;
    }
    if (!checkWritable({o.plot})) return kUsage;
  }
  if (o.backend != "interp" && o.backend != "jit" && o.backend != "auto") {
    std::cerr << "error: --backend takes interp, jit or auto, got '" << o.backend << "'\n";
    return kUsage;
  }
  if (o.backend == "jit" && opt.method != symbolic::InferMethod::LW &&
      opt.method != symbolic::InferMethod::MH && opt.method != symbolic::InferMethod::NUTS) {
    std::cerr << "error: --backend=jit runs --method lw, mh and nuts only, not " << o.method
              << " (not compiled yet: smc suspends runs after observes; exact builds factors): "
                 "use --backend=interp\n";
    return kUsage;
  }
  LoadedModel m;
  if (int rc = loadModel(file, module, o.inputs, o.data, diags, m); rc != kOk) return rc;
  // auto: only when every quantity is an output (compiled runs record no choices).
  auto namesOutput = [&](const std::string& q) {
    const std::string base = q.substr(0, q.find('['));
    for (const ir::Var* out : m.function->outputs())
      if (out->name() == base) return true;
    return false;
  };
  const bool outputsOnly = !m.function->outputs().empty() &&
                           std::all_of(query.begin(), query.end(), namesOutput);
  const bool autoJit =
      o.backend == "auto" && mpi::worldSize() <= 1 && // under mpirun the chains are interpreted
      codegen::checkCompilableRandom(*m.function) &&
      ((opt.method == symbolic::InferMethod::LW && o.samples >= kJitPaysFromTraces &&
        outputsOnly) ||
       (opt.method == symbolic::InferMethod::MH &&
        std::max<size_t>(1, o.chains) * (o.warmup + o.samples * std::max<size_t>(1, o.thin)) >=
            kJitPaysFromMhSweeps));
  // jit: the module compiled once for the run (codegen/codegen.h).
  std::unique_ptr<codegen::JitModel> jit;
  if ((o.backend == "jit" && (opt.method == symbolic::InferMethod::LW ||
                              opt.method == symbolic::InferMethod::MH)) ||
      autoJit) {
    auto compiled = codegen::JitModel::create(*m.function,
                                              /*lwBlock=*/opt.method == symbolic::InferMethod::LW);
    if (!compiled) {
      diags.report(compiled.error());
      diags.print(std::cerr);
      return kUsage;
    }
    jit = std::move(*compiled);
    if (o.verbose)
      std::fprintf(stderr, "backend: jit, %s compiled by LLVM in %.1f ms\n", module.c_str(),
                   jit->compileSeconds() * 1e3);
  } else if (o.verbose && opt.method != symbolic::InferMethod::NUTS) {
    std::fprintf(stderr, "backend: interp%s\n",
                 o.backend == "auto" ? " (auto: jit only for --method lw from 50000 traces of a "
                                       "module that compiles, querying outputs, and --method mh "
                                       "from 25000 sweeps)"
                                     : "");
  }
  opt.samples = o.samples;
  opt.chains = o.chains;
  opt.warmup = o.warmup;
  opt.thin = o.thin;
  opt.seed = o.seed;
  NutsJitPlan nutsJit;
  if (opt.method == symbolic::InferMethod::NUTS && o.backend != "interp" && mpi::worldSize() <= 1)
    nutsJit = planNutsJit(*m.function, m.inputs, opt, o.backend == "auto");
  if (opt.method == symbolic::InferMethod::NUTS && o.verbose)
    std::fprintf(stderr, "backend: %s\n",
                 o.backend == "interp" ? "interp" : nutsJit.note.c_str());
  opt.query = query;
  ProgressBar bar;
  if (!o.quiet && isatty(2) && o.samples * std::max<size_t>(1, o.chains) >= 10000)
    opt.progress = [&bar](double f) { bar(f); };

  Expected<symbolic::Posterior> post = Error("unreachable");
  symbolic::NutsResult nutsRun;
  // Under mpirun the chains of mh and nuts run on every rank (tools/mpi_chains.h); rank 0 reports.
  auto onRanks =
      inferChainsOnRanks(*m.function, m.inputs, opt, o.output.empty() ? nullptr : &nutsRun);
  if (mpi::rank() != 0) return kOk;
  if (onRanks && opt.method == symbolic::InferMethod::NUTS && !o.quiet)
    warnHardConstraints(*m.function);
  if (onRanks) post = std::move(*onRanks);
  else switch (opt.method) {
  case symbolic::InferMethod::Exact: post = symbolic::inferExact(*m.function, m.inputs, opt); break;
  case symbolic::InferMethod::LW:
    post = jit ? codegen::inferLwCompiled(*m.function, m.inputs, opt, *jit)
               : symbolic::inferLw(*m.function, m.inputs, opt);
    break;
  case symbolic::InferMethod::MH:
    post = jit ? codegen::inferMhCompiled(*m.function, m.inputs, opt, *jit)
               : symbolic::inferMh(*m.function, m.inputs, opt);
    break;
  case symbolic::InferMethod::SMC: post = symbolic::inferSmc(*m.function, m.inputs, opt); break;
  case symbolic::InferMethod::NUTS:
    if (!o.quiet) warnHardConstraints(*m.function);
    if (nutsJit.use) {
      symbolic::NutsOptions no = symbolic::nutsOptionsOf(opt);
      no.gradient = codegen::compiledGradient(nutsJit.stats);
      const auto start = std::chrono::steady_clock::now();
      auto r = symbolic::runNuts(*m.function, m.inputs, no);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (r)
        post = symbolic::nutsPosterior(*m.function, opt, std::move(*r), seconds,
                                       o.output.empty() ? nullptr : &nutsRun);
      else
        post = r.error();
      if (o.verbose) {
        const codegen::TapeJitStats& st = *nutsJit.stats;
        std::fprintf(stderr,
                     "backend: jit: %zu gradients compiled, %zu on the tape; tapes compiled "
                     "during the run %zu (%.1f ms), found compiled %zu; chains that stayed "
                     "interpreted %zu%s%s\n",
                     st.compiledEvals.load(), st.interpretedEvals.load(), st.compiles.load(),
                     st.compileSeconds * 1e3, st.cacheHits.load(), st.gaveUp.load(),
                     st.firstFailure.empty() ? "" : "; ", st.firstFailure.c_str());
      }
    } else {
      post = symbolic::inferNuts(*m.function, m.inputs, opt, o.output.empty() ? nullptr : &nutsRun);
    }
    break;
  }
  if (opt.progress) bar(1.0);
  // Stopped (SIGINT, --time-limit, --memory): no summaries of a cut-short run, no CSV files;
  // tools/run_limits.h prints why and gives the exit code.
  if (run::stopRequested()) return kOk;
  if (!post) {
    diags.report(post.error());
    diags.print(std::cerr);
    // A model the method cannot handle (exact's refusals, a bad option) is a usage error; a
    // failure while running the model (located at a statement) is a run-time failure.
    const bool located = post.error().loc.line > 0;
    return located && opt.method != symbolic::InferMethod::Exact ? kFailure : kUsage;
  }
  if (o.timing && !std::isnan(post->seconds)) {
    // On stderr, so stdout stays byte-identical for a seed.
    const double draws = double(post->samplesPerChain) * double(std::max<size_t>(1, post->chains));
    std::fprintf(stderr, "timing: %s inference %.3f ms", symbolic::methodName(opt.method).c_str(),
                 post->seconds * 1e3);
    if (opt.method != symbolic::InferMethod::Exact && post->seconds > 0)
      std::fprintf(stderr, ", %.0f samples/s", draws / post->seconds);
    if (jit)
      std::fprintf(stderr, ", backend jit (compile %.3f ms, excluded)",
                   jit->compileSeconds() * 1e3);
    if (nutsJit.use)
      std::fprintf(stderr, ", backend jit (tape compile %.3f ms, excluded)",
                   nutsJit.compileSeconds * 1e3);
    std::fprintf(stderr, " (summaries and start-up excluded)\n");
  }
  if (!o.output.empty() && !writeStanCsvFiles(o, file, module, *post, nutsRun, opt)) return kUsage;
  if (!o.plot.empty() &&
      !writeFileAtomic(o.plot,
                       posteriorPlotHtml(*post, "chassis infer " + module + " (" + file +
                                                    ", seed " + std::to_string(o.seed) + ")")))
    return kUsage;
  if (json) {
    auto j = symbolic::toJson(*post);
    j["module"] = module;
    j["seed"] = o.seed;
    printReport("infer", file,
                nlohmann::ordered_json{{"module", module},
                                       {"method", symbolic::methodName(opt.method)},
                                       {"seed", o.seed}},
                j);
  } else {
    std::cout << "module = " << module << ", seed = " << o.seed << "\n";
    symbolic::printTable(*post, m.program->ctx(), std::cout);
  }
  return kOk;
}

} // namespace

/// Adds the .chs options to `app` (the `infer` subcommand); the result runs a .chs model once
/// the command line is parsed.
ChsRunner addChsInferOptions(CLI::App& app) {
  auto o = std::make_shared<ChsOptions>();
  app.add_option("--method", o->method, "exact | lw | mh | nuts | smc (.chs models; default mh)");
  app.add_option("--samples", o->samples,
                 "draws per chain (MCMC), traces (lw) or particles (smc); default 1000");
  app.add_option("--chains", o->chains, "MCMC chains, one RNG stream each (default 4)");
  app.add_option("--warmup", o->warmup, "MCMC warm-up iterations per chain (default 1000)");
  app.add_option("--thin", o->thin, "keep every T-th MCMC draw (default 1)");
  app.add_option("--seed", o->seed, "the random seed (default 0)");
  app.add_option("--data", o->data, "a JSON object binding the module's inputs by name");
  app.add_option("--input", o->inputs, "an input: name=value (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--output", o->output,
                 "--method nuts: write the draws as CmdStan CSV, one file per chain (draws.csv -> "
                 "draws_1.csv, draws_2.csv, ... when --chains > 1)");
  app.add_option("--adapt-delta", o->adaptDelta,
                 "--method nuts: the target acceptance statistic of step-size adaptation, in "
                 "(0, 1) (default 0.8; raise it, e.g. to 0.95, against divergences)");
  app.add_option("--max-depth", o->maxDepth,
                 "--method nuts: the maximum tree depth, 1..30 (default 10)");
  app.add_option("--init", o->init,
                 "--method nuts: initial positions uniform in (-R, R) on the unconstrained "
                 "scale (default 2; 0 starts every chain at 0)");
  app.add_option("--metric", o->metric,
                 "--method nuts: diag (default) or dense, the metric adapted in warm-up (dense: "
                 "a full covariance, for correlated posteriors)");
  app.add_option("--smc-moves", o->smcMoves,
                 "--method smc: Metropolis-Hastings rejuvenation steps per particle after each "
                 "resampling (default 2; 0: none)");
  app.add_option("--smc-lag", o->smcLag,
                 "--method smc: the rejuvenation steps move choices drawn since the last L "
                 "observes (default 1)");
  app.add_option("--plot", o->plot,
                 "write a self-contained HTML page with a trace and a density SVG per quantity "
                 "(sampling methods)");
  app.add_flag("-q,--quiet", o->quiet,
               "no progress bar and no warnings on standard error: the results (and errors) "
               "only (as -q/--quiet in train and compare; -q was --query before this release)");
  app.add_option("--backend", o->backend,
                 "auto (default: jit for lw from 50000 traces, mh from 25000 sweeps, nuts "
                 "when compiling pays, else interp), interp, or jit (--method lw or mh on the "
                 "module compiled by LLVM, --method nuts on the log density's gradient compiled "
                 "by LLVM: the same draws at a seed)");
  app.add_flag("--verbose", o->verbose, "print the backend (and the JIT's compile time) on stderr");
  app.add_flag("--timing", o->timing,
               "print the inference time on stderr (summaries and start-up excluded)");
  return [o](const std::string& model, const std::string& module,
             const std::vector<std::string>& query, const std::vector<std::string>& evidence,
             bool json) { return runChs(*o, model, module, query, evidence, json); };
}

} // namespace chassis::tools

// Sampler output in CmdStan's CSV layout, so that CmdStanPy, ArviZ (from_cmdstan) and R's
// `posterior` (read_cmdstan_csv) read Chassis draws, and `chassis summary` reads CmdStan's.
//
// One file per chain (the file layout of CmdStan's `sample` method, "Stan CSV"):
//   1. a comment header, CmdStan's `# key = value` lines indented two spaces per level
//      (`# model = EightSchools`, `# method = sample (Default)`, `#   sample`, `#     num_samples
//      = 1000`, ..., `# id = 1`, `# random`, `#   seed = 0`); a value Chassis uses unchanged from
//      CmdStan's default is marked ` (Default)` as CmdStan does;
//   2. the column header: lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,
//      energy__ and then the quantities, named the Stan way: Chassis' 0-based `theta[0]` is
//      `theta.1`, `a[1][2]` is `a.2.3` (stanColumnName / chassisName convert);
//   3. the adaptation block: `# Adaptation terminated`, `# Step size = eps`,
//      `# Diagonal elements of inverse mass matrix:`, `# m1, m2, ...`;
//   4. one row per kept draw, each number printed with %.17g, so that reading a file back gives
//      every double bit for bit (CmdStan's default is 6 significant digits, which loses it);
//   5. the timing block `#  Elapsed Time: X seconds (Warm-up)` / `(Sampling)` / `(Total)`.
// lp__ is the log density of the unconstrained position with the Jacobian of the transform, like
// Stan's, but with the distributions' normalising constants included (Stan drops them), so the
// two differ by a constant: compare lp__ only within one program.
//
// The reader accepts the same layout from CmdStan: comments anywhere, blank lines, CRLF line ends,
// rows before `# Adaptation terminated` kept apart as warm-up draws (CmdStan's save_warmup=1),
// files without an adaptation block (fixed_param). Errors are located as file:line:col: a row with
// more or fewer values than the header, a value that is not a number (nan and inf are numbers), a
// header without lp__, an empty or duplicated column name, a file without a header.
#pragma once

#include "spec/error.h"
#include "symbolic/infer.h"
#include "symbolic/infer_nuts.h"

#include <istream>
#include <map>
#include <ostream>
#include <span>
#include <string>
#include <vector>

namespace chassis::symbolic {

/// CmdStan's sampler diagnostic columns, in CmdStan's order.
inline constexpr const char* kStanSamplerColumns[] = {"lp__",        "accept_stat__", "stepsize__",
                                                      "treedepth__", "n_leapfrog__",  "divergent__",
                                                      "energy__"};

/// The run's settings written into the comment header.
struct StanCsvSettings {
  std::string model;     // the module's name
  std::string modelFile; // the .chs file
  std::string dataFile;  // the --data file, or empty
  /// CmdStan's meaning: num_samples counts sampling iterations, of which every thin-th is kept
  /// (CmdStanPy checks the file has ceil(num_samples / thin) draws).
  size_t numSamples = 1000, numWarmup = 1000, thin = 1, numChains = 1;
  size_t chainId = 1; // 1-based, as CmdStan's `id`
  uint64_t seed = 0;
  double adaptDelta = 0.8;
  int maxDepth = 10;
  double init = 2; // the radius of the initial positions (CmdStan's init)
  bool denseMetric = false; // metric = dense_e (else diag_e)
  std::string outputFile; // this chain's file
};

/// One chain of a Stan CSV file: the columns and the rows, plus what the comments say.
struct StanCsvChain {
  std::string file; // where it was read from (for messages)
  std::vector<std::string> columns;
  /// rows[i][k]: draw i, column k (after warm-up).
  std::vector<std::vector<double>> rows;
  /// Draws written before `# Adaptation terminated` (CmdStan's save_warmup=1).
  std::vector<std::vector<double>> warmupRows;
  /// The header's `key = value` lines (value without " (Default)"); the first of a repeated key.
  std::map<std::string, std::string> config;
  bool adapted = false; // an adaptation block was present
  double stepSize = std::nan("");
  std::vector<double> invMetric;
  /// A dense metric (`# Elements of inverse mass matrix:`, one row per line): the matrix, d x d
  /// row-major; invMetric then holds its diagonal. Empty for a diagonal metric.
  std::vector<double> invMetricDense;
  double warmupSeconds = std::nan(""), samplingSeconds = std::nan("");

  /// Index of a column, or -1.
  int column(std::string_view name) const;
};

/// `theta[0]` -> `theta.1`, `a[1][2]` -> `a.2.3`; other characters unchanged.
std::string stanColumnName(const std::string& chassisName);
/// The inverse: `theta.1` -> `theta[0]`; a name whose dotted suffixes are not all positive
/// integers is returned unchanged.
std::string chassisName(const std::string& stanColumn);

/// The chains of a NUTS run as Stan CSV contents: the seven sampler columns from
/// run.chains[c].drawStats, then p's quantities (from p.draws, named by stanColumnName), the step
/// size, the inverse metric and the timings. `p` and `run` come from one inferNuts call.
std::vector<StanCsvChain> stanCsvChainsOf(const Posterior& p, const NutsResult& run);

/// Writes one chain: `chain` holds the columns (the seven sampler columns first), the rows, the
/// step size, the inverse metric and the timings; `settings` the header.
void writeStanCsv(std::ostream& os, const StanCsvSettings& settings, const StanCsvChain& chain);

/// Reads one Stan CSV text; `file` names it in errors.
Expected<StanCsvChain> readStanCsv(std::istream& in, const std::string& file);
/// Reads a Stan CSV file (an error naming it when it cannot be opened).
Expected<StanCsvChain> readStanCsvFile(const std::string& path);

/// The posterior of chains read from Stan CSV files: every column not ending in `__` is a
/// quantity (named by chassisName), each file a chain; divergences are the sum of divergent__ and
/// the acceptance rate the mean over chains of each chain's mean accept_stat__ (as inferNuts
/// computes them), then summarizePosterior. Errors (naming the file): files whose columns differ,
/// chains of different lengths, no draws.
Expected<Posterior> posteriorFromStanCsv(std::span<const StanCsvChain> chains);

} // namespace chassis::symbolic

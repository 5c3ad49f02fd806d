// `chassis verify FILE [--property NAME]... [--only-file] [--timeout S] [--json]
//                [--emit=smt2 [--emit-dir DIR]] [--out DIR (deprecated: --emit-dir)]
//                [--statistical [--samples N] [--confidence C] [--seed S]]`:
// loads FILE (networks through neural::networkLoader), proves each property, each module's
// asserts and the range obligations of its calls (a callee's declared input ranges, checked at
// each call site like an assert; verifier/properties.h), and prints a table: property, verdict
// (holds, violated, unknown (reason), or a certified interval and whether it decides the bound),
// time, and the counterexample with the property's float64 value there (every counterexample is
// proved over the reals and replayed in float64; a disagreement is shown as a floating-point
// note after it). On a terminal each row is printed (and flushed) as soon as it is decided, in
// columns fixed before the first row (VerdictTable); off a terminal the table is printed after
// the run, in the fixed layout scripts read.
// --emit=smt2 writes each Z3 query as SMT-LIB2 (to DIR/<property>.<k>.smt2 with --emit-dir DIR,
// else to standard output, each preceded by a comment line and separated by `(reset)`, with the
// verdict table (or JSON) on standard error so that standard output is one SMT-LIB2 script);
// `z3 -smt2 FILE` answers it as the verifier did: sat where a counterexample (or witness, or a
// cell point) exists, unsat where the verdict was proved. Probability cells emit at most their
// first 200 queries. A --emit-dir that is a file or cannot be created is exit code 2, checked
// before any property is proved.
// --statistical: a P property the certified methods leave undecided also gets a Monte Carlo
// estimate with a Clopper-Pearson interval (verifier/prob_bounds.h), printed as
// "likely holds (statistical)", "likely violated (statistical)" or "statistical: undecided",
// and in JSON with "verdict": "statistical" and a "statistical" object. It is never a proof:
// for the exit code such a property counts as unknown.
// --time-limit S / --memory MB (tools/run_limits.h) bound the whole run, --timeout each property;
// SIGINT/SIGTERM stop it too. A stopped run prints the rows decided so far, the others with the
// stop's word as verdict ("interrupted", "timeout", "memory"), writes no --emit-dir file, and
// exits 130 (SIGINT) / 143 (SIGTERM) / 124 (time limit) / 5 (memory limit).
// --json prints the report envelope (tools/json_report.h): one result per property, each
// counterexample as numbers that read back to the same doubles ({"vars": {...}} for a quantified
// property; {"module", "inputs", "choices"} for always/assert/range, which `chassis run FILE M
// --replay` re-runs), errors as {"error": {...}}.
// --property NAME (repeatable) proves only the properties named (in the file's order; asserts and
// range obligations are then left out); --only-file leaves out what imported files declare (their
// properties, and the asserts and range obligations of their modules).
// Exit codes (tools/command.h): 0 all hold, 1 some violated, 3 some unknown or statistical
// (none violated), 4 internal error, 2 bad input.
#include "tools/command.h"
#include "tools/json_report.h"
#include "tools/mpi_search.h"
#include "tools/output_file.h"
#include "tools/run_limits.h"
#include "tools/verify_all.h"

#include "neural/lower_network.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "verifier/properties.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>

#include <unistd.h>

namespace {

using namespace chassis;

std::string fmtG(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", x);
  return buf;
}

/// The statistical decision's words (never "holds" / "violated" alone).
std::string statisticalWord(const verifier::StatisticalEstimate& s) {
  return s.decision > 0   ? "likely holds (statistical)"
         : s.decision < 0 ? "likely violated (statistical)"
                          : "statistical: undecided";
}

/// A result the run's stop cut short (its verdict is the stop's word).
bool cutShort(const verifier::PropertyResult& r) {
  return run::stopRequested() && r.verdict == verifier::Verdict::Unknown && !r.statistical &&
         r.reason == run::stopReasonName(run::stopReason());
}

/// Marks `r` as cut short by the stop when it was left undecided after the stop was requested.
void markIfStopped(verifier::PropertyResult& r) {
  if (run::stopRequested() && r.verdict == verifier::Verdict::Unknown && !r.statistical)
    r.reason = std::string(run::stopReasonName(run::stopReason()));
}

std::string verdictText(const verifier::PropertyResult& r) {
  if (cutShort(r)) return r.reason;
  std::string v;
  if (r.statistical) {
    const auto& s = r.stat;
    return statisticalWord(s) + " " + fmtG(s.estimate) + " in [" + fmtG(s.lo) + ", " + fmtG(s.hi) +
           "] at " + fmtG(100 * s.confidence) + "%, " + std::to_string(s.samples) + " samples";
  }
  if (r.isInterval) {
    v = "certified [" + fmtG(r.lo) + ", " + fmtG(r.hi) + "] ";
    v += r.verdict == verifier::Verdict::Holds      ? "decides: holds"
         : r.verdict == verifier::Verdict::Violated ? "decides: violated"
                                                        : "does not decide";
    return v;
  }
  v = std::string(verifier::verdictName(r.verdict));
  if ((r.verdict == verifier::Verdict::Unknown ||
       r.verdict == verifier::Verdict::Internal) &&
      !r.reason.empty())
    v += " (" + r.reason + ")";
  return v;
}

using ojson = nlohmann::ordered_json;

/// The module a run-based result is about: always[M](e)'s M, or the M of "assert@M:line" and
/// "range@M:line:col"; null for a quantified property (its counterexample binds its variables).
const ir::Property* findProperty(const ir::Program& prog, const std::string& name) {
  for (const ir::Property& q : prog.properties)
    if (q.name == name) return &q;
  return nullptr;
}

const ir::Function* runModule(const ir::Program& prog, const verifier::PropertyResult& r) {
  if (const ir::Property* p = findProperty(prog, r.name))
    return p->kind == ir::PropertyKind::Always ? p->module : nullptr;
  auto at = r.name.find('@');
  if (at == std::string::npos) return nullptr;
  auto colon = r.name.find(':', at);
  return prog.findFunction(
      r.name.substr(at + 1, colon == std::string::npos ? colon : colon - at - 1));
}

/// One counterexample entry as JSON: the verifier's text (float64 values in their shortest
/// round-trip digits, so reading them back gives the same doubles) parsed as a value of type `t`
/// (null: a random choice, a number). An exact point of Z3's that is no float64 number ("(exact,
/// not a float64 number)", '?' ending a rounded decimal) gives its nearest double, and the exact
/// text in `exact`.
ojson entryJson(std::string text, const ir::Type* t, const ir::Context& ctx, std::string& exact) {
  const std::string exactTag = " (exact, not a float64 number)";
  if (text.size() > exactTag.size() &&
      text.compare(text.size() - exactTag.size(), exactTag.size(), exactTag) == 0) {
    text.resize(text.size() - exactTag.size());
    exact = text;
    std::erase(text, '?');
  }
  if (t) {
    auto v = symbolic::parseValue(text, *t, ctx, "counterexample value");
    if (v) return tools::valueJson(*v, *t, ctx);
  } else {
    char* end = nullptr;
    double x = std::strtod(text.c_str(), &end);
    if (end && *end == '\0' && end != text.c_str()) return tools::jsonNumber(x);
  }
  return text; // not a value of the type: the text as the verifier gave it
}

/// The counterexample of `r` as numbers: {"vars": {...}} for a quantified property, or
/// {"module": M, "inputs": {...}, "choices": {...}} for a run (always, assert, range obligation),
/// plus {"exact": {...}} for Z3's exact values; `chassis run FILE M --replay` reads it back.
ojson counterexampleJson(const ir::Program& prog, const verifier::PropertyResult& r) {
  const ir::Property* p = findProperty(prog, r.name);
  const ir::Function* m = runModule(prog, r);
  ojson cx, vars = ojson::object(), inputs = ojson::object(), choices = ojson::object(),
            exact = ojson::object();
  for (auto& [name, text] : r.counterexample) {
    std::string ex;
    if (m) {
      int k = m->inputIndex(name);
      if (k >= 0)
        inputs[name] = entryJson(text, &m->inputs()[size_t(k)].var->type(), prog.ctx(), ex);
      else
        choices[name] = entryJson(text, nullptr, prog.ctx(), ex);
    } else {
      const ir::Type* t = nullptr;
      if (p)
        for (const ir::QuantVar& v : p->vars)
          if (v.var->name() == name) t = &v.var->type();
      vars[name] = entryJson(text, t, prog.ctx(), ex);
    }
    if (!ex.empty()) exact[name] = ex;
  }
  if (m) {
    cx["module"] = m->name();
    cx["inputs"] = inputs;
    cx["choices"] = choices;
  } else {
    cx["vars"] = vars;
  }
  if (!exact.empty()) cx["exact"] = exact;
  return cx;
}

/// The counterexample column of the verdict table.
std::string counterexampleText(const verifier::PropertyResult& r, uint64_t seed) {
  std::string cx;
  for (auto& [k, v] : r.counterexample)
    cx += (cx.empty() ? "" : ", ") + k + " = " + v;
  if (!cx.empty())
    cx += "  (value there in float64: " + r.valueAtCounterexample + ")";
  else if (r.verdict == verifier::Verdict::Violated && !r.valueAtCounterexample.empty())
    cx = "(value in float64: " + r.valueAtCounterexample + ")";
  if (r.isInterval && !r.method.empty()) cx = r.method;
  if (r.statistical)
    cx = (r.isInterval ? "certified [" + fmtG(r.lo) + ", " + fmtG(r.hi) + "] undecided; " : "") +
         (r.reason.empty() ? "" : r.reason + "; ") + std::to_string(r.stat.hits) + " hits, " +
         std::to_string(r.stat.rejected) + " rejected, seed " + std::to_string(seed);
  if (r.verdict == verifier::Verdict::Violated && !r.isInterval && !r.statistical &&
      !r.reason.empty())
    cx += "  [" + r.reason + "]"; // a floating-point note, or Z3's undefined point
  return cx;
}

/// The verdict table. Off a terminal it is printed whole after the run, as it always was. On a
/// terminal (live) each row is printed and flushed as soon as it is decided, with column widths
/// fixed before the first row: the property column fits the names known up front (and the
/// assert@M:line / range@M:line:col names the modules can give); a longer name or verdict is cut
/// with "..." in its column and printed whole on the next line, so that the columns stay aligned.
struct VerdictTable {
  std::FILE* out = stdout;
  bool live = false;
  int nameWidth = 26;
  static constexpr int kVerdictWidth = 60;
  bool headerDone = false;
  uint64_t seed = 0;

  static std::string fit(const std::string& s, int width, bool& cut) {
    cut = int(s.size()) > width;
    return cut ? s.substr(0, size_t(width - 3)) + "..." : s;
  }
  void header() {
    if (headerDone) return;
    headerDone = true;
    std::fprintf(out, "%-*s %-*s %9s  %s\n", nameWidth, "property", kVerdictWidth, "verdict",
                 "time", "counterexample");
  }
  void row(const verifier::PropertyResult& r) {
    header();
    const std::string verdict = verdictText(r), cx = counterexampleText(r, seed);
    if (!live) {
      std::fprintf(out, "%-26s %-60s %8.3fs  %s\n", r.name.c_str(), verdict.c_str(), r.seconds,
                   cx.c_str());
      return;
    }
    bool nameCut = false, verdictCut = false;
    const std::string name = fit(r.name, nameWidth, nameCut),
                      shown = fit(verdict, kVerdictWidth, verdictCut);
    std::fprintf(out, "%-*s %-*s %8.3fs  %s\n", nameWidth, name.c_str(), kVerdictWidth,
                 shown.c_str(), r.seconds, cx.c_str());
    if (nameCut) std::fprintf(out, "    property: %s\n", r.name.c_str());
    if (verdictCut) std::fprintf(out, "    verdict: %s\n", verdict.c_str());
    std::fflush(out);
  }
};

struct VerifyArgs {
  std::string file, emit, outDir;
  std::vector<std::string> only; // --property: the properties to prove (all when empty)
  double timeout = 60;
  bool json = false, onlyFile = false;
  verifier::VerifyOptions opts;
  run::Limits limits;
};

int verifyCommand(const VerifyArgs& a) {
  const std::string& file = a.file;
  const std::vector<std::string>& only = a.only;
  const std::string& outDir = a.outDir;
  const std::string& emit = a.emit;
  bool asJson = a.json;
  // Under --json an error is also a JSON object on standard output (json_report.h).
  auto fail = [&](const Error& e, int code) {
    std::cerr << e.str() << "\n";
    return asJson ? tools::printJsonError(e, code) : code;
  };
  auto failDiags = [&](spec::DiagnosticEngine& d) {
    if (asJson) return tools::printJsonDiagnostics(d, tools::kUsage);
    d.print(std::cerr);
    return int(tools::kUsage);
  };
  spec::DiagnosticEngine diags;
  auto ast = spec::loadProgram(file, diags);
  if (!ast) return failDiags(diags);
  ir::LowerOptions lo;
  lo.networkLoader = neural::networkLoader();
  auto prog = ir::lower(*ast, lo);
  if (!prog) {
    diags.report(prog.error());
    return failDiags(diags);
  }
  if (!emit.empty() && emit != "smt2")
    return fail(Error("--emit supports only smt2"), tools::kUsage);
  if (a.opts.statistical && !(a.opts.confidence > 0 && a.opts.confidence < 1))
    return fail(Error("--confidence must be in (0, 1)"), tools::kUsage);
  if (a.opts.statistical && a.opts.samples == 0)
    return fail(Error("--samples must be positive"), tools::kUsage);
  if (emit == "smt2" && !outDir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(outDir, ec);
    if (ec || !std::filesystem::is_directory(outDir))
      return fail(Error("--emit-dir " + outDir + ": " +
                        (ec ? ec.message() : std::string("not a directory"))),
                  tools::kUsage);
  }
  verifier::VerifyOptions opts = a.opts;
  opts.timeoutSec = a.timeout;
  opts.emitSmt2 = emit == "smt2";
  // --only-file: what the file itself declares (not its imports).
  std::error_code fec;
  const auto mainFile = std::filesystem::weakly_canonical(file, fec);
  auto inMainFile = [&](const SourceLoc& loc) {
    if (!a.onlyFile) return true;
    std::error_code ec;
    return std::filesystem::weakly_canonical(loc.file, ec) == mainFile;
  };
  std::vector<verifier::PropertyResult> results;
  // On a terminal, the table's rows are printed as they are decided (VerdictTable).
  const bool smt2ToStdout = opts.emitSmt2 && outDir.empty();
  VerdictTable table;
  table.out = smt2ToStdout ? stderr : stdout;
  table.seed = opts.seed;
  table.live = !asJson && isatty(fileno(table.out));
  if (table.live) {
    size_t w = 26;
    for (const ir::Property& p : prog->properties)
      if (only.empty() || std::find(only.begin(), only.end(), p.name) != only.end())
        w = std::max(w, p.name.size());
    if (only.empty())
      for (auto& g : prog->functions()) // "range@M:line:col" with up to 5-digit lines and columns
        w = std::max(w, g->name().size() + 17);
    table.nameWidth = int(std::min<size_t>(w, 48));
  }
  size_t shown = 0; // rows printed live
  auto showNew = [&] {
    if (!table.live) return;
    for (; shown < results.size(); ++shown)
      table.row(results[shown]);
  };
  for (const std::string& name : only)
    if (!findProperty(*prog, name)) {
      SourceLoc at;
      at.file = file;
      return fail(Error(at, "no property named '" + name + "'"), tools::kUsage);
    }
  for (const ir::Property& p : prog->properties) {
    if (!only.empty() && std::find(only.begin(), only.end(), p.name) == only.end()) continue;
    if (!inMainFile(p.loc)) continue;
    if (run::stopRequested()) { // not started: the stop's word, no time
      verifier::PropertyResult r;
      r.name = p.name;
      r.loc = p.loc;
      results.push_back(std::move(r));
    } else {
      results.push_back(verifier::verifyProperty(*prog, p, opts));
    }
    markIfStopped(results.back());
    showNew();
  }
  if (!only.empty() && results.empty()) {
    SourceLoc at;
    at.file = file;
    return fail(Error(at, "--only-file: the properties named are all declared in imported files"),
                tools::kUsage);
  }
  if (only.empty()) {
    // After a stop these are left out (they are named only by running them); the exit code says
    // the run was cut short.
    if (!run::stopRequested())
      for (auto& r : verifier::verifyAsserts(*prog, opts))
        if (inMainFile(r.loc)) results.push_back(std::move(r));
    for (size_t k = shown; k < results.size(); ++k)
      markIfStopped(results[k]);
    showNew();
    // A called module's declared input ranges are obligations at each call site ("range@M:l:c").
    if (!run::stopRequested())
      for (auto& r : verifier::verifyRangeObligations(*prog, opts))
        if (inMainFile(r.loc)) results.push_back(std::move(r));
    for (auto& r : results)
      markIfStopped(r);
    showNew();
  }

  int code = tools::kOk;
  bool anyViolated = false, anyUnknown = false, anyInternal = false;
  for (auto& r : results) {
    anyViolated |= r.verdict == verifier::Verdict::Violated;
    anyUnknown |= r.verdict == verifier::Verdict::Unknown;
    anyInternal |= r.verdict == verifier::Verdict::Internal;
  }
  code = anyInternal   ? tools::kInternal
         : anyViolated ? tools::kFailure
         : anyUnknown  ? tools::kUnknown
                       : tools::kOk;
  bool stopped = false;
  for (auto& r : results)
    stopped |= cutShort(r);
  if (stopped) code = tools::stopExitCode();

  // With the queries on standard output, the report goes to standard error.
  if (opts.emitSmt2 && !stopped) {
    bool first = true;
    for (auto& r : results)
      for (size_t k = 0; k < r.smt2.size(); ++k) {
        if (smt2ToStdout) {
          if (!first) std::cout << "(reset)\n";
          first = false;
          std::cout << "; property " << r.name << " query " << k << "\n" << r.smt2[k] << "\n";
          continue;
        }
        std::string path = outDir + "/" + r.name + "." + std::to_string(k) + ".smt2";
        if (!tools::writeFileAtomic(path, r.smt2[k])) return tools::kUsage;
      }
  }
  std::ostream& reportStream = smt2ToStdout ? std::cerr : std::cout;
  if (asJson) {
    ojson j = ojson::array();
    int holds = 0, violated = 0, unknown = 0, statistical = 0, internal = 0;
    for (auto& r : results) {
      holds += !r.statistical && r.verdict == verifier::Verdict::Holds;
      violated += !r.statistical && r.verdict == verifier::Verdict::Violated;
      unknown += !r.statistical && r.verdict == verifier::Verdict::Unknown;
      statistical += r.statistical;
      internal += r.verdict == verifier::Verdict::Internal;
      nlohmann::ordered_json o;
      o["property"] = r.name;
      o["verdict"] = r.statistical ? std::string("statistical")
                     : cutShort(r) ? r.reason
                                   : std::string(verifier::verdictName(r.verdict));
      if (!r.reason.empty()) o["reason"] = r.reason;
      if (r.isInterval) {
        o["interval"] = {r.lo, r.hi};
        o["method"] = r.method;
      }
      if (r.statistical) {
        nlohmann::ordered_json st;
        st["decision"] = statisticalWord(r.stat);
        st["estimate"] = r.stat.estimate;
        st["interval"] = {r.stat.lo, r.stat.hi};
        st["confidence"] = r.stat.confidence;
        st["samples"] = r.stat.samples;
        st["hits"] = r.stat.hits;
        st["rejected"] = r.stat.rejected;
        st["seed"] = opts.seed;
        o["statistical"] = st;
      }
      o["seconds"] = r.seconds;
      // A violated run without inputs or choices (e.g. a deterministic module's failing call)
      // has a counterexample too: the run itself, with nothing to bind.
      if (!r.counterexample.empty() || (r.verdict == verifier::Verdict::Violated &&
                                        !r.valueAtCounterexample.empty() && runModule(*prog, r))) {
        o["counterexample"] = counterexampleJson(*prog, r);
        // The same point as the table prints it ("x = 0.3, y = 1"; `verify --all` reuses it).
        std::string text;
        for (auto& [k, v] : r.counterexample)
          text += (text.empty() ? "" : ", ") + k + " = " + v;
        o["counterexample_text"] = text;
        o["value_at_counterexample"] = r.valueAtCounterexample;
      } else if (r.verdict == verifier::Verdict::Violated && !r.valueAtCounterexample.empty()) {
        o["value_at_counterexample"] = r.valueAtCounterexample;
      }
      j.push_back(o);
    }
    ojson options;
    options["property"] = only.empty()       ? ojson(nullptr)
                          : only.size() == 1 ? ojson(only[0])
                                             : ojson(only);
    if (a.onlyFile) options["only_file"] = true;
    options["timeout"] = a.timeout;
    options["statistical"] = opts.statistical;
    if (opts.statistical) {
      options["samples"] = opts.samples;
      options["confidence"] = opts.confidence;
      options["seed"] = opts.seed;
    }
    ojson summary;
    summary["properties"] = results.size();
    summary["holds"] = holds;
    summary["violated"] = violated;
    summary["unknown"] = unknown;
    summary["statistical"] = statistical;
    summary["internal"] = internal;
    summary["stopped"] = stopped;
    summary["exit_code"] = code;
    reportStream << tools::jsonText(tools::jsonEnvelope("verify", file, options, j, summary))
                 << "\n";
    return code;
  }
  table.header();
  if (!table.live)
    for (auto& r : results)
      table.row(r);
  return code;
}

chassis::tools::Registration reg{
    "verify", "Prove the properties and asserts of a .chs file with Z3", [](CLI::App& app) {
      auto a = std::make_shared<VerifyArgs>();
      app.add_option("file", a->file, "the .chs file")->required();
      auto all = std::make_shared<tools::VerifyAllOptions>();
      tools::addVerifyAllOptions(app, *all); // --all FILE...: tools/verify_all.h
      app.add_option("--property", a->only,
                     "check only this property (repeatable: these properties; asserts and range "
                     "obligations are then left out)")
          ->allow_extra_args(false); // one name per --property: `--property p FILE` still works
      app.add_flag("--only-file", a->onlyFile,
                   "leave out what imported files declare: their properties, and the asserts "
                   "and range obligations of their modules");
      app.add_option("--timeout", a->timeout,
                     "seconds per property (default 60); undecided then: unknown (exit 3). "
                     "--time-limit bounds the whole run");
      tools::addRunLimitOptions(app, a->limits, false);
      app.add_flag("--json", a->json, "print the results as JSON");
      app.add_option("--emit", a->emit,
                     "smt2: write every Z3 query as SMT-LIB2 (that `z3 -smt2 FILE` answers as "
                     "the verifier did; probability cells: the first 200)");
      app.add_option("--emit-dir", a->outDir,
                     "directory for --emit=smt2 files, named <property>.<k>.smt2 (default: "
                     "standard output)");
      // --out names a file in every other subcommand; here it was the directory. Kept one more
      // release, hidden, with a warning.
      auto oldOut = std::make_shared<std::string>();
      app.add_option("--out", *oldOut, "deprecated: --emit-dir")->group("");
      app.add_flag("--statistical", a->opts.statistical,
                   "also estimate undecided P properties by Monte Carlo, with a Clopper-Pearson "
                   "interval; labelled statistical, never holds/violated (exit code 3)");
      app.add_option("--samples", a->opts.samples, "--statistical: runs (default 100000)");
      app.add_option("--confidence", a->opts.confidence,
                     "--statistical: the interval's confidence (default 0.99)");
      app.add_option("--seed", a->opts.seed, "--statistical: the random seed (default 0)");
      return [a, all, oldOut]() {
        if (!oldOut->empty()) {
          std::cerr << "chassis verify: warning: --out DIR is deprecated and will be removed in "
                       "the next release: use --emit-dir DIR (--out names a file elsewhere)\n";
          if (a->outDir.empty()) a->outDir = *oldOut;
        }
        return tools::runLimited("verify", a->limits, [a, all] {
          auto asJson = [a](const std::string& f) {
            VerifyArgs b = *a;
            b.file = f;
            b.json = true;
            return verifyCommand(b);
          };
          if (!a->emit.empty() && (all->all || !all->more.empty())) {
            std::cerr << "chassis verify: error: --emit takes one file, not --all\n";
            return int(tools::kUsage);
          }
          std::optional<int> campaignRc;
          {
            tools::CampaignNetworkEngine campaign; // under mpirun: one file per rank
            campaignRc = tools::verifyAll(a->file, *all, a->json, asJson);
          }
          if (campaignRc) return *campaignRc;
          tools::SharedNetworkEngine shared; // under mpirun (tools/mpi_search.h)
          return shared.exitCode(verifyCommand(*a));
        });
      };
    }};

} // namespace

// The `chassis` command line: a thin driver over the libraries. Subcommands register themselves
// (command.h); this file only parses the command line and dispatches. main() (main.cpp) calls
// runDriver, and so does the command-line fuzzer (tests/fuzz/fuzz_cli.cpp).
#include "tools/driver.h"
#include "tools/cli_docs.h"
#include "tools/command.h"
#include "tools/json_report.h"
#include "tools/mpi_world.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <iostream>
#include <map>
#include <new>
#include <regex>
#include <set>
#include <sstream>
#include <streambuf>
#include <string_view>

namespace chassis::tools {
std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}
} // namespace chassis::tools

namespace chassis::tools {

/// One rule for every subcommand: a seed, a count (samples, chains, epochs, threads, ...) or a
/// time or memory limit is never negative. A negative value is refused by the parser with
/// "--NAME: must not be negative, got -1" (exit 2) instead of wrapping round to a huge unsigned
/// number or meaning "no limit".
void refuseNegativeCounts(CLI::App& app) {
  static const std::set<std::string> names = {
      "seed",   "timeout", "samples", "time-limit", "memory",   "faith-timeout", "chains",
      "warmup", "thin",    "epochs",  "batch",      "patience", "threads",       "max-depth"};
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    for (CLI::Option* opt : sub->get_options())
      for (const std::string& n : opt->get_lnames())
        if (names.count(n)) {
          opt->check(CLI::Validator(
              [n](std::string& v) -> std::string {
                return !v.empty() && v[0] == '-' ? "must not be negative, got " + v : std::string();
              },
              "", "non-negative"));
          break;
        }
}

namespace {

/// A stream buffer that passes everything on to `next` and counts it, keeping the first
/// `keep` characters.
class TeeBuf : public std::streambuf {
public:
  TeeBuf(std::streambuf* next, size_t keep) : next_(next), keep_(keep) {}
  const std::string& text() const { return text_; }
  size_t count() const { return count_; }

protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    ++count_;
    if (text_.size() < keep_) text_ += char(c);
    return next_->sputc(char(c));
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    count_ += size_t(n);
    if (text_.size() < keep_) text_.append(s, std::min(size_t(n), keep_ - text_.size()));
    return next_->sputn(s, n);
  }
  int sync() override { return next_->pubsync(); }

private:
  std::streambuf* next_;
  size_t keep_;
  std::string text_;
  size_t count_ = 0;
};

/// The first diagnostic of a subcommand's standard error as an Error: `file:line:col: error:
/// message`, `file:line: error: message`, `file: error: message`, `error: message`, or else the
/// first line as the message.
Error firstError(const std::string& err) {
  std::istringstream lines(err);
  std::string line, first;
  static const std::regex located(R"(^(.+?):(\d+):(\d+): error: (.*)$)");
  static const std::regex lined(R"(^(.+?):(\d+): error: (.*)$)");
  static const std::regex filed(R"(^([^ :]+): error: (.*)$)");
  static const std::regex bare(R"(^(?:chassis[ a-z-]*: )?(?:error: )(.*)$)");
  while (std::getline(lines, line)) {
    std::smatch m;
    SourceLoc at;
    if (std::regex_match(line, m, located)) {
      at.file = m[1];
      at.line = std::stoi(m[2]);
      at.col = std::stoi(m[3]);
      return Error(at, m[4]);
    }
    if (std::regex_match(line, m, lined)) {
      at.file = m[1];
      at.line = std::stoi(m[2]);
      return Error(at, m[3]);
    }
    if (std::regex_match(line, m, filed)) {
      at.file = m[1];
      return Error(at, m[2]);
    }
    if (std::regex_match(line, m, bare)) return Error(m[1].str());
    if (first.empty() && !line.empty()) first = line;
  }
  return Error(first.empty() ? std::string("failed without a message") : first);
}

bool asksForJson(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--json") return true;
  return false;
}

int runCommandLine(int argc, char** argv, const RunFilter& mayRun);

} // namespace

/// Under --json, a failure that printed no JSON report is reported as {"error": {...}} on
/// standard output (json_report.h), from the subcommand's first diagnostic on standard error,
/// with the exit code unchanged; every subcommand gets this without code of its own.
int runDriver(int argc, char** argv, const RunFilter& mayRun) {
  if (!asksForJson(argc, argv)) return runCommandLine(argc, argv, mayRun);
  std::cout.flush();
  TeeBuf out(std::cout.rdbuf(), 0), err(std::cerr.rdbuf(), 64 * 1024);
  std::streambuf* oldOut = std::cout.rdbuf(&out);
  std::streambuf* oldErr = std::cerr.rdbuf(&err);
  int rc = kInternal;
  try {
    rc = runCommandLine(argc, argv, mayRun);
  } catch (...) {
    std::cout.rdbuf(oldOut);
    std::cerr.rdbuf(oldErr);
    throw;
  }
  std::cout.rdbuf(oldOut);
  std::cerr.rdbuf(oldErr);
  if (rc != kOk && out.count() == 0) printJsonError(firstError(err.text()), rc);
  return rc;
}

namespace {
int runCommandLine(int argc, char** argv, const RunFilter& mayRun) {
  CLI::App app{"chassis: verifiable modular probabilistic programs, networks and their "
               "compositions"};
  // One subcommand, or one of the documentation flags (--man, --completion) alone.
  app.require_subcommand(0, 1);
  bool man = false;
  std::string completion;
  app.add_flag("--man", man, "print the manual page (roff) and exit");
  app.add_option("--completion", completion, "print a completion script for this shell and exit")
      ->check(CLI::IsMember({"bash"}));
  app.set_version_flag("--version", std::string("chassis ") + kVersion + mpi::versionNote());
  auto cmds = registry();
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a.name < b.name; });
  std::map<CLI::App*, Runner> runners;
  for (auto& c : cmds) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    runners[sub] = c.setup(*sub);
  }
  refuseNegativeCounts(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (mpi::launchedAsWorker()) return e.get_exit_code() == 0 ? kOk : kUsage; // rank 0 says it
    int rc = app.exit(e);
    return rc == 0 ? kOk : kUsage;
  }
  // The one exception boundary: whatever a subcommand throws becomes a diagnostic and one of
  // the documented exit codes (command.h), never an abort. A file-system error is about a path
  // the user gave (kUsage); running out of memory means the input or options ask for more than
  // the machine has (kUsage); anything else is a bug (kInternal).
  if (man || !completion.empty()) {
    std::cout << (man ? manPage(app) : bashCompletion(app));
    return kOk;
  }
  if (app.get_subcommands().empty()) {
    std::cerr << "A subcommand is required\nRun with --help for more information.\n";
    return kUsage;
  }
  try {
    for (auto& [sub, run] : runners)
      if (sub->parsed()) {
        mpi::CommandScope ranks(*sub); // under mpirun: tools/mpi_world.h
        if (ranks.exitCode()) return *ranks.exitCode();
        return ranks.finish(!mayRun || mayRun(sub->get_name()) ? run() : kOk);
      }
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "chassis: error: " << e.what() << "\n";
    return kUsage;
  } catch (const std::bad_alloc&) {
    std::cerr << "chassis: error: out of memory: the input or the options need more memory than "
                 "is available\n";
    return kUsage;
  } catch (const std::exception& e) {
    std::cerr << "chassis: internal error: " << e.what() << "\n";
    return kInternal;
  } catch (...) {
    std::cerr << "chassis: internal error: an unknown exception\n";
    return kInternal;
  }
  return kUsage;
}
} // namespace
} // namespace chassis::tools

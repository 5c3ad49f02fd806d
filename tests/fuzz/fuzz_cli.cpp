// libFuzzer target for the `chassis` command line: the input is split on NUL and newline into
// arguments, and runDriver (tools/driver.h, the function main() calls) parses them with every
// subcommand registered, exactly as the binary does. Arbitrary arguments must give an exit code
// of command.h (and a diagnostic), never a crash, hang, leak, sanitizer report or kInternal
// (an exception escaping a subcommand is a bug).
//
// Bounds, so that a run stays short and writes nothing outside a scratch directory:
//   - The target works in a fresh directory under $TMPDIR (removed at exit); before each input it
//     rewrites the fixtures (m.chs, net.nnet, net.onnx, d.csv, d.json, bn.bif, p.vnnlib,
//     draws.csv, all tiny) and afterwards removes whatever the subcommand wrote. Inputs with an
//     argument that contains '/' or starts with ".." are skipped, so every path is inside it.
//     (scripts/fuzz passes libFuzzer absolute paths for the corpus and findings.)
//   - Every subcommand's options are parsed (CLI11 and the option callbacks), but only the
//     subcommands whose work is bounded by these tiny files run: check, run (one run of a
//     loop-free module), eval (a 2-2-1 network), import-bif, summary. The others (verify, vnnlib:
//     Z3; train, extract, compare: training and sweeps; infer: samplers; compile, compile-net:
//     LLVM) can take minutes on legitimate options, so they stop after parsing. Inputs with
//     --samples (eval --task draws that many samples) are skipped for the same reason.
// Seeds in corpus/cli/ (one argument per line), subcommand and option names in cli.dict.
#include "neural/network.h"
#include "neural/nnet.h"
#include "neural/onnx.h"
#include "tools/command.h"
#include "tools/driver.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace {
namespace fs = std::filesystem;

constexpr std::string_view kChs = R"(enum Mode { Off, On }
module Scale(x: real in [-10, 10], k: int in [1, 5], on: bool, m: Mode) -> (y: real, big: bool) {
    y = if on then x * k else x;
    big = y > 5.0;
}
module Noisy(mu: real) -> (z: real) {
    z ~ Normal(mu, 1.0);
}
)";

constexpr std::string_view kNNet = R"(// a 2-2-1 network
2,2,1,2,
2,2,1,
0,
-1,-1,
1,1,
0,0,0,
1,1,1,
1,0.5,
-0.5,1,
0,
0.1,
1,-1,
0.2,
)";

constexpr std::string_view kCsv = "a,b,y\n0.1,0.2,0\n0.5,-0.3,1\n-0.2,0.4,0\n";
constexpr std::string_view kJson = R"({"x": 1.5, "k": 2, "on": true, "m": "On", "mu": 0.0})";
constexpr std::string_view kBif = R"(network tiny {
}
variable Rain {
  type discrete [ 2 ] { yes, no };
}
variable Wet {
  type discrete [ 2 ] { yes, no };
}
probability ( Rain ) {
  table 0.2, 0.8;
}
probability ( Wet | Rain ) {
  (yes) 0.9, 0.1;
  (no) 0.2, 0.8;
}
)";
constexpr std::string_view kVnnlib = R"((declare-const X_0 Real)
(declare-const X_1 Real)
(declare-const Y_0 Real)
(assert (<= X_0 1))
(assert (>= X_0 -1))
(assert (<= X_1 1))
(assert (>= X_1 -1))
(assert (>= Y_0 10))
)";
constexpr std::string_view kStanCsv = "lp__,accept_stat__,x,theta.1,theta.2\n"
                                      "-1.5,0.9,0.3,1,2\n-1.2,0.8,0.1,1.5,2.5\n"
                                      "-1.9,0.95,-0.2,0.5,1.5\n";

class Scratch {
public:
  Scratch() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/chassis-fuzz-cli-XXXXXX";
    if (!mkdtemp(pattern.data())) {
      std::perror("fuzz_cli: mkdtemp");
      std::abort();
    }
    dir_ = pattern;
    files_ = {{"m.chs", std::string(kChs)},       {"net.nnet", std::string(kNNet)},
              {"d.csv", std::string(kCsv)},       {"d.json", std::string(kJson)},
              {"bn.bif", std::string(kBif)},      {"p.vnnlib", std::string(kVnnlib)},
              {"draws.csv", std::string(kStanCsv)}};
    auto nnet = chassis::neural::parseNNet(files_["net.nnet"], "net.nnet");
    if (!nnet) std::abort();
    auto onnx = chassis::neural::serializeOnnx(
        nnet->toNetwork(chassis::neural::NNetInputs::Normalised, "tiny"));
    if (!onnx) std::abort();
    files_["net.onnx"] = *onnx;
    fs::current_path(dir_);
  }
  ~Scratch() {
    std::error_code ec;
    fs::current_path(dir_.parent_path(), ec);
    fs::remove_all(dir_, ec);
  }
  /// Puts the fixtures back as they were (a subcommand may have overwritten one with -o).
  void reset() {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_, ec))
      if (!files_.count(e.path().filename().string())) fs::remove_all(e.path(), ec);
    for (const auto& [name, text] : files_) {
      std::ofstream(dir_ / name, std::ios::binary | std::ios::trunc) << text;
    }
  }

private:
  fs::path dir_;
  std::map<std::string, std::string> files_;
};

Scratch& scratch() {
  static Scratch s;
  return s;
}

const std::set<std::string, std::less<>> kRunnable = {"check", "run", "eval", "import-bif",
                                                      "summary"};
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args{"chassis"};
  std::string cur;
  for (size_t i = 0; i <= size; ++i) {
    if (i == size || data[i] == '\0' || data[i] == '\n') {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(data[i]);
    }
  }
  if (size > 0 && (data[size - 1] == '\n' || data[size - 1] == '\0')) args.pop_back();
  if (args.size() > 64) return 0;
  for (const std::string& a : args)
    if (a.find('/') != std::string::npos || a.rfind("..", 0) == 0 || a == "--samples" ||
        a.rfind("--samples=", 0) == 0)
      return 0;
  scratch().reset();
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int rc = chassis::tools::runDriver(
      static_cast<int>(args.size()), argv.data(),
      [](const std::string& name) { return kRunnable.count(name) > 0; });
  if (rc == chassis::tools::kInternal) {
    std::fprintf(stderr, "fuzz_cli: internal error (exit %d)\n", rc);
    std::abort();
  }
  if (rc < chassis::tools::kOk || rc > chassis::tools::kInternal) std::abort();
  return 0;
}

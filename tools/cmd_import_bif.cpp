// `chassis import-bif NET.bif [-o NET.chs] [--module NAME]`: converts a Bayesian network in BIF
// into an equivalent .chs program (an enum per variable, one module drawing every variable from
// its CPT; see symbolic/bayesnet.h). Without -o the program goes to standard output.
#include "tools/command.h"
#include "tools/output_file.h"

#include "symbolic/bif.h"

#include <cctype>
#include <iostream>

namespace {

using namespace chassis;
using namespace chassis::tools;

struct ImportOptions {
  std::string input, output, module;
};

// The module name: --module, else the network's name (unless it is bnlearn's "unknown"), else
// the file's stem; the first letter capitalised.
std::string moduleName(const ImportOptions& opt, const symbolic::BayesNet& net) {
  std::string name = opt.module;
  if (name.empty() && !net.name.empty() && net.name != "unknown") name = net.name;
  if (name.empty()) {
    std::string stem = opt.input;
    if (auto slash = stem.find_last_of('/'); slash != std::string::npos)
      stem = stem.substr(slash + 1);
    if (auto dot = stem.find_last_of('.'); dot != std::string::npos) stem = stem.substr(0, dot);
    name = stem;
  }
  if (opt.module.empty() && !name.empty())
    name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  return name;
}

int run(const ImportOptions& opt) {
  auto net = symbolic::readBifFile(opt.input);
  if (!net) {
    std::cerr << net.error().str() << "\n";
    return kUsage;
  }
  std::string source = opt.input;
  if (auto slash = source.find_last_of('/'); slash != std::string::npos)
    source = source.substr(slash + 1);
  auto text = symbolic::writeChs(*net, moduleName(opt, *net), source);
  if (!text) {
    std::cerr << text.error().str() << "\n";
    return kUsage;
  }
  if (opt.output.empty() || opt.output == "-") {
    std::cout << *text;
    return kOk;
  }
  return writeFileAtomic(opt.output, *text) ? kOk : kUsage;
}

Registration reg{"import-bif", "Convert a Bayesian network (.bif) into an equivalent .chs model",
                 [](CLI::App& app) -> Runner {
                   auto opt = std::make_shared<ImportOptions>();
                   app.add_option("network", opt->input, "The .bif file")->required();
                   app.add_option("-o,--output", opt->output,
                                  "The .chs file to write (default: standard output)");
                   app.add_option("--module", opt->module, "Name of the generated module");
                   return [opt]() -> int { return run(*opt); };
                 }};

} // namespace

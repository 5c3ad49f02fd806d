// `chassis summary draws_1.csv draws_2.csv ... [--json]`: the posterior summary of sampler output
// in CmdStan's CSV layout (written by `chassis infer --method nuts --output`, or by CmdStan), one
// file per chain: per quantity (every column not ending in `__`, `theta.1` shown as Chassis'
// `theta[0]`) the mean, sd, 5/50/95% quantiles, R-hat, bulk/tail ESS and MCSE, computed by
// symbolic/summary.h exactly as `chassis infer` computes them. Errors are located as
// file:line:col (exit 2).
#include "tools/command.h"
#include "tools/json_report.h"

#include "spec/ir.h"
#include "symbolic/stan_csv.h"
#include "symbolic/summary.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace chassis;
using namespace chassis::tools;

struct SummaryOptions {
  std::vector<std::string> files;
  bool json = false;
};

int runSummary(const SummaryOptions& o) {
  std::vector<symbolic::StanCsvChain> chains;
  for (const std::string& f : o.files) {
    auto c = symbolic::readStanCsvFile(f);
    if (!c) {
      std::cerr << c.error().str() << "\n";
      return kUsage;
    }
    chains.push_back(std::move(*c));
  }
  auto p = symbolic::posteriorFromStanCsv(chains);
  if (!p) {
    std::cerr << p.error().str() << "\n";
    return kUsage;
  }
  if (o.json) {
    std::string files;
    for (const std::string& f : o.files)
      files += (files.empty() ? "" : " ") + f;
    tools::printReport("summary", files, nlohmann::ordered_json::object(), symbolic::toJson(*p));
  } else {
    ir::Context ctx; // the quantities are real numbers: no enum names to look up
    symbolic::printTable(*p, ctx, std::cout);
  }
  return kOk;
}

Registration reg{"summary", "Summarise sampler draws from CmdStan CSV files (one per chain)",
                 [](CLI::App& app) -> Runner {
                   auto opt = std::make_shared<SummaryOptions>();
                   app.add_option("files", opt->files,
                                  "CmdStan CSV files, one per chain (e.g. draws_1.csv draws_2.csv)")
                       ->required();
                   app.add_flag("--json", opt->json, "Print the summary as JSON");
                   return [opt]() -> int { return runSummary(*opt); };
                 }};

} // namespace

// Stan CSV (symbolic/stan_csv.h): eight-schools NUTS draws written and read back bit for bit with
// CmdStan's column names, the summary recomputed from the files equal to inferNuts' own, the
// per-draw sampler diagnostics consistent with NUTS (n_leapfrog against treedepth, energy >=
// -lp__) and recorded without changing the draws, a hand-written CmdStan file read (header,
// adaptation and timing blocks, save_warmup rows), and malformed files rejected with their
// file:line:col.
#include "symbolic/infer_nuts.h"
#include "symbolic/stan_csv.h"
#include "symbolic/summary.h"
#include "tests/symbolic/compile_chs.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace chassis;
using namespace chassis::symbolic;

namespace {

std::string readText(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Equal as bit patterns (so NaN equals NaN and -0 differs from 0).
bool sameBits(double a, double b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

Expected<StanCsvChain> readText(const std::string& text, const std::string& file) {
  std::istringstream in(text);
  return readStanCsv(in, file);
}

struct EightSchoolsRun {
  testing::CompiledChs c;
  Posterior p;
  NutsResult run;
};

EightSchoolsRun runEightSchools(bool keepRun) {
  const std::string dir = std::string(CHASSIS_SOURCE_DIR) + "/examples/";
  EightSchoolsRun r{testing::compileChs(readText(dir + "eight_schools.chs")), {}, {}};
  nlohmann::json data = nlohmann::json::parse(readText(dir + "eight_schools.data.json"));
  std::vector<Value> inputs;
  for (const char* name : {"y", "sigma"})
    inputs.push_back(Value::array(data[name].get<std::vector<double>>()));
  InferOptions opt;
  opt.method = InferMethod::NUTS;
  opt.samples = 300;
  opt.warmup = 300;
  opt.chains = 3;
  opt.seed = 11;
  auto p = inferNuts(*r.c.ir.findFunction("EightSchools"), inputs, opt, keepRun ? &r.run : nullptr);
  REQUIRE(p);
  r.p = std::move(*p);
  return r;
}

} // namespace

TEST_CASE("Stan CSV: column names convert between Chassis and Stan", "[stan_csv]") {
  CHECK(stanColumnName("theta[0]") == "theta.1");
  CHECK(stanColumnName("a[1][12]") == "a.2.13");
  CHECK(stanColumnName("mu") == "mu");
  CHECK(stanColumnName("Sensor/noise[2]") == "Sensor/noise.3");
  CHECK(chassisName("theta.1") == "theta[0]");
  CHECK(chassisName("a.2.13") == "a[1][12]");
  CHECK(chassisName("Sensor/noise.3") == "Sensor/noise[2]");
  CHECK(chassisName("x.0") == "x.0"); // not a 1-based index
  CHECK(chassisName("a.b") == "a.b");
  CHECK(chassisName("lp__") == "lp__");
}

TEST_CASE("Stan CSV: eight schools draws round-trip exactly and summarise as infer does",
          "[stan_csv]") {
  EightSchoolsRun r = runEightSchools(true);
  std::vector<StanCsvChain> chains = stanCsvChainsOf(r.p, r.run);
  REQUIRE(chains.size() == 3);

  // Recording the diagnostics changes no draw: a run without them gives the same bits.
  EightSchoolsRun plain = runEightSchools(false);
  REQUIRE(plain.p.draws.size() == r.p.draws.size());
  for (size_t q = 0; q < r.p.draws.size(); ++q)
    for (size_t c = 0; c < 3; ++c)
      for (size_t i = 0; i < r.p.draws[q][c].size(); ++i)
        REQUIRE(sameBits(plain.p.draws[q][c][i], r.p.draws[q][c][i]));

  std::vector<StanCsvChain> read;
  for (size_t c = 0; c < chains.size(); ++c) {
    StanCsvSettings s;
    s.model = "EightSchools";
    s.numSamples = 300;
    s.numWarmup = 300;
    s.numChains = 3;
    s.chainId = c + 1;
    s.seed = 11;
    s.outputFile = "draws_" + std::to_string(c + 1) + ".csv";
    std::ostringstream os;
    writeStanCsv(os, s, chains[c]);
    auto back = readText(os.str(), s.outputFile);
    REQUIRE(back);
    // CmdStan's columns, in CmdStan's order.
    std::vector<std::string> expected = {
        "lp__",        "accept_stat__", "stepsize__", "treedepth__", "n_leapfrog__",
        "divergent__", "energy__",      "mu",         "tau"};
    for (int j = 1; j <= 8; ++j)
      expected.push_back("theta." + std::to_string(j));
    CHECK(back->columns == expected);
    CHECK(back->config["method"] == "sample");
    CHECK(back->config["num_samples"] == "300");
    CHECK(back->config["id"] == std::to_string(c + 1));
    CHECK(back->config["seed"] == "11");
    CHECK(back->config["max_depth"] == "10");
    CHECK(back->adapted);
    CHECK(back->warmupRows.empty());
    REQUIRE(back->rows.size() == 300);
    for (size_t i = 0; i < 300; ++i)
      for (size_t k = 0; k < expected.size(); ++k)
        REQUIRE(sameBits(back->rows[i][k], chains[c].rows[i][k]));
    CHECK(sameBits(back->stepSize, r.run.chains[c].stepSize));
    REQUIRE(back->invMetric.size() == r.run.chains[c].invMetric.size());
    for (size_t k = 0; k < back->invMetric.size(); ++k)
      CHECK(sameBits(back->invMetric[k], r.run.chains[c].invMetric[k]));
    CHECK(back->warmupSeconds >= 0);
    CHECK(back->samplingSeconds >= 0);

    // The diagnostics behave as NUTS's must.
    double sumAccept = 0;
    for (const std::vector<double>& row : back->rows) {
      const double lp = row[0], accept = row[1], eps = row[2], depth = row[3], n = row[4],
                   divergent = row[5], energy = row[6];
      CHECK(sameBits(eps, r.run.chains[c].stepSize)); // fixed after warm-up
      CHECK((accept >= 0 && accept <= 1));
      CHECK((depth >= 0 && depth <= 10));
      // A trajectory of `depth` completed doublings has 2^depth - 1 leapfrogs, plus those of
      // the doubling that was cut short.
      CHECK(n >= std::exp2(depth) - 1);
      CHECK(n <= std::exp2(depth + 1) - 1);
      CHECK((divergent == 0 || divergent == 1));
      CHECK(energy >= -lp); // H = -log p + kinetic energy, kinetic >= 0
      sumAccept += accept;
    }
    CHECK(sumAccept / 300 == Approx(r.run.chains[c].meanAcceptStat).epsilon(1e-12));
    read.push_back(std::move(*back));
  }

  auto p = posteriorFromStanCsv(read);
  REQUIRE(p);
  REQUIRE(p->summaries.size() == r.p.summaries.size());
  for (size_t q = 0; q < p->summaries.size(); ++q) {
    const QuantitySummary &a = p->summaries[q], &b = r.p.summaries[q];
    INFO(a.name);
    CHECK(a.name == b.name);
    for (auto [x, y] : {std::pair{a.mean, b.mean},
                        {a.sd, b.sd},
                        {a.q5, b.q5},
                        {a.q50, b.q50},
                        {a.q95, b.q95},
                        {a.rhat, b.rhat},
                        {a.essBulk, b.essBulk},
                        {a.essTail, b.essTail},
                        {a.mcse, b.mcse}})
      CHECK(sameBits(x, y));
  }
  CHECK(p->summaries[2].name == "theta[0]");
  CHECK(p->divergences == r.p.divergences);
  CHECK(sameBits(p->acceptRate, r.p.acceptRate));
  std::ostringstream fromFiles, fromInfer;
  printTable(*p, r.c.ir.ctx(), fromFiles);
  printTable(r.p, r.c.ir.ctx(), fromInfer);
  CHECK(fromFiles.str() == fromInfer.str());
}

// Written to CmdStan's documented layout (CmdStan guide, "Stan CSV File Format"): 6 significant
// digits, (Default) markers, save_warmup=1 rows before the adaptation block, CRLF line ends.
const char* kCmdStanFile =
    "# stan_version_major = 2\r\n"
    "# stan_version_minor = 33\r\n"
    "# model = bernoulli_model\r\n"
    "# method = sample (Default)\r\n"
    "#   sample\r\n"
    "#     num_samples = 3\r\n"
    "#     num_warmup = 2\r\n"
    "#     save_warmup = 1\r\n"
    "#     adapt\r\n"
    "#       delta = 0.8 (Default)\r\n"
    "# id = 2\r\n"
    "# random\r\n"
    "#   seed = 1234\r\n"
    "lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,mu,theta.1,"
    "theta.2\r\n"
    "-9.1,0.5,1.2,1,3,0,9.5,0.1,1,2\r\n"
    "-8.2,0.9,1.3,2,3,0,8.9,0.2,3,4\r\n"
    "# Adaptation terminated\r\n"
    "# Step size = 0.932\r\n"
    "# Diagonal elements of inverse mass matrix:\r\n"
    "# 0.512, 1.25e-1, 2\r\n"
    "-7.33046,0.938262,0.932,1,3,0,7.36958,0.25,1.5,-2\r\n"
    "\r\n"
    "-6.75,1,0.932,2,3,1,7.01,0.5,2.5,-4.5e+0\r\n"
    "-7,0.75,0.932,1,1,0,7.2,0.75,3.5,nan\r\n"
    "# \r\n"
    "#  Elapsed Time: 0.003 seconds (Warm-up)\r\n"
    "#                0.004 seconds (Sampling)\r\n"
    "#                0.007 seconds (Total)\r\n"
    "# \r\n";

TEST_CASE("Stan CSV: reads a CmdStan-style file", "[stan_csv]") {
  auto c = readText(kCmdStanFile, "output_2.csv");
  INFO((c ? "" : c.error().str()));
  REQUIRE(c);
  CHECK(c->config["model"] == "bernoulli_model");
  CHECK(c->config["method"] == "sample");
  CHECK(c->config["num_samples"] == "3");
  CHECK(c->config["id"] == "2");
  CHECK(c->config["seed"] == "1234");
  CHECK(c->config["delta"] == "0.8");
  CHECK(c->columns.size() == 10);
  CHECK(c->columns[8] == "theta.1");
  CHECK(c->warmupRows.size() == 2);
  REQUIRE(c->rows.size() == 3);
  CHECK(c->rows[0][0] == -7.33046);
  CHECK(c->rows[1][5] == 1);
  CHECK(c->rows[1][9] == -4.5);
  CHECK(std::isnan(c->rows[2][9]));
  CHECK(c->stepSize == 0.932);
  CHECK(c->invMetric == std::vector<double>{0.512, 0.125, 2});
  CHECK(c->warmupSeconds == 0.003);
  CHECK(c->samplingSeconds == 0.004);

  // Summarised as one chain: the quantities are the non-__ columns, Chassis-named.
  StanCsvChain two = *c;
  two.columns.pop_back(); // drop theta.2 (its NaN) from the summary check
  for (auto& row : two.rows)
    row.pop_back();
  auto p = posteriorFromStanCsv(std::span<const StanCsvChain>(&two, 1));
  REQUIRE(p);
  REQUIRE(p->quantities.size() == 2);
  CHECK(p->quantities[0].name == "mu");
  CHECK(p->quantities[1].name == "theta[0]");
  CHECK(p->summaries[0].mean == Approx(0.5));
  CHECK(p->summaries[1].mean == Approx(2.5));
  CHECK(p->divergences == 1);
  CHECK(p->acceptRate == Approx((0.938262 + 1 + 0.75) / 3));
}

TEST_CASE("Stan CSV: an empty inverse metric (no continuous parameter) reads as empty",
          "[stan_csv]") {
  auto c = readText("lp__,x\n# Adaptation terminated\n# Step size = 1\n# Diagonal elements of "
                    "inverse mass matrix:\n# \n0,1\n",
                    "empty.csv");
  REQUIRE(c);
  CHECK(c->invMetric.empty());
  CHECK(c->rows.size() == 1);
}

TEST_CASE("Stan CSV: a file without adaptation block keeps every row as a draw", "[stan_csv]") {
  auto c = readText("# method = sample (Default)\nlp__,x\n0,1\n0,2\n", "fixed.csv");
  REQUIRE(c);
  CHECK_FALSE(c->adapted);
  CHECK(c->rows.size() == 2);
  CHECK(c->warmupRows.empty());
}

TEST_CASE("Stan CSV: malformed files give located errors", "[stan_csv]") {
  const std::string head = "# model = m\nlp__,accept_stat__,mu\n";
  auto errorOf = [](const std::string& text) {
    auto c = readText(text, "bad.csv");
    REQUIRE_FALSE(c);
    return c.error().str();
  };
  // A ragged row: too many values (at the first extra one), too few (at the line's end).
  CHECK_THAT(errorOf(head + "1,2,3\n1,2,3,4\n"),
             Catch::StartsWith("bad.csv:4:7: error: this row has 4 values, the header has 3"));
  CHECK_THAT(errorOf(head + "1,2\n"),
             Catch::StartsWith("bad.csv:3:4: error: this row has 2 values, the header has 3"));
  // A value that is not a number.
  CHECK_THAT(errorOf(head + "1,2,3\n-1.5,0.9,abc\n"),
             Catch::StartsWith("bad.csv:4:10: error: 'abc' (column mu) is not a number"));
  CHECK_THAT(errorOf(head + "1,,3\n"), Catch::StartsWith("bad.csv:3:3: error: '' (column"));
  // No lp__: not sampler output.
  CHECK_THAT(errorOf("# x = 1\nmu,tau\n1,2\n"),
             Catch::StartsWith("bad.csv:2:1: error: the header has no lp__ column"));
  // Header problems.
  CHECK_THAT(errorOf("lp__,mu,mu\n"),
             Catch::StartsWith("bad.csv:1:9: error: column 'mu' appears twice"));
  CHECK_THAT(errorOf("lp__,,mu\n"), Catch::StartsWith("bad.csv:1:6: error: empty column name"));
  CHECK_THAT(errorOf("# only comments\n"), Catch::Contains("no column header"));
  CHECK_THAT(errorOf(""), Catch::StartsWith("bad.csv: error: no column header"));
  // A broken adaptation block.
  CHECK_THAT(errorOf(head + "# Adaptation terminated\n# Step size = 0.5\n"
                            "# Diagonal elements of inverse mass matrix:\n# 1, x2\n"),
             Catch::StartsWith("bad.csv:6:6: error: 'x2' in the inverse mass matrix"));
  CHECK_THAT(errorOf(head + "# Step size = fast\n"),
             Catch::StartsWith("bad.csv:3:15: error: the step size is not a number"));
  // A missing file.
  auto missing = readStanCsvFile("/nonexistent/draws.csv");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().str() == "/nonexistent/draws.csv: error: cannot open the file");
}

TEST_CASE("Stan CSV: chains that do not belong together are refused", "[stan_csv]") {
  auto a = readText("lp__,mu\n0,1\n0,2\n", "a.csv");
  auto b = readText("lp__,tau\n0,1\n0,2\n", "b.csv");
  auto shorter = readText("lp__,mu\n0,1\n", "c.csv");
  auto method = readText("# method = optimize\nlp__,mu\n0,1\n0,2\n", "d.csv");
  REQUIRE((a && b && shorter && method));
  std::vector<StanCsvChain> differ = {*a, *b};
  auto e1 = posteriorFromStanCsv(differ);
  REQUIRE_FALSE(e1);
  CHECK_THAT(e1.error().str(),
             Catch::StartsWith("b.csv: error: its columns differ from those of a.csv"));
  std::vector<StanCsvChain> ragged = {*a, *shorter};
  auto e2 = posteriorFromStanCsv(ragged);
  REQUIRE_FALSE(e2);
  CHECK_THAT(e2.error().str(), Catch::StartsWith("c.csv: error: it has 1 draws, a.csv has 2"));
  auto e3 = posteriorFromStanCsv(std::span<const StanCsvChain>(&*method, 1));
  REQUIRE_FALSE(e3);
  CHECK_THAT(e3.error().str(), Catch::Contains("method = optimize"));
}

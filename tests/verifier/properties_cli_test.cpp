// `chassis verify` as scripts use it: the exit codes (0 all hold, 1 some violated, 3 some unknown
// or statistical and none violated, 2 bad input), the JSON output (verdicts, counterexamples and
// the float64 value there, certified intervals, statistical results labelled `statistical`), and
// --emit=smt2 files that the z3 command line answers as the verifier did. Runs the chassis
// binary of this build (CHASSIS_BINARY_DIR/tools/chassis: build the `chassis` target first, as
// the full build and ctest do).
#include "chs_file_test_util.h"
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace {

using Cli = chassis::testing::CliRun;

std::string tmpPath(const std::string& stem) {
  return (std::filesystem::temp_directory_path() /
          ("chassis_5a_" + std::to_string(::getpid()) + "_" + stem))
      .string();
}

/// Runs `chassis verify ARGS` (paths relative to the source root), capturing stdout.
Cli runVerify(const std::string& args) {
  return chassis::testing::runChassis("verify " + args, "5a");
}

nlohmann::json byName(const nlohmann::json& arr, const std::string& name) {
  for (auto& o : arr)
    if (o["property"] == name) return o;
  FAIL("no result for " << name);
  return {};
}

} // namespace

TEST_CASE("chassis verify: exit codes", "[properties][cli]") {
  const std::string f = "tests/data/verify/exit_codes.chs";
  CHECK(runVerify(f + " --property bounded").code == 0);
  CHECK(runVerify(f + " --property tight").code == 1);
  CHECK(runVerify(f + " --property alternating").code == 3);
  CHECK(runVerify(f).code == 1); // violated dominates unknown
  CHECK(runVerify(f + " --property nosuch").code == 2);
  CHECK(runVerify("tests/data/verify/no_such_file.chs").code == 2);
  CHECK(runVerify("tests/data/verify/statistical.chs").code == 3);
  CHECK(runVerify("tests/data/verify/statistical.chs --statistical --samples 2000").code == 3);
  CHECK(runVerify("tests/data/verify/statistical.chs --statistical --confidence 1.5").code == 2);
  CHECK(runVerify("examples/braking.chs --property brakes_when_close").code == 0);
  CHECK(runVerify("examples/braking.chs --property rarely_late").code == 0);
  CHECK(runVerify("tests/data/verify/braking_bug.chs --property brakes_when_close").code == 1);
}

TEST_CASE("chassis verify --json: verdicts, counterexamples, intervals", "[properties][cli]") {
  Cli c = runVerify("examples/braking.chs --json");
  CHECK(c.code == 1);
  auto env = nlohmann::json::parse(c.out);
  CHECK(env["tool"] == "chassis");
  CHECK(env["command"] == "verify");
  CHECK(env["summary"]["exit_code"] == 1);
  auto j = env["results"];
  REQUIRE(j.is_array());
  REQUIRE(j.size() == 5); // the four properties and the range obligation of Braking's call
  CHECK(byName(j, "range@Braking:48:5")["verdict"] == "holds");
  CHECK(byName(j, "brakes_when_close")["verdict"] == "holds");
  CHECK(byName(j, "monotone_in_distance")["verdict"] == "holds");
  auto late = byName(j, "rarely_late");
  CHECK(late["verdict"] == "holds");
  REQUIRE(late["interval"].is_array());
  CHECK(late["interval"][0].get<double>() >= 0);
  CHECK(late["interval"][1].get<double>() <= 0.01);
  CHECK(late.find("statistical") == late.end());
  auto slow = byName(j, "never_late_when_slow");
  CHECK(slow["verdict"] == "violated");
  CHECK(slow["value_at_counterexample"] == "false");
  CHECK(slow["counterexample"]["module"] == "Braking");
  CHECK(slow["counterexample"]["choices"]["Sensor/noise"].is_number());
  CHECK(slow["counterexample"]["choices"]["distance"].is_number());

  Cli e = runVerify("tests/data/verify/exit_codes.chs --json");
  auto je = nlohmann::json::parse(e.out)["results"];
  CHECK(byName(je, "tight")["verdict"] == "violated");
  CHECK(byName(je, "tight")["counterexample"]["vars"]["x"] == 10.0);
  CHECK(byName(je, "alternating")["verdict"] == "unknown");
  CHECK(byName(je, "alternating")["reason"].get<std::string>().find("alternating") !=
        std::string::npos);
}

TEST_CASE("chassis verify --statistical --json: labelled statistical", "[properties][cli][stat]") {
  Cli plain = runVerify("tests/data/verify/statistical.chs --json");
  auto jp = nlohmann::json::parse(plain.out)["results"];
  for (auto& o : jp) {
    CHECK(o["verdict"] == "unknown");
    CHECK(o.find("statistical") == o.end());
  }
  Cli c = runVerify("tests/data/verify/statistical.chs --json --statistical --samples 20000 "
                   "--confidence 0.95 --seed 3");
  CHECK(c.code == 3);
  auto j = nlohmann::json::parse(c.out)["results"];
  for (auto& o : j) {
    CHECK(o["verdict"] == "statistical");
    REQUIRE(o.contains("statistical"));
    CHECK(o["statistical"]["confidence"] == 0.95);
    CHECK(o["statistical"]["seed"] == 3);
  }
  auto few = byName(j, "few")["statistical"];
  CHECK(few["decision"] == "likely holds (statistical)");
  CHECK(few["samples"] == 20000);
  double p = 8.5 * std::exp(-3.0);
  CHECK(few["interval"][0].get<double>() < p);
  CHECK(few["interval"][1].get<double>() > p);
  CHECK(byName(j, "many")["statistical"]["decision"] == "likely violated (statistical)");
  // The text table says so too, and never prints a bare holds/violated for them.
  Cli t = runVerify("tests/data/verify/statistical.chs --statistical --samples 2000");
  CHECK(t.out.find("likely holds (statistical)") != std::string::npos);
  std::istringstream lines(t.out);
  std::string line;
  int rows = 0;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string name, verdict;
    words >> name >> verdict;
    if (name == "property") continue; // the header
    ++rows;
    CHECK(verdict != "holds");
    CHECK(verdict != "violated");
    CHECK(verdict == "likely");
  }
  CHECK(rows == 3);
}

TEST_CASE("chassis verify --emit=smt2: the z3 command line answers the same", "[properties][smt2]") {
  if (std::system("command -v z3 > /dev/null 2>&1") != 0) {
    WARN("z3 binary not found (Debian package z3): SMT-LIB2 check skipped");
    return;
  }
  std::string dir = tmpPath("smt2");
  std::filesystem::remove_all(dir);
  Cli c = runVerify("tests/data/verify/braking_bug.chs --emit=smt2 --emit-dir '" + dir + "'");
  CHECK(c.code == 1);
  auto z3 = [](const std::string& file) {
    FILE* pipe = popen(("z3 -T:30 -smt2 '" + file + "'").c_str(), "r");
    REQUIRE(pipe);
    char buf[64] = {0};
    std::string first = std::fgets(buf, sizeof buf, pipe) ? buf : "";
    pclose(pipe);
    return first;
  };
  // forall / always: the query is the negation: unsat = proved, sat = counterexample.
  CHECK(z3(dir + "/brakes_when_close.0.smt2") == "sat\n");
  CHECK(z3(dir + "/monotone_in_distance.0.smt2") == "unsat\n");
  CHECK(z3(dir + "/never_late_when_slow.0.smt2") == "sat\n");
  int cells = 0;
  for (auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().filename().string().rfind("rarely_late.", 0) == 0) {
      std::string a = z3(e.path().string());
      CHECK((a == "sat\n" || a == "unsat\n"));
      ++cells;
    }
  CHECK(cells > 0);
  std::filesystem::remove_all(dir);
  // Standard output: each query after a comment line naming it.
  Cli s = runVerify("tests/data/verify/exit_codes.chs --property tight --emit=smt2");
  CHECK(s.out.find("; property tight query 0") != std::string::npos);
  CHECK(s.out.find("(check-sat)") != std::string::npos);
}

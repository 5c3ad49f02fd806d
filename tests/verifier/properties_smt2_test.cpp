// SMT-LIB2 export of every property query (VerifyOptions::emitSmt2): each emitted query, given to
// the z3 command line (`z3 -smt2 FILE`), gets the answer the verifier got in-process
// (PropertyResult::smt2Answers) -- forall, exists, always, asserts and probability cells, on the
// braking example, its seeded-bug copy and the exit-code file. Skipped, with a message, when the
// z3 binary (Debian package z3) is absent.
#include "neural/lower_network.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "verifier/properties.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace chassis;
using namespace chassis::verifier;

TEST_CASE("every emitted SMT-LIB2 query: z3 -smt2 answers as the verifier did", "[properties][smt2]") {
  if (std::system("command -v z3 > /dev/null 2>&1") != 0) {
    WARN("z3 binary not found (Debian package z3): SMT-LIB2 check skipped");
    return;
  }
  std::string path = (std::filesystem::temp_directory_path() /
                      ("chassis_5a_q_" + std::to_string(::getpid()) + ".smt2"))
                         .string();
  int compared = 0, sat = 0, unsat = 0;
  for (const char* rel : {"examples/braking.chs", "tests/data/verify/braking_bug.chs",
                          "tests/data/verify/exit_codes.chs"}) {
    spec::DiagnosticEngine diags;
    auto ast = spec::loadProgram(std::string(CHASSIS_SOURCE_DIR) + "/" + rel, diags);
    REQUIRE(ast);
    ir::LowerOptions lo;
    lo.networkLoader = neural::networkLoader();
    auto prog = ir::lower(*ast, lo);
    REQUIRE(prog);
    VerifyOptions o;
    o.emitSmt2 = true;
    std::vector<PropertyResult> rs;
    for (const ir::Property& p : prog->properties)
      rs.push_back(verifyProperty(*prog, p, o));
    for (auto& r : verifyAsserts(*prog, o))
      rs.push_back(std::move(r));
    for (const PropertyResult& r : rs) {
      REQUIRE(r.smt2.size() == r.smt2Answers.size());
      // Cell queries: every 7th is enough (they are many and alike).
      for (size_t k = 0; k<r.smt2.size(); k += r.smt2.size()> 10 ? 7 : 1) {
        std::ofstream(path) << r.smt2[k];
        FILE* pipe = popen(("z3 -T:30 -smt2 '" + path + "'").c_str(), "r");
        REQUIRE(pipe);
        char buf[64] = {0};
        std::string ans = std::fgets(buf, sizeof buf, pipe) ? buf : "";
        pclose(pipe);
        INFO(rel << " " << r.name << " query " << k);
        CHECK(ans == r.smt2Answers[k] + "\n");
        ++compared;
        sat += ans == "sat\n";
        unsat += ans == "unsat\n";
      }
    }
  }
  std::filesystem::remove(path);
  CHECK(compared >= 12);
  CHECK(sat >= 3);
  CHECK(unsat >= 3);
}

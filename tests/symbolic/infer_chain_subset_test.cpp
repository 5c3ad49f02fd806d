// Running a subset of the MCMC chains (the seam tools/mpi_chains.h uses to place chains on MPI
// ranks): runMhChains with chain ids, and runNuts with NutsOptions::chainIds, give each chain
// exactly the draws it has in a run of all chains (chain c on the stream Rng(seed).split(c)), in
// the order asked; two disjoint subsets put together and summarised (mhPosterior,
// nutsPosterior) print the table of one inferMh / inferNuts call byte for byte.
#include "tests/symbolic/compile_chs.h"
#include "symbolic/infer_mh.h"
#include "symbolic/infer_nuts.h"
#include "symbolic/summary.h"

#include <catch2/catch.hpp>

#include <sstream>

using namespace chassis;
using namespace chassis::symbolic;

namespace {

const char* kModel = R"(
module Model() -> (mu: real, s: real) {
    mu ~ Normal(0.0, 5.0);
    s ~ Exponential(1.0);
    observe(Normal(mu, s + 0.5), 1.3);
    observe(Normal(mu, s + 0.5), 0.4);
    observe(Normal(mu, s + 0.5), 2.2);
}
)";

std::string table(const Posterior& p, const ir::Program& prog) {
  std::ostringstream os;
  printTable(p, prog.ctx(), os);
  return os.str();
}

} // namespace

TEST_CASE("MH: a subset of chains has the draws of those chains in a full run", "[infer][mh]") {
  auto c = testing::compileChs(kModel);
  const ir::Function* f = c.ir.findFunction("Model");
  InferOptions o;
  o.method = InferMethod::MH;
  o.samples = 200;
  o.warmup = 100;
  o.chains = 4;
  o.seed = 5;
  auto all = runMhChains(*f, {}, o, {});
  REQUIRE(all);
  REQUIRE(all->chains.size() == 4);
  const std::vector<size_t> odd{3, 1}, even{0, 2};
  auto a = runMhChains(*f, {}, o, odd);
  auto b = runMhChains(*f, {}, o, even);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->chains[0].draws == all->chains[3].draws);
  CHECK(a->chains[1].draws == all->chains[1].draws);
  CHECK(b->chains[1].accepted == all->chains[2].accepted);
  CHECK(a->chains[0].draws != a->chains[1].draws);
  // Put together in chain order: inferMh's table, byte for byte.
  MhRun joined{b->quantities, {}, b->samples};
  joined.chains = {b->chains[0], a->chains[1], b->chains[1], a->chains[0]};
  auto joinedPost = mhPosterior(joined, 0.0);
  auto direct = inferMh(*f, {}, o);
  REQUIRE(joinedPost);
  REQUIRE(direct);
  CHECK(table(*joinedPost, c.ir) == table(*direct, c.ir));
}

TEST_CASE("NUTS: a subset of chains has the draws of those chains in a full run", "[nuts]") {
  auto c = testing::compileChs(kModel);
  const ir::Function* f = c.ir.findFunction("Model");
  InferOptions o;
  o.method = InferMethod::NUTS;
  o.samples = 150;
  o.warmup = 150;
  o.chains = 3;
  o.seed = 9;
  NutsOptions no = nutsOptionsOf(o);
  auto all = runNuts(*f, {}, no);
  REQUIRE(all);
  no.chainIds = {2};
  auto last = runNuts(*f, {}, no);
  no.chainIds = {0, 1};
  auto first = runNuts(*f, {}, no);
  REQUIRE(last);
  REQUIRE(first);
  REQUIRE(last->chains.size() == 1);
  CHECK(last->chains[0].draws == all->chains[2].draws);
  CHECK(last->chains[0].stepSize == all->chains[2].stepSize);
  CHECK(first->chains[1].draws == all->chains[1].draws);
  CHECK(first->chains[0].draws != first->chains[1].draws);
  NutsResult joined = std::move(*first);
  joined.chains.push_back(std::move(last->chains[0]));
  joined.sumChains();
  CHECK(joined.divergences == all->divergences);
  CHECK(joined.meanAcceptStat == all->meanAcceptStat);
  auto joinedPost = nutsPosterior(*f, o, std::move(joined), 0.0);
  auto direct = inferNuts(*f, {}, o);
  REQUIRE(joinedPost);
  REQUIRE(direct);
  CHECK(table(*joinedPost, c.ir) == table(*direct, c.ir));
}

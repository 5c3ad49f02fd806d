// The interpreter's constant array literals (symbolic/interp.cpp, ConstantArrays): a literal whose
// elements are all constants (`[0.0, ...]`, what `var z: real[T]` lowers to) is evaluated once and
// its value shared by every later evaluation; a write into one use copies only what it changes,
// so the other uses (and the next evaluation) still read the literal's values.
#include "tests/symbolic/compile_chs.h"
#include "spec/ir.h"
#include "symbolic/interp.h"
#include "symbolic/node_pool.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <vector>

using namespace chassis;
using namespace chassis::symbolic;

namespace {

Value eval(ir::Expr e) {
  auto v = evaluate(e, {}, SourceLoc{"t.chs", 1, 1});
  INFO((v ? "" : v.error().str()));
  REQUIRE(v);
  return std::move(*v);
}

std::vector<double> repeated(size_t n, double x) { return std::vector<double>(n, x); }

} // namespace

TEST_CASE("interp: a constant array literal is built once and its value shared",
          "[interp][constant_literal]") {
  ir::Context ctx;
  const size_t n = 1000; // 16 leaves: a tree, not one leaf
  const ir::Expr zeros =
      ctx.arrayLit(ir::Type::real(), std::vector<ir::Expr>(n, ctx.realConst(0.0)));
  const Value first = eval(zeros);
  CHECK(first.a == repeated(n, 0.0));
  // The second evaluation allocates nothing and gives the first one's storage.
  const int64_t live = pool::liveBlocks();
  Value second = eval(zeros);
  CHECK(pool::liveBlocks() == live);
  CHECK(second.a.sharesStorageWith(first.a));
  // A write into one use copies its leaf (and path): the other use and a fresh evaluation still
  // read zeros.
  second.a.set(700, 2.5);
  CHECK(second.a[700] == 2.5);
  CHECK_FALSE(second.a.sharesLeafWith(first.a, 700));
  CHECK(second.a.sharesLeafWith(first.a, 0)); // the leaves it did not write: still shared
  CHECK(first.a == repeated(n, 0.0));
  const Value third = eval(zeros);
  CHECK(third.a == repeated(n, 0.0));
  CHECK(third.a.sharesStorageWith(first.a));

  // Distinct values and a matrix literal (rows of constants, row-major), shared the same way.
  std::vector<ir::Expr> row;
  for (int k = 0; k < 100; ++k)
    row.push_back(ctx.realConst(0.5 * k));
  const ir::Expr r = ctx.arrayLit(ir::Type::real(), row);
  const ir::Expr matrix = ctx.arrayLit(r->type(), {r, r, r});
  const Value m1 = eval(matrix), m2 = eval(matrix);
  CHECK(m2.a.sharesStorageWith(m1.a));
  REQUIRE(m1.a.size() == 300);
  for (size_t k = 0; k < 300; ++k)
    CHECK(m1.a[k] == 0.5 * double(k % 100));

  // -0.0 is its own constant: not given the value of a literal of 0.0.
  const Value negZeros =
      eval(ctx.arrayLit(ir::Type::real(), std::vector<ir::Expr>(n, ctx.realConst(-0.0))));
  CHECK(std::signbit(negZeros.a[5]));
  CHECK_FALSE(std::signbit(third.a[5]));

  // A literal with a variable element is built at each evaluation, from the frame's value.
  const ir::Var* x = ctx.newVar("x", ir::Type::real(), ir::VarRole::Local, 0);
  const ir::Expr mixed = ctx.arrayLit(ir::Type::real(), {ctx.realConst(1.0), x});
  for (double xv : {3.0, -4.0}) {
    const std::vector<Value> frame{Value::scalar(xv)};
    auto v = evaluate(mixed, frame, SourceLoc{"t.chs", 1, 1});
    REQUIRE(v);
    CHECK(v->a == std::vector<double>{1.0, xv});
  }
}

TEST_CASE("interp: a constant array literal of a freed program is not taken for another's",
          "[interp][constant_literal]") {
  // The same shape in one program after another, each freed before the next is built: the
  // allocator often gives a new program's nodes the addresses of the last one's, and a literal's
  // stored value is keyed by its node. Each program must read its own constants.
  for (int k = 0; k < 20; ++k) {
    auto ctx = std::make_unique<ir::Context>();
    const double x = k % 2 ? double(k) : -double(k) / 4;
    const ir::Expr lit =
        ctx->arrayLit(ir::Type::real(), std::vector<ir::Expr>(200, ctx->realConst(x)));
    CHECK(eval(lit).a == repeated(200, x));
    CHECK(eval(lit).a == repeated(200, x));
  }
}

TEST_CASE("interp: `var z: real[N]` in a loop starts from zeros at every iteration",
          "[interp][constant_literal]") {
  // z is declared (lowered to the literal of N zeros) at each iteration, written, and read: each
  // iteration must see zeros but for its own write, not an earlier iteration's; the output holds
  // the last iteration's z.
  const std::string n = "100";
  auto prog = testing::lowerChs("module M() -> (seen: real[4], total: real[4], last: real[" + n +
                                "]) {\n"
                                "  var keep: real[" + n + "];\n"
                                "  for i in 0..4 {\n"
                                "    var z: real[" + n + "];\n"
                                "    seen[i] = sum(z);\n"
                                "    z[i * 30] = 1.0 + i;\n"
                                "    z[i * 30 + 1] = 10.0;\n"
                                "    total[i] = sum(z);\n"
                                "    keep = z;\n"
                                "  }\n"
                                "  last = keep;\n"
                                "}\n");
  const ir::Function* f = prog->findFunction("M");
  REQUIRE(f);
  for (int run = 0; run < 2; ++run) { // the second run starts from the literal the first one shared
    Rng rng(1);
    auto r = symbolic::run(*f, {}, rng);
    REQUIRE(r);
    CHECK(r->outputs[0].a == std::vector<double>{0, 0, 0, 0});
    CHECK(r->outputs[1].a == std::vector<double>{11, 12, 13, 14});
    std::vector<double> last(100, 0.0);
    last[90] = 4.0;
    last[91] = 10.0;
    CHECK(r->outputs[2].a == last);
  }
}

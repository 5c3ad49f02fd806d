// symbolic::SharedArray (symbolic/shared_array.h), the storage of the interpreter's arrays: a copy
// shares the storage until one side writes, a write never shows in another copy, and the
// vector-like operations agree with std::vector at the sizes where the tree changes shape (one
// leaf, one level, two levels). Also a suspended run's copy (what SMC makes when it resamples) is
// independent of the original.
#include "compile_chs.h"

#include "symbolic/interp.h"
#include "symbolic/shared_array.h"

#include <catch2/catch.hpp>

#include <random>
#include <thread>
#include <vector>

using namespace chassis;
using namespace chassis::symbolic;

namespace {

constexpr size_t kLeaf = SharedArray::kLeaf;
constexpr size_t kTwoLevels = kLeaf * SharedArray::kBranch * SharedArray::kBranch + 3;

std::vector<double> iota(size_t n, double from = 0) {
  std::vector<double> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = from + double(i);
  return v;
}

bool same(const SharedArray& a, const std::vector<double>& v) {
  if (a.size() != v.size()) return false;
  for (size_t i = 0; i < v.size(); ++i)
    if (a[i] != v[i]) return false;
  return std::vector<double>(a.begin(), a.end()) == v;
}

} // namespace

TEST_CASE("SharedArray: a copy shares storage until written, and a write stays private",
          "[shared_array]") {
  for (size_t n : {size_t(1), size_t(5), kLeaf, kLeaf + 1, size_t(1000), kTwoLevels}) {
    INFO("n = " << n);
    const std::vector<double> v = iota(n);
    SharedArray a(v);
    REQUIRE(same(a, v));
    SharedArray b = a;
    CHECK(b.sharesStorageWith(a));
    const size_t i = n / 2;
    b.set(i, -1);
    CHECK_FALSE(b.sharesStorageWith(a));
    CHECK(same(a, v)); // the original is unchanged
    std::vector<double> w = v;
    w[i] = -1;
    CHECK(same(b, w));
    // Only the written element's leaf was copied: a leaf elsewhere is still shared.
    CHECK_FALSE(b.sharesLeafWith(a, i));
    if (n > kLeaf) {
      const size_t far = i < kLeaf ? n - 1 : 0;
      CHECK(b.sharesLeafWith(a, far));
    }
    // Writing the original now does not show in the copy either.
    a.set(0, 42);
    CHECK(b[0] == w[0]);
    CHECK(a[0] == 42);
    // A copy dropped before the write leaves nothing to protect: the write goes in place.
    SharedArray c(v);
    SharedArray alias = c;
    alias = SharedArray();
    c.set(i, 7);
    CHECK(c[i] == 7);
    CHECK(same(SharedArray(v), v));
  }
  // One leaf: written in place when alone, copied when shared.
  std::vector<double> scratch;
  SharedArray c(iota(5));
  const double* before = c.contiguous(scratch).data();
  c.set(2, 7);
  CHECK(c.contiguous(scratch).data() == before);
  const SharedArray d = c;
  c.set(3, 8);
  CHECK(c.contiguous(scratch).data() != before);
  CHECK(d.contiguous(scratch).data() == before);
  CHECK(d[3] == 3);
  CHECK(c[3] == 8);
}

TEST_CASE("SharedArray: push_back, resize, assign and comparisons agree with std::vector",
          "[shared_array]") {
  std::mt19937_64 gen(5);
  std::uniform_real_distribution<double> u(-1, 1);
  SharedArray a;
  std::vector<double> v;
  std::vector<SharedArray> snapshots;
  std::vector<std::vector<double>> expected;
  for (size_t k = 0; k < kTwoLevels; ++k) {
    const double x = u(gen);
    a.push_back(x);
    v.push_back(x);
    if (k % 97 == 0 || k + 1 == kLeaf || k == kLeaf) { // copies taken while it grows
      snapshots.push_back(a);
      expected.push_back(v);
    }
  }
  REQUIRE(same(a, v));
  // Overwrite everything: the snapshots keep what they saw.
  for (size_t k = 0; k < v.size(); k += 3) {
    a.set(k, double(k));
    v[k] = double(k);
  }
  CHECK(same(a, v));
  for (size_t s = 0; s < snapshots.size(); ++s) CHECK(same(snapshots[s], expected[s]));
  a.resize(10);
  v.resize(10);
  CHECK(same(a, v));
  a.resize(kLeaf + 10, 2.5);
  v.resize(kLeaf + 10, 2.5);
  CHECK(same(a, v));
  a.assign(3, 1.5);
  CHECK(a == std::vector<double>(3, 1.5));
  CHECK(SharedArray(iota(5)) == SharedArray(iota(5)));
  CHECK_FALSE(SharedArray(iota(5)) == SharedArray(iota(6)));
  CHECK(SharedArray(iota(5)) < SharedArray(iota(5, 1)));
  std::vector<double> scratch;
  const SharedArray big(iota(1000));
  const auto span = big.contiguous(scratch);
  CHECK(std::vector<double>(span.begin(), span.end()) == iota(1000));
  const SharedArray small(iota(7));
  CHECK(small.contiguous(scratch).data() != scratch.data()); // one leaf: no copy
}

TEST_CASE("SharedArray: copies written on several threads stay independent", "[shared_array]") {
  const std::vector<double> v = iota(3000);
  const SharedArray base(v);
  std::vector<SharedArray> copies(4, base);
  std::vector<std::thread> ts;
  for (size_t t = 0; t < copies.size(); ++t)
    ts.emplace_back([&copies, t] {
      for (size_t k = t; k < copies[t].size(); k += 7) {
        SharedArray c = copies[t]; // a copy per write, as a particle is copied per step
        c.set(k, -double(t) - 1);
        copies[t] = std::move(c);
      }
    });
  for (auto& th : ts) th.join();
  CHECK(same(base, v));
  for (size_t t = 0; t < copies.size(); ++t) {
    std::vector<double> w = v;
    for (size_t k = t; k < w.size(); k += 7) w[k] = -double(t) - 1;
    CHECK(same(copies[t], w));
  }
}

TEST_CASE("interp: a copied suspension resumes independently of the original", "[interp][smc]") {
  // The trajectory array z is in the suspended frame: resampling copies the suspension and both
  // copies go on writing z.
  auto prog = testing::lowerChs("module M(ys: real[200]) -> (zs: real[200]) {\n"
                                "    var z: real[200];\n"
                                "    for t in 0..200 {\n"
                                "        z[t] ~ Normal(0.0, 1.0);\n"
                                "        observe(Normal(z[t], 1.0), ys[t]);\n"
                                "    }\n"
                                "    zs = z;\n"
                                "}\n");
  const ir::Function* f = prog->findFunction("M");
  REQUIRE(f);
  std::vector<Value> in{Value::array(std::vector<double>(200, 0.5))};
  Suspension s;
  Rng rng(3);
  RunOptions ro;
  ro.stopAfterObserves = 1;
  for (int k = 0; k < 100; ++k) REQUIRE(resume(*f, in, s, rng, ro));
  Suspension copy = s;
  Rng r1(7), r2(8);
  ro.stopAfterObserves = -1;
  auto a = resume(*f, in, s, r1, ro);
  auto b = resume(*f, in, copy, r2, ro);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(a->outputs.size() == 1);
  const SharedArray& za = a->outputs[0].a;
  const SharedArray& zb = b->outputs[0].a;
  REQUIRE(za.size() == 200);
  REQUIRE(zb.size() == 200);
  for (size_t t = 0; t < 100; ++t) CHECK(za[t] == zb[t]); // the shared past
  size_t differ = 0;
  for (size_t t = 100; t < 200; ++t) differ += za[t] != zb[t] ? 1 : 0;
  CHECK(differ == 100); // each copy drew its own future, into its own storage
}

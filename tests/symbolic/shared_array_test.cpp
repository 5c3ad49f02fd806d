// symbolic::SharedArray (symbolic/shared_array.h), the storage of the interpreter's arrays: a copy
// shares the storage until one side writes, a write never shows in another copy, and the
// vector-like operations agree with std::vector at the sizes where the tree changes shape (one
// leaf, one level, two levels). The focus (the leaf written last, held beside the tree): writes in
// it copy one leaf and no inner node, writes elsewhere move it, and random sequences of reads,
// writes, copies and resizes agree with std::vector, also on several threads. Also a suspended
// run's copy (what SMC makes when it resamples) is independent of the original.
#include "compile_chs.h"

#include "symbolic/interp.h"
#include "symbolic/node_pool.h"
#include "symbolic/shared_array.h"

#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
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

/// Element by element and bit for bit (0.0 and -0.0 differ).
bool same(const SharedArray& a, const std::vector<double>& v) {
  if (a.size() != v.size()) return false;
  for (size_t i = 0; i < v.size(); ++i)
    if (std::bit_cast<uint64_t>(a[i]) != std::bit_cast<uint64_t>(v[i])) return false;
  const std::vector<double> w(a.begin(), a.end());
  return std::memcmp(w.data(), v.data(), v.size() * sizeof(double)) == 0;
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

TEST_CASE("SharedArray: a write in the focus copies one leaf, a write elsewhere moves the focus",
          "[shared_array]") {
  // As SMC's trajectory: a filled array written in order, a copy kept at every step.
  const size_t n = 1000; // two levels of inner nodes
  const int64_t live0 = pool::liveBlocks();
  {
    SharedArray z(n, 0.0);
    // One leaf shared by every slot, and the inner nodes (a root and two below it).
    CHECK(pool::liveBlocks() - live0 == 4);
    CHECK(z.focusedLeaf() == SharedArray::npos);
    std::vector<double> v(n, 0.0);
    std::vector<SharedArray> kept;
    std::vector<std::vector<double>> seen;
    for (size_t t = 0; t < n; ++t) {
      kept.push_back(z); // shares root and focus: no allocation
      seen.push_back(v);
      const int64_t before = pool::liveBlocks();
      z.set(t, double(t) + 0.5);
      v[t] = double(t) + 0.5;
      const int64_t allocated = pool::liveBlocks() - before;
      INFO("t = " << t);
      CHECK(z.focusedLeaf() == t / kLeaf);
      if (t % kLeaf != 0) {
        CHECK(allocated == 1); // the shared focus leaf, nothing else
        CHECK_FALSE(z.sharesLeafWith(kept.back(), t));
        if (t >= kLeaf) CHECK(z.sharesLeafWith(kept.back(), 0)); // the tree's leaves: shared
      } else {
        // Moving the focus: the root and the inner node on the path (shared with the copy) and
        // the new leaf (shared with the filled slots); at most that, once per kLeaf writes.
        CHECK(allocated >= 1);
        CHECK(allocated <= 3 + (t > 0 && (t / kLeaf) % SharedArray::kBranch == 0 ? 1 : 0));
      }
      CHECK(z[t] == double(t) + 0.5);
    }
    CHECK(same(z, v));
    for (size_t k = 0; k < kept.size(); k += 37) CHECK(same(kept[k], seen[k]));
    // A leaf written long ago is shared by every later copy: the focus moved on.
    CHECK(z.sharesLeafWith(kept[n - 1], 0));
    // Writes to a copy are not seen by the original, inside the focus and outside it.
    SharedArray c = z;
    CHECK(c.sharesStorageWith(z));
    c.set(n - 2, -1.0);
    CHECK_FALSE(c.sharesStorageWith(z));
    c.set(3, -2.0);
    CHECK(c.focusedLeaf() == 0);
    CHECK(z.focusedLeaf() == (n - 1) / kLeaf);
    CHECK(same(z, v));
    std::vector<double> w = v;
    w[n - 2] = -1.0;
    w[3] = -2.0;
    CHECK(same(c, w));
    // And the original's writes are not seen by the copy.
    z.set(4, -3.0);
    v[4] = -3.0;
    CHECK(same(z, v));
    CHECK(same(c, w));
    CHECK(c == SharedArray(w));
    CHECK_FALSE(c == z);
    std::vector<double> scratch;
    const auto span = c.contiguous(scratch);
    CHECK(std::vector<double>(span.begin(), span.end()) == w);
  }
  CHECK(pool::liveBlocks() == live0); // every node and leaf freed, the focus leaves too
}

TEST_CASE("SharedArray: random reads, writes, copies and resizes agree with std::vector",
          "[shared_array]") {
  // Twice: with distinct values, and with values from {0.0, -0.0, 1.5} (assigns and resizes then
  // make arrays of one repeated value, whose slots share fill's leaf, and writes go into shared
  // leaves).
  for (const bool repeated : {false, true}) {
    INFO("repeated values " << repeated);
    std::mt19937_64 gen(repeated ? 29 : 17);
    const int64_t live0 = pool::liveBlocks();
    {
      constexpr size_t kSlots = 6;
      std::vector<SharedArray> as(kSlots);
      std::vector<std::vector<double>> vs(kSlots);
      const size_t sizes[] = {0, 3, kLeaf, kLeaf + 1, 300, 1000, kTwoLevels};
      for (size_t s = 0; s < kSlots; ++s) {
        const size_t n = sizes[gen() % std::size(sizes)];
        vs[s] = iota(n, double(s) * 10000);
        as[s] = SharedArray(vs[s]);
      }
      std::vector<size_t> cursor(kSlots, 0); // sequential writers, as a trajectory
      double count = 0.25, next = count;
      const double few[] = {0.0, -0.0, 1.5};
      for (int step = 0; step < 20000; ++step) {
        const size_t s = gen() % kSlots;
        SharedArray& a = as[s];
        std::vector<double>& v = vs[s];
        const unsigned op = unsigned(gen() % 100);
        if (op < 35 && !v.empty()) { // the next element in order
          const size_t i = cursor[s]++ % v.size();
          a.set(i, next);
          v[i] = next;
        } else if (op < 55 && !v.empty()) { // anywhere
          const size_t i = gen() % v.size();
          a.set(i, next);
          v[i] = next;
        } else if (op < 70) { // a copy into another slot (the old one is dropped)
          const size_t d = gen() % kSlots;
          as[d] = a;
          vs[d] = v;
          cursor[d] = cursor[s];
        } else if (op < 76) {
          a.push_back(next);
          v.push_back(next);
        } else if (op < 80) { // shrink or grow
          const size_t n = gen() % (kTwoLevels + 10);
          a.resize(n, next);
          v.resize(n, next);
        } else if (op < 82) {
          const size_t n = gen() % 1200;
          a.assign(n, next);
          v.assign(n, next);
        } else if (!v.empty()) { // reads
          for (int r = 0; r < 8; ++r) {
            const size_t i = gen() % v.size();
            REQUIRE(a[i] == v[i]);
          }
          REQUIRE(a.back() == v.back());
        }
        count += 1;
        next = repeated ? few[gen() % 64 == 0 ? gen() % 3 : 0] : count;
        if (step % 500 == 0)
          for (size_t k = 0; k < kSlots; ++k)
            REQUIRE(same(as[k], vs[k]));
      }
      for (size_t k = 0; k < kSlots; ++k) {
        CHECK(same(as[k], vs[k]));
        std::vector<double> scratch;
        const auto span = as[k].contiguous(scratch);
        CHECK(std::vector<double>(span.begin(), span.end()) == vs[k]);
        for (size_t j = 0; j < kSlots; ++j)
          CHECK((as[k] == as[j]) == (vs[k] == vs[j]));
      }
    }
    CHECK(pool::liveBlocks() == live0);
  }
}

TEST_CASE("SharedArray: a focused array copied and written on four threads", "[shared_array]") {
  // Filled (one leaf in every slot), and pushed element by element (a leaf of its own per slot).
  for (const bool pushed : {false, true}) {
    INFO("pushed " << pushed);
    std::vector<double> v(2500, 1.0);
    SharedArray base = pushed ? SharedArray() : SharedArray(v.size(), 1.0);
    if (pushed)
      for (double x : v)
        base.push_back(x);
    for (size_t i = 0; i < 700;
         ++i) { // the focus is at leaf 700 / kLeaf, other leaves still shared
      base.set(i, double(i));
      v[i] = double(i);
    }
    REQUIRE(base.focusedLeaf() == 699 / kLeaf);
    std::vector<SharedArray> results(4);
    std::vector<std::vector<double>> expected(4);
    std::vector<std::thread> ts;
    for (size_t t = 0; t < results.size(); ++t)
      ts.emplace_back([&base, &v, &results, &expected, t] {
        std::mt19937_64 gen(t + 1);
        SharedArray a = base; // shares the focus and the tree with the other threads
        std::vector<double> w = v;
        std::vector<SharedArray> history;
        for (size_t k = 0; k < 3000; ++k) {
          history.push_back(a); // a copy per write, as a particle per step; freed on this thread
          if (history.size() > 16) history.erase(history.begin());
          const size_t i = k % 3 == 0 ? gen() % w.size() : (690 + k) % w.size();
          const double x = -double(t) * 10000 - double(k);
          a.set(i, x);
          w[i] = x;
        }
        results[t] = std::move(a);
        expected[t] = std::move(w);
      });
    for (auto& th : ts)
      th.join();
    CHECK(same(base, v));
    for (size_t t = 0; t < results.size(); ++t)
      CHECK(same(results[t], expected[t]));
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

TEST_CASE(
    "interp: a suspended run's `var z: real[T]` holds a few nodes, not one leaf per 64 elements",
    "[interp][smc]") {
  // The lowering starts z from the literal [0.0, ...] (chassis check --emit=ir), whose value the
  // interpreter builds once (per thread) and shares (symbolic/interp.cpp, ConstantArrays): a
  // particle's z holds only what its writes copied. Each of SMC's particles holds such a frame.
  auto prog = testing::lowerChs("module M(ys: real[1000]) -> (last: real) {\n"
                                "    var z: real[1000];\n"
                                "    for t in 0..1000 {\n"
                                "        z[t] ~ Normal(0.0, 1.0);\n"
                                "        observe(Normal(z[t], 1.0), ys[t]);\n"
                                "    }\n"
                                "    last = z[999];\n"
                                "}\n");
  const ir::Function* f = prog->findFunction("M");
  REQUIRE(f);
  std::vector<Value> in{Value::array(std::vector<double>(1000, 0.5))};
  RunOptions ro;
  ro.stopAfterObserves = 1;
  const int64_t live0 = pool::liveBlocks();
  {
    Suspension first;
    Rng rng(3);
    REQUIRE(resume(*f, in, first, rng, ro));
  }
  // What the first run left: the literal's value, kept for the later runs (a root, two inner
  // nodes and the one leaf of zeros that every slot shares; none when an earlier test of this
  // process left the same literal at the same address).
  const int64_t live1 = pool::liveBlocks();
  CHECK(live1 - live0 <= 4);
  {
    Suspension s;
    Rng rng(3);
    REQUIRE(resume(*f, in, s, rng, ro));
    // z's own blocks: the root and the inner node on the path to leaf 0 (copied from the shared
    // ones) and the focus (leaf 0, written): 3, where a literal built element by element made 19.
    CHECK(pool::liveBlocks() - live1 == 3);
    REQUIRE(resume(*f, in, s, rng, ro)); // z[1]: in the focus, already private
    CHECK(pool::liveBlocks() - live1 == 3);
    Suspension other;
    REQUIRE(resume(*f, in, other, rng, ro)); // another particle: 3 blocks of its own
    CHECK(pool::liveBlocks() - live1 == 6);
  }
  CHECK(pool::liveBlocks() == live1);
}

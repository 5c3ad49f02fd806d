// symbolic/node_pool.h, the per-thread pool behind SharedArray's nodes and SMC's segments: a freed
// block is reused by the next allocation of its class on the same thread, reuse never aliases a
// block still in use, blocks freed on another thread than their allocator's are reused there, and
// the count of live blocks returns to where it was once everything allocated is freed (also after
// arrays built, copied, written and dropped on several threads).
#include "symbolic/node_pool.h"
#include "symbolic/shared_array.h"

#include <catch2/catch.hpp>

#include <cstring>
#include <set>
#include <thread>
#include <vector>

using namespace chassis::symbolic;

TEST_CASE("pool: a freed block is reused by its size class, never while in use", "[pool]") {
  const int64_t live0 = pool::liveBlocks();
  void* a = pool::allocate(72);
  void* b = pool::allocate(72);
  REQUIRE(a != b);
  std::memset(b, 0x5a, 72);
  CHECK(pool::liveBlocks() == live0 + 2);
  const size_t free0 = pool::freeBlocksOnThisThread(72);
  pool::deallocate(a, 72);
  CHECK(pool::freeBlocksOnThisThread(72) == free0 + 1);
  CHECK(pool::liveBlocks() == live0 + 1);
  // Another class does not take it; the same class (72 and 80 round to one class) does.
  void* c = pool::allocate(520);
  CHECK(c != a);
  void* d = pool::allocate(80);
  CHECK(d == a);
  CHECK(d != b);
  std::memset(d, 0x11, 80);
  const auto* bb = static_cast<const unsigned char*>(b);
  for (size_t i = 0; i < 72; ++i) REQUIRE(bb[i] == 0x5a); // the live block is untouched
  pool::deallocate(b, 72);
  pool::deallocate(c, 520);
  pool::deallocate(d, 80);
  CHECK(pool::liveBlocks() == live0);
  // Requests above the largest class bypass the pool and are not counted.
  void* big = pool::allocate(pool::kMaxBlock + 1);
  CHECK(pool::liveBlocks() == live0);
  pool::deallocate(big, pool::kMaxBlock + 1);
}

TEST_CASE("pool: many live blocks of one class are distinct and keep their contents", "[pool]") {
  const int64_t live0 = pool::liveBlocks();
  std::vector<double*> blocks;
  for (int round = 0; round < 3; ++round) {
    for (size_t i = 0; i < 500; ++i) {
      auto* p = static_cast<double*>(pool::allocate(64));
      for (size_t k = 0; k < 8; ++k) p[k] = double(blocks.size() * 8 + k);
      blocks.push_back(p);
    }
    // Free every other block, then check the rest, then refill: reuse must not alias.
    std::vector<double*> kept;
    for (size_t i = 0; i < blocks.size(); ++i) {
      if (i % 2) pool::deallocate(blocks[i], 64);
      else kept.push_back(blocks[i]);
    }
    blocks = kept;
    std::set<double*> distinct(blocks.begin(), blocks.end());
    REQUIRE(distinct.size() == blocks.size());
    for (double* p : blocks) {
      const double first = p[0];
      for (size_t k = 1; k < 8; ++k) REQUIRE(p[k] == first + double(k));
    }
    for (size_t i = 0; i < blocks.size(); ++i) // renumber so that the next round's check holds
      for (size_t k = 0; k < 8; ++k) blocks[i][k] = double(i * 8 + k);
  }
  for (double* p : blocks) pool::deallocate(p, 64);
  CHECK(pool::liveBlocks() == live0);
}

TEST_CASE("pool: blocks freed on other threads balance, and arrays shared across threads too",
          "[pool][shared_array]") {
  const int64_t live0 = pool::liveBlocks();
  // Blocks allocated here and freed on workers, blocks allocated on workers and freed here.
  std::vector<void*> mine(400);
  for (void*& p : mine) p = pool::allocate(48);
  std::vector<std::vector<void*>> theirs(4);
  std::vector<SharedArray> results(4);
  SharedArray base(std::vector<double>(1000, 1.0)); // a root, inner nodes and leaves
  std::vector<std::thread> ts;
  for (size_t w = 0; w < 4; ++w)
    ts.emplace_back([&, w] {
      for (size_t i = w; i < mine.size(); i += 4) pool::deallocate(mine[i], 48);
      for (size_t i = 0; i < 100; ++i) theirs[w].push_back(pool::allocate(48));
      // Copies of one array written on every thread; the last one outlives the thread.
      for (size_t round = 0; round < 200; ++round) {
        SharedArray a = base;
        for (size_t i = 0; i < a.size(); i += 37) a.set(i, double(w * 1000 + round));
        for (size_t i = 0; i < a.size(); i += 37) REQUIRE(a[i] == double(w * 1000 + round));
        results[w] = a;
      }
    });
  for (auto& t : ts) t.join();
  for (size_t w = 0; w < 4; ++w) {
    for (size_t i = 0; i < base.size(); ++i)
      REQUIRE(results[w][i] == (i % 37 == 0 ? double(w * 1000 + 199) : 1.0));
    for (void* p : theirs[w]) pool::deallocate(p, 48);
  }
  for (size_t i = 0; i < base.size(); ++i) REQUIRE(base[i] == 1.0);
  CHECK(pool::liveBlocks() > live0); // base and the results are still alive
  results.clear();
  base = SharedArray();
  CHECK(pool::liveBlocks() == live0);
}

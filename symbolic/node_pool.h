// A per-thread pool of small memory blocks by size class, for the nodes that the interpreter
// allocates and frees at a high rate and in no particular order: the nodes of SharedArray
// (symbolic/shared_array.h) and SMC's segments (symbolic/infer_smc.cpp).
//
// Why: SMC advances each of its N particles one step at a time, and every step frees the leaf and
// inner nodes that its array write copied at the previous step (or that a dead particle held) and
// allocates as many again. With the system allocator those blocks went through its bins and the
// heap, whose freed space is scattered among long-lived blocks (a particle's history, the leaves
// shared since long ago): the allocator's search and the cache misses on reused memory grew with
// the length of the run. Here a freed block goes on the freeing thread's list of its class and the
// next allocation of that class takes the most recently freed block (last in, first out: memory
// still in cache), in a few instructions and with no lock.
//
// A block may be freed by another thread than the one that allocated it (a particle's nodes are
// shared by copies on several threads): it then joins the freeing thread's list. Each list keeps
// at most kMaxFreeBytes of blocks per class (beyond, a block goes back to the system), and a
// thread's lists are given back to the system when it exits. Blocks of more than kMaxBlock bytes
// are not pooled. liveBlocks() counts the blocks handed out and not yet freed, over all threads
// (a block freed on another thread than its allocator's balances in the sum).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

namespace chassis::symbolic::pool {

inline constexpr size_t kGranule = 16;   // size classes are multiples of this
inline constexpr size_t kMaxBlock = 1024; // larger requests go to ::operator new directly
inline constexpr size_t kClasses = kMaxBlock / kGranule;
inline constexpr size_t kMaxFreeBytes = size_t(8) << 20; // per class, per thread

namespace detail {

struct FreeBlock {
  FreeBlock* next;
};

/// Live-block counts of the threads that have exited (their local counts folded in).
inline std::atomic<int64_t>& exitedLive() {
  static std::atomic<int64_t> n{0};
  return n;
}

/// A thread's free lists. Trivially destructible, so that it is usable at any time of the thread's
/// life, also by destructors that run after the thread's exit handlers (a static array freed at
/// program exit): then (`closed`) blocks go straight to the system.
struct ThreadLists {
  FreeBlock* head[kClasses];
  size_t count[kClasses];
  int64_t live; // allocated minus freed on this thread (may be negative)
  bool guarded, closed;
};

inline thread_local constinit ThreadLists tlsLists{};

/// Gives the thread's free blocks back and folds its count into exitedLive() when it exits.
struct ExitGuard {
  ~ExitGuard() {
    ThreadLists& t = tlsLists;
    for (size_t c = 0; c < kClasses; ++c) {
      for (FreeBlock* b = t.head[c]; b;) {
        FreeBlock* next = b->next;
        ::operator delete(static_cast<void*>(b));
        b = next;
      }
      t.head[c] = nullptr;
      t.count[c] = 0;
    }
    exitedLive().fetch_add(t.live, std::memory_order_relaxed);
    t.live = 0;
    t.closed = true;
  }
};

inline ThreadLists& lists() {
  ThreadLists& t = tlsLists;
  if (!t.guarded) [[unlikely]] {
    t.guarded = true;
    thread_local ExitGuard guard;
    (void)guard;
  }
  return t;
}

inline size_t classOf(size_t bytes) { return (bytes + kGranule - 1) / kGranule - 1; }

} // namespace detail

/// `bytes` of memory aligned for any fundamental type (16 bytes).
inline void* allocate(size_t bytes) {
  if (bytes == 0 || bytes > kMaxBlock) return ::operator new(bytes);
  detail::ThreadLists& t = detail::lists();
  ++t.live;
  const size_t c = detail::classOf(bytes);
  if (detail::FreeBlock* b = t.head[c]) {
    t.head[c] = b->next;
    --t.count[c];
    return b;
  }
  return ::operator new((c + 1) * kGranule);
}

/// Frees a block of allocate(bytes) (the same `bytes`), on any thread.
inline void deallocate(void* p, size_t bytes) noexcept {
  if (!p) return;
  if (bytes == 0 || bytes > kMaxBlock) {
    ::operator delete(p);
    return;
  }
  detail::ThreadLists& t = detail::lists();
  --t.live;
  const size_t c = detail::classOf(bytes);
  if (t.closed || t.count[c] * (c + 1) * kGranule >= kMaxFreeBytes) {
    ::operator delete(p);
    return;
  }
  auto* b = static_cast<detail::FreeBlock*>(p);
  b->next = t.head[c];
  t.head[c] = b;
  ++t.count[c];
}

/// The calling thread's count of blocks allocated minus freed, plus that of the threads that have
/// exited. After every other thread that used the pool has exited (or balanced its own
/// allocations), it is the number of blocks of the pool still in use: zero when everything
/// allocated has been freed.
inline int64_t liveBlocks() {
  return detail::lists().live + detail::exitedLive().load(std::memory_order_relaxed);
}

/// Blocks on the calling thread's free lists (for tests: reuse after a free).
inline size_t freeBlocksOnThisThread(size_t bytes) {
  return bytes == 0 || bytes > kMaxBlock ? 0 : detail::lists().count[detail::classOf(bytes)];
}

/// A standard allocator over the pool (for std::allocate_shared and containers).
template <typename T> struct Allocator {
  using value_type = T;
  Allocator() noexcept = default;
  template <typename U> Allocator(const Allocator<U>&) noexcept {}
  static_assert(alignof(T) <= kGranule);
  T* allocate(size_t n) { return static_cast<T*>(pool::allocate(n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { pool::deallocate(p, n * sizeof(T)); }
  template <typename U> friend bool operator==(const Allocator&, const Allocator<U>&) { return true; }
};

} // namespace chassis::symbolic::pool

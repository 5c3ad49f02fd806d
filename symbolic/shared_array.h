// The storage of an array value of the interpreter (symbolic::Value::a): a persistent array of
// doubles with structural sharing. Copying one is O(1) (a reference count); writing an element
// of a copy copies only the path to it (one leaf of kLeaf doubles and the inner nodes above it,
// kBranch pointers each), so the copy and the original never see each other's writes. An array
// of up to kLeaf elements is one contiguous leaf, sized to fit.
//
// Why: a suspended particle of SMC (symbolic/infer_smc.cpp) holds its model's frame, and a
// model's trajectory is an array of T elements (`z[t] ~ ...`); a particle is copied when it is
// resampled and when rejuvenation restarts from a checkpoint, and then writes one element per
// step. With a contiguous vector each of those copies costs O(T); here O(log T).
//
// Reads are const (operator[], begin/end, size); writes are explicit (set, push_back, assign,
// resize, clear), so that no read of a shared array copies it. Where contiguous doubles are
// needed (a network's input) contiguous() gives a span, over the leaf itself when the array is
// one leaf, else over a copy in a caller's buffer. The reference counts are atomic: copies of
// one array may live on several threads (SMC's particles).
#pragma once

#include "symbolic/node_pool.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <new>
#include <span>
#include <vector>

namespace chassis::symbolic {

class SharedArray {
public:
  static constexpr unsigned kLeafBits = 6, kBranchBits = 3;
  static constexpr size_t kLeaf = size_t(1) << kLeafBits;     // doubles per full leaf
  static constexpr size_t kBranch = size_t(1) << kBranchBits; // children per inner node

  SharedArray() noexcept = default;
  explicit SharedArray(const std::vector<double>& v) { build(v.data(), v.size()); }
  SharedArray(size_t n, double x) { fill(n, x); }
  template <typename It, typename = typename std::iterator_traits<It>::iterator_category>
  SharedArray(It first, It last) {
    const std::vector<double> v(first, last);
    build(v.data(), v.size());
  }
  SharedArray(const SharedArray& o) noexcept : root_(o.root_), size_(o.size_), depth_(o.depth_) {
    if (root_) root_->refs.fetch_add(1, std::memory_order_relaxed);
  }
  SharedArray(SharedArray&& o) noexcept : root_(o.root_), size_(o.size_), depth_(o.depth_) {
    o.root_ = nullptr;
    o.size_ = 0;
    o.depth_ = 0;
  }
  SharedArray& operator=(const SharedArray& o) noexcept {
    if (o.root_) o.root_->refs.fetch_add(1, std::memory_order_relaxed);
    release(root_, depth_);
    root_ = o.root_;
    size_ = o.size_;
    depth_ = o.depth_;
    return *this;
  }
  SharedArray& operator=(SharedArray&& o) noexcept {
    if (this != &o) {
      release(root_, depth_);
      root_ = o.root_;
      size_ = o.size_;
      depth_ = o.depth_;
      o.root_ = nullptr;
      o.size_ = 0;
      o.depth_ = 0;
    }
    return *this;
  }
  SharedArray& operator=(const std::vector<double>& v) { return *this = SharedArray(v); }
  ~SharedArray() {
    if (root_) release(root_, depth_);
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  double operator[](size_t i) const {
    const Node* n = root_;
    for (unsigned d = depth_; d > 0; --d)
      n = static_cast<const Inner*>(n)->kids[(i >> shiftOf(d)) & (kBranch - 1)];
    return static_cast<const Leaf*>(n)->data()[i & (kLeaf - 1)];
  }
  double front() const { return (*this)[0]; }
  double back() const { return (*this)[size_ - 1]; }

  /// Element i = x: copies the nodes on i's path that are shared with another array first.
  void set(size_t i, double x) { mut(i) = x; }

  void push_back(double x) {
    if (depth_ == 0 && root_ && size_ < static_cast<Leaf*>(root_)->cap &&
        root_->refs.load(std::memory_order_acquire) == 1) {
      static_cast<Leaf*>(root_)->data()[size_++] = x; // the common case of building a small array
      return;
    }
    reserveFor(size_ + 1);
    ++size_;
    mut(size_ - 1) = x;
  }
  void clear() { *this = SharedArray(); }
  /// Room for n elements when this array is empty and n fits one leaf (an array literal's
  /// elements are pushed one by one): one allocation instead of a doubling sequence.
  void reserve(size_t n) {
    if (!root_ && n > 0 && n <= kLeaf) root_ = newLeaf(n);
  }
  void assign(size_t n, double x) { *this = SharedArray(n, x); }
  template <typename It> void assign(It first, It last) { *this = SharedArray(first, last); }
  /// Grows with `x` or shrinks to n elements.
  void resize(size_t n, double x = 0) {
    if (n <= size_) {
      if (n == 0) clear();
      else size_ = n;
      return;
    }
    while (size_ < n) push_back(x);
  }

  /// The elements as contiguous doubles: the leaf itself when the array is one leaf, else a
  /// copy in `scratch` (valid while this array and `scratch` are unchanged).
  std::span<const double> contiguous(std::vector<double>& scratch) const {
    if (depth_ == 0) return {root_ ? static_cast<const Leaf*>(root_)->data() : nullptr, size_};
    scratch.assign(begin(), end());
    return scratch;
  }
  std::vector<double> vec() const { return std::vector<double>(begin(), end()); }
  operator std::vector<double>() const { return vec(); }

  /// True when the two arrays are one storage (a copy that neither has written since).
  bool sharesStorageWith(const SharedArray& o) const { return root_ && root_ == o.root_; }
  /// True when element i of both arrays is in one leaf (shared, not copied).
  bool sharesLeafWith(const SharedArray& o, size_t i) const {
    return i < size_ && i < o.size_ && &leafOf(i) == &o.leafOf(i);
  }

  class const_iterator {
  public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = double;
    using difference_type = std::ptrdiff_t;
    using pointer = const double*;
    using reference = double;

    const_iterator() = default;
    const_iterator(const SharedArray* a, size_t i) : a_(a), i_(i) {}
    double operator*() const {
      if (!leaf_ || (i_ >> kLeafBits) != leafIndex_) {
        leafIndex_ = i_ >> kLeafBits;
        leaf_ = a_->leafOf(i_).data();
      }
      return leaf_[i_ & (kLeaf - 1)];
    }
    double operator[](difference_type k) const { return (*a_)[size_t(difference_type(i_) + k)]; }
    const_iterator& operator++() { return ++i_, *this; }
    const_iterator operator++(int) {
      const_iterator t = *this;
      ++i_;
      return t;
    }
    const_iterator& operator--() { return --i_, *this; }
    const_iterator operator--(int) {
      const_iterator t = *this;
      --i_;
      return t;
    }
    const_iterator& operator+=(difference_type k) { return i_ = size_t(difference_type(i_) + k), *this; }
    const_iterator& operator-=(difference_type k) { return i_ = size_t(difference_type(i_) - k), *this; }
    friend const_iterator operator+(const_iterator it, difference_type k) { return it += k; }
    friend const_iterator operator+(difference_type k, const_iterator it) { return it += k; }
    friend const_iterator operator-(const_iterator it, difference_type k) { return it -= k; }
    friend difference_type operator-(const const_iterator& x, const const_iterator& y) {
      return difference_type(x.i_) - difference_type(y.i_);
    }
    friend bool operator==(const const_iterator& x, const const_iterator& y) { return x.i_ == y.i_; }
    friend auto operator<=>(const const_iterator& x, const const_iterator& y) { return x.i_ <=> y.i_; }

  private:
    const SharedArray* a_ = nullptr;
    size_t i_ = 0;
    mutable size_t leafIndex_ = 0;
    mutable const double* leaf_ = nullptr;
  };
  using iterator = const_iterator;
  using value_type = double;
  using size_type = size_t;

  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

  friend bool operator==(const SharedArray& x, const SharedArray& y) {
    if (x.size_ != y.size_) return false;
    if (x.root_ == y.root_) return true;
    return std::equal(x.begin(), x.end(), y.begin());
  }
  friend bool operator==(const SharedArray& x, const std::vector<double>& y) {
    return x.size_ == y.size() && std::equal(x.begin(), x.end(), y.begin());
  }
  friend bool operator<(const SharedArray& x, const SharedArray& y) {
    return std::lexicographical_compare(x.begin(), x.end(), y.begin(), y.end());
  }

private:
  struct Node {
    std::atomic<uint32_t> refs{1};
  };
  struct Inner : Node {
    Node* kids[kBranch] = {};
  };
  /// A leaf's `cap` doubles follow it in one allocation.
  struct alignas(double) Leaf : Node {
    uint32_t cap = 0;
    double* data() { return reinterpret_cast<double*>(this + 1); }
    const double* data() const { return reinterpret_cast<const double*>(this + 1); }
  };
  static_assert(sizeof(Leaf) % alignof(double) == 0);

  static constexpr unsigned shiftOf(unsigned depth) { return kLeafBits + kBranchBits * (depth - 1); }
  static size_t capacityAt(unsigned depth) { return kLeaf << (kBranchBits * depth); }

  // Nodes come from the per-thread pool of symbolic/node_pool.h: a step of SMC frees and
  // allocates a leaf and its path per particle.
  static Leaf* newLeaf(size_t cap) {
    void* p = pool::allocate(sizeof(Leaf) + cap * sizeof(double));
    Leaf* l = ::new (p) Leaf;
    l->cap = uint32_t(cap);
    return l;
  }
  static Inner* newInner() { return ::new (pool::allocate(sizeof(Inner))) Inner; }
  static void release(Node* n, unsigned depth) noexcept {
    if (!n) return;
    // The sole owner frees without an atomic read-modify-write: with the count at 1 and held
    // here, no other array can take a reference to it.
    if (n->refs.load(std::memory_order_acquire) != 1 &&
        n->refs.fetch_sub(1, std::memory_order_acq_rel) != 1)
      return;
    if (depth == 0) {
      Leaf* l = static_cast<Leaf*>(n);
      const size_t bytes = sizeof(Leaf) + l->cap * sizeof(double);
      l->~Leaf();
      pool::deallocate(l, bytes);
      return;
    }
    Inner* in = static_cast<Inner*>(n);
    for (Node* k : in->kids) release(k, depth - 1);
    in->~Inner();
    pool::deallocate(in, sizeof(Inner));
  }

  const Leaf& leafOf(size_t i) const {
    const Node* n = root_;
    for (unsigned d = depth_; d > 0; --d)
      n = static_cast<const Inner*>(n)->kids[(i >> shiftOf(d)) & (kBranch - 1)];
    return *static_cast<const Leaf*>(n);
  }

  /// `*slot` (a node at `depth`) made private to this array: a missing node is created, a
  /// shared one copied. `borrowed`: *slot is a child of a node this write has just copied, which
  /// took no reference on it (the copy is then made without releasing the original). A copied
  /// inner node takes a reference on its children except `path` (the one the write goes on to
  /// copy in turn); it returns whether it did copy.
  static bool own(Node*& slot, unsigned depth, size_t leafCap, bool borrowed, size_t path) {
    Node* n = slot;
    if (!n) {
      if (depth == 0) slot = newLeaf(leafCap);
      else slot = newInner();
      return false;
    }
    if (!borrowed && n->refs.load(std::memory_order_acquire) == 1) return false;
    if (depth == 0) {
      const Leaf* l = static_cast<const Leaf*>(n);
      Leaf* c = newLeaf(l->cap);
      std::memcpy(c->data(), l->data(), l->cap * sizeof(double));
      slot = c;
    } else {
      const Inner* in = static_cast<const Inner*>(n);
      Inner* c = newInner();
      for (size_t k = 0; k < kBranch; ++k) {
        c->kids[k] = in->kids[k];
        if (c->kids[k] && k != path) c->kids[k]->refs.fetch_add(1, std::memory_order_relaxed);
      }
      slot = c;
    }
    if (!borrowed) release(n, depth);
    return true;
  }

  double& mut(size_t i) {
    Node** slot = &root_;
    bool borrowed = false;
    for (unsigned d = depth_; d > 0; --d) {
      const size_t k = (i >> shiftOf(d)) & (kBranch - 1);
      borrowed = own(*slot, d, kLeaf, borrowed, k);
      slot = &static_cast<Inner*>(*slot)->kids[k];
    }
    own(*slot, 0, depth_ == 0 ? std::max<size_t>(size_, 1) : kLeaf, borrowed, 0);
    return static_cast<Leaf*>(*slot)->data()[i & (kLeaf - 1)];
  }

  /// Room for n elements: a one-leaf array's leaf grows (doubling, up to kLeaf), then the tree
  /// gains levels.
  void reserveFor(size_t n) {
    if (depth_ == 0 && n <= kLeaf) {
      const size_t cap = root_ ? static_cast<Leaf*>(root_)->cap : 0;
      if (n <= cap) return;
      const size_t want = std::min(kLeaf, std::max<size_t>(n, 2 * cap));
      Leaf* l = newLeaf(want);
      if (root_) std::memcpy(l->data(), static_cast<Leaf*>(root_)->data(), size_ * sizeof(double));
      release(root_, 0);
      root_ = l;
      return;
    }
    if (depth_ == 0 && root_ && static_cast<Leaf*>(root_)->cap < kLeaf) {
      Leaf* l = newLeaf(kLeaf);
      std::memcpy(l->data(), static_cast<Leaf*>(root_)->data(), size_ * sizeof(double));
      release(root_, 0);
      root_ = l;
    }
    while (capacityAt(depth_) < n) {
      Inner* up = newInner();
      up->kids[0] = root_; // null when empty: created on the first write
      root_ = up;
      ++depth_;
    }
  }

  /// Builds the tree of n elements, children filled left to right.
  static Node* buildNode(const double* src, size_t n, unsigned depth, size_t leafCap) {
    if (depth == 0) {
      Leaf* l = newLeaf(leafCap);
      std::memcpy(l->data(), src, n * sizeof(double));
      return l;
    }
    Inner* in = newInner();
    const size_t per = capacityAt(depth - 1);
    for (size_t k = 0; k < kBranch && k * per < n; ++k)
      in->kids[k] = buildNode(src + k * per, std::min(per, n - k * per), depth - 1, kLeaf);
    return in;
  }
  void build(const double* src, size_t n) {
    size_ = n;
    if (n == 0) return;
    depth_ = 0;
    while (capacityAt(depth_) < n) ++depth_;
    root_ = buildNode(src, n, depth_, depth_ == 0 ? n : kLeaf);
  }
  static Node* fillNode(double x, size_t n, unsigned depth, size_t leafCap) {
    if (depth == 0) {
      Leaf* l = newLeaf(leafCap);
      std::fill(l->data(), l->data() + n, x);
      return l;
    }
    Inner* in = newInner();
    const size_t per = capacityAt(depth - 1);
    for (size_t k = 0; k < kBranch && k * per < n; ++k)
      in->kids[k] = fillNode(x, std::min(per, n - k * per), depth - 1, kLeaf);
    return in;
  }
  void fill(size_t n, double x) {
    size_ = n;
    if (n == 0) return;
    depth_ = 0;
    while (capacityAt(depth_) < n) ++depth_;
    root_ = fillNode(x, n, depth_, depth_ == 0 ? n : kLeaf);
  }

  Node* root_ = nullptr;
  size_t size_ = 0;
  unsigned depth_ = 0;
};

} // namespace chassis::symbolic

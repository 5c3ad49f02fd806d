// The storage of an array value of the interpreter (symbolic::Value::a): a persistent array of
// doubles with structural sharing. Copying one is O(1) (two reference counts); writing an element
// of a copy copies one leaf of kLeaf doubles, and the inner nodes above it (kBranch pointers each)
// only when the write leaves the leaf it wrote last, so the copy and the original never see each
// other's writes. An array of up to kLeaf elements is one contiguous leaf, sized to fit.
//
// Why: a suspended particle of SMC (symbolic/infer_smc.cpp) holds its model's frame, and a
// model's trajectory is an array of T elements (`z[t] ~ ...`); a particle is copied when it is
// resampled and when rejuvenation restarts from a checkpoint, and then writes one element per
// step. With a contiguous vector each of those copies costs O(T); with a plain radix tree one
// path per step (each copied inner node takes a reference on its kBranch children: cache lines
// spread over the heap, one level more as T grows).
//
// The focus (as Clojure's tail, Scala's focus in persistent vectors): an array of more than one
// leaf holds, beside its tree, the leaf it wrote last (`focus_`, its leaf index in it), which
// stands in for the tree's leaf there; the tree's slot for it is empty. A write inside the focus
// copies only that leaf when it is shared and touches no inner node; a write elsewhere first puts
// the focus back into the tree (one path copy when the path is shared) and takes the new leaf out
// of it. Sequential writes (z[t] for t = 0, 1, ...) copy a path once per kLeaf elements. Every
// array that reaches a tree node with an empty slot has its focus there (a refocus copies a
// shared path before it changes anything), so no read ever meets an empty slot within its size.
// An array filled with one value (a fresh `real[T]`) shares one leaf across its slots. (The
// interpreter's constant array literals, `[0.0, ...]` for `var z: real[T]`, are built once and
// shared: symbolic/interp.cpp, ConstantArrays.)
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
  SharedArray(const SharedArray& o) noexcept
      : root_(o.root_), focus_(o.focus_), size_(o.size_), depth_(o.depth_) {
    retain();
  }
  SharedArray(SharedArray&& o) noexcept
      : root_(o.root_), focus_(o.focus_), size_(o.size_), depth_(o.depth_) {
    o.forget();
  }
  SharedArray& operator=(const SharedArray& o) noexcept {
    o.retain();
    releaseAll();
    root_ = o.root_;
    focus_ = o.focus_;
    size_ = o.size_;
    depth_ = o.depth_;
    return *this;
  }
  SharedArray& operator=(SharedArray&& o) noexcept {
    if (this != &o) {
      releaseAll();
      root_ = o.root_;
      focus_ = o.focus_;
      size_ = o.size_;
      depth_ = o.depth_;
      o.forget();
    }
    return *this;
  }
  SharedArray& operator=(const std::vector<double>& v) { return *this = SharedArray(v); }
  ~SharedArray() { releaseAll(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  /// One leaf (the interpreter's small arrays): inlined; else the focus or the tree.
  double operator[](size_t i) const {
    if (depth_ == 0) return static_cast<const Leaf*>(root_)->data()[i];
    return deepRead(i);
  }
  double front() const { return (*this)[0]; }
  double back() const { return (*this)[size_ - 1]; }

  /// Element i = x: copies i's leaf first when it is shared with another array (and, when i is
  /// not in the focus, the shared inner nodes on the paths to the old focus and to i).
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
    scratch.resize(size_);
    for (size_t b = 0; b < size_; b += kLeaf)
      std::memcpy(scratch.data() + b, leafOf(b).data(), std::min(kLeaf, size_ - b) * sizeof(double));
    return scratch;
  }
  std::vector<double> vec() const { return std::vector<double>(begin(), end()); }
  operator std::vector<double>() const { return vec(); }

  /// True when the two arrays are one storage (a copy that neither has written since).
  bool sharesStorageWith(const SharedArray& o) const {
    return root_ && root_ == o.root_ && focus_ == o.focus_;
  }
  /// The index of the leaf that stands in for the tree's (the one written last), or npos when
  /// there is none (an array of one leaf, or not written since it was built).
  size_t focusedLeaf() const { return focus_ ? focus_->index : npos; }
  static constexpr size_t npos = ~size_t(0);
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
    if (x.root_ == y.root_ && x.focus_ == y.focus_) return true;
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
    uint32_t index = 0; // as a focus (then private or shared by copies of one array): its leaf index
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

  // The checks for an array without storage (a scalar Value's) are inlined: most Values copied
  // and destroyed by the interpreter are scalars.
  [[gnu::always_inline]] void retain() const noexcept {
    if (root_) {
      root_->refs.fetch_add(1, std::memory_order_relaxed);
      if (focus_) focus_->refs.fetch_add(1, std::memory_order_relaxed);
    }
  }
  [[gnu::always_inline]] void releaseAll() noexcept {
    if (root_) releaseStorage(root_, focus_, depth_);
  }
  static void releaseStorage(Node* root, Leaf* focus, unsigned depth) noexcept {
    release(root, depth);
    if (focus) release(focus, 0);
  }
  void forget() noexcept {
    root_ = nullptr;
    focus_ = nullptr;
    size_ = 0;
    depth_ = 0;
  }

  [[gnu::noinline]] double deepRead(size_t i) const { return leafOf(i).data()[i & (kLeaf - 1)]; }

  /// The leaf that holds element i: the focus when i is in it, else the tree's.
  const Leaf& leafOf(size_t i) const {
    if (focus_ && (i >> kLeafBits) == focus_->index) return *focus_;
    const Node* n = root_;
    for (unsigned d = depth_; d > 0; --d)
      n = static_cast<const Inner*>(n)->kids[(i >> shiftOf(d)) & (kBranch - 1)];
    return *static_cast<const Leaf*>(n);
  }

  /// `*slot` (a node at `depth`) made private to this array: a missing node is created, a
  /// shared one copied (a copied inner node takes a reference on each of its children before the
  /// original is released, so that no child is read after another thread may have freed it).
  static void own(Node*& slot, unsigned depth, size_t leafCap) {
    Node* n = slot;
    if (!n) {
      if (depth == 0) slot = newLeaf(leafCap);
      else slot = newInner();
      return;
    }
    if (depth == 0) {
      slot = privateLeaf(static_cast<Leaf*>(n));
      return;
    }
    if (n->refs.load(std::memory_order_acquire) == 1) return;
    const Inner* in = static_cast<const Inner*>(n);
    Inner* c = newInner();
    for (size_t k = 0; k < kBranch; ++k) {
      c->kids[k] = in->kids[k];
      if (c->kids[k]) c->kids[k]->refs.fetch_add(1, std::memory_order_relaxed);
    }
    slot = c;
    release(n, depth);
  }

  /// `l` when the caller's reference is its only one, else a copy of it (capacity, elements and
  /// focus index) that takes the place of the caller's reference, which is released.
  static Leaf* privateLeaf(Leaf* l) {
    if (l->refs.load(std::memory_order_acquire) == 1) return l;
    Leaf* c = newLeaf(l->cap);
    std::memcpy(c->data(), l->data(), l->cap * sizeof(double));
    c->index = l->index;
    release(l, 0);
    return c;
  }

  /// The slot of leaf `li` in a tree of depth >= 1, with the inner nodes on its path made private
  /// to this array (created when missing, copied when shared); the leaf itself is left as is.
  Node** leafSlot(size_t li) {
    const size_t i = li << kLeafBits;
    Node** slot = &root_;
    for (unsigned d = depth_; d > 0; --d) {
      own(*slot, d, kLeaf);
      slot = &static_cast<Inner*>(*slot)->kids[(i >> shiftOf(d)) & (kBranch - 1)];
    }
    return slot;
  }

  /// Puts the focus back into the tree and takes leaf `li` out of it as the new focus, private
  /// to this array (copied when shared: a leaf's `index` is only written while it is private).
  void refocus(size_t li) {
    if (focus_) {
      *leafSlot(focus_->index) = focus_; // the empty slot (every array that reaches it has this focus)
      focus_ = nullptr;
    }
    Node** slot = leafSlot(li);
    Leaf* l = static_cast<Leaf*>(*slot);
    *slot = nullptr;
    l = l ? privateLeaf(l) : newLeaf(kLeaf);
    l->index = uint32_t(li);
    focus_ = l;
  }

  double& mut(size_t i) {
    if (depth_ == 0) {
      own(root_, 0, std::max<size_t>(size_, 1));
      return static_cast<Leaf*>(root_)->data()[i];
    }
    if (!focus_ || (i >> kLeafBits) != focus_->index) refocus(i >> kLeafBits);
    else focus_ = privateLeaf(focus_);
    return focus_->data()[i & (kLeaf - 1)];
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
  /// A tree of n elements whose every leaf slot is `leaf` (its count is set by the caller).
  static Node* fillNode(Leaf* leaf, size_t n, unsigned depth) {
    if (depth == 0) return leaf;
    Inner* in = newInner();
    const size_t per = capacityAt(depth - 1);
    for (size_t k = 0; k < kBranch && k * per < n; ++k)
      in->kids[k] = fillNode(leaf, std::min(per, n - k * per), depth - 1);
    return in;
  }
  /// n copies of x: one leaf shared by every slot (a write copies it), so that a fresh array of
  /// T elements takes T / (kLeaf kBranch) inner nodes and one leaf, not T doubles.
  void fill(size_t n, double x) {
    size_ = n;
    if (n == 0) return;
    depth_ = 0;
    while (capacityAt(depth_) < n) ++depth_;
    Leaf* l = newLeaf(depth_ == 0 ? n : kLeaf);
    std::fill(l->data(), l->data() + l->cap, x);
    root_ = fillNode(l, n, depth_);
    l->refs.store(uint32_t((n + kLeaf - 1) >> kLeafBits), std::memory_order_relaxed);
  }

  Node* root_ = nullptr;
  Leaf* focus_ = nullptr; // only with depth_ >= 1 (then root_ is not null)
  // One word, so that an array (and the interpreter's Value) stays as small as without a focus.
  size_t size_ : 58 = 0;
  size_t depth_ : 6 = 0;
};
static_assert(sizeof(SharedArray) == 3 * sizeof(void*));

} // namespace chassis::symbolic

// float32 GEMM kernels for the forward pass, chosen at run time by the CPU's instruction set.
//
// The project builds for plain x86-64 (no -march), so Eigen's float32 GEMM uses SSE2 only. These
// kernels are compiled per function for AVX-512 (avx512f + fma) and AVX2 (avx2 + fma) and called
// only when the CPU reports that set (__builtin_cpu_supports); elsewhere the caller keeps its
// portable Eigen path.
//
// The maths. Y = act(X B + 1 b^T): X is m x K (row-major, leading dimension ldx), B is K x N,
// b has N entries (or none: zero), act is the identity or ReLU (max(0, y)), Y is m x N
// (row-major, leading dimension ldy). Each Y(i, j) is one sum over k in increasing order,
// b(j) + X(i,0) B(0,j) + X(i,1) B(1,j) + ..., each step one fused multiply-add (rounded once),
// so the result differs from a separately rounded multiply-then-add sum by float32 rounding
// only, and is the same for every m, every row and every blocking (deterministic).
//
// Layout. B is packed once (when the network is finalised) into panels of 16 columns: panel p
// holds B(k, 16p + j) at [p][k][j], k-major, zero-padded past N, so one 64-byte row of a panel
// is one AVX-512 register (two AVX2 registers). The micro-kernel keeps an MR x (16 NP) block of
// Y in registers, streams the panels' rows and broadcasts X's entries, and applies bias and
// ReLU to the registers before the only store (bias and activation fused into the GEMM).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

namespace chassis::neural::gemm {

/// Instruction sets with a kernel here. Portable means "no kernel: use the caller's Eigen path".
enum class Isa { Auto, Portable, Avx2, Avx512 };

const char* isaName(Isa isa);

/// The best instruction set this CPU supports (detected once).
Isa detectedIsa();

/// `requested` made runnable on this CPU: Auto becomes detectedIsa(); a set the CPU lacks falls
/// back to the best one it has below it.
Isa resolve(Isa requested);

/// 64-byte-aligned float storage (one cache line, one AVX-512 register), zero-initialised.
class AlignedFloats {
public:
  AlignedFloats() = default;
  explicit AlignedFloats(size_t n);
  AlignedFloats(const AlignedFloats& o);
  AlignedFloats& operator=(const AlignedFloats& o);
  AlignedFloats(AlignedFloats&&) noexcept = default;
  AlignedFloats& operator=(AlignedFloats&&) noexcept = default;
  float* data() { return p_.get(); }
  const float* data() const { return p_.get(); }
  size_t size() const { return n_; }

private:
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float[], Free> p_;
  size_t n_ = 0;
};

/// B (K x N) and bias packed into 16-column panels (see the header comment).
struct PackedB {
  int64_t K = 0, N = 0;
  AlignedFloats panels; // ceil(N/16) * K * 16 floats
  AlignedFloats bias;   // ceil(N/16) * 16 floats, zero past N and when there is no bias
  int64_t numPanels() const { return (N + 15) / 16; }
};

/// Packs B given column-major (B(k, n) at w[k + n * ldw], ldw >= K) and an optional bias
/// (N entries, or nullptr for none).
PackedB pack(const float* w, int64_t K, int64_t N, int64_t ldw, const float* bias);

/// Y = act(X B + b) as in the header comment, with the kernel for `isa` (resolved; must not be
/// Portable, which has no kernel: returns false and leaves Y alone). Y must not overlap X.
bool gemmBiasAct(Isa isa, int64_t m, const float* X, int64_t ldx, const PackedB& B, bool relu,
                 float* Y, int64_t ldy);

} // namespace chassis::neural::gemm

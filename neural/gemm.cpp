// The float32 GEMM kernels of neural/gemm.h: packing, runtime dispatch, and the AVX-512 and
// AVX2 micro-kernels (maths and layout in the header).
//
// Each kernel is a function template compiled for its instruction set by
// __attribute__((target(...))), in this one translation unit: no file is compiled with -mavx*,
// so no inline function of the standard library or Eigen is ever instantiated for AVX-512 and
// picked by the linker for code that runs on a CPU without it (the ODR hazard of per-file
// flags). Only intrinsics are used inside the kernels.
//
// Blocking. Rows of X are taken MR at a time and columns NP panels (16 NP columns) at a time;
// the micro-kernel runs the whole K loop for that MR x 16NP block of Y in registers. The MR x K
// sliver of X (MR rows) stays in L1 while the column groups pass over it; the packed panels
// stream from L2. Columns are first cut into blocks whose packed panels fit in about half of L2
// (kL2Budget), so a wide layer's B is not re-read from L3 for every row block. Every Y(i, j) is
// summed over all of k in one register, in increasing k: blocking never changes a result.
#include "neural/gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CHASSIS_GEMM_X86 1
#else
#define CHASSIS_GEMM_X86 0
#endif

namespace chassis::neural::gemm {

const char* isaName(Isa isa) {
  switch (isa) {
  case Isa::Auto:
    return "auto";
  case Isa::Portable:
    return "portable (Eigen)";
  case Isa::Avx2:
    return "avx2+fma";
  case Isa::Avx512:
    return "avx512f+fma";
  }
  return "?";
}

namespace {

bool cpuHas(Isa isa) {
#if CHASSIS_GEMM_X86
  switch (isa) {
  case Isa::Avx512:
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
  case Isa::Avx2:
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  default:
    return true;
  }
#else
  return isa == Isa::Portable || isa == Isa::Auto;
#endif
}

} // namespace

Isa detectedIsa() {
  static const Isa isa = cpuHas(Isa::Avx512) ? Isa::Avx512
                         : cpuHas(Isa::Avx2) ? Isa::Avx2
                                             : Isa::Portable;
  return isa;
}

Isa resolve(Isa requested) {
  switch (requested) {
  case Isa::Auto:
    return detectedIsa();
  case Isa::Avx512:
    if (cpuHas(Isa::Avx512)) return Isa::Avx512;
    [[fallthrough]];
  case Isa::Avx2:
    if (cpuHas(Isa::Avx2)) return Isa::Avx2;
    [[fallthrough]];
  case Isa::Portable:
    return Isa::Portable;
  }
  return Isa::Portable;
}

AlignedFloats::AlignedFloats(size_t n) : n_(n) {
  if (n == 0) return;
  // aligned_alloc wants a size that is a multiple of the alignment.
  const size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
  float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (!p) throw std::bad_alloc(); // as std::vector would
  std::memset(p, 0, bytes);
  p_.reset(p);
}

AlignedFloats::AlignedFloats(const AlignedFloats& o) : AlignedFloats(o.n_) {
  if (n_) std::memcpy(p_.get(), o.p_.get(), n_ * sizeof(float));
}

AlignedFloats& AlignedFloats::operator=(const AlignedFloats& o) {
  if (this != &o) *this = AlignedFloats(o);
  return *this;
}

PackedB pack(const float* w, int64_t K, int64_t N, int64_t ldw, const float* bias) {
  PackedB B;
  B.K = K;
  B.N = N;
  const int64_t P = B.numPanels();
  B.panels = AlignedFloats(static_cast<size_t>(P * K * 16));
  B.bias = AlignedFloats(static_cast<size_t>(P * 16));
  for (int64_t p = 0; p < P; ++p) {
    float* dst = B.panels.data() + p * K * 16;
    const int64_t cols = std::min<int64_t>(16, N - 16 * p);
    for (int64_t j = 0; j < cols; ++j) {
      const float* src = w + (16 * p + j) * ldw;
      for (int64_t k = 0; k < K; ++k)
        dst[k * 16 + j] = src[k];
    }
  }
  if (bias)
    for (int64_t j = 0; j < N; ++j)
      B.bias.data()[j] = bias[j];
  return B;
}

#if CHASSIS_GEMM_X86
namespace {

// The packed panels of one column block: half of the L2 of Zen 4 and Skylake-SP (1 MB), all of
// Zen 2/3's. (On Zen 4 the 784-256-256-10 MLP and a 1024x1024 layer at batch 1024 measured the
// same, within noise, with 512 KB and 4 MB.)
constexpr int64_t kL2Budget = 512 * 1024;

// ---- AVX-512: MR rows x NP panels (NP zmm registers per row) ----------------------------------

constexpr int kMr512 = 6, kNp512 = 4; // 24 accumulators of 32 registers

template <int MR, int NP>
__attribute__((target("avx512f,fma"))) void
kernel512(int64_t K, const float* A, int64_t lda, const float* Bp, int64_t pstride,
          const float* bias, bool relu, float* C, int64_t ldc, unsigned lastMask) {
  __m512 acc[MR][NP];
#pragma GCC unroll 8
  for (int p = 0; p < NP; ++p) {
    const __m512 b = _mm512_load_ps(bias + 16 * p);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
      acc[r][p] = b;
  }
  const float* bp = Bp;
#pragma GCC unroll 2
  for (int64_t k = 0; k < K; ++k, bp += 16) {
    __m512 bv[NP];
#pragma GCC unroll 8
    for (int p = 0; p < NP; ++p)
      bv[p] = _mm512_load_ps(bp + p * pstride);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m512 a = _mm512_set1_ps(A[r * lda + k]);
#pragma GCC unroll 8
      for (int p = 0; p < NP; ++p)
        acc[r][p] = _mm512_fmadd_ps(a, bv[p], acc[r][p]);
    }
  }
  if (relu) {
    // max(0, y) with y second: a NaN y stays NaN, as Eigen's cwiseMax(0) leaves it. (The
    // all-ones maskz form computes the same; the plain _mm512_max_ps trips GCC 12's false
    // -Wmaybe-uninitialized on its undefined pass-through operand.)
    const __m512 zero = _mm512_setzero_ps();
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r)
#pragma GCC unroll 8
      for (int p = 0; p < NP; ++p)
        acc[r][p] = _mm512_maskz_max_ps(0xFFFF, zero, acc[r][p]);
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 8
    for (int p = 0; p + 1 < NP; ++p)
      _mm512_storeu_ps(C + r * ldc + 16 * p, acc[r][p]);
    _mm512_mask_storeu_ps(C + r * ldc + 16 * (NP - 1), static_cast<__mmask16>(lastMask),
                          acc[r][NP - 1]);
  }
}

using Kernel512 = void (*)(int64_t, const float*, int64_t, const float*, int64_t, const float*,
                           bool, float*, int64_t, unsigned);

template <int MR> constexpr Kernel512 pick512(int np) {
  switch (np) {
  case 1:
    return kernel512<MR, 1>;
  case 2:
    return kernel512<MR, 2>;
  case 3:
    return kernel512<MR, 3>;
  default:
    return kernel512<MR, 4>;
  }
}

Kernel512 kernelFor512(int mr, int np) {
  static_assert(kMr512 == 6 && kNp512 == 4, "the table below lists MR 1..6, NP 1..4");
  switch (mr) {
  case 1:
    return pick512<1>(np);
  case 2:
    return pick512<2>(np);
  case 3:
    return pick512<3>(np);
  case 4:
    return pick512<4>(np);
  case 5:
    return pick512<5>(np);
  default:
    return pick512<6>(np);
  }
}

void gemm512(int64_t m, const float* X, int64_t ldx, const PackedB& B, bool relu, float* Y,
             int64_t ldy) {
  const int64_t K = B.K, P = B.numPanels(), pstride = K * 16;
  // Column blocks of whole kernel groups (NP panels) whose packed panels fit the L2 budget.
  const int64_t groupBytes = std::max<int64_t>(1, K * 16 * kNp512 * int64_t(sizeof(float)));
  const int64_t blockPanels = std::max<int64_t>(1, kL2Budget / groupBytes) * kNp512;
  for (int64_t q0 = 0; q0 < P; q0 += blockPanels) {
    const int64_t q1 = std::min(P, q0 + blockPanels);
    for (int64_t i0 = 0; i0 < m;) {
      // A narrow layer (one or two panels, e.g. a 10-class output) takes 12 rows at a time:
      // 12 or 24 accumulators instead of 6 or 12 keep both FMA pipes busy.
      const int mr =
          P <= 2 && m - i0 >= 12 ? 12 : static_cast<int>(std::min<int64_t>(kMr512, m - i0));
      for (int64_t p0 = q0; p0 < q1; p0 += kNp512) {
        const int np = static_cast<int>(std::min<int64_t>(kNp512, q1 - p0));
        const int64_t lastCols = std::min<int64_t>(16, B.N - 16 * (p0 + np - 1));
        const unsigned mask = lastCols >= 16 ? 0xFFFFu : (1u << lastCols) - 1u;
        const Kernel512 kern =
            mr == 12 ? (np == 1 ? kernel512<12, 1> : kernel512<12, 2>) : kernelFor512(mr, np);
        kern(K, X + i0 * ldx, ldx, B.panels.data() + p0 * pstride, pstride, B.bias.data() + 16 * p0,
             relu, Y + i0 * ldy + 16 * p0, ldy, mask);
      }
      i0 += mr;
    }
  }
}

// ---- AVX2: MR rows x one panel (two ymm registers per row) -----------------------------------

constexpr int kMr256 = 6; // 12 accumulators of 16 registers

template <int MR>
__attribute__((target("avx2,fma"))) void kernel256(int64_t K, const float* A, int64_t lda,
                                                   const float* Bp, const float* bias, bool relu,
                                                   float* C, int64_t ldc, int cols) {
  __m256 acc[MR][2];
  const __m256 b0 = _mm256_load_ps(bias), b1 = _mm256_load_ps(bias + 8);
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    acc[r][0] = b0;
    acc[r][1] = b1;
  }
  const float* bp = Bp;
#pragma GCC unroll 2
  for (int64_t k = 0; k < K; ++k, bp += 16) {
    const __m256 v0 = _mm256_load_ps(bp), v1 = _mm256_load_ps(bp + 8);
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      const __m256 a = _mm256_broadcast_ss(A + r * lda + k);
      acc[r][0] = _mm256_fmadd_ps(a, v0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(a, v1, acc[r][1]);
    }
  }
  if (relu) {
    const __m256 zero = _mm256_setzero_ps();
#pragma GCC unroll 16
    for (int r = 0; r < MR; ++r) {
      acc[r][0] = _mm256_max_ps(zero, acc[r][0]);
      acc[r][1] = _mm256_max_ps(zero, acc[r][1]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < MR; ++r) {
    float* c = C + r * ldc;
    if (cols == 16) {
      _mm256_storeu_ps(c, acc[r][0]);
      _mm256_storeu_ps(c + 8, acc[r][1]);
    } else {
      alignas(32) float tmp[16];
      _mm256_store_ps(tmp, acc[r][0]);
      _mm256_store_ps(tmp + 8, acc[r][1]);
      for (int j = 0; j < cols; ++j)
        c[j] = tmp[j];
    }
  }
}

using Kernel256 = void (*)(int64_t, const float*, int64_t, const float*, const float*, bool, float*,
                           int64_t, int);

Kernel256 kernelFor256(int mr) {
  static_assert(kMr256 == 6, "the table below lists MR 1..6");
  switch (mr) {
  case 1:
    return kernel256<1>;
  case 2:
    return kernel256<2>;
  case 3:
    return kernel256<3>;
  case 4:
    return kernel256<4>;
  case 5:
    return kernel256<5>;
  default:
    return kernel256<6>;
  }
}

void gemm256(int64_t m, const float* X, int64_t ldx, const PackedB& B, bool relu, float* Y,
             int64_t ldy) {
  const int64_t K = B.K, P = B.numPanels(), pstride = K * 16;
  const int64_t panelBytes = std::max<int64_t>(1, K * 16 * int64_t(sizeof(float)));
  const int64_t blockPanels = std::max<int64_t>(1, kL2Budget / panelBytes);
  for (int64_t q0 = 0; q0 < P; q0 += blockPanels) {
    const int64_t q1 = std::min(P, q0 + blockPanels);
    for (int64_t i0 = 0; i0 < m; i0 += kMr256) {
      const int mr = static_cast<int>(std::min<int64_t>(kMr256, m - i0));
      const Kernel256 kern = kernelFor256(mr);
      for (int64_t p = q0; p < q1; ++p) {
        const int cols = static_cast<int>(std::min<int64_t>(16, B.N - 16 * p));
        kern(K, X + i0 * ldx, ldx, B.panels.data() + p * pstride, B.bias.data() + 16 * p, relu,
             Y + i0 * ldy + 16 * p, ldy, cols);
      }
    }
  }
}

} // namespace
#endif // CHASSIS_GEMM_X86

bool gemmBiasAct(Isa isa, int64_t m, const float* X, int64_t ldx, const PackedB& B, bool relu,
                 float* Y, int64_t ldy) {
  isa = resolve(isa);
#if CHASSIS_GEMM_X86
  if (isa == Isa::Avx512) {
    gemm512(m, X, ldx, B, relu, Y, ldy);
    return true;
  }
  if (isa == Isa::Avx2) {
    gemm256(m, X, ldx, B, relu, Y, ldy);
    return true;
  }
#else
  (void)m, (void)X, (void)ldx, (void)B, (void)relu, (void)Y, (void)ldy;
#endif
  return false;
}

} // namespace chassis::neural::gemm

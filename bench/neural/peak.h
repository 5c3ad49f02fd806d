// The machine's peak floating-point rate for one core, measured, for the neural benchmarks'
// "distance from peak" figures.
//
// Clock: a chain of dependent integer adds retires one add per cycle on every x86-64 core of the
// last decade (latency 1), so adds per second is the clock in Hz as the core actually runs
// (turbo included), which /proc/cpuinfo's nominal "MHz" line is not.
// Peak: 12 independent chains of fused multiply-adds on full registers (enough to cover the FMA
// latency, 4 cycles, times the FMA ports, 2, on current cores), for each instruction set the CPU
// has: flops = 2 x lanes x FMAs. The peak is the best of the sets (on Zen 4, 512-bit FMAs are
// executed as two 256-bit halves, so AVX-512 and AVX2 peak alike: 32 float32 flops per cycle, not
// the 64 that two full-width 512-bit units would give; the measurement says which this CPU is).
// float64 has half the lanes per register.
#pragma once

#include <cstdint>
#include <cstdio>
#include <ctime>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace chassis::bench {

/// This thread's CPU time in seconds. The peak loops are timed in CPU time, not wall time: on a
/// shared machine the thread is descheduled part of the time, and the peak is a property of the
/// core while it runs the thread.
inline double threadSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

/// Cycles per second from a dependent add chain (best of 5 runs of ~`seconds`/5).
inline double measureClockHz(double seconds = 0.25) {
#if defined(__x86_64__)
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    uint64_t x = 0;
    const int64_t iters = 2'000'000;
    const double t0 = threadSeconds();
    int64_t done = 0;
    do {
      for (int64_t i = 0; i < iters; ++i)
        asm volatile("add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                     "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                     "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                     "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                     : "+r"(x));
      done += iters;
    } while ((threadSeconds() - t0) < seconds / 5);
    const double hz = 16.0 * double(done) / (threadSeconds() - t0);
    if (hz > best) best = hz;
    if (x != uint64_t(done) * 16) return 0; // the chain must have run
  }
  return best;
#else
  (void)seconds;
  return 0;
#endif
}

#if defined(__x86_64__)
// The body of one FMA-throughput measurement: V a register type, FMA its intrinsic, LANES its
// lanes; evaluates to flops per second (best of 5). A macro, not a template, so that each copy
// is compiled inside its own target(...) function (a lambda or template there would not be).
#define CHASSIS_FMA_RATE(V, SET1, FMA, LANES, M, A)                                                \
  double best = 0;                                                                                 \
  for (int rep = 0; rep < 5; ++rep) {                                                              \
    V acc[12];                                                                                     \
    for (int c = 0; c < 12; ++c)                                                                   \
      acc[c] = SET1(1.0f + c);                                                                     \
    const V mul = SET1(M), add = SET1(A);                                                          \
    int64_t done = 0;                                                                              \
    const double t0 = threadSeconds();                                                             \
    do {                                                                                           \
      for (int i = 0; i < 100000; ++i) {                                                           \
        _Pragma("GCC unroll 12") for (int c = 0; c < 12; ++c) acc[c] = FMA(acc[c], mul, add);      \
      }                                                                                            \
      /* the chains' results are used (kept in memory), so they cannot be dropped */               \
      asm volatile("" : : "m"(acc) : "memory");                                                    \
      done += 100000;                                                                              \
    } while ((threadSeconds() - t0) < seconds / 5);                                                \
    const double rate = 2.0 * (LANES)*12.0 * double(done) / (threadSeconds() - t0);                \
    if (rate > best) best = rate;                                                                  \
  }                                                                                                \
  return best;

__attribute__((target("avx512f,fma"))) inline double peak512f(double seconds) {
  CHASSIS_FMA_RATE(__m512, _mm512_set1_ps, _mm512_fmadd_ps, 16, 0.9999f, 1e-4f)
}
__attribute__((target("avx512f,fma"))) inline double peak512d(double seconds) {
  CHASSIS_FMA_RATE(__m512d, _mm512_set1_pd, _mm512_fmadd_pd, 8, 0.9999, 1e-4)
}
__attribute__((target("avx2,fma"))) inline double peak256f(double seconds) {
  CHASSIS_FMA_RATE(__m256, _mm256_set1_ps, _mm256_fmadd_ps, 8, 0.9999f, 1e-4f)
}
__attribute__((target("avx2,fma"))) inline double peak256d(double seconds) {
  CHASSIS_FMA_RATE(__m256d, _mm256_set1_pd, _mm256_fmadd_pd, 4, 0.9999, 1e-4)
}
#undef CHASSIS_FMA_RATE
#endif

struct Peak {
  double clockHz = 0;
  double f32 = 0, f64 = 0;           // flops per second, best instruction set
  double f32avx512 = 0, f32avx2 = 0; // per set (0: the CPU lacks it)
};

/// Measures the clock and the float32/float64 FMA peaks of the CPU's instruction sets.
inline Peak measurePeak(double seconds = 0.25) {
  Peak p;
  p.clockHz = measureClockHz(seconds);
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) {
    p.f32avx512 = peak512f(seconds);
    p.f64 = peak512d(seconds);
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    p.f32avx2 = peak256f(seconds);
    const double d = peak256d(seconds);
    if (d > p.f64) p.f64 = d;
  }
  p.f32 = p.f32avx512 > p.f32avx2 ? p.f32avx512 : p.f32avx2;
#endif
  return p;
}

/// One line: "peak: clock 3.70 GHz; float32 FMA 118.4 GFLOP/s (32.0 flops/cycle; avx512 ..)".
inline void printPeak(const Peak& p) {
  std::printf("peak (one core, measured): clock %.2f GHz; float32 %.1f GFLOP/s = %.1f flops/cycle "
              "(avx512 %.1f, avx2 %.1f GFLOP/s); float64 %.1f GFLOP/s = %.1f flops/cycle\n",
              p.clockHz / 1e9, p.f32 / 1e9, p.clockHz > 0 ? p.f32 / p.clockHz : 0,
              p.f32avx512 / 1e9, p.f32avx2 / 1e9, p.f64 / 1e9,
              p.clockHz > 0 ? p.f64 / p.clockHz : 0);
}

} // namespace chassis::bench

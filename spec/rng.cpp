// The Chassis random number generator: xoshiro256** (Blackman & Vigna 2018) seeded through
// splitmix64. Every step is integer arithmetic on uint64_t (wrapping), so a stream is
// bit-identical on every machine; the only floating-point library calls are std::exp and std::log
// in normal()'s rare edge cases (about 1.2% of draws). glibc's are accurate to < 1 ulp but not
// guaranteed correctly rounded, so normal draws are bit-identical across machines that share a
// libm and agree to within an ulp elsewhere (and a flip of an edge decision, rarer still).
//
// The exact algorithm (so a stream can be reproduced anywhere):
//
//   mix(z)  = splitmix64's finaliser:
//               z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
//               z = (z ^ (z >> 27)) * 0x94D049BB133111EB
//               return z ^ (z >> 31)
//   smNext(x) = { x += 0x9E3779B97F4A7C15; return mix(x); }     (x is updated in place)
//
//   Rng(seed, stream):  x = seed ^ mix(stream + 0xD1B54A32D192ED03);
//                       s[0..3] = smNext(x), smNext(x), smNext(x), smNext(x)
//   split(i):           h = mix(s[0]); h = mix(h ^ s[1]); h = mix(h ^ s[2]); h = mix(h ^ s[3]);
//                       x = h ^ mix(i + 0x8CB92BA72F3D8DD7);
//                       child s[0..3] = smNext(x) four times          (this generator unchanged)
//   (if a seeded state is all zero, which xoshiro forbids, s[0] is set to 1)
//
//   nextU64():  xoshiro256**: result = rotl(s[1] * 5, 7) * 9; t = s[1] << 17;
//               s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t;
//               s[3] = rotl(s[3], 45)
//   uniform():  k = nextU64() >> 11 (53 bits); redraw while k == 0; return k * 2^-53.
//               So the result is in [2^-53, 1 - 2^-53]: never 0 or 1, and exact.
//   normal():   the ziggurat (Marsaglia & Tsang 2000) of 256 layers of f(x) = exp(-x^2/2),
//               x >= 0, whose widths x_0..x_256 and densities f(x_i) are the tables of
//               spec/rng_ziggurat_table.inc (scripts/make-ziggurat-table.py says how they are
//               computed; r = x_1 = 3.654152885361009 is where the tail starts):
//                 b = nextU64(); i = b & 255; x = (b >> 11) * (x_i * 2^-53);
//                 if x < x_(i+1): return x, negated when bit 8 of b is set (-0.0 for 0);
//                 i = 0 (the tail): repeat a = -log(uniform()) / r, c = -log(uniform())
//                                   while c + c < a * a; x = r + a; return x, signed by bit 8;
//                 else (a wedge):   y = f(x_i) + uniform() * (f(x_(i+1)) - f(x_i));
//                                   if y < exp(-0.5 * x * x): return x, signed by bit 8;
//                 otherwise start again with a new b.
//               (x_i * 2^-53 is exact, so x is the product of x_i and the 53-bit uniform.)
#include "spec/rng.h"

#include <cmath>

namespace chassis {
namespace {

uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t smNext(uint64_t& x) {
  x += 0x9E3779B97F4A7C15ULL;
  return mix(x);
}

void seedState(uint64_t s[4], uint64_t x) {
  for (int i = 0; i < 4; ++i)
    s[i] = smNext(x);
  if ((s[0] | s[1] | s[2] | s[3]) == 0) s[0] = 1;
}

} // namespace

Rng::Rng(uint64_t seed, uint64_t stream) {
  seedState(s_, seed ^ mix(stream + 0xD1B54A32D192ED03ULL));
}

namespace rng_detail {
#include "spec/rng_ziggurat_table.inc"
} // namespace rng_detail

// nextU64(), uniform() and normalInline() are inline (rng.h): called per draw.

bool Rng::normalEdge(size_t layer, double& x) {
  using namespace rng_detail;
  if (layer == 0) { // the tail beyond r
    double a, c;
    do {
      a = -std::log(uniform()) / kZigR;
      c = -std::log(uniform());
    } while (c + c < a * a);
    x = kZigR + a;
    return true;
  }
  const double y = kZigDensity[layer] + uniform() * (kZigDensity[layer + 1] - kZigDensity[layer]);
  return y < std::exp(-0.5 * x * x);
}

double Rng::normal() {
  return normalInline();
}

Rng Rng::split(uint64_t index) const {
  uint64_t h = mix(s_[0]);
  h = mix(h ^ s_[1]);
  h = mix(h ^ s_[2]);
  h = mix(h ^ s_[3]);
  Rng child(0);
  seedState(child.s_, h ^ mix(index + 0x8CB92BA72F3D8DD7ULL));
  return child;
}

} // namespace chassis

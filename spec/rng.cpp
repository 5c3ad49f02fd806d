// The Chassis random number generator: xoshiro256** (Blackman & Vigna 2018) seeded through
// splitmix64. Every step is integer arithmetic on uint64_t (wrapping), so a stream is
// bit-identical on every machine; the only floating-point library call is std::log (and
// std::sqrt, which IEEE 754 requires to be correctly rounded) in normal(). glibc's log is accurate
// to < 1 ulp but not guaranteed correctly rounded, so normal draws are bit-identical across
// machines that share a libm and agree to within an ulp elsewhere.
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
//   normal():   Marsaglia's polar method: u = 2*uniform() - 1, v = 2*uniform() - 1,
//               s = u*u + v*v; redraw while s >= 1 or s == 0; return u * sqrt(-2 log(s) / s).
//               (The second normal, v * sqrt(...), is discarded: the generator has no room to
//               cache it, and dropping it keeps every draw a function of the state alone.)
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

// nextU64(), uniform() and normalInline() are inline (rng.h): called per draw.

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

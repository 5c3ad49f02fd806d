// A seeded random number generator whose streams are bit-identical across machines, compilers
// and standard libraries (std::*_distribution is not, so none is used anywhere in Chassis).
// The generator and its splitting are specified in rng.cpp's header comment. It lives in spec/
// (the bottom layer) because both symbolic/ and neural/ need reproducible streams.
#pragma once

#include <cmath>
#include <cstdint>

namespace chassis {

class Rng {
public:
  /// The stream for `seed`; `stream` selects an independent stream (e.g. one per chain).
  explicit Rng(uint64_t seed, uint64_t stream = 0);

  uint64_t nextU64() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// Uniform on the open interval (0, 1): never exactly 0 or 1. Always inline (a few
  /// instructions; a compiler may otherwise leave it out of line in a large caller).
  [[gnu::always_inline]] double uniform() {
    return static_cast<double>(uniformBits()) * 0x1.0p-53;
  }
  /// uniform()'s 53 bits k (uniform() is k * 2^-53): a comparison of uniform() with a multiple
  /// of 2^-53 can be decided on k (uniform() < 0.5: k < 2^52).
  [[gnu::always_inline]] uint64_t uniformBits() {
    uint64_t k;
    do {
      k = nextU64() >> 11;
    } while (k == 0);
    return k;
  }
  /// Standard normal draw (out of line: normalInline()'s operations).
  double normal();
  /// normal()'s draw inline, for the loops that draw per step (MH's moves): Marsaglia's polar
  /// method as rng.cpp specifies it.
  [[gnu::always_inline]] double normalInline() {
    for (;;) {
      // 2 uniform() - 1 with uniform() = k 2^-53 (exact): k 2^-52 - 1, the same operation's
      // operands (one multiplication by a power of two fewer).
      const double u = static_cast<double>(uniformBits()) * 0x1.0p-52 - 1.0;
      const double v = static_cast<double>(uniformBits()) * 0x1.0p-52 - 1.0;
      const double s = u * u + v * v;
      if (s >= 1.0 || s == 0.0) [[unlikely]]
        continue;
      return u * std::sqrt(-2.0 * std::log(s) / s);
    }
  }
  /// An independent generator derived from this one's state and `index`; does not advance this.
  Rng split(uint64_t index) const;

private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

} // namespace chassis

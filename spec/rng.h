// A seeded random number generator whose streams are bit-identical across machines, compilers
// and standard libraries (std::*_distribution is not, so none is used anywhere in Chassis).
// The generator and its splitting are specified in rng.cpp's header comment. It lives in spec/
// (the bottom layer) because both symbolic/ and neural/ need reproducible streams.
#pragma once

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
  /// Uniform on the open interval (0, 1): never exactly 0 or 1.
  double uniform() {
    uint64_t k;
    do {
      k = nextU64() >> 11;
    } while (k == 0);
    return static_cast<double>(k) * 0x1.0p-53;
  }
  /// Standard normal draw.
  double normal();
  /// An independent generator derived from this one's state and `index`; does not advance this.
  Rng split(uint64_t index) const;

private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

} // namespace chassis

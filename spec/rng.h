// A seeded random number generator whose streams are bit-identical across machines, compilers
// and standard libraries (std::*_distribution is not, so none is used anywhere in Chassis).
// The generator and its splitting are specified in rng.cpp's header comment. It lives in spec/
// (the bottom layer) because both symbolic/ and neural/ need reproducible streams.
#pragma once

#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace chassis {

namespace rng_detail {
/// One layer of normal()'s ziggurat (rng.cpp): its width x_i scaled by 2^-53 (a draw's 53 bits k
/// times it is k 2^-53 x_i) and the width x_(i+1) of the layer above, below which a point of
/// the layer lies under the density.
struct ZigLayer {
  double scale, inner;
};
extern const ZigLayer kZigLayers[256];
extern const double kZigDensity[257]; // f(x_i) = exp(-x_i^2 / 2) for i = 0..256
extern const double kZigR;            // x_1: where the tail starts
} // namespace rng_detail

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
  /// normal()'s draw inline, for the loops that draw per step (MH's moves): the ziggurat as
  /// rng.cpp specifies it. One nextU64() and a multiplication in about 99% of draws; the rest
  /// (a wedge or the tail: a few uniform() draws, exp or log) out of line.
  [[gnu::always_inline]] double normalInline() {
    for (;;) {
      const uint64_t bits = nextU64();
      const size_t layer = bits & 0xff;
      const rng_detail::ZigLayer& z = rng_detail::kZigLayers[layer];
      double x = static_cast<double>(bits >> 11) * z.scale;
      if (x < z.inner || normalEdge(layer, x)) [[likely]] // bit 8: the sign
        return std::bit_cast<double>(std::bit_cast<uint64_t>(x) | ((bits & 0x100) << 55));
    }
  }
  /// An independent generator derived from this one's state and `index`; does not advance this.
  Rng split(uint64_t index) const;

private:
  /// normalInline()'s draw x of layer `layer` at or beyond the layer above's width: true with x
  /// set to the draw's magnitude (the tail's, for layer 0), false to draw again.
  bool normalEdge(size_t layer, double& x);
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

} // namespace chassis

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

  uint64_t nextU64();
  /// Uniform on the open interval (0, 1): never exactly 0 or 1.
  double uniform();
  /// Standard normal draw.
  double normal();
  /// An independent generator derived from this one's state and `index`; does not advance this.
  Rng split(uint64_t index) const;

private:
  uint64_t s_[4];
};

} // namespace chassis

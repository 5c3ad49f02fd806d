// The distribution kinds, generated from spec/distributions.def, and their static signature.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace chassis {

enum class DistKind {
#define CHASSIS_DIST(Name, ...) Name,
#include "spec/distributions.def"
};

enum class DistParamType { None, Real, Int, RealArray };
enum class DistResultType { Bool, Int, Real };

struct DistSignature {
  std::string_view name;
  DistResultType result;
  bool discrete;
  int nparams;
  std::array<std::string_view, 3> paramNames;
  std::array<DistParamType, 3> paramTypes;
};

inline constexpr std::array kDistSignatures = {
#define CHASSIS_DIST(Name, Result, Kind, N, P0, T0, P1, T1, P2, T2)                               \
  DistSignature{#Name,                                                                             \
                DistResultType::Result,                                                            \
                std::string_view(#Kind) == "Discrete",                                             \
                N,                                                                                 \
                {std::string_view(#P0) == "_" ? "" : #P0, std::string_view(#P1) == "_" ? "" : #P1, \
                 std::string_view(#P2) == "_" ? "" : #P2},                                         \
                {DistParamType::T0, DistParamType::T1, DistParamType::T2}},
#include "spec/distributions.def"
};

inline const DistSignature& signature(DistKind k) { return kDistSignatures[static_cast<int>(k)]; }

/// The flat priors (Flat, FlatLower, FlatUpper, FlatInterval): density 1 on their support, a
/// measure that is improper (or, with both bounds, unnormalised), so nothing can be drawn from
/// it; only gradient-based inference (NUTS) samples a model that has one.
inline bool isFlat(DistKind k) {
  return k == DistKind::Flat || k == DistKind::FlatLower || k == DistKind::FlatUpper ||
         k == DistKind::FlatInterval;
}

/// A flat prior as written in source: "Flat(lower = ...)".
inline std::string_view flatSourceForm(DistKind k) {
  switch (k) {
  case DistKind::FlatLower:
    return "Flat(lower = ...)";
  case DistKind::FlatUpper:
    return "Flat(upper = ...)";
  case DistKind::FlatInterval:
    return "Flat(lower = ..., upper = ...)";
  default:
    return "Flat()";
  }
}

inline std::optional<DistKind> distKindFromName(std::string_view name) {
  for (size_t i = 0; i < kDistSignatures.size(); ++i)
    if (kDistSignatures[i].name == name) return static_cast<DistKind>(i);
  return std::nullopt;
}

} // namespace chassis

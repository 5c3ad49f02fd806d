// The circuit discovery options shared by `chassis compare` and `chassis extract`: the method, the
// ablation, the threshold and the data (samples, seed), checked the same way for both.
#pragma once

#include "neural/circuit.h"
#include "neural/circuit_discovery.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <optional>
#include <string>

namespace chassis::tools {

struct CircuitOptions {
  std::string method = "acdc", ablation = "mean";
  double threshold = 0.01;
  int samples = 2000;
  long long seed = 1;
  // Parsed by parse():
  neural::DiscoveryMethod discovery = neural::DiscoveryMethod::Acdc;
  neural::Ablation cut = neural::Ablation::Mean;

  /// Checks and parses the options; false, with a message on standard error, when one is bad.
  bool parse() {
    auto m = neural::parseMethod(method);
    if (!m) {
      std::cerr << "error: --method must be acdc, eap or magnitude, got '" << method << "'\n";
      return false;
    }
    auto a = neural::parseAblation(ablation);
    if (!a) {
      std::cerr << "error: --ablation must be zero, mean or resample, got '" << ablation << "'\n";
      return false;
    }
    if (!(threshold >= 0) || samples < 10 || seed < 0) {
      std::cerr << "error: --threshold must be >= 0, --samples >= 10 and --seed >= 0\n";
      return false;
    }
    discovery = *m;
    cut = *a;
    return true;
  }
};

/// Adds --method, --ablation, --threshold, --samples and --seed to a subcommand.
inline void addCircuitOptions(CLI::App& app, CircuitOptions& o) {
  app.add_option("--method", o.method, "circuit discovery: acdc, eap or magnitude")
      ->capture_default_str();
  app.add_option("--ablation", o.ablation, "what is cut: zero, mean or resample")
      ->capture_default_str();
  app.add_option("--threshold", o.threshold, "the discovery threshold")->capture_default_str();
  app.add_option("--samples", o.samples, "samples per dataset")->capture_default_str();
  app.add_option("--seed", o.seed, "seed of the data")->capture_default_str();
}

} // namespace chassis::tools

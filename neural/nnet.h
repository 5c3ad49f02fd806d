// The NNet format (Kyle Julian, Stanford 2016; the original ACAS Xu distribution): a text file of
//   // comment lines
//   numLayers,inputSize,outputSize,maxLayerSize,
//   layerSizes (numLayers+1 values, input first)
//   symmetric flag (unused)
//   input mins (inputSize), input maxes (inputSize)
//   means (inputSize values, then one for the outputs), ranges (likewise)
//   for each layer: its weight rows (one row per output neuron), then its biases, one per line
// Hidden layers are ReLU, the last is linear. The network's function on RAW inputs is
//   x_norm_i = (clamp(x_i, min_i, max_i) - mean_i) / range_i,
//   y = layers(x_norm) * range_out + mean_out.
// NNetInputs::Normalised gives just `layers` (the function the ACAS Xu ONNX files compute: they
// take normalised inputs and give unscaled outputs); NNetInputs::Raw the whole formula (as a
// Network with Max/Min/Sub/Div before and Mul/Add after the layers; toAffineNet refuses the
// clamp, so verify with the Normalised form and normalise the property instead).
#pragma once

#include "neural/network.h"
#include "spec/error.h"

#include <string>
#include <vector>

namespace chassis::neural {

enum class NNetInputs { Raw, Normalised };

struct NNetFile {
  std::vector<int> layerSizes;          // input size first, output size last
  std::vector<double> mins, maxs;       // per input
  std::vector<double> means, ranges;    // per input, then one for all outputs
  std::vector<Eigen::MatrixXd> weights; // layer k: layerSizes[k+1] x layerSizes[k]
  std::vector<Eigen::VectorXd> biases;

  Network toNetwork(NNetInputs mode, const std::string& name) const;
};

/// Parses NNet text; errors are `file:line: error: ...`.
Expected<NNetFile> parseNNet(const std::string& text, const std::string& displayName);
Expected<NNetFile> readNNet(const std::string& path);
/// Reads an NNet file as a Network (Raw: the format's function on raw inputs).
Expected<Network> loadNNet(const std::string& path, NNetInputs mode = NNetInputs::Raw);

} // namespace chassis::neural

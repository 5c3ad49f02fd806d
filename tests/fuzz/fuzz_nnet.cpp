// libFuzzer target for the NNet reader (neural/nnet.h parseNNet): arbitrary text must give an
// NNetFile or a located Error, never a crash, hang, leak or sanitizer report. An accepted file must
// be self-consistent (one weight matrix and bias per layer, of the sizes the header declares; one
// min, max, mean and range per input, plus the outputs' mean and range) and convert to a Network
// in both modes, which runs on a zero sample when the network is small. Seeds in corpus/nnet/.
#include "neural/network.h"
#include "neural/nnet.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chassis::neural;
  std::string text(reinterpret_cast<const char*>(data), size);
  chassis::Expected<NNetFile> f = parseNNet(text, "fuzz.nnet");
  if (!f) {
    if (f.error().message.empty()) std::abort();
    return 0;
  }
  const auto& ls = f->layerSizes;
  if (ls.size() < 2 || f->weights.size() != ls.size() - 1 || f->biases.size() != ls.size() - 1)
    std::abort();
  for (size_t k = 0; k + 1 < ls.size(); ++k) {
    if (f->weights[k].rows() != ls[k + 1] || f->weights[k].cols() != ls[k]) std::abort();
    if (f->biases[k].size() != ls[k + 1]) std::abort();
  }
  const size_t in = static_cast<size_t>(ls.front());
  if (f->mins.size() != in || f->maxs.size() != in || f->means.size() != in + 1 ||
      f->ranges.size() != in + 1)
    std::abort();
  for (NNetInputs mode : {NNetInputs::Raw, NNetInputs::Normalised}) {
    Network net = f->toNetwork(mode, "fuzz");
    if (net.inputSize() != ls.front() || net.outputSize() != ls.back()) std::abort();
    (void)net.forward(Eigen::VectorXd(Eigen::VectorXd::Zero(net.inputSize())));
  }
  return 0;
}

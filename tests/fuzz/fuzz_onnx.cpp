// libFuzzer target for the ONNX loader (neural/onnx.h parseOnnx, the bytes form of loadOnnx):
// arbitrary bytes must give a Network or an Error, never a crash, hang, leak or sanitizer report.
// A network the loader accepts must also run (forward on a zero sample, when its input is small)
// and survive export: serializeOnnx of it must parse back to a network of the same input and
// output sizes (an accepted model that `chassis compile-net`/`extract` cannot write back, or that
// reads back differently, is a finding). Seeds in corpus/onnx/ (small models from examples/ and
// tests/data/); no dictionary (protobuf is binary; the seeds carry the field tags and op names).
#include "neural/network.h"
#include "neural/onnx.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chassis::neural;
  std::string bytes(reinterpret_cast<const char*>(data), size);
  chassis::Expected<Network> net = parseOnnx(bytes, "fuzz.onnx");
  if (!net) {
    if (net.error().message.empty()) std::abort(); // an error says what is wrong
    return 0;
  }
  (void)net->describe();
  // The declared input shape is not bounded by the input's size (a dimension is one varint).
  if (net->inputSize() > 0 && net->inputSize() <= 4096 && net->outputSize() <= 4096)
    (void)net->forward(Eigen::VectorXd(Eigen::VectorXd::Zero(net->inputSize())));
  // Export writes a copy of every weight and import reads it back: a network the budget lets a
  // few bytes generate (up to ~96M values) would take that several times over libFuzzer's 2 GiB.
  // The round trip does not depend on the size; tests/neural checks it on lowered conv nets.
  if (net->numValues() > (int64_t(1) << 22)) return 0;
  chassis::Expected<std::string> out = serializeOnnx(*net);
  if (!out) return 0; // a network that cannot be written says why (e.g. an unsupported layer)
  chassis::Expected<Network> back = parseOnnx(*out, "fuzz-roundtrip.onnx");
  if (!back) {
    std::fprintf(stderr, "an accepted model, written back, is rejected: %s\n%s\n",
                 back.error().str().c_str(), net->describe().c_str());
    std::abort();
  }
  if (back->inputSize() != net->inputSize() || back->outputSize() != net->outputSize())
    std::abort();
  return 0;
}

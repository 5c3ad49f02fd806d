// libFuzzer target for the CSV dataset reader (neural/dataset.h parseCsv, what `chassis train
// --csv` and `chassis eval --csv` read): the input's first line is the label option (one column
// name, or several separated by commas), the rest the CSV text. Arbitrary input must give a
// Dataset or a located Error, never a crash, hang, leak or sanitizer report. An accepted dataset
// must be consistent (one label, line and label column per sample; X n x features; every number
// finite) and survive the writer: parseCsv(toCsv(d)) must give back the same names and the same
// doubles bit for bit (toCsv promises %.17g). Seeds in corpus/csv/.
#include "neural/dataset.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {
bool sameBits(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols()) return false;
  for (Eigen::Index i = 0; i < a.rows(); ++i)
    for (Eigen::Index j = 0; j < a.cols(); ++j)
      if (!(a(i, j) == b(i, j)) || std::signbit(a(i, j)) != std::signbit(b(i, j))) return false;
  return true;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chassis::neural;
  std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nl = input.find('\n');
  if (nl == std::string::npos) return 0;
  const std::string label = input.substr(0, nl), text = input.substr(nl + 1);
  chassis::Expected<Dataset> d = parseCsv(text, "fuzz.csv", label);
  if (!d) {
    if (d.error().message.empty()) std::abort();
    return 0;
  }
  const Eigen::Index n = d->X.rows();
  if (n == 0 || d->y.size() != n || d->lines.size() != static_cast<size_t>(n) ||
      d->labelCols.size() != static_cast<size_t>(n) ||
      d->X.cols() != static_cast<Eigen::Index>(d->featureNames.size()))
    std::abort();
  if (!d->X.allFinite() || !d->y.allFinite() || !d->Y.allFinite()) std::abort();
  if (d->Y.cols() > 0 && (d->Y.rows() != n || d->Y.cols() != d->numTargets() ||
                          d->labelNames.size() != static_cast<size_t>(d->Y.cols())))
    std::abort();
  chassis::Expected<Dataset> back = parseCsv(toCsv(*d), "fuzz-roundtrip.csv", d->labelName);
  if (!back || back->featureNames != d->featureNames || back->labelNames != d->labelNames ||
      !sameBits(back->X, d->X) || !sameBits(back->targets(), d->targets()))
    std::abort();
  return 0;
}

// NNet reader (format in nnet.h). The file is read as a stream of comma-separated numbers that
// remember their line, so a short or malformed file is reported at the line where the number
// was expected or found (`file:line: error: ...`), never read past its end.
#include "neural/nnet.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace chassis::neural {

namespace {

struct Token {
  std::string text;
  int line;
};

struct Reader {
  std::string file;
  std::vector<Token> toks;
  size_t pos = 0;
  int lastLine = 1;

  Error err(int line, const std::string& msg) const { return Error(SourceLoc{file, line, 0}, msg); }

  Expected<double> number(const std::string& what) {
    if (pos >= toks.size()) return err(lastLine, "unexpected end of file: expected " + what);
    const Token& t = toks[pos++];
    const char* b = t.text.c_str();
    char* e = nullptr;
    errno = 0;
    double v = std::strtod(b, &e);
    if (e == b || *e != '\0' || errno == ERANGE || !std::isfinite(v))
      return err(t.line, "bad number '" + t.text + "' (expected " + what + ")");
    return v;
  }
  Expected<int> integer(const std::string& what, int lo, int hi) {
    int line = pos < toks.size() ? toks[pos].line : lastLine;
    auto v = number(what);
    if (!v) return v.error();
    if (*v != std::floor(*v) || *v < lo || *v > hi)
      return err(line, what + " must be an integer in [" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "], got " + toks[pos - 1].text);
    return static_cast<int>(*v);
  }
  /// The line the next token is on (for section checks).
  int line() const { return pos < toks.size() ? toks[pos].line : lastLine; }
};

} // namespace

Expected<NNetFile> parseNNet(const std::string& text, const std::string& displayName) {
  Reader r;
  r.file = displayName;
  {
    std::istringstream in(text);
    std::string lineText;
    int ln = 0;
    while (std::getline(in, lineText)) {
      ++ln;
      size_t first = lineText.find_first_not_of(" \t\r");
      if (first != std::string::npos && lineText.compare(first, 2, "//") == 0) continue;
      std::string cell;
      std::istringstream ls(lineText);
      while (std::getline(ls, cell, ',')) {
        size_t a = cell.find_first_not_of(" \t\r"), b = cell.find_last_not_of(" \t\r");
        if (a == std::string::npos) continue; // empty cell (trailing comma)
        r.toks.push_back({cell.substr(a, b - a + 1), ln});
      }
    }
    r.lastLine = std::max(ln, 1);
  }
  if (r.toks.empty()) return r.err(r.lastLine, "empty NNet file (no numbers)");
  NNetFile f;
  constexpr int kMaxSize = 1 << 16;
  auto numLayers = r.integer("the number of layers", 1, 4096);
  if (!numLayers) return numLayers.error();
  auto inputSize = r.integer("the input size", 1, kMaxSize);
  if (!inputSize) return inputSize.error();
  auto outputSize = r.integer("the output size", 1, kMaxSize);
  if (!outputSize) return outputSize.error();
  auto maxSize = r.integer("the maximum layer size", 1, kMaxSize);
  if (!maxSize) return maxSize.error();
  for (int k = 0; k <= *numLayers; ++k) {
    int line = r.line();
    auto s = r.integer("layer size " + std::to_string(k), 1, kMaxSize);
    if (!s) return s.error();
    if (*s > *maxSize)
      return r.err(line, "layer size " + std::to_string(*s) + " exceeds the maximum layer size " +
                             std::to_string(*maxSize));
    f.layerSizes.push_back(*s);
  }
  if (f.layerSizes.front() != *inputSize)
    return r.err(r.line(), "the first layer size " + std::to_string(f.layerSizes.front()) +
                               " is not the input size " + std::to_string(*inputSize));
  if (f.layerSizes.back() != *outputSize)
    return r.err(r.line(), "the last layer size " + std::to_string(f.layerSizes.back()) +
                               " is not the output size " + std::to_string(*outputSize));
  if (auto sym = r.number("the symmetric flag"); !sym) return sym.error();
  auto readVec = [&](std::vector<double>& v, int n, const std::string& what) -> Status {
    for (int i = 0; i < n; ++i) {
      auto x = r.number(what + " " + std::to_string(i));
      if (!x) return x.error();
      v.push_back(*x);
    }
    return Status::ok();
  };
  if (auto s = readVec(f.mins, *inputSize, "input minimum"); !s) return s.error();
  if (auto s = readVec(f.maxs, *inputSize, "input maximum"); !s) return s.error();
  if (auto s = readVec(f.means, *inputSize + 1, "mean"); !s) return s.error();
  {
    int line = r.line();
    if (auto s = readVec(f.ranges, *inputSize + 1, "range"); !s) return s.error();
    for (double x : f.ranges)
      if (x == 0) return r.err(line, "a normalisation range is 0");
  }
  for (int k = 0; k < *numLayers; ++k) {
    const int in = f.layerSizes[k], out = f.layerSizes[k + 1];
    const std::string layer = "layer " + std::to_string(k + 1);
    // The header's sizes are a few digits each (up to 65536 x 65536, 32 GB of doubles): the
    // matrix is allocated once the file has given its values, so a short file allocates little.
    std::vector<double> rows;
    for (int i = 0; i < out; ++i)
      for (int j = 0; j < in; ++j) {
        auto x =
            r.number("weight (" + std::to_string(i) + "," + std::to_string(j) + ") of " + layer);
        if (!x) return x.error();
        rows.push_back(*x);
      }
    Eigen::MatrixXd W = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic,
                                                       Eigen::RowMajor>>(rows.data(), out, in);
    Eigen::VectorXd b(out);
    for (int i = 0; i < out; ++i) {
      auto x = r.number("bias " + std::to_string(i) + " of " + layer);
      if (!x) return x.error();
      b[i] = *x;
    }
    f.weights.push_back(std::move(W));
    f.biases.push_back(std::move(b));
  }
  if (r.pos < r.toks.size())
    return r.err(r.toks[r.pos].line,
                 "unexpected data after the last layer: '" + r.toks[r.pos].text + "'");
  return f;
}

Expected<NNetFile> readNNet(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(SourceLoc{path, 0, 0}, "cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return parseNNet(ss.str(), path);
}

Network NNetFile::toNetwork(NNetInputs mode, const std::string& name) const {
  Network core = makeMlp(weights, biases, name);
  if (mode == NNetInputs::Normalised) return core;
  const int n = layerSizes.front(), m = layerSizes.back();
  Network net;
  net.name = name;
  net.inputShape = {n};
  int v = 0;
  auto elem = [&](ElemOp op, Eigen::RowVectorXd c, const std::string& nm, int size) {
    Layer L;
    L.kind = LayerKind::Elementwise;
    L.op = op;
    L.opType = elemOpName(op);
    L.name = nm;
    L.constant = std::move(c);
    L.input = v;
    L.output = ++v;
    L.outShape = {size};
    net.layers.push_back(std::move(L));
  };
  Eigen::RowVectorXd lo(n), hi(n), mean(n), range(n);
  for (int i = 0; i < n; ++i) {
    lo[i] = mins[i];
    hi[i] = maxs[i];
    mean[i] = means[i];
    range[i] = ranges[i];
  }
  elem(ElemOp::Max, lo, "clamp_min", n);
  elem(ElemOp::Min, hi, "clamp_max", n);
  elem(ElemOp::Sub, mean, "normalise_mean", n);
  elem(ElemOp::Div, range, "normalise_range", n);
  for (Layer L : core.layers) {
    L.input += v;
    L.output += v;
    net.layers.push_back(std::move(L));
  }
  v += core.outputValue;
  elem(ElemOp::Mul, Eigen::RowVectorXd::Constant(m, ranges[n]), "output_range", m);
  elem(ElemOp::Add, Eigen::RowVectorXd::Constant(m, means[n]), "output_mean", m);
  net.outputValue = v;
  net.finalize();
  return net;
}

Expected<Network> loadNNet(const std::string& path, NNetInputs mode) {
  auto f = readNNet(path);
  if (!f) return f.error();
  return f->toNetwork(mode, path);
}

} // namespace chassis::neural

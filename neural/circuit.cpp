// Circuits of an AffineNet: masks, ablation, materialisation, size, DOT and .chs rendering.
// The semantics are in neural/circuit.h.
#include "neural/circuit.h"

// GCC 12 reports a false -Wmaybe-uninitialized inside Boost's edge iterator (a boost::optional)
// when write_graphviz is inlined; the warning is silenced for these headers only.
// (clang has no such warning group and would warn about the pragma itself.)
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/graphviz.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>
#include <stdexcept>

namespace chassis::neural {

const char* ablationName(Ablation a) {
  switch (a) {
  case Ablation::Zero:
    return "zero";
  case Ablation::Mean:
    return "mean";
  case Ablation::Resample:
    return "resample";
  }
  return "?";
}

std::optional<Ablation> parseAblation(std::string_view s) {
  for (Ablation a : {Ablation::Zero, Ablation::Mean, Ablation::Resample})
    if (s == ablationName(a)) return a;
  return std::nullopt;
}

namespace {

[[noreturn]] void fail(const std::string& msg) {
  throw std::invalid_argument(msg);
}

Circuit constantCircuit(const AffineNet& net, Ablation ablation, bool kept) {
  Circuit c;
  c.ablation = ablation;
  for (const AffineLayer& L : net.layers)
    c.keep.push_back(EdgeMask::Constant(L.W.rows(), L.W.cols(), kept));
  return c;
}

void checkNet(const AffineNet& net) {
  Eigen::Index in = net.inputSize;
  for (size_t k = 0; k < net.layers.size(); ++k) {
    const AffineLayer& L = net.layers[k];
    if (L.W.cols() != in || L.b.size() != L.W.rows())
      fail("layer " + std::to_string(k) + " of the network has W " + std::to_string(L.W.rows()) +
           "x" + std::to_string(L.W.cols()) + " and b of size " + std::to_string(L.b.size()) +
           ", which do not chain from " + std::to_string(in) + " inputs");
    in = L.W.rows();
  }
}

void checkStats(const AffineNet& net, const ActivationStats& stats) {
  if (stats.mean.size() != net.layers.size())
    fail("activation statistics have " + std::to_string(stats.mean.size()) +
         " layers, the network " + std::to_string(net.layers.size()));
  for (size_t k = 0; k < net.layers.size(); ++k)
    if (stats.mean[k].size() != net.layers[k].W.cols())
      fail("activation statistics of layer " + std::to_string(k) + " have " +
           std::to_string(stats.mean[k].size()) + " entries, the layer has " +
           std::to_string(net.layers[k].W.cols()) + " inputs");
}

Eigen::MatrixXd maskedW(const Eigen::MatrixXd& W, const EdgeMask& keep, bool kept) {
  return (keep.array() == kept).select(W, 0.0);
}

/// z = A W^T + b (rows are samples), then the layer's activation.
Eigen::MatrixXd applyLayer(const Eigen::MatrixXd& A, const Eigen::MatrixXd& W,
                           const Eigen::VectorXd& b, bool relu) {
  Eigen::MatrixXd Z = A * W.transpose();
  Z.rowwise() += b.transpose();
  if (relu) Z = Z.cwiseMax(0.0);
  return Z;
}

/// The constant value a cut edge of layer k carries (zero or mean ablation).
Eigen::VectorXd constantAblation(const AffineNet& net, Ablation a, const ActivationStats& stats,
                                 size_t k) {
  if (a == Ablation::Zero) return Eigen::VectorXd::Zero(net.layers[k].W.cols());
  return stats.mean[k];
}

std::string formatReal(double v) {
  if (!std::isfinite(v)) fail("the circuit has a non-finite constant (" + std::to_string(v) + ")");
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

bool isReserved(const std::string& s) {
  static const std::set<std::string> words = {
      "import", "enum",  "module", "network", "property", "let",       "var",    "if",
      "then",   "else",  "for",    "in",      "observe",  "condition", "factor", "assert",
      "true",   "false", "bool",   "int",     "real",     "forall",    "exists", "always"};
  return words.count(s) > 0;
}

bool looksLikeHidden(const std::string& s) {
  if (s.size() < 4 || s[0] != 'h') return false;
  size_t u = s.find('_');
  if (u == std::string::npos || u == 1 || u + 1 == s.size()) return false;
  for (size_t i = 1; i < s.size(); ++i)
    if (i != u && !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

/// A .chs identifier made of `raw`: letters, digits and '_' (others become '_'), not starting
/// with a digit, not a reserved word, not a hidden unit's name, not in `used` (then added to it).
std::string sanitise(const std::string& raw, std::set<std::string>& used) {
  std::string s;
  for (char ch : raw)
    s += std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' ? ch : '_';
  if (s.empty()) s = "v";
  if (std::isdigit(static_cast<unsigned char>(s[0]))) s = "v_" + s;
  if (isReserved(s) || looksLikeHidden(s)) s += "_";
  std::string base = s;
  for (int n = 2; used.count(s); ++n)
    s = base + "_" + std::to_string(n);
  used.insert(s);
  return s;
}

std::vector<std::string> defaultNames(const std::vector<std::string>& given, int n,
                                      const char* prefix, const char* what) {
  if (given.empty()) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i)
      out.push_back(prefix + std::to_string(i));
    return out;
  }
  if (static_cast<int>(given.size()) != n)
    fail(std::string("circuit rendering got ") + std::to_string(given.size()) + " " + what +
         " names for " + std::to_string(n) + " " + what + "s");
  return given;
}

std::string hiddenName(size_t k, Eigen::Index i) {
  return "h" + std::to_string(k) + "_" + std::to_string(i);
}

std::string dotEscape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') out += '\\';
    out += ch;
  }
  return out;
}

} // namespace

Circuit fullCircuit(const AffineNet& net, Ablation ablation) {
  return constantCircuit(net, ablation, true);
}

Circuit emptyCircuit(const AffineNet& net, Ablation ablation) {
  return constantCircuit(net, ablation, false);
}

Circuit complementCircuit(const Circuit& c) {
  Circuit out;
  out.ablation = c.ablation;
  for (const EdgeMask& m : c.keep)
    out.keep.push_back(m.array() == false);
  return out;
}

void checkCircuitShape(const AffineNet& net, const Circuit& c) {
  checkNet(net);
  if (c.keep.size() != net.layers.size())
    fail("the circuit has " + std::to_string(c.keep.size()) + " edge masks, the network " +
         std::to_string(net.layers.size()) + " layers");
  for (size_t k = 0; k < net.layers.size(); ++k)
    if (c.keep[k].rows() != net.layers[k].W.rows() || c.keep[k].cols() != net.layers[k].W.cols())
      fail("the circuit's edge mask of layer " + std::to_string(k) + " is " +
           std::to_string(c.keep[k].rows()) + "x" + std::to_string(c.keep[k].cols()) +
           ", the layer's W is " + std::to_string(net.layers[k].W.rows()) + "x" +
           std::to_string(net.layers[k].W.cols()));
}

std::vector<Eigen::MatrixXd> layerActivations(const AffineNet& net, const Eigen::MatrixXd& X) {
  checkNet(net);
  if (X.cols() != net.inputSize)
    fail("the data has " + std::to_string(X.cols()) + " columns, the network " +
         std::to_string(net.inputSize) + " inputs");
  std::vector<Eigen::MatrixXd> acts{X};
  for (const AffineLayer& L : net.layers)
    acts.push_back(applyLayer(acts.back(), L.W, L.b, L.relu));
  return acts;
}

ActivationStats activationStats(const AffineNet& net, const Eigen::MatrixXd& X) {
  if (X.rows() == 0) fail("activation statistics need at least one sample");
  std::vector<Eigen::MatrixXd> acts = layerActivations(net, X);
  ActivationStats s;
  for (size_t k = 0; k < net.layers.size(); ++k)
    s.mean.push_back(acts[k].colwise().mean());
  return s;
}

AffineNet materialize(const AffineNet& net, const Circuit& c, const ActivationStats& stats) {
  checkCircuitShape(net, c);
  if (c.ablation == Ablation::Resample)
    fail("a circuit with resample ablation has no single network: its cut edges carry "
         "per-sample patch activations (use zero or mean ablation)");
  checkStats(net, stats);
  AffineNet out;
  out.inputSize = net.inputSize;
  for (size_t k = 0; k < net.layers.size(); ++k) {
    const AffineLayer& L = net.layers[k];
    AffineLayer M;
    M.W = maskedW(L.W, c.keep[k], true);
    M.b = L.b + maskedW(L.W, c.keep[k], false) * constantAblation(net, c.ablation, stats, k);
    M.relu = L.relu;
    out.layers.push_back(std::move(M));
  }
  return out;
}

Eigen::MatrixXd circuitForward(const AffineNet& net, const Circuit& c, const ActivationStats& stats,
                               const Eigen::MatrixXd& X, const Eigen::MatrixXd& Xpatch) {
  checkCircuitShape(net, c);
  if (X.cols() != net.inputSize)
    fail("the data has " + std::to_string(X.cols()) + " columns, the network " +
         std::to_string(net.inputSize) + " inputs");
  if (c.ablation != Ablation::Resample) {
    AffineNet m = materialize(net, c, stats);
    Eigen::MatrixXd A = X;
    for (const AffineLayer& L : m.layers)
      A = applyLayer(A, L.W, L.b, L.relu);
    return A;
  }
  if (Xpatch.rows() != X.rows() || Xpatch.cols() != X.cols())
    fail("resample ablation needs a patch matrix of the data's shape (" + std::to_string(X.rows()) +
         "x" + std::to_string(X.cols()) + "), got " + std::to_string(Xpatch.rows()) + "x" +
         std::to_string(Xpatch.cols()));
  std::vector<Eigen::MatrixXd> patch = layerActivations(net, Xpatch);
  Eigen::MatrixXd A = X;
  for (size_t k = 0; k < net.layers.size(); ++k) {
    const AffineLayer& L = net.layers[k];
    Eigen::MatrixXd Z = A * maskedW(L.W, c.keep[k], true).transpose() +
                        patch[k] * maskedW(L.W, c.keep[k], false).transpose();
    Z.rowwise() += L.b.transpose();
    if (L.relu) Z = Z.cwiseMax(0.0);
    A = std::move(Z);
  }
  return A;
}

std::vector<std::vector<bool>> circuitNeurons(const AffineNet& net, const Circuit& c) {
  checkCircuitShape(net, c);
  std::vector<std::vector<bool>> out;
  for (size_t k = 0; k + 1 < net.layers.size(); ++k) {
    std::vector<bool> in(c.keep[k].rows());
    for (Eigen::Index i = 0; i < c.keep[k].rows(); ++i)
      in[i] = c.keep[k].row(i).any() && c.keep[k + 1].col(i).any();
    out.push_back(std::move(in));
  }
  return out;
}

CircuitSize circuitSize(const AffineNet& net, const Circuit& c) {
  CircuitSize s;
  for (const std::vector<bool>& layer : circuitNeurons(net, c)) {
    s.totalNeurons += static_cast<int>(layer.size());
    s.neurons += static_cast<int>(std::count(layer.begin(), layer.end(), true));
  }
  double keptW = 0, totalW = 0;
  for (size_t k = 0; k < net.layers.size(); ++k) {
    s.edges += c.keep[k].count();
    s.totalEdges += c.keep[k].size();
    keptW += maskedW(net.layers[k].W, c.keep[k], true).cwiseAbs().sum();
    totalW += net.layers[k].W.cwiseAbs().sum();
  }
  if (totalW > 0)
    s.weightShare = keptW / totalW;
  else
    s.weightShare = s.totalEdges > 0 ? static_cast<double>(s.edges) / s.totalEdges : 1.0;
  return s;
}

namespace {

struct DotVertex {
  std::string label;
  int rank = 0;
};
struct DotEdge {
  double weight = 0;
};
using DotGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, DotVertex, DotEdge>;

} // namespace

std::string circuitDot(const AffineNet& net, const Circuit& c,
                       const std::vector<std::string>& inputNames,
                       const std::vector<std::string>& outputNames) {
  checkCircuitShape(net, c);
  const size_t L = net.layers.size();
  std::vector<std::string> inNames = defaultNames(inputNames, net.inputSize, "x", "input");
  std::vector<std::string> outNames = defaultNames(outputNames, net.outputSize(), "y", "output");

  // Units of a_0..a_L; a hidden unit is drawn when a kept edge touches it.
  DotGraph g;
  std::vector<std::vector<long>> vertexOf(L + 1);
  for (size_t k = 0; k <= L; ++k) {
    Eigen::Index n = k == 0 ? net.inputSize : net.layers[k - 1].W.rows();
    vertexOf[k].assign(n, -1);
    for (Eigen::Index i = 0; i < n; ++i) {
      bool touched = k == 0 || k == L || c.keep[k - 1].row(i).any() || c.keep[k].col(i).any();
      if (!touched) continue;
      std::string label = k == 0 ? inNames[i] : k == L ? outNames[i] : hiddenName(k - 1, i);
      vertexOf[k][i] =
          static_cast<long>(boost::add_vertex(DotVertex{label, static_cast<int>(k)}, g));
    }
  }
  double maxAbs = 0;
  for (size_t k = 0; k < L; ++k)
    maxAbs = std::max(maxAbs, maskedW(net.layers[k].W, c.keep[k], true).cwiseAbs().maxCoeff());
  for (size_t k = 0; k < L; ++k)
    for (Eigen::Index i = 0; i < c.keep[k].rows(); ++i)
      for (Eigen::Index j = 0; j < c.keep[k].cols(); ++j)
        if (c.keep[k](i, j))
          boost::add_edge(vertexOf[k][j], vertexOf[k + 1][i], DotEdge{net.layers[k].W(i, j)}, g);

  auto vertexWriter = [&](std::ostream& os, DotGraph::vertex_descriptor v) {
    const DotVertex& d = g[v];
    const char* shape = d.rank == 0                     ? "box"
                        : d.rank == static_cast<int>(L) ? "doublecircle"
                                                        : "circle";
    os << "[label=\"" << dotEscape(d.label) << "\", shape=" << shape << "]";
  };
  auto edgeWriter = [&](std::ostream& os, DotGraph::edge_descriptor e) {
    double w = g[e].weight;
    char label[32], pen[32];
    std::snprintf(label, sizeof label, "%.4g", w);
    std::snprintf(pen, sizeof pen, "%.3f", maxAbs > 0 ? 0.5 + 4.5 * std::abs(w) / maxAbs : 1.0);
    os << "[label=\"" << label << "\", penwidth=" << pen
       << ", color=" << (w >= 0 ? "\"#1f77b4\"" : "\"#d62728\"") << "]";
  };
  auto graphWriter = [&](std::ostream& os) {
    os << "rankdir=LR;\n";
    for (size_t k = 0; k <= L; ++k) {
      os << "{rank=same;";
      for (long v : vertexOf[k])
        if (v >= 0) os << " " << v << ";";
      os << "}\n";
    }
  };
  std::ostringstream os;
  boost::write_graphviz(os, g, vertexWriter, edgeWriter, graphWriter);
  return os.str();
}

std::string circuitChs(const AffineNet& net, const Circuit& c, const ActivationStats& stats,
                       const std::string& name, const std::vector<std::string>& inputNames,
                       const std::vector<std::string>& outputNames) {
  AffineNet m = materialize(net, c, stats); // checks shapes and the ablation
  const size_t L = m.layers.size();
  std::set<std::string> used;
  std::string moduleName = sanitise(name, used);
  std::vector<std::string> inNames = defaultNames(inputNames, net.inputSize, "x", "input");
  std::vector<std::string> outNames = defaultNames(outputNames, net.outputSize(), "y", "output");
  for (std::string& s : inNames)
    s = sanitise(s, used);
  for (std::string& s : outNames)
    s = sanitise(s, used);

  // A unit of a_k is either a variable (depends on the input through kept edges) or a constant.
  struct Unit {
    bool variable = false;
    double value = 0;                  // the constant, when not variable
    std::string expr;                  // the defining expression, when a variable of a hidden layer
    std::vector<Eigen::Index> sources; // variable sources of its kept terms
  };
  std::vector<std::vector<Unit>> units(L + 1);
  units[0].resize(net.inputSize);
  for (Unit& u : units[0])
    u.variable = true;
  for (size_t k = 0; k < L; ++k) {
    const AffineLayer& Lk = m.layers[k];
    units[k + 1].resize(Lk.W.rows());
    for (Eigen::Index i = 0; i < Lk.W.rows(); ++i) {
      Unit& u = units[k + 1][i];
      double bias = Lk.b(i);
      std::string terms;
      for (Eigen::Index j = 0; j < Lk.W.cols(); ++j) {
        if (!c.keep[k](i, j)) continue;
        const Unit& src = units[k][j];
        double w = Lk.W(i, j);
        if (!src.variable) {
          bias += w * src.value;
          continue;
        }
        u.sources.push_back(j);
        std::string srcName = k == 0 ? inNames[j] : hiddenName(k - 1, j);
        if (terms.empty())
          terms = (std::signbit(w) ? "-" + formatReal(-w) : formatReal(w)) + " * " + srcName;
        else
          terms +=
              (std::signbit(w) ? " - " + formatReal(-w) : " + " + formatReal(w)) + " * " + srcName;
      }
      if (terms.empty()) {
        u.value = Lk.relu ? std::max(bias, 0.0) : bias;
        continue;
      }
      u.variable = true;
      if (bias != 0) terms += (bias < 0 ? " - " + formatReal(-bias) : " + " + formatReal(bias));
      u.expr = Lk.relu ? "relu(" + terms + ")" : terms;
    }
  }
  // Liveness: a variable hidden unit is emitted when a live unit reads it.
  std::vector<std::vector<bool>> live(L + 1);
  for (size_t k = 0; k <= L; ++k)
    live[k].assign(units[k].size(), k == L);
  for (size_t k = L; k >= 1; --k)
    for (size_t i = 0; i < units[k].size(); ++i)
      if (live[k][i] && units[k][i].variable)
        for (Eigen::Index j : units[k][i].sources)
          live[k - 1][j] = true;

  std::ostringstream os;
  os << "// Circuit of a network (" << ablationName(c.ablation)
     << " ablation): " << circuitSize(net, c).edges << " of " << circuitSize(net, c).totalEdges
     << " edges kept; what the cut edges carry is folded into the biases.\n";
  os << "module " << moduleName << "(";
  for (size_t i = 0; i < inNames.size(); ++i)
    os << (i ? ", " : "") << inNames[i] << ": real";
  os << ") -> (";
  for (size_t i = 0; i < outNames.size(); ++i)
    os << (i ? ", " : "") << outNames[i] << ": real";
  os << ") {\n";
  for (size_t k = 1; k < L; ++k)
    for (size_t i = 0; i < units[k].size(); ++i)
      if (live[k][i] && units[k][i].variable)
        os << "    let " << hiddenName(k - 1, static_cast<Eigen::Index>(i)) << " = "
           << units[k][i].expr << ";\n";
  for (size_t i = 0; i < outNames.size(); ++i) {
    os << "    " << outNames[i] << " = ";
    if (L == 0)
      os << inNames[i];
    else if (units[L][i].variable)
      os << units[L][i].expr;
    else
      os << formatReal(units[L][i].value);
    os << ";\n";
  }
  os << "}\n";
  return os.str();
}

} // namespace chassis::neural

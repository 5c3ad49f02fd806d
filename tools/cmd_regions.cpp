// `chassis regions`: the decision regions of a network or of a module on a 2-D slice of its
// input box, as a self-contained SVG (or an HTML page holding it; nothing fetched, no script).
//
//   chassis regions net.onnx [--x NAME] [--y NAME] [--grid N] [--input NAME=V]...
//       [--box NAME=LO:HI]... [--show K | --show A..B] [--point P] -o regions.svg
//   chassis regions model.chs --module M [--show NAME] [same options] -o regions.html
//
// Inputs: a network's are named by the features `chassis train` recorded in the ONNX metadata
// (tools/network_info.h), else x[0], x[1], ...; their ranges come from the metadata (an NNet
// file: its min/max), a module's from its declared ranges; --box NAME=LO:HI overrides (inside a
// module's declared range). Two inputs are varied (--x, --y; default the first two), the others
// fixed at --input NAME=V or the centre of their range (an int input: the nearest integer; a
// bool or enum input needs --input). Each of the N x N cells is evaluated at its centre:
//   network  the class: argmax of the outputs (class names from the metadata), or with
//            --show K the sign of output K (> 0 / <= 0), or --show A..B the argmax of outputs
//            A to B (inclusive); one output alone: its sign
//   module   the output --show NAME (default: the first bool or enum output, else the first
//            output): a bool or enum as its value, an int or real as its sign; a cell where the
//            module fails (an assert, a division by zero) is painted "run failed", counted
// The picture: one rect per cell (with data-x, data-y: its centre, data-class: its class), the
// axes labelled with the input names and ranges, a legend with each class's cell count, the
// fixed inputs in the title, and --point (NAME=V,NAME=V, or the JSON of `verify --json` /
// `vnnlib --json`: its first counterexample) drawn as a ringed dot. A summary line goes to
// stdout. Random modules (draws) are refused: one run per cell would paint noise.
// Exit codes: 0 written; 2 bad input, options or an unwritable -o.
#include "tools/command.h"
#include "tools/network_info.h"
#include "tools/output_file.h"
#include "tools/posterior_plot.h"

#include "neural/lower_network.h"
#include "neural/nnet.h"
#include "neural/onnx.h"
#include "spec/error.h"
#include "spec/frontend.h"
#include "spec/lower.h"
#include "symbolic/interp.h"
#include "tasks/report.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

namespace {

using namespace chassis;
using namespace chassis::tools;

struct RegionsCli {
  std::string file, module, output, xName, yName, point, out;
  std::vector<std::string> inputs, box;
  int grid = 64;
};

struct Axis {
  std::string name;
  std::optional<std::pair<double, double>> range;
  bool real = true;         // a real input (axes must be)
  std::optional<double> at; // a numeric value it is fixed at (--input or the centre)
};

int usage(const std::string& msg) {
  std::cerr << "chassis regions: error: " << msg << "\n";
  return kUsage;
}

std::string shortest(double x) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool parseNumber(const std::string& s, double& v) {
  const char* b = s.data();
  auto r = std::from_chars(b, b + s.size(), v);
  return r.ec == std::errc() && r.ptr == b + s.size() && std::isfinite(v);
}

/// NAME=LO:HI
std::optional<std::string> applyBox(const std::string& b, std::vector<Axis>& axes,
                                    bool insideDeclared) {
  auto eq = b.rfind('=');
  auto colon = b.rfind(':');
  double lo = 0, hi = 0;
  if (eq == std::string::npos || colon == std::string::npos || colon < eq ||
      !parseNumber(b.substr(eq + 1, colon - eq - 1), lo) || !parseNumber(b.substr(colon + 1), hi))
    return "--box takes NAME=LO:HI with finite numbers, got '" + b + "'";
  if (!(lo < hi)) return "--box " + b + ": LO must be below HI";
  const std::string name = b.substr(0, eq);
  for (Axis& a : axes)
    if (a.name == name) {
      if (insideDeclared && a.range && (lo < a.range->first || hi > a.range->second))
        return "--box " + b + " leaves the declared range [" + shortest(a.range->first) + ", " +
               shortest(a.range->second) + "] of '" + name + "'";
      a.range = std::make_pair(lo, hi);
      return std::nullopt;
    }
  std::string names;
  for (const Axis& a : axes)
    names += (names.empty() ? "" : ", ") + a.name;
  return "--box " + b + ": no input named '" + name + "' (inputs: " + names + ")";
}

/// The point to overlay, by input name: NAME=V,NAME=V or a verify/vnnlib JSON report.
Expected<std::map<std::string, double>> readPoint(const std::string& spec,
                                                  const std::vector<Axis>& axes) {
  std::map<std::string, double> p;
  if (endsWith(spec, ".json")) {
    std::ifstream f(spec);
    if (!f) return Error(SourceLoc{spec, 0, 0}, "cannot open the --point file");
    std::stringstream ss;
    ss << f.rdbuf();
    auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("results") || !j["results"].is_array())
      return Error(SourceLoc{spec, 0, 0}, "not a `verify --json` or `vnnlib --json` report");
    for (const auto& r : j["results"]) {
      if (!r.is_object() || !r.contains("counterexample") || !r["counterexample"].is_object())
        continue;
      const auto& cx = r["counterexample"];
      if (cx.contains("x") && cx["x"].is_array()) { // vnnlib: the input vector
        for (size_t i = 0; i < cx["x"].size() && i < axes.size(); ++i)
          if (cx["x"][i].is_number()) p[axes[i].name] = cx["x"][i].get<double>();
        return p;
      }
      for (const char* key : {"inputs", "vars"})
        if (cx.contains(key) && cx[key].is_object())
          for (auto it = cx[key].begin(); it != cx[key].end(); ++it)
            if (it.value().is_number()) p[it.key()] = it.value().get<double>();
      if (!p.empty()) return p;
    }
    return Error(SourceLoc{spec, 0, 0}, "no counterexample with numbers in the report");
  }
  std::stringstream ss(spec);
  std::string cell;
  while (std::getline(ss, cell, ',')) {
    auto eq = cell.find('=');
    double v = 0;
    if (eq == std::string::npos || !parseNumber(cell.substr(eq + 1), v))
      return Error("--point takes NAME=V,NAME=V (or a .json report), got '" + spec + "'");
    p[cell.substr(0, eq)] = v;
  }
  return p;
}

/// Cell classes of the grid (row-major, j over y then i over x), -1 for a failed cell.
struct Painted {
  std::vector<int> cls;
  std::vector<std::string> classNames;
  std::string quantity; // what is painted, for the title
  int failed = 0;
  std::string firstFailure;
};

std::string svgPicture(const RegionsCli& c, const std::vector<Axis>& axes, int ix, int iy,
                       const Painted& p, const std::optional<std::pair<double, double>>& point,
                       const std::string& subject) {
  const int N = c.grid;
  const double plot = 420, left = 64, top = 40, legendX = left + plot + 24;
  const double W = legendX + 240, H = top + plot + 56;
  // Plain variables, not structured bindings: clang 14 cannot capture those in the lambdas below.
  const double xlo = axes[size_t(ix)].range->first, xhi = axes[size_t(ix)].range->second;
  const double ylo = axes[size_t(iy)].range->first, yhi = axes[size_t(iy)].range->second;
  auto sx = [&](double v) { return left + (v - xlo) / (xhi - xlo) * plot; };
  auto sy = [&](double v) { return top + plot - (v - ylo) / (yhi - ylo) * plot; };
  auto esc = [](const std::string& s) { return tasks::htmlEscape(s); };
  auto colourOf = [&](int k) { return k < 0 ? std::string("#BBBBBB") : plotColour(size_t(k)); };
  std::string fixed;
  for (size_t k = 0; k < axes.size(); ++k)
    if (int(k) != ix && int(k) != iy && axes[k].at)
      fixed += (fixed.empty() ? "" : ", ") + axes[k].name + " = " + shortest(*axes[k].at);
  const std::string title = "decision regions of " + subject + " (" + p.quantity + ") over " +
                            axes[size_t(ix)].name + " and " + axes[size_t(iy)].name;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << plotPixel(W) << "\" height=\""
    << plotPixel(H) << "\" viewBox=\"0 0 " << plotPixel(W) << " " << plotPixel(H)
    << "\" role=\"img\" aria-label=\"" << esc(title) << "\" font-family=\"sans-serif\" "
    << "font-size=\"11\">\n";
  s << "<title>" << esc(title) << "</title>\n";
  s << "<text x=\"" << plotPixel(left) << "\" y=\"16\" font-size=\"13\">" << esc(title)
    << "</text>\n";
  if (!fixed.empty())
    s << "<text x=\"" << plotPixel(left) << "\" y=\"31\">" << esc("fixed: " + fixed) << "</text>\n";
  const double cw = plot / N;
  s << "<g shape-rendering=\"crispEdges\">\n";
  for (int j = 0; j < N; ++j)
    for (int i = 0; i < N; ++i) {
      const double x = xlo + (i + 0.5) * (xhi - xlo) / N, y = ylo + (j + 0.5) * (yhi - ylo) / N;
      const int k = p.cls[size_t(j) * size_t(N) + size_t(i)];
      s << "<rect class=\"cell\" x=\"" << plotPixel(left + i * cw) << "\" y=\""
        << plotPixel(top + plot - (j + 1) * cw) << "\" width=\"" << plotPixel(cw + 0.05)
        << "\" height=\"" << plotPixel(cw + 0.05) << "\" fill=\"" << colourOf(k) << "\" data-x=\""
        << shortest(x) << "\" data-y=\"" << shortest(y) << "\" data-class=\"" << k << "\"/>\n";
    }
  s << "</g>\n";
  s << "<rect x=\"" << plotPixel(left) << "\" y=\"" << plotPixel(top) << "\" width=\""
    << plotPixel(plot) << "\" height=\"" << plotPixel(plot)
    << "\" fill=\"none\" stroke=\"#444\"/>\n";
  for (int t = 0; t <= 4; ++t) {
    const double vx = xlo + (xhi - xlo) * t / 4, vy = ylo + (yhi - ylo) * t / 4;
    s << "<text x=\"" << plotPixel(sx(vx)) << "\" y=\"" << plotPixel(top + plot + 14)
      << "\" text-anchor=\"middle\">" << plotNumber(vx) << "</text>\n";
    s << "<text x=\"" << plotPixel(left - 4) << "\" y=\"" << plotPixel(sy(vy) + 4)
      << "\" text-anchor=\"end\">" << plotNumber(vy) << "</text>\n";
  }
  s << "<text x=\"" << plotPixel(left + plot / 2) << "\" y=\"" << plotPixel(top + plot + 32)
    << "\" text-anchor=\"middle\" font-size=\"12\">" << esc(axes[size_t(ix)].name) << "</text>\n";
  s << "<text x=\"14\" y=\"" << plotPixel(top + plot / 2)
    << "\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 14 "
    << plotPixel(top + plot / 2) << ")\">" << esc(axes[size_t(iy)].name) << "</text>\n";
  // Legend: every class, with its cell count.
  std::vector<int> count(p.classNames.size(), 0);
  for (int k : p.cls)
    if (k >= 0) ++count[size_t(k)];
  double ly = top + 6;
  auto legend = [&](int k, const std::string& label) {
    s << "<rect class=\"legend\" x=\"" << plotPixel(legendX) << "\" y=\"" << plotPixel(ly)
      << "\" width=\"12\" height=\"12\" fill=\"" << colourOf(k) << "\" data-legend-class=\"" << k
      << "\"/>\n<text x=\"" << plotPixel(legendX + 18) << "\" y=\"" << plotPixel(ly + 10) << "\">"
      << esc(label) << "</text>\n";
    ly += 18;
  };
  for (size_t k = 0; k < p.classNames.size(); ++k)
    legend(int(k), p.classNames[k] + " (" + std::to_string(count[k]) + " cells)");
  if (p.failed > 0) legend(-1, "run failed (" + std::to_string(p.failed) + " cells)");
  if (point) {
    const auto [px, py] = *point;
    const bool inside = px >= xlo && px <= xhi && py >= ylo && py <= yhi;
    if (inside)
      s << "<circle class=\"point\" cx=\"" << plotPixel(sx(px)) << "\" cy=\"" << plotPixel(sy(py))
        << "\" r=\"5\" fill=\"#fff\" stroke=\"#000\" stroke-width=\"2\"/>\n";
    s << "<text x=\"" << plotPixel(legendX) << "\" y=\"" << plotPixel(ly + 10) << "\">"
      << esc("point (" + shortest(px) + ", " + shortest(py) + ")" +
             (inside ? "" : ": outside the picture"))
      << "</text>\n";
  }
  s << "</svg>\n";
  if (!endsWith(c.out, ".html") && !endsWith(c.out, ".htm")) return s.str();
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + esc(title) +
         "</title></head>\n<body>\n" + s.str() + "</body></html>\n";
}

/// The cell centres' values of every input, one row per cell.
Eigen::MatrixXd gridInputs(const std::vector<Axis>& axes, int ix, int iy, int N) {
  Eigen::MatrixXd X(Eigen::Index(N) * N, Eigen::Index(axes.size()));
  // Plain variables, not structured bindings: clang 14 cannot capture those in the lambdas below.
  const double xlo = axes[size_t(ix)].range->first, xhi = axes[size_t(ix)].range->second;
  const double ylo = axes[size_t(iy)].range->first, yhi = axes[size_t(iy)].range->second;
  for (int j = 0; j < N; ++j)
    for (int i = 0; i < N; ++i) {
      const Eigen::Index row = Eigen::Index(j) * N + i;
      for (size_t k = 0; k < axes.size(); ++k)
        X(row, Eigen::Index(k)) = axes[k].at ? *axes[k].at : 0;
      X(row, ix) = xlo + (i + 0.5) * (xhi - xlo) / N;
      X(row, iy) = ylo + (j + 0.5) * (yhi - ylo) / N;
    }
  return X;
}

/// Picks the axes and fixes the other inputs; errors as messages.
std::optional<std::string> chooseAxes(const RegionsCli& c, std::vector<Axis>& axes, int& ix,
                                      int& iy) {
  if (axes.size() < 2)
    return "regions needs two inputs to vary; this has " + std::to_string(axes.size());
  auto find = [&](const std::string& name, int dflt) -> int {
    if (name.empty()) return dflt;
    for (size_t k = 0; k < axes.size(); ++k)
      if (axes[k].name == name) return int(k);
    return -1;
  };
  ix = find(c.xName, -2);
  iy = find(c.yName, -2);
  std::string names;
  for (const Axis& a : axes)
    names += (names.empty() ? "" : ", ") + a.name;
  if (ix == -1) return "--x " + c.xName + ": no input so named (inputs: " + names + ")";
  if (iy == -1) return "--y " + c.yName + ": no input so named (inputs: " + names + ")";
  // Defaults: the first real inputs not taken by the other axis.
  auto firstFree = [&](int other) {
    for (size_t k = 0; k < axes.size(); ++k)
      if (int(k) != other && axes[k].real) return int(k);
    return -1;
  };
  if (ix == -2) ix = firstFree(iy);
  if (iy == -2) iy = firstFree(ix);
  if (ix < 0 || iy < 0) return "regions needs two real inputs to vary (inputs: " + names + ")";
  if (ix == iy) return "--x and --y name the same input '" + axes[size_t(ix)].name + "'";
  for (int k : {ix, iy}) {
    const Axis& a = axes[size_t(k)];
    if (!a.real) return "input '" + a.name + "' is not real: only real inputs can be axes";
    if (!a.range)
      return "input '" + a.name + "' has no range to plot: give --box " + a.name + "=LO:HI";
  }
  for (size_t k = 0; k < axes.size(); ++k)
    if (int(k) != ix && int(k) != iy && !axes[k].at && axes[k].range)
      axes[k].at = 0.5 * (axes[k].range->first + axes[k].range->second);
  return std::nullopt;
}

int runNetwork(const RegionsCli& c, Painted& p, std::vector<Axis>& axes, int& ix, int& iy,
               std::string& subject) {
  const bool nnet = endsWith(c.file, ".nnet");
  Expected<neural::Network> net = nnet ? neural::loadNNet(c.file) : neural::loadOnnx(c.file);
  if (!net) {
    std::cerr << net.error().str() << "\n";
    return kUsage;
  }
  if (!c.module.empty()) return usage("--module names a module of a .chs file, not a network's");
  NetworkInfo info;
  if (nnet) {
    auto f = neural::readNNet(c.file);
    if (!f) {
      std::cerr << f.error().str() << "\n";
      return kUsage;
    }
    info.ranges.resize(f->mins.size());
    for (size_t k = 0; k < f->mins.size(); ++k)
      info.ranges[k] = std::make_pair(f->mins[k], f->maxs[k]);
  } else {
    auto i = readNetworkInfo(c.file);
    if (!i) {
      std::cerr << i.error().str() << "\n";
      return kUsage;
    }
    info = std::move(*i);
  }
  const int n = net->inputSize(), m = net->outputSize();
  for (int k = 0; k < n; ++k) {
    Axis a;
    a.name =
        int(info.features.size()) == n ? info.features[size_t(k)] : "x[" + std::to_string(k) + "]";
    if (int(info.ranges.size()) == n) a.range = info.ranges[size_t(k)];
    axes.push_back(a);
  }
  for (const std::string& b : c.box)
    if (auto e = applyBox(b, axes, false)) return usage(*e);
  for (const std::string& in : c.inputs) {
    auto eq = in.find('=');
    double v = 0;
    if (eq == std::string::npos || !parseNumber(in.substr(eq + 1), v))
      return usage("--input takes NAME=V with a finite number, got '" + in + "'");
    bool found = false;
    for (Axis& a : axes)
      if (a.name == in.substr(0, eq)) {
        a.at = v;
        found = true;
      }
    if (!found) return usage("--input " + in + ": the network has no input so named");
  }
  if (auto e = chooseAxes(c, axes, ix, iy)) return usage(*e);
  for (const Axis& a : axes)
    if (!a.at && &a != &axes[size_t(ix)] && &a != &axes[size_t(iy)])
      return usage("input '" + a.name + "' has no range: fix it with --input " + a.name + "=V");
  // What is painted.
  int first = 0, last = m - 1;
  bool sign = m == 1;
  if (!c.output.empty()) {
    auto dots = c.output.find("..");
    double a = 0, b = 0;
    if (dots == std::string::npos) {
      if (!parseNumber(c.output, a) || a != std::floor(a) || a < 0 || a >= m)
        return usage("--show takes an output index 0.." + std::to_string(m - 1) +
                     " or a range A..B, got '" + c.output + "'");
      first = last = int(a);
      sign = true;
    } else {
      if (!parseNumber(c.output.substr(0, dots), a) || !parseNumber(c.output.substr(dots + 2), b) ||
          a != std::floor(a) || b != std::floor(b) || a < 0 || b >= m || !(a < b))
        return usage("--show A..B takes two output indices A < B in 0.." + std::to_string(m - 1) +
                     ", got '" + c.output + "'");
      first = int(a);
      last = int(b);
      sign = false;
    }
  }
  subject = std::filesystem::path(c.file).filename().string();
  if (sign) {
    p.quantity = "sign of output " + std::to_string(first);
    p.classNames = {"output[" + std::to_string(first) + "] <= 0",
                    "output[" + std::to_string(first) + "] > 0"};
  } else {
    p.quantity = first == 0 && last == m - 1
                     ? "argmax of the outputs"
                     : "argmax of outputs " + std::to_string(first) + ".." + std::to_string(last);
    for (int k = first; k <= last; ++k)
      p.classNames.push_back(first == 0 && last == m - 1 && int(info.classes.size()) == m
                                 ? info.classes[size_t(k)]
                                 : "output[" + std::to_string(k) + "]");
  }
  const Eigen::MatrixXd Y = net->forward(gridInputs(axes, ix, iy, c.grid));
  p.cls.resize(size_t(Y.rows()));
  for (Eigen::Index r = 0; r < Y.rows(); ++r) {
    bool finite = true;
    for (int k = first; k <= last; ++k)
      finite = finite && std::isfinite(Y(r, k));
    if (!finite) {
      p.cls[size_t(r)] = -1;
      if (p.failed++ == 0) p.firstFailure = "the network's output is not a finite number";
      continue;
    }
    if (sign) {
      p.cls[size_t(r)] = Y(r, first) > 0 ? 1 : 0;
    } else {
      int best = first;
      for (int k = first + 1; k <= last; ++k)
        if (Y(r, k) > Y(r, best)) best = k;
      p.cls[size_t(r)] = best - first;
    }
  }
  return kOk;
}

int runModule(const RegionsCli& c, Painted& p, std::vector<Axis>& axes, int& ix, int& iy,
              std::string& subject, std::unique_ptr<ir::Program>& prog,
              std::vector<symbolic::Value>& args) {
  if (c.module.empty()) return usage("a .chs file needs --module M (the module to picture)");
  spec::DiagnosticEngine diags;
  auto ast = spec::loadProgram(c.file, diags);
  if (!ast) {
    diags.print(std::cerr);
    return kUsage;
  }
  ir::LowerOptions lo;
  lo.networkLoader = neural::networkLoader();
  auto lowered = ir::lower(*ast, lo);
  if (!lowered) {
    diags.report(lowered.error());
    diags.print(std::cerr);
    return kUsage;
  }
  prog = std::make_unique<ir::Program>(std::move(*lowered));
  const ir::Function* fp = prog->findFunction(c.module);
  if (!fp || fp->kind() != ir::FunctionKind::Module) {
    std::string names;
    for (auto& g : prog->functions())
      if (g->kind() == ir::FunctionKind::Module) names += (names.empty() ? "" : ", ") + g->name();
    return usage("no module '" + c.module + "' in " + c.file + " (modules: " + names + ")");
  }
  const ir::Function& f = *fp;
  const ir::Context& ctx = prog->ctx();
  if (f.isRandom())
    return usage("module '" + c.module +
                 "' draws random values: its decision regions would be noise (regions takes "
                 "deterministic modules)");
  for (const ir::Param& in : f.inputs()) {
    Axis a;
    a.name = in.var->name();
    const ir::Type& t = in.var->type();
    if (t.isArray())
      return usage("input '" + a.name + "' of '" + c.module +
                   "' is an array: regions does not picture modules with array inputs yet");
    a.real = t.is(ir::ScalarKind::Real);
    a.range = in.range;
    axes.push_back(a);
  }
  for (const std::string& b : c.box)
    if (auto e = applyBox(b, axes, true)) return usage(*e);
  // Fixed inputs: --input NAME=V (a number, true/false, an enum constant), else the centre.
  args.assign(axes.size(), symbolic::Value{});
  std::vector<bool> given(axes.size(), false);
  for (const std::string& in : c.inputs) {
    auto eq = in.find('=');
    if (eq == std::string::npos) return usage("--input takes NAME=V, got '" + in + "'");
    const int k = f.inputIndex(in.substr(0, eq));
    if (k < 0) return usage("--input " + in + ": module '" + c.module + "' has no input so named");
    auto v = symbolic::parseValue(in.substr(eq + 1), f.inputs()[size_t(k)].var->type(), ctx,
                                  "input '" + in.substr(0, eq) + "'");
    if (!v) return usage(v.error().message);
    if (auto why = symbolic::checkInput(f, size_t(k), *v)) return usage(*why);
    args[size_t(k)] = *v;
    axes[size_t(k)].at = v->s;
    given[size_t(k)] = true;
  }
  if (auto e = chooseAxes(c, axes, ix, iy)) return usage(*e);
  for (size_t k = 0; k < axes.size(); ++k) {
    if (given[k] || int(k) == ix || int(k) == iy) continue;
    const ir::Type& t = f.inputs()[k].var->type();
    if (!axes[k].range || !(t.is(ir::ScalarKind::Real) || t.is(ir::ScalarKind::Int)))
      return usage("input '" + axes[k].name + "' is neither varied nor fixed: give --input " +
                   axes[k].name + "=V");
    double v = *axes[k].at;
    if (t.is(ir::ScalarKind::Int)) {
      v = std::round(v);
      if (v > axes[k].range->second) v = std::floor(axes[k].range->second);
      if (v < axes[k].range->first) v = std::ceil(axes[k].range->first);
    }
    axes[k].at = v;
    args[k] = symbolic::Value::scalar(v);
    if (auto why = symbolic::checkInput(f, k, args[k])) return usage(*why);
  }
  // The output painted.
  int out = -1;
  if (!c.output.empty()) {
    out = f.outputIndex(c.output);
    if (out < 0) return usage("module '" + c.module + "' has no output '" + c.output + "'");
  } else {
    for (size_t k = 0; k < f.outputs().size() && out < 0; ++k) {
      const ir::Type& t = f.outputs()[k]->type();
      if (!t.isArray() && (t.is(ir::ScalarKind::Bool) || t.is(ir::ScalarKind::Enum))) out = int(k);
    }
    if (out < 0 && !f.outputs().empty()) out = 0;
  }
  if (out < 0) return usage("module '" + c.module + "' has no output to picture");
  const ir::Type& t = f.outputs()[size_t(out)]->type();
  const std::string outName = f.outputs()[size_t(out)]->name();
  if (t.isArray())
    return usage("output '" + outName + "' is an array: give --show NAME of a scalar output");
  bool sign = false;
  if (t.is(ir::ScalarKind::Bool)) {
    p.classNames = {"false", "true"};
  } else if (t.is(ir::ScalarKind::Enum)) {
    p.classNames = ctx.enums()[size_t(t.enumId)].constants;
  } else if (t.isNumeric()) {
    sign = true;
    p.classNames = {outName + " <= 0", outName + " > 0"};
  } else {
    return usage("output '" + outName + "' has type " + ctx.typeName(t) +
                 ": regions pictures a bool, enum, int or real output");
  }
  p.quantity = sign ? "sign of " + outName : outName;
  subject = std::filesystem::path(c.file).filename().string() + " " + c.module;
  // The real inputs as the grid gives them; the others as loaded (--input or the centre).
  const Eigen::MatrixXd X = gridInputs(axes, ix, iy, c.grid);
  p.cls.resize(size_t(X.rows()));
  Rng rng(0);
  symbolic::RunOptions ropt;
  ropt.recordChoices = false;
  for (Eigen::Index r = 0; r < X.rows(); ++r) {
    args[size_t(ix)] = symbolic::Value::scalar(X(r, ix));
    args[size_t(iy)] = symbolic::Value::scalar(X(r, iy));
    auto res = symbolic::run(f, args, rng, ropt);
    if (!res) {
      p.cls[size_t(r)] = -1;
      if (p.failed++ == 0) p.firstFailure = res.error().str();
      continue;
    }
    const double v = res->outputs[size_t(out)].s;
    p.cls[size_t(r)] = sign ? (v > 0 ? 1 : 0) : int(v);
  }
  return kOk;
}

int runRegions(const RegionsCli& c) {
  if (c.grid < 2 || c.grid > 400)
    return usage("--grid must be in 2..400, got " + std::to_string(c.grid));
  if (c.out.empty()) return usage("give -o FILE.svg (or .html) for the picture");
  if (!checkWritable({c.out})) return kUsage;
  Painted p;
  std::vector<Axis> axes;
  int ix = 0, iy = 1;
  std::string subject;
  std::unique_ptr<ir::Program> prog;
  std::vector<symbolic::Value> args;
  const bool chs = endsWith(c.file, ".chs");
  if (int rc = chs ? runModule(c, p, axes, ix, iy, subject, prog, args)
                   : runNetwork(c, p, axes, ix, iy, subject);
      rc != kOk)
    return rc;
  std::optional<std::pair<double, double>> point;
  if (!c.point.empty()) {
    auto pt = readPoint(c.point, axes);
    if (!pt) {
      std::cerr << pt.error().str() << "\n";
      return kUsage;
    }
    auto xs = pt->find(axes[size_t(ix)].name), ys = pt->find(axes[size_t(iy)].name);
    if (xs == pt->end() || ys == pt->end())
      return usage("--point gives no value for '" +
                   (xs == pt->end() ? axes[size_t(ix)].name : axes[size_t(iy)].name) + "'");
    point = std::make_pair(xs->second, ys->second);
  }
  if (!writeFileAtomic(c.out, svgPicture(c, axes, ix, iy, p, point, subject))) return kUsage;
  std::vector<int> count(p.classNames.size(), 0);
  for (int k : p.cls)
    if (k >= 0) ++count[size_t(k)];
  std::cout << "regions: " << c.grid << " x " << c.grid << " cells over " << axes[size_t(ix)].name
            << " in [" << shortest(axes[size_t(ix)].range->first) << ", "
            << shortest(axes[size_t(ix)].range->second) << "] and " << axes[size_t(iy)].name
            << " in [" << shortest(axes[size_t(iy)].range->first) << ", "
            << shortest(axes[size_t(iy)].range->second) << "]; " << p.quantity << ":";
  for (size_t k = 0; k < count.size(); ++k)
    std::cout << (k ? "," : "") << " " << p.classNames[k] << " " << count[k];
  if (p.failed) std::cout << ", run failed " << p.failed;
  std::cout << "\n";
  if (p.failed) std::cerr << "note: first failed cell: " << p.firstFailure << "\n";
  std::cout << "wrote " << c.out << "\n";
  return kOk;
}

chassis::tools::Registration reg{
    "regions", "Picture the decision regions of a network or module on a 2-D slice (SVG)",
    [](CLI::App& app) {
      auto c = std::make_shared<RegionsCli>();
      app.add_option("file", c->file, "a network (.onnx, .nnet) or a .chs file (with --module)")
          ->required();
      app.add_option("--module", c->module, "the module of the .chs file to picture");
      app.add_option("--x", c->xName, "the input varied along x (default: the first real one)");
      app.add_option("--y", c->yName, "the input varied along y (default: the next real one)");
      app.add_option("--grid", c->grid, "cells per side, 2..400 (64)");
      app.add_option("--input", c->inputs,
                     "fix input NAME at V: NAME=V (repeatable; default: its range's centre)")
          ->allow_extra_args(false);
      app.add_option("--box", c->box, "plot input NAME over [LO, HI]: NAME=LO:HI (repeatable)")
          ->allow_extra_args(false);
      app.add_option("--show", c->output,
                     "module: the output painted (NAME); network: K (the sign of output K) or "
                     "A..B (the argmax of outputs A to B); default: the argmax of all outputs");
      app.add_option("--point", c->point,
                     "mark a point: NAME=V,NAME=V, or a verify/vnnlib --json report (its first "
                     "counterexample)");
      app.add_option("-o,--output", c->out, "write the picture here (.svg, or .html)")->required();
      return [c]() -> int { return runRegions(*c); };
    }};

} // namespace

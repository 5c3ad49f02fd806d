// The posterior plot page (posterior_plot.h).
#include "tools/posterior_plot.h"

#include "tasks/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <sstream>

namespace chassis::tools {

std::string plotNumber(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", x);
  return b;
}

std::string plotPixel(double x) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", x);
  return b;
}

const char* plotColour(size_t k) {
  // Colour-blind-safe colours (Okabe-Ito).
  static const char* const colours[] = {"#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                        "#56B4E9", "#D55E00", "#F0E442", "#000000"};
  return colours[k % 8];
}

namespace {

constexpr double kW = 480, kH = 200, kLeft = 56, kRight = 12, kTop = 12, kBottom = 28;
constexpr size_t kMaxTracePoints = 1500; // per chain: longer chains are strided

std::string esc(const std::string& s) {
  return tasks::htmlEscape(s);
}

std::string num(double x) {
  return plotNumber(x);
}

std::string px(double x) {
  return plotPixel(x);
}

/// A linear map of [lo, hi] onto [a, b] (a constant range is widened).
struct Scale {
  double lo, hi, a, b;
  Scale(double lo_, double hi_, double a_, double b_) : lo(lo_), hi(hi_), a(a_), b(b_) {
    if (!(hi > lo)) {
      double d = lo == 0 ? 1 : std::abs(lo) * 0.1;
      lo -= d;
      hi += d;
    }
  }
  double operator()(double x) const { return a + (x - lo) / (hi - lo) * (b - a); }
};

/// The frame of a plot: axes, three ticks per axis, labels.
void frame(std::ostringstream& s, const Scale& x, const Scale& y, const std::string& xlabel,
           const std::string& ylabel) {
  s << "<rect x=\"" << px(kLeft) << "\" y=\"" << px(kTop) << "\" width=\""
    << px(kW - kLeft - kRight) << "\" height=\"" << px(kH - kTop - kBottom)
    << "\" fill=\"none\" stroke=\"#888\"/>\n";
  for (int k = 0; k <= 2; ++k) {
    double vx = x.lo + (x.hi - x.lo) * k / 2, vy = y.lo + (y.hi - y.lo) * k / 2;
    s << "<text x=\"" << px(x(vx)) << "\" y=\"" << px(kH - kBottom + 14) << "\" text-anchor=\""
      << (k == 0   ? "start"
          : k == 2 ? "end"
                   : "middle")
      << "\">" << num(vx) << "</text>\n";
    s << "<text x=\"" << px(kLeft - 4) << "\" y=\"" << px(y(vy) + 4) << "\" text-anchor=\"end\">"
      << num(vy) << "</text>\n";
  }
  s << "<text x=\"" << px((kLeft + kW - kRight) / 2) << "\" y=\"" << px(kH - 2)
    << "\" text-anchor=\"middle\" class=\"axis\">" << esc(xlabel) << "</text>\n";
  s << "<text x=\"12\" y=\"" << px((kTop + kH - kBottom) / 2)
    << "\" text-anchor=\"middle\" class=\"axis\" transform=\"rotate(-90 12 "
    << px((kTop + kH - kBottom) / 2) << ")\">" << esc(ylabel) << "</text>\n";
}

std::string svgOpen(const std::string& label) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + px(kW) + "\" height=\"" + px(kH) +
         "\" viewBox=\"0 0 " + px(kW) + " " + px(kH) + "\" role=\"img\" aria-label=\"" +
         esc(label) + "\">\n";
}

std::string tracePlot(const std::string& name, const std::vector<std::vector<double>>& chains) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  size_t n = 0;
  for (auto& c : chains) {
    n = std::max(n, c.size());
    for (double v : c)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (!std::isfinite(lo)) lo = hi = 0;
  Scale x(0, double(std::max<size_t>(n, 2) - 1), kLeft, kW - kRight);
  Scale y(lo, hi, kH - kBottom, kTop);
  std::ostringstream s;
  s << svgOpen("trace of " + name);
  frame(s, x, y, "iteration", name);
  for (size_t c = 0; c < chains.size(); ++c) {
    const auto& d = chains[c];
    size_t stride = std::max<size_t>(1, (d.size() + kMaxTracePoints - 1) / kMaxTracePoints);
    s << "<polyline class=\"chain\" fill=\"none\" stroke-width=\"0.8\" stroke=\"" << plotColour(c)
      << "\" points=\"";
    for (size_t i = 0; i < d.size(); i += stride)
      if (std::isfinite(d[i])) s << px(x(double(i))) << "," << px(y(d[i])) << " ";
    s << "\"/>\n";
  }
  s << "</svg>\n";
  return s.str();
}

std::string densityPlot(const std::string& name, const std::vector<double>& xs,
                        const std::vector<double>& w, bool discrete) {
  std::vector<std::pair<double, double>> pts; // value, weight (finite only)
  double total = 0;
  for (size_t i = 0; i < xs.size(); ++i)
    if (std::isfinite(xs[i]) && w[i] > 0) pts.push_back({xs[i], w[i]}), total += w[i];
  std::ostringstream s;
  s << svgOpen("density of " + name);
  if (pts.empty() || !(total > 0)) {
    s << "<text x=\"" << px(kW / 2) << "\" y=\"" << px(kH / 2)
      << "\" text-anchor=\"middle\">no finite draws</text>\n</svg>\n";
    return s.str();
  }
  double lo = pts[0].first, hi = lo;
  for (auto& [v, wt] : pts)
    lo = std::min(lo, v), hi = std::max(hi, v);
  if (discrete) {
    std::map<double, double> mass;
    for (auto& [v, wt] : pts)
      mass[v] += wt / total;
    double top = 0;
    for (auto& [v, m] : mass)
      top = std::max(top, m);
    Scale x(lo - 0.5, hi + 0.5, kLeft, kW - kRight);
    Scale y(0, top, kH - kBottom, kTop);
    frame(s, x, y, name, "probability");
    double bw = std::max(2.0, (x(1) - x(0)) * 0.6);
    for (auto& [v, m] : mass)
      s << "<rect class=\"bar\" x=\"" << px(x(v) - bw / 2) << "\" y=\"" << px(y(m)) << "\" width=\""
        << px(bw) << "\" height=\"" << px(y(0) - y(m)) << "\"/>\n";
    s << "</svg>\n";
    return s.str();
  }
  // Weighted mean and sd; Silverman's bandwidth with the effective sample size.
  double mean = 0, sq = 0, w2 = 0;
  for (auto& [v, wt] : pts)
    mean += wt * v, w2 += wt * wt;
  mean /= total;
  for (auto& [v, wt] : pts)
    sq += wt * (v - mean) * (v - mean);
  double sd = std::sqrt(sq / total), neff = total * total / w2;
  double h = 1.06 * (sd > 0 ? sd : 1.0) * std::pow(neff, -0.2);
  constexpr int kGrid = 200;
  double glo = lo - 3 * h, ghi = hi + 3 * h;
  // Sorted points and a window of +-5h around each grid point keep this O(n + grid * window).
  std::sort(pts.begin(), pts.end());
  std::vector<double> dens(kGrid);
  double top = 0;
  size_t first = 0;
  for (int g = 0; g < kGrid; ++g) {
    double gx = glo + (ghi - glo) * g / (kGrid - 1), acc = 0;
    while (first < pts.size() && pts[first].first < gx - 5 * h)
      ++first;
    for (size_t i = first; i < pts.size() && pts[i].first <= gx + 5 * h; ++i) {
      double z = (gx - pts[i].first) / h;
      acc += pts[i].second * std::exp(-0.5 * z * z);
    }
    dens[size_t(g)] = acc / (total * h * std::sqrt(2 * M_PI));
    top = std::max(top, dens[size_t(g)]);
  }
  Scale x(glo, ghi, kLeft, kW - kRight);
  Scale y(0, top, kH - kBottom, kTop);
  frame(s, x, y, name, "density");
  s << "<polyline class=\"density\" fill=\"none\" stroke=\"#0072B2\" stroke-width=\"1.5\" "
       "points=\"";
  for (int g = 0; g < kGrid; ++g)
    s << px(x(glo + (ghi - glo) * g / (kGrid - 1))) << "," << px(y(dens[size_t(g)])) << " ";
  s << "\"/>\n</svg>\n";
  return s.str();
}

} // namespace

std::string posteriorPlotHtml(const symbolic::Posterior& post, const std::string& title) {
  const bool weighted = !post.logWeights.empty();
  std::vector<double> w;
  if (weighted) {
    double top = *std::max_element(post.logWeights.begin(), post.logWeights.end());
    for (double lw : post.logWeights)
      w.push_back(std::isfinite(top) && std::isfinite(lw) ? std::exp(lw - top) : 0.0);
  }
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>"
    << esc(title) << "</title>\n<style>\n"
    << "body{font-family:sans-serif;margin:1.5em;color:#222}"
    << "svg{font-size:10px;margin:4px;background:#fff}"
    << ".axis{font-size:11px}.bar{fill:#0072B2}"
    << ".row{display:flex;flex-wrap:wrap;align-items:flex-start}"
    << "h2{font-size:1.05em;margin:1em 0 0.2em}\n</style>\n</head>\n<body>\n<h1>" << esc(title)
    << "</h1>\n<p>" << symbolic::methodName(post.method) << ", " << post.chains << " chain(s) of "
    << post.samplesPerChain << " draws"
    << (weighted ? " (importance-weighted: no trace; the density uses the weights)" : "")
    << ".</p>\n";
  for (size_t q = 0; q < post.quantities.size() && q < post.draws.size(); ++q) {
    const auto& quantity = post.quantities[q];
    const auto& chains = post.draws[q];
    bool discrete = quantity.type.scalar != ir::ScalarKind::Real;
    h << "<section class=\"quantity\">\n<h2>" << esc(quantity.name)
      << "</h2>\n<div class=\"row\">\n";
    if (!weighted) h << tracePlot(quantity.name, chains);
    std::vector<double> all, weights;
    for (const auto& c : chains)
      all.insert(all.end(), c.begin(), c.end());
    weights = weighted && w.size() == all.size() ? w : std::vector<double>(all.size(), 1.0);
    h << densityPlot(quantity.name, all, weights, discrete);
    h << "</div>\n</section>\n";
  }
  h << "</body>\n</html>\n";
  return h.str();
}

} // namespace chassis::tools

// `chassis infer --plot out.html`: a self-contained HTML page (inline SVG and CSS, no script, no
// external resource) with, per quantity, a trace plot (each chain's draws against the iteration,
// MCMC only) and a density (a Gaussian kernel density estimate with Silverman's bandwidth,
// importance-weighted for lw / smc; a bar per value for discrete quantities).
#pragma once

#include "symbolic/infer.h"

#include <string>

namespace chassis::tools {

/// Helpers shared by the command's SVG pictures (this page, `chassis regions`).
std::string plotNumber(double x); // a tick label: %.4g
std::string plotPixel(double x);  // a coordinate: %.1f
const char* plotColour(size_t k); // colour-blind-safe (Okabe-Ito), cycling after 8

/// The page for `post` (which must hold draws: every method but exact). `title` heads it.
std::string posteriorPlotHtml(const symbolic::Posterior& post, const std::string& title);

} // namespace chassis::tools

// `chassis infer --plot out.html`: a self-contained HTML page (inline SVG and CSS, no script, no
// external resource) with, per quantity, a trace plot (each chain's draws against the iteration,
// MCMC only) and a density (a Gaussian kernel density estimate with Silverman's bandwidth,
// importance-weighted for lw / smc; a bar per value for discrete quantities).
#pragma once

#include "symbolic/infer.h"

#include <string>

namespace chassis::tools {

/// The page for `post` (which must hold draws: every method but exact). `title` heads it.
std::string posteriorPlotHtml(const symbolic::Posterior& post, const std::string& title);

} // namespace chassis::tools

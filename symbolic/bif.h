// Reader for the Bayesian Interchange Format (BIF 0.15, as written by bnlearn, pgmpy, Hugin
// exports):
//
//   network NAME { property ...; }
//   variable NAME { type discrete [ N ] { s1, s2, ... }; property ...; }
//   probability ( CHILD ) { table p1, ..., pN; }
//   probability ( CHILD | P1, P2 ) { (a, b) p1, ..., pN; ... default p1, ..., pN; }
//
// `property` lines are ignored; `//` and `/* */` comments are skipped; names may be quoted. A
// `table` inside a block with parents is rejected (its value order differs between tools, and
// guessing would give wrong answers). Each row is normalised after checking it sums to 1 within
// 1e-6. Errors carry the file, line and column of the offending token.
#pragma once

#include "spec/error.h"
#include "symbolic/bayesnet.h"

#include <string>
#include <string_view>

namespace chassis::symbolic {

/// Parses BIF text; `file` is used in error locations.
Expected<BayesNet> parseBif(std::string_view text, const std::string& file);
/// Reads and parses the file at `path`.
Expected<BayesNet> readBifFile(const std::string& path);

} // namespace chassis::symbolic

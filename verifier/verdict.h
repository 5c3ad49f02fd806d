// The one verdict type of the verifier: what every query answers, from a Z3 leaf or an LP leaf
// of the branch and bound up to a whole .chs property or a VNN-LIB instance.
//   Holds     proved: no point of the query's domain violates it (a leaf: its domain has no
//             counterexample; a VNN-LIB instance: VNN-COMP's `unsat`);
//   Violated  a counterexample, replayed in float64 (and, where the caller asks it, proved over
//             the reals) (VNN-COMP's `sat`);
//   Timeout   the time limit ran out first (a .chs property reports it as unknown, with the
//             reason);
//   Unknown   undecided, with the reason;
//   Internal  a bug found on the way (a replay that contradicts a proof, ...).
// Holds is never said without a proof, Violated never without a replayed point.
#pragma once

#include <string_view>

namespace chassis::verifier {

enum class Verdict { Holds, Violated, Timeout, Unknown, Internal };

/// "holds", "violated", "timeout", "unknown", "internal error" (the words of `chassis verify`).
std::string_view verdictName(Verdict v);

/// "unsat", "sat", "timeout", "unknown" (the VNN-COMP words: the property file describes the
/// unsafe set, so a property that holds is `unsat`); Internal is "unknown" there.
const char* vnncompName(Verdict v);

} // namespace chassis::verifier

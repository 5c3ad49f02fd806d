// Proving the stated properties of a lowered .chs program (ir::Program::properties) and the
// `assert` statements of its modules, with Z3 through the IR encoder (verifier/ir_encoder.h).
//
//   forall x in B: body        unsat(B /\ assumptions /\ !body)  => holds; a model => a
//                              candidate: `violated` only at a float64 point where the body is
//                              proved false over the reals (replay.h, RealPointCheck), with the
//                              float64 value there (symbolic::evaluate) as a note; otherwise
//                              `unknown` with the reason (e.g. a float64 rounding artefact)
//   exists x in B: body        sat(B /\ assumptions /\ body)      => holds when a float64 witness
//                              is proved true over the reals (else unknown);
//                              unsat => violated (no witness exists in the reals)
//   always[M](e)               every random choice of M a Z3 constant constrained to its support,
//                              M's inputs to their ranges; unsat(support /\ !e) => holds; a model
//                              => inputs and choices replayed through symbolic::run, and `e`
//                              proved false over the reals at those float64 values (impossibleAt)
//                              for `violated` (the same rule for asserts and range obligations)
//   assert(b) in module M      for each assert of M's body: unsat(ranges /\ support /\ path /\ !b)
//   range obligations          for each call in M's body of a module C with declared input
//                              ranges: unsat(M's ranges /\ support /\ path /\ !(args in C's
//                              ranges)) => holds; a model => M's inputs and choices, replayed by
//                              the interpreter, which must fail there with C's range error
//   P[M](e | g) cmp p, E[M](e) cmp c   see verifier/prob_bounds.h (exact by variable
//                              elimination, certified cells, or -- only when asked -- a
//                              statistical estimate that is never reported as holds/violated)
// Alternating quantifier prefixes are `unknown` (a refutation would have no replayable point).
// A Z3 `unknown` (timeout, nonlinear incompleteness) is `unknown` with Z3's reason.
#pragma once

#include "spec/ir.h"
#include "verifier/verdict.h"

#include <string>
#include <utility>
#include <vector>

namespace chassis::verifier {


/// A Monte Carlo estimate of a probability with its Clopper-Pearson (exact binomial) interval.
struct StatisticalEstimate {
  uint64_t samples = 0;  // accepted samples (the given condition held, no condition failed)
  uint64_t hits = 0;     // of which the event held
  uint64_t rejected = 0; // samples rejected by the given condition or a failed condition()
  double estimate = 0;   // hits / samples
  double lo = 0, hi = 1; // the interval, covering the true probability with prob >= confidence
  double confidence = 0.99;
  int decision = 0; // +1: the interval decides the bound as true ("likely holds"); -1: as false
};

struct PropertyResult {
  std::string name;
  SourceLoc loc;
  Verdict verdict = Verdict::Unknown;
  std::string reason; // why unknown / internal; a note for the others (a floating-point note:
                      // float64 disagrees with the reals at the counterexample)
  /// The counterexample (or witness): variable name and value, as text, in order.
  std::vector<std::pair<std::string, std::string>> counterexample;
  std::string valueAtCounterexample; // the property's value there, evaluated in float64
  // Probability / expectation properties.
  bool isInterval = false;
  double lo = 0, hi = 0; // the certified interval (for E: of the expectation)
  /// A Monte Carlo estimate (VerifyOptions::statistical) was made: see `stat`. Such a result is
  /// never a proof: the verdict stays Unknown, and `stat.decision` says what the estimate suggests.
  bool statistical = false;
  StatisticalEstimate stat;
  std::string method; // "exact (variable elimination)", "cells: n decided, ...", ...
  double seconds = 0;
  std::vector<std::string> smt2; // the queries, when VerifyOptions::emitSmt2
  /// Z3's answer to each query of `smt2` in this process ("sat", "unsat", "unknown"): what
  /// `z3 -smt2` on the emitted text should answer too.
  std::vector<std::string> smt2Answers;
};

struct VerifyOptions {
  double timeoutSec = 30; // per property
  bool emitSmt2 = false;
  int maxCells = 3000; // probability bounds: the cell budget
  /// When a P property is left undecided by the certified methods, also estimate it by Monte
  /// Carlo (`samples` runs, seeded by `seed`), with a Clopper-Pearson interval at `confidence`.
  bool statistical = false;
  double confidence = 0.99;
  uint64_t samples = 100000;
  uint64_t seed = 0;
};

/// Checks one property of `program`.
PropertyResult verifyProperty(const ir::Program& program, const ir::Property& prop,
                              const VerifyOptions& opts);

/// Checks every assert statement of every module (one result per assert, named
/// "assert@Module:line").
std::vector<PropertyResult> verifyAsserts(const ir::Program& program, const VerifyOptions& opts);

/// Checks, for every module M and every call in M's own body of a function C with declared input
/// ranges (`x: real in [a, b]`), that the arguments are in C's ranges whenever the call is
/// reached: one result per call statement (and per ranged call in it), named
/// "range@M:line:col" (with ".k" appended for the k-th further call at the same place). M's own
/// ranges are assumptions, C's are the obligation. Violated only with a counterexample on which
/// the interpreter's run of M fails with C's range error at that call. A call inside an
/// expression is checked under the condition that the interpreter evaluates it (`c ? a : b`,
/// `&&`, `||`, `=>` short-circuit): `guard => args in range`.
std::vector<PropertyResult> verifyRangeObligations(const ir::Program& program,
                                                   const VerifyOptions& opts);

} // namespace chassis::verifier

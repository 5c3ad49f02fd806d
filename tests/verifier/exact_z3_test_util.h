// Test helpers shared by the verifier tests that check the network engine against the exact Z3
// encoding of a ReLU network property, and build IR networks from random dense layers.
#pragma once

#include "spec/ir.h"
#include "symbolic/interp.h"
#include "verifier/ir_encoder.h"
#include "verifier/replay.h"
#include "verifier/verdict.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <random>
#include <utility>
#include <vector>

namespace chassis::testing {

/// The exact Z3 answer for a forall property over ReLU networks (no relaxation: checked): Holds,
/// Violated (its model replayed on the body in float64), Internal (a model that does not
/// replay), or Unknown.
inline verifier::Verdict z3Forall(const ir::Property& p) {
  using namespace chassis::verifier;
  z3::context c;
  IrEncoder enc(c);
  Verdict v = Verdict::Unknown;
  Status st = IrEncoder::guard([&]() -> Status {
    std::vector<SymValue> vals;
    for (const ir::QuantVar& q : p.vars) {
      vals.push_back(enc.freshVar(q.var->name(), q.var->type(), q.lo, q.hi));
      enc.bind(q.var, vals.back());
    }
    auto body = enc.encode(p.body);
    if (!body) return body.error();
    z3::solver s(c);
    for (const z3::expr& a : enc.assumptions())
      s.add(a);
    s.add(!body->e[0]);
    auto res = s.check();
    if (res == z3::unsat) v = Verdict::Holds;
    if (res == z3::sat) {
      REQUIRE_FALSE(enc.relaxed());
      z3::model m = s.get_model();
      std::vector<symbolic::Value> fr(size_t(p.numSlots));
      std::vector<const ir::Var*> qv;
      std::vector<std::pair<double, double>> boxes;
      for (size_t i = 0; i < p.vars.size(); ++i) {
        fr[size_t(p.vars[i].var->slot())] = modelValue(m, vals[i], p.vars[i].var->type());
        qv.push_back(p.vars[i].var);
        boxes.push_back({p.vars[i].lo, p.vars[i].hi});
      }
      auto out = replayBody(p.body, fr, qv, boxes, true, p.loc, 1);
      v = out.replayed ? Verdict::Violated : Verdict::Internal;
    }
    return Status::ok();
  });
  REQUIRE(st);
  return v;
}

/// A dense IR layer with N(0, 1) weights and N(0, 0.25) biases rounded to a 1/64 grid (so that
/// two weights add exactly in float64), drawn weights first, then biases.
inline std::shared_ptr<ir::DenseLayer> gridDenseLayer(std::mt19937& g, int rows, int cols) {
  std::normal_distribution<double> n(0, 1);
  auto L = std::make_shared<ir::DenseLayer>();
  L->rows = rows;
  L->cols = cols;
  auto w = std::make_shared<std::vector<double>>();
  auto b = std::make_shared<std::vector<double>>();
  for (int i = 0; i < rows * cols; ++i)
    w->push_back(std::round(n(g) * 64) / 64);
  for (int i = 0; i < rows; ++i)
    b->push_back(std::round(0.5 * n(g) * 64) / 64);
  L->weights = w;
  L->bias = b;
  return L;
}

} // namespace chassis::testing

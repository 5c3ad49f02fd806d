// The output assignment rule (BodyChecker, spec/check_body.h), a small dataflow over
// No / Yes / Maybe per output that the statements of check_modules.cpp drive: every output is
// assigned exactly once on every path (an if's branches join: different states give Maybe), or
// element-wise (`y[i] = ...`) directly in one loop `for i in 0..N` over its length; it is not
// read before it is assigned, nor, while assigned element-wise, at another element than y[i].
// Entry: reportUnassignedOutputs, at the end of a module.
#include "spec/check_body.h"

#include <string>

namespace chassis::spec::check {

void BodyChecker::assignOutput(VarDecl* o, Stmt& s) {
  size_t k = static_cast<size_t>(o->index);
  if (o->type.isError()) {
    states_[k] = AState::Yes;
    return;
  }
  if (loops_.empty()) {
    if (s.index) {
      ctx_.error(s.nameLoc, "output '" + o->name + "' can only be assigned element-wise ('" +
                                o->name + "[i] = ...') in a loop 'for i in 0.." +
                                std::to_string(o->type.isMatrix() ? o->type.rows()
                                                                  : o->type.length) +
                                "' over its length");
    } else if (states_[k] != AState::No) {
      ctx_.error(s.nameLoc, "output '" + o->name + "' is assigned more than once");
    }
    states_[k] = AState::Yes;
    return;
  }
  const Stmt& loop = *loops_.front();
  // A matrix output is assigned row by row (`y[i] = row;` in the loop over its rows).
  const int64_t len = o->type.isMatrix() ? o->type.rows() : o->type.length;
  bool ok = s.index && !s.index2 && loops_.size() == 1 && o->type.isArray() &&
            s.index->kind == ExprKind::VarRef && s.index->var == loop.var && loop.from == 0 &&
            loop.to == len;
  if (!ok) {
    std::string n = o->type.isArray() ? std::to_string(len) : "N";
    ctx_.error(s.nameLoc, "output '" + o->name +
                              "' is assigned inside a loop; assign it once outside loops, or "
                              "element-wise as '" +
                              o->name +
                              "[i] = ...' directly in a loop 'for i "
                              "in 0.." +
                              n + "'");
  } else if (states_[k] != AState::No) {
    ctx_.error(s.nameLoc, "output '" + o->name + "' is assigned more than once");
  }
  states_[k] = AState::Yes;
}

void BodyChecker::checkOutputRead(const VarDecl& v, const SourceLoc& l) {
  size_t k = static_cast<size_t>(v.index);
  if (k >= states_.size()) return;
  AState s = states_[k];
  std::string msg;
  if (s == AState::No)
    msg = "output '" + v.name + "' is read before it is assigned";
  else if (s == AState::Maybe)
    msg = "output '" + v.name + "' is read before it is assigned on every path";
  else if (!loops_.empty() && loopBefore_[k] != AState::Yes && !partialRead_)
    msg = "output '" + v.name + "' is read while it is being assigned element-wise; only '" +
          v.name + "[" + loops_.front()->name + "]' can be read in this loop";
  if (!msg.empty() && reportedRead_.insert(v.name).second) ctx_.error(l, msg);
}

void BodyChecker::joinBranches(const std::vector<AState>& thenStates) {
  for (size_t k = 0; k < states_.size(); ++k)
    if (thenStates[k] != states_[k]) states_[k] = AState::Maybe;
}

// An output unassigned before an outermost loop and assigned on some paths through it.
void BodyChecker::checkOuterLoopExit() {
  for (VarDecl* o : mod_->outputs) {
    size_t k = static_cast<size_t>(o->index);
    if (loopBefore_[k] == AState::No && states_[k] == AState::Maybe) {
      ctx_.error(o->loc, "output '" + o->name + "' is not assigned on every path");
      states_[k] = AState::Yes;
    }
  }
}

void BodyChecker::reportUnassignedOutputs() {
  // After an assignment to an undefined name (likely a misspelt output), "never assigned" would
  // repeat the same mistake; it is reported once the name is fixed.
  if (badTarget_) return;
  for (VarDecl* o : mod_->outputs) {
    if (states_[o->index] == AState::No)
      ctx_.error(o->loc, "output '" + o->name + "' is never assigned");
    else if (states_[o->index] == AState::Maybe)
      ctx_.error(o->loc, "output '" + o->name + "' is not assigned on every path");
  }
}

} // namespace chassis::spec::check

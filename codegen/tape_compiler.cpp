// The AD tape compiled by LLVM (see tape_compiler.h). Three parts: the C functions the generated
// code calls (the tape's own arithmetic), the IR generator (forward sweep, then reverse sweep,
// straight-line), and the cache with the LLJIT.
#include "codegen/tape_compiler.h"

#include "codegen/jit_session.h"

#include "spec/ir.h"
#include "symbolic/distributions.h"
#include "symbolic/op_semantics.h"
#include "symbolic/transforms.h"

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <limits>
#include <map>
#include <numbers>
#include <optional>

// ---- 1. What the generated code calls: the functions the tape's sweeps call ----
extern "C" {
static double chassis_tape_exp(double x) {
  return std::exp(x);
}
static double chassis_tape_log(double x) {
  return std::log(x);
}
static double chassis_tape_log1p(double x) {
  return std::log1p(x);
}
static double chassis_tape_tanh(double x) {
  return std::tanh(x);
}
/// The Sigmoid node's function (the interpreter's sigmoid).
static double chassis_tape_sigmoid(double x) {
  return chassis::symbolic::ops::sigmoid(x);
}
/// The LogitJac node: its value and (the transform's sigmoid) its partial's sigmoid.
static double chassis_tape_logit_jacobian(double u) {
  return chassis::symbolic::logSigmoidJacobian(u);
}
static double chassis_tape_transform_sigmoid(double u) {
  return chassis::symbolic::sigmoid(u);
}
/// A LogDensity node of any distribution: its value, partials[0] = d/dx and partials[1 + i] =
/// d/dparams[i]; NaN when the parameters are invalid (the tape rejects the point).
static double chassis_tape_log_density(int32_t kind, const double* params, int64_t np, double x,
                                       double* partials) {
  using namespace chassis::symbolic;
  const auto k = chassis::DistKind(kind);
  std::span<const double> ps(params, size_t(np));
  if (validateParams(k, ps)) return std::numeric_limits<double>::quiet_NaN();
  double dx;
  double out = logDensityGradient(k, ps, x, dx, std::span<double>(partials + 1, size_t(np)));
  partials[0] = dx;
  return out;
}
}

namespace chassis::codegen {

using symbolic::TapeNodeKind;
using symbolic::TapeView;

namespace {

// ---- 2. The IR generator ----

struct Gen {
  const TapeView& t;
  llvm::LLVMContext& ctx;
  llvm::Module& mod;
  llvm::IRBuilder<> b;
  llvm::Type* dbl;
  llvm::FunctionCallee fExp, fLog, fLog1p, fTanh, fSigmoid, fLogitJac, fTransformSigmoid, fLogDensity;
  llvm::Function* fabsFn = nullptr;
  llvm::Function* sqrtFn = nullptr;
  // The workspace (the function's 4th argument): the values of the slots, their adjoints, and
  // the partials of the operands (as the tape's val, adj and pd arrays). Each node reads its
  // operands from it and writes its value and partials to it, so that no value lives across
  // nodes in registers (LLVM's register allocation and scheduling stay linear in the tape).
  llvm::Value* vals = nullptr;
  llvm::Value* adjs = nullptr;
  llvm::Value* pds = nullptr;
  llvm::Value* logs = nullptr;       // log of a slot's value, computed once (Normal's log s)
  std::vector<char> logStored;       // logs[slot] holds it
  std::vector<char> isVar;           // slot is a position coordinate or a node's output
  llvm::Value* bad = nullptr;        // i1: some check failed in the forward sweep
  llvm::Value* paramBuf = nullptr;   // double[maxParams] for calls of chassis_tape_log_density

  Gen(const TapeView& tape, llvm::LLVMContext& c, llvm::Module& m)
      : t(tape), ctx(c), mod(m), b(c), dbl(llvm::Type::getDoubleTy(c)) {
    auto pure = [&](const char* name) {
      llvm::FunctionType* ft = llvm::FunctionType::get(dbl, {dbl}, false);
      llvm::FunctionCallee fc = mod.getOrInsertFunction(name, ft);
      auto* f = llvm::cast<llvm::Function>(fc.getCallee());
      f->setDoesNotAccessMemory();
      f->setDoesNotThrow();
      f->addFnAttr(llvm::Attribute::WillReturn);
      return fc;
    };
    fExp = pure("chassis_tape_exp");
    fLog = pure("chassis_tape_log");
    fLog1p = pure("chassis_tape_log1p");
    fTanh = pure("chassis_tape_tanh");
    fSigmoid = pure("chassis_tape_sigmoid");
    fLogitJac = pure("chassis_tape_logit_jacobian");
    fTransformSigmoid = pure("chassis_tape_transform_sigmoid");
    llvm::Type* dptr = llvm::Type::getDoublePtrTy(c);
    fLogDensity = mod.getOrInsertFunction(
        "chassis_tape_log_density",
        llvm::FunctionType::get(dbl,
                                {llvm::Type::getInt32Ty(c), dptr, llvm::Type::getInt64Ty(c), dbl,
                                 dptr},
                                false));
    fabsFn = llvm::Intrinsic::getDeclaration(&mod, llvm::Intrinsic::fabs, {dbl});
    sqrtFn = llvm::Intrinsic::getDeclaration(&mod, llvm::Intrinsic::sqrt, {dbl});
  }

  llvm::Constant* num(double x) { return llvm::ConstantFP::get(dbl, x); }
  llvm::Value* at(llvm::Value* base, uint64_t i) {
    return b.CreateConstInBoundsGEP1_64(dbl, base, i);
  }
  llvm::Value* slot(uint32_t s) {
    return isVar[s] ? static_cast<llvm::Value*>(b.CreateLoad(dbl, at(vals, s))) : num(t.values[s]);
  }
  llvm::Value* arg(const symbolic::TapeNodeView& nd, uint32_t j) {
    return slot(t.args[nd.arg + j]);
  }
  bool argVar(const symbolic::TapeNodeView& nd, uint32_t j) { return isVar[t.args[nd.arg + j]]; }
  void setPartial(const symbolic::TapeNodeView& nd, uint32_t j, llvm::Value* p) {
    if (argVar(nd, j)) b.CreateStore(p, at(pds, nd.arg + j));
  }
  void check(llvm::Value* failed) { bad = bad ? b.CreateOr(bad, failed) : failed; }
  llvm::Value* notFinite(llvm::Value* x) {
    return b.CreateFCmpUEQ(b.CreateCall(fabsFn, {x}), num(std::numeric_limits<double>::infinity()));
  }
  llvm::Value* call(llvm::FunctionCallee f, llvm::Value* x) { return b.CreateCall(f, {x}); }
  /// log of slot s's value: folded when s is a constant, else computed at its first use and
  /// kept in the workspace (a slot's value never changes within a sweep; the same call on the
  /// same value gives the same bits).
  llvm::Value* logOfSlot(uint32_t s) {
    if (!isVar[s]) return num(std::log(t.values[s]));
    if (logStored[s]) return b.CreateLoad(dbl, at(logs, s));
    llvm::Value* l = call(fLog, slot(s));
    b.CreateStore(l, at(logs, s));
    logStored[s] = 1;
    return l;
  }
  llvm::Value* sel(llvm::Value* c, double a, double d) { return b.CreateSelect(c, num(a), num(d)); }

  /// Emits node `nd`: its value into vals[out], its partials into pds, its checks.
  bool node(const symbolic::TapeNodeView& nd, std::string& why) {
    llvm::Value* out = nullptr;
    switch (nd.kind) {
    case TapeNodeKind::Add:
      out = b.CreateFAdd(arg(nd, 0), arg(nd, 1));
      setPartial(nd, 0, num(1));
      setPartial(nd, 1, num(1));
      break;
    case TapeNodeKind::Sub:
      out = b.CreateFSub(arg(nd, 0), arg(nd, 1));
      setPartial(nd, 0, num(1));
      setPartial(nd, 1, num(-1));
      break;
    case TapeNodeKind::Mul: {
      llvm::Value *x = arg(nd, 0), *y = arg(nd, 1);
      out = b.CreateFMul(x, y);
      setPartial(nd, 0, y);
      setPartial(nd, 1, x);
      break;
    }
    case TapeNodeKind::Div: {
      llvm::Value *x = arg(nd, 0), *y = arg(nd, 1);
      check(b.CreateFCmpOEQ(y, num(0)));
      out = b.CreateFDiv(x, y);
      setPartial(nd, 0, b.CreateFDiv(num(1), y));
      setPartial(nd, 1, b.CreateFDiv(b.CreateFNeg(out), y));
      break;
    }
    case TapeNodeKind::Neg:
      out = b.CreateFNeg(arg(nd, 0));
      setPartial(nd, 0, num(-1));
      break;
    case TapeNodeKind::Exp:
      out = call(fExp, arg(nd, 0));
      setPartial(nd, 0, out);
      break;
    case TapeNodeKind::Log: {
      llvm::Value* x = arg(nd, 0);
      check(b.CreateNot(b.CreateFCmpOGT(x, num(0)))); // ops::logDefined
      out = call(fLog, x);
      setPartial(nd, 0, b.CreateFDiv(num(1), x));
      break;
    }
    case TapeNodeKind::Sqrt: {
      llvm::Value* x = arg(nd, 0);
      check(b.CreateNot(b.CreateFCmpOGE(x, num(0)))); // ops::sqrtDefined
      out = b.CreateCall(sqrtFn, {x});
      setPartial(nd, 0, b.CreateFDiv(num(0.5), out));
      break;
    }
    case TapeNodeKind::Sigmoid:
      out = call(fSigmoid, arg(nd, 0));
      setPartial(nd, 0, b.CreateFMul(out, b.CreateFSub(num(1), out)));
      break;
    case TapeNodeKind::Tanh:
      out = call(fTanh, arg(nd, 0));
      setPartial(nd, 0, b.CreateFSub(num(1), b.CreateFMul(out, out)));
      break;
    case TapeNodeKind::Abs: {
      llvm::Value* x = arg(nd, 0);
      out = b.CreateCall(fabsFn, {x});
      setPartial(nd, 0,
                 b.CreateSelect(b.CreateFCmpOGT(x, num(0)), num(1),
                                sel(b.CreateFCmpOLT(x, num(0)), -1, 0)));
      break;
    }
    case TapeNodeKind::Relu: {
      llvm::Value* x = arg(nd, 0);
      llvm::Value* pos = b.CreateFCmpOGT(x, num(0));
      out = b.CreateSelect(pos, x, num(0));
      setPartial(nd, 0, sel(pos, 1, 0));
      break;
    }
    case TapeNodeKind::Min:
    case TapeNodeKind::Max: {
      llvm::Value *l = arg(nd, 0), *r = arg(nd, 1);
      llvm::Value* left = nd.kind == TapeNodeKind::Min ? b.CreateFCmpOLT(l, r) // minPicksLeft
                                                       : b.CreateFCmpOGT(l, r); // maxPicksLeft
      out = b.CreateSelect(left, l, r);
      setPartial(nd, 0, sel(left, 1, 0));
      setPartial(nd, 1, sel(left, 0, 1));
      break;
    }
    case TapeNodeKind::Sum: {
      llvm::Value* s = num(0);
      for (uint32_t i = 0; i < nd.n; ++i) {
        s = b.CreateFAdd(s, arg(nd, i));
        setPartial(nd, i, num(1));
      }
      out = s;
      break;
    }
    case TapeNodeKind::Dot: {
      const uint32_t m = nd.n / 2;
      llvm::Value* s = num(0);
      for (uint32_t i = 0; i < m; ++i) {
        llvm::Value *x = arg(nd, i), *y = arg(nd, m + i);
        s = b.CreateFAdd(s, b.CreateFMul(x, y));
        setPartial(nd, i, y);
        setPartial(nd, m + i, x);
      }
      out = s;
      break;
    }
    case TapeNodeKind::LogitJac: {
      llvm::Value* u = arg(nd, 0);
      out = call(fLogitJac, u);
      setPartial(nd, 0, b.CreateFSub(num(1), b.CreateFMul(num(2), call(fTransformSigmoid, u))));
      break;
    }
    case TapeNodeKind::LogDensity: {
      const auto dist = DistKind(nd.aux);
      if (dist == DistKind::Normal && nd.n == 3) {
        // ad.cpp's inline Normal: the same expression as symbolic::logDensity.
        llvm::Value *x = arg(nd, 0), *mu = arg(nd, 1), *s = arg(nd, 2);
        llvm::Value* logS = logOfSlot(t.args[nd.arg + 2]);
        check(b.CreateNot(b.CreateFCmpOGT(s, num(0))));
        check(notFinite(s));
        check(notFinite(mu));
        llvm::Value* z = b.CreateFDiv(b.CreateFSub(x, mu), s);
        const double logSqrt2Pi = 0.5 * std::log(2.0 * std::numbers::pi); // as ad.cpp
        out = b.CreateFSub(b.CreateFSub(b.CreateFMul(b.CreateFMul(num(-0.5), z), z), logS),
                           num(logSqrt2Pi));
        setPartial(nd, 0, b.CreateFDiv(b.CreateFNeg(z), s));
        setPartial(nd, 1, b.CreateFDiv(z, s));
        setPartial(nd, 2, b.CreateFDiv(b.CreateFSub(b.CreateFMul(z, z), num(1)), s));
        break;
      }
      const uint32_t xSlot = t.args[nd.arg];
      if (dist == DistKind::Bernoulli && nd.n == 2 && !isVar[xSlot] &&
          (t.values[xSlot] == 0 || t.values[xSlot] == 1)) {
        // An observed 0/1: symbolic::logDensity's log p or log1p(-p), logDensityGradient's
        // 1/p or -1/(1-p); parameters outside [0, 1] ask the tape (validateParams).
        llvm::Value* p = arg(nd, 1);
        check(b.CreateNot(b.CreateAnd(b.CreateFCmpOGE(p, num(0)), b.CreateFCmpOLE(p, num(1)))));
        if (t.values[xSlot] == 1) {
          out = call(fLog, p);
          setPartial(nd, 1, b.CreateFDiv(num(1), p));
        } else {
          out = call(fLog1p, b.CreateFNeg(p));
          setPartial(nd, 1, b.CreateFDiv(num(-1), b.CreateFSub(num(1), p)));
        }
        break;
      }
      const uint32_t np = nd.n - 1;
      for (uint32_t i = 0; i < np; ++i)
        b.CreateStore(arg(nd, 1 + i), b.CreateConstInBoundsGEP1_64(dbl, paramBuf, i));
      // The partials go straight to the node's place in pds.
      out = b.CreateCall(fLogDensity, {b.getInt32(uint32_t(nd.aux)), paramBuf, b.getInt64(np),
                                       arg(nd, 0), at(pds, nd.arg)});
      break;
    }
    case TapeNodeKind::GuardCmp: {
      llvm::Value *l = arg(nd, 0), *r = arg(nd, 1);
      llvm::Value* c = nullptr;
      switch (ir::BinOp(nd.aux)) { // ops::compare
      case ir::BinOp::Eq: c = b.CreateFCmpOEQ(l, r); break;
      case ir::BinOp::Ne: c = b.CreateFCmpUNE(l, r); break;
      case ir::BinOp::Lt: c = b.CreateFCmpOLT(l, r); break;
      case ir::BinOp::Le: c = b.CreateFCmpOLE(l, r); break;
      case ir::BinOp::Gt: c = b.CreateFCmpOGT(l, r); break;
      case ir::BinOp::Ge: c = b.CreateFCmpOGE(l, r); break;
      default:
        why = "a guard on a comparison the tape compiler does not know";
        return false;
      }
      const bool recorded = t.values[nd.out] != 0;
      check(recorded ? b.CreateNot(c) : c);
      for (uint32_t j = 0; j < nd.n; ++j)
        setPartial(nd, j, num(0));
      return true; // a guard has no value to check
    }
    case TapeNodeKind::GuardArgmax: {
      llvm::Value* bestVal = arg(nd, 0);
      llvm::Value* bestIdx = b.getInt32(0);
      for (uint32_t i = 1; i < nd.n; ++i) {
        llvm::Value* x = arg(nd, i);
        llvm::Value* c = b.CreateFCmpOGT(x, bestVal);
        bestVal = b.CreateSelect(c, x, bestVal);
        bestIdx = b.CreateSelect(c, b.getInt32(i), bestIdx);
      }
      check(b.CreateICmpNE(bestIdx, b.getInt32(uint32_t(t.values[nd.out]))));
      for (uint32_t j = 0; j < nd.n; ++j)
        setPartial(nd, j, num(0));
      return true;
    }
    case TapeNodeKind::LogDensitySum:
      out = logDensitySum(nd, why);
      if (!out) return false;
      break;
    case TapeNodeKind::NormalLinearSum:
      out = normalLinearSum(nd, why);
      if (!out) return false;
      break;
    case TapeNodeKind::BernoulliLogitLinearSum:
      out = bernoulliLogitLinearSum(nd, why);
      if (!out) return false;
      break;
    case TapeNodeKind::Other:
      why = "a node kind the tape compiler does not know (the tape stays interpreted)";
      return false;
    }
    check(notFinite(out));
    b.CreateStore(out, at(vals, nd.out));
    return true;
  }

  // ---- the fused log-density nodes: a loop over their elements ----
  // Each per-element operand position of a fused node is a column: constants (data, the
  // coefficients) are a constant array in the module, position-dependent operands an array of
  // their slots (values loaded from the workspace), a column of both kinds both arrays and a
  // flag per element. The arithmetic is ad.cpp's fused forward and reverse, element by element
  // in the same order (the sums and the partials of the bases accumulated from 0 in element
  // order), so the results are the fused tape's bit for bit.
  llvm::Function* fn = nullptr;
  struct Column {
    bool allConst = true;
    llvm::GlobalVariable* consts = nullptr;  // per element: the constant (when any is constant)
    llvm::GlobalVariable* slots = nullptr;   // per element: the slot (when any is variable)
    llvm::GlobalVariable* varFlags = nullptr; // per element: 1 when variable (both kinds)
  };
  std::map<uint32_t, Column> columns; // by the column's first operand index in args

  static bool fusedKind(TapeNodeKind k) {
    return k == TapeNodeKind::LogDensitySum || k == TapeNodeKind::NormalLinearSum ||
           k == TapeNodeKind::BernoulliLogitLinearSum;
  }
  llvm::GlobalVariable* global(llvm::Constant* init) {
    return new llvm::GlobalVariable(mod, init->getType(), true, llvm::GlobalValue::PrivateLinkage,
                                    init);
  }
  /// The column of operands args[first + k * stride], k < count.
  const Column& column(uint32_t first, uint32_t stride, uint32_t count) {
    if (auto it = columns.find(first); it != columns.end()) return it->second;
    Column c;
    std::vector<double> cv(count, 0.0);
    std::vector<uint32_t> sv(count, 0);
    std::vector<uint8_t> fv(count, 0);
    bool anyVar = false, anyConst = false;
    for (uint32_t k = 0; k < count; ++k) {
      const uint32_t s = t.args[first + size_t(k) * stride];
      sv[k] = s;
      fv[k] = isVar[s] ? 1 : 0;
      if (isVar[s]) anyVar = true;
      else {
        anyConst = true;
        cv[k] = t.values[s];
      }
    }
    c.allConst = !anyVar;
    if (anyConst) c.consts = global(llvm::ConstantDataArray::get(ctx, llvm::ArrayRef<double>(cv)));
    if (anyVar) c.slots = global(llvm::ConstantDataArray::get(ctx, llvm::ArrayRef<uint32_t>(sv)));
    if (anyVar && anyConst)
      c.varFlags = global(llvm::ConstantDataArray::get(ctx, llvm::ArrayRef<uint8_t>(fv)));
    return columns.emplace(first, c).first->second;
  }
  llvm::Value* element(llvm::GlobalVariable* g, llvm::Type* ty, llvm::Value* k) {
    return b.CreateLoad(ty, b.CreateInBoundsGEP(g->getValueType(), g, {b.getInt64(0), k}));
  }
  /// The slot of element k (a variable or mixed column).
  llvm::Value* slotOf(const Column& c, llvm::Value* k) {
    return b.CreateZExt(element(c.slots, b.getInt32Ty(), k), b.getInt64Ty());
  }
  /// The value of element k.
  llvm::Value* load(const Column& c, llvm::Value* k) {
    llvm::Value* cst = c.consts ? element(c.consts, dbl, k) : nullptr;
    if (!c.slots) return cst;
    llvm::Value* v = b.CreateLoad(dbl, b.CreateInBoundsGEP(dbl, vals, slotOf(c, k)));
    if (!c.varFlags) return v;
    return b.CreateSelect(b.CreateICmpNE(element(c.varFlags, b.getInt8Ty(), k), b.getInt8(0)), v,
                          cst);
  }
  /// &pds[first + k * stride] (the partial of element k's operand at args[first + k * stride]).
  llvm::Value* partialAt(uint32_t first, uint32_t stride, llvm::Value* k) {
    llvm::Value* i = b.CreateAdd(b.getInt64(first), b.CreateMul(k, b.getInt64(stride)));
    return b.CreateInBoundsGEP(dbl, pds, i);
  }
  /// Leaves for `reject` when `failed` (a branch: used inside the loops).
  void failIf(llvm::Value* failed) {
    auto* cont = llvm::BasicBlock::Create(ctx, "", fn);
    b.CreateCondBr(failed, reject, cont);
    b.SetInsertPoint(cont);
  }
  /// The pending checks of the nodes before, before a loop.
  void flushChecks() {
    if (bad) failIf(bad);
    bad = nullptr;
  }
  llvm::Value* badScale(llvm::Value* s) { // !(s > 0) || !isfinite(s)
    return b.CreateOr(b.CreateNot(b.CreateFCmpOGT(s, num(0))), notFinite(s));
  }
  /// A loop over count >= 1 elements with accumulators (PHIs) started at `init`.
  struct Loop {
    llvm::BasicBlock* body = nullptr;
    llvm::PHINode* k = nullptr;
    std::vector<llvm::PHINode*> acc;
    uint32_t count = 0;
  };
  Loop beginLoop(uint32_t count, const std::vector<llvm::Value*>& init) {
    Loop L;
    L.count = count;
    llvm::BasicBlock* pre = b.GetInsertBlock();
    L.body = llvm::BasicBlock::Create(ctx, "element", fn);
    b.CreateBr(L.body);
    b.SetInsertPoint(L.body);
    L.k = b.CreatePHI(b.getInt64Ty(), 2);
    L.k->addIncoming(b.getInt64(0), pre);
    for (llvm::Value* v : init) {
      llvm::PHINode* p = b.CreatePHI(dbl, 2);
      p->addIncoming(v, pre);
      L.acc.push_back(p);
    }
    return L;
  }
  /// Closes the loop; `next` are the accumulators' values after the element (valid after it).
  void endLoop(Loop& L, const std::vector<llvm::Value*>& next) {
    llvm::BasicBlock* latch = b.GetInsertBlock();
    llvm::Value* k1 = b.CreateAdd(L.k, b.getInt64(1));
    L.k->addIncoming(k1, latch);
    for (size_t i = 0; i < L.acc.size(); ++i)
      L.acc[i]->addIncoming(next[i], latch);
    auto* exit = llvm::BasicBlock::Create(ctx, "", fn);
    b.CreateCondBr(b.CreateICmpULT(k1, b.getInt64(L.count)), L.body, exit);
    b.SetInsertPoint(exit);
  }
  /// -0.5 z^2 - log s - log sqrt(2 pi), as ad.cpp's normalTerm (left to right).
  llvm::Value* normalLogTerm(llvm::Value* z, llvm::Value* logS) {
    const double logSqrt2Pi = 0.5 * std::log(2.0 * std::numbers::pi); // as ad.cpp
    return b.CreateFSub(b.CreateFSub(b.CreateFMul(b.CreateFMul(num(-0.5), z), z), logS),
                        num(logSqrt2Pi));
  }

  /// The element count of a fused node with `head` leading operands and `stride` per element;
  /// 0 (with `why`) when its operands do not have that layout.
  static uint32_t elementCount(const symbolic::TapeNodeView& nd, uint32_t head, uint32_t stride,
                               std::string& why) {
    if (stride == 0 || nd.n <= head || (nd.n - head) % stride != 0) {
      why = "internal: a fused log-density node whose operands do not have its layout";
      return 0;
    }
    return (nd.n - head) / stride;
  }

  /// LogDensitySum: sum_k log p(x_k | params_k), elements (x, params...) of stride 1 + nparams.
  llvm::Value* logDensitySum(const symbolic::TapeNodeView& nd, std::string& why) {
    const auto dist = DistKind(nd.aux);
    const uint32_t stride = 1 + uint32_t(signature(dist).nparams);
    const uint32_t count = elementCount(nd, 0, stride, why);
    if (count == 0) return nullptr;
    flushChecks();
    std::vector<const Column*> cols;
    for (uint32_t j = 0; j < stride; ++j)
      cols.push_back(&column(nd.arg + j, stride, count));
    if (dist == DistKind::Normal) {
      // ad.cpp computes log s once per run of elements with the same sigma slot: the same bits
      // as computing it per element, so a sigma shared by all is computed once here.
      bool shared = true;
      for (uint32_t k = 1; k < count && shared; ++k)
        shared = t.args[nd.arg + 2 + k * stride] == t.args[nd.arg + 2];
      llvm::Value *sShared = nullptr, *logShared = nullptr;
      if (shared) {
        sShared = slot(t.args[nd.arg + 2]);
        failIf(badScale(sShared));
        logShared = call(fLog, sShared);
      }
      Loop L = beginLoop(count, {num(0)});
      llvm::Value* x = load(*cols[0], L.k);
      llvm::Value* mu = load(*cols[1], L.k);
      llvm::Value* s = shared ? sShared : load(*cols[2], L.k);
      failIf(shared ? notFinite(mu) : b.CreateOr(badScale(s), notFinite(mu)));
      llvm::Value* logS = shared ? logShared : call(fLog, s);
      llvm::Value* z = b.CreateFDiv(b.CreateFSub(x, mu), s);
      if (!cols[0]->allConst)
        b.CreateStore(b.CreateFDiv(b.CreateFNeg(z), s), partialAt(nd.arg, stride, L.k));
      if (!cols[1]->allConst)
        b.CreateStore(b.CreateFDiv(z, s), partialAt(nd.arg + 1, stride, L.k));
      if (!cols[2]->allConst)
        b.CreateStore(b.CreateFDiv(b.CreateFSub(b.CreateFMul(z, z), num(1)), s),
                      partialAt(nd.arg + 2, stride, L.k));
      llvm::Value* total = b.CreateFAdd(L.acc[0], normalLogTerm(z, logS));
      endLoop(L, {total});
      return total;
    }
    // Any other distribution: the tape's function, its partials straight into pds.
    const uint32_t np = stride - 1;
    Loop L = beginLoop(count, {num(0)});
    for (uint32_t i = 0; i < np; ++i)
      b.CreateStore(load(*cols[1 + i], L.k), b.CreateConstInBoundsGEP1_64(dbl, paramBuf, i));
    llvm::Value* lp =
        b.CreateCall(fLogDensity, {b.getInt32(uint32_t(nd.aux)), paramBuf, b.getInt64(np),
                                   load(*cols[0], L.k), partialAt(nd.arg, stride, L.k)});
    // NaN (invalid parameters) or -inf (outside the support): the node's finiteness check.
    llvm::Value* total = b.CreateFAdd(L.acc[0], lp);
    endLoop(L, {total});
    return total;
  }

  /// NormalLinearSum: sum_k log Normal(x_k | c_0k + sum_j c_jk b_j, sigma_k), with the partials
  /// of the bases (and of a shared sigma) accumulated over the elements.
  llvm::Value* normalLinearSum(const symbolic::TapeNodeView& nd, std::string& why) {
    const uint32_t m = nd.aux & symbolic::kTapeBaseMask;
    const bool shared = nd.aux & symbolic::kTapeSharedSigma;
    const bool dataX = nd.aux & symbolic::kTapeDataX;
    const uint32_t head = m + (shared ? 1 : 0), stride = (shared ? 2 : 3) + m;
    const uint32_t cOff = shared ? 1 : 2;
    const uint32_t count = elementCount(nd, head, stride, why);
    if (count == 0) return nullptr;
    flushChecks();
    const uint32_t first = nd.arg + head;
    const Column& xc = column(first, stride, count);
    const Column* sc = shared ? nullptr : &column(first + 1, stride, count);
    std::vector<const Column*> cc;
    for (uint32_t j = 0; j <= m; ++j)
      cc.push_back(&column(first + cOff + j, stride, count));
    std::vector<llvm::Value*> bases;
    for (uint32_t j = 0; j < m; ++j)
      bases.push_back(arg(nd, j));
    llvm::Value *s = nullptr, *logS = nullptr, *invS = nullptr;
    if (shared) {
      s = arg(nd, m);
      failIf(badScale(s));
      logS = call(fLog, s);
      invS = b.CreateFDiv(num(1), s);
    }
    // Accumulators: the total, the m bases' partials, the shared sigma's partial.
    std::vector<llvm::Value*> init(1 + m + (shared ? 1 : 0), num(0));
    Loop L = beginLoop(count, init);
    if (!shared) {
      s = load(*sc, L.k);
      failIf(badScale(s));
      logS = call(fLog, s);
      invS = b.CreateFDiv(num(1), s);
    }
    std::vector<llvm::Value*> c;
    for (uint32_t j = 0; j <= m; ++j)
      c.push_back(load(*cc[j], L.k));
    llvm::Value* mu = c[0]; // ad.cpp's linearValue
    for (uint32_t j = 0; j < m; ++j)
      mu = b.CreateFAdd(mu, b.CreateFMul(c[1 + j], bases[j]));
    failIf(notFinite(mu));
    llvm::Value* z = b.CreateFMul(b.CreateFSub(load(xc, L.k), mu), invS);
    llvm::Value* dmu = b.CreateFMul(z, invS);
    llvm::Value* ds = b.CreateFMul(b.CreateFSub(b.CreateFMul(z, z), num(1)), invS);
    std::vector<llvm::Value*> next;
    next.push_back(b.CreateFAdd(L.acc[0], normalLogTerm(z, logS)));
    if (!dataX && !xc.allConst) b.CreateStore(b.CreateFNeg(dmu), partialAt(first, stride, L.k));
    if (!shared && !sc->allConst) b.CreateStore(ds, partialAt(first + 1, stride, L.k));
    for (uint32_t j = 0; j < m; ++j)
      next.push_back(b.CreateFAdd(L.acc[1 + j], b.CreateFMul(c[1 + j], dmu)));
    if (shared) next.push_back(b.CreateFAdd(L.acc[1 + m], ds));
    endLoop(L, next);
    for (uint32_t j = 0; j < m; ++j)
      setPartial(nd, j, next[1 + j]);
    if (shared) setPartial(nd, m, next[1 + m]);
    return next[0];
  }

  /// BernoulliLogitLinearSum: sum_k log Bernoulli(x_k | sigmoid(c_0k + sum_j c_jk b_j)), x_k
  /// observed 0 or 1; the partials of the bases accumulated over the elements.
  llvm::Value* bernoulliLogitLinearSum(const symbolic::TapeNodeView& nd, std::string& why) {
    const uint32_t m = nd.aux, stride = 2 + m;
    const uint32_t count = elementCount(nd, m, stride, why);
    if (count == 0) return nullptr;
    const uint32_t first = nd.arg + m;
    const Column& xc = column(first, stride, count);
    for (uint32_t k = 0; k < count; ++k) {
      const uint32_t xs = t.args[first + k * stride];
      if (isVar[xs] || (t.values[xs] != 0 && t.values[xs] != 1)) {
        why = "a fused Bernoulli node whose outcomes are not all observed 0 or 1";
        return nullptr;
      }
    }
    flushChecks();
    std::vector<const Column*> cc;
    for (uint32_t j = 0; j <= m; ++j)
      cc.push_back(&column(first + 1 + j, stride, count));
    std::vector<llvm::Value*> bases;
    for (uint32_t j = 0; j < m; ++j)
      bases.push_back(arg(nd, j));
    Loop L = beginLoop(count, std::vector<llvm::Value*>(1 + m, num(0)));
    std::vector<llvm::Value*> c;
    for (uint32_t j = 0; j <= m; ++j)
      c.push_back(load(*cc[j], L.k));
    llvm::Value* eta = c[0];
    for (uint32_t j = 0; j < m; ++j)
      eta = b.CreateFAdd(eta, b.CreateFMul(c[1 + j], bases[j]));
    failIf(notFinite(eta));
    llvm::Value* q = call(fSigmoid, eta);
    llvm::Value* one = b.CreateFCmpOEQ(load(xc, L.k), num(1));
    auto* isOne = llvm::BasicBlock::Create(ctx, "", fn);
    auto* isZero = llvm::BasicBlock::Create(ctx, "", fn);
    auto* merge = llvm::BasicBlock::Create(ctx, "", fn);
    b.CreateCondBr(one, isOne, isZero);
    b.SetInsertPoint(isOne);
    llvm::Value* l1 = call(fLog, q);
    llvm::Value* d1 = b.CreateFSub(num(1), q);
    b.CreateBr(merge);
    b.SetInsertPoint(isZero);
    llvm::Value* l0 = call(fLog1p, b.CreateFNeg(q));
    llvm::Value* d0 = b.CreateFNeg(q);
    b.CreateBr(merge);
    b.SetInsertPoint(merge);
    llvm::PHINode* lp = b.CreatePHI(dbl, 2);
    lp->addIncoming(l1, isOne);
    lp->addIncoming(l0, isZero);
    llvm::PHINode* d = b.CreatePHI(dbl, 2);
    d->addIncoming(d1, isOne);
    d->addIncoming(d0, isZero);
    std::vector<llvm::Value*> next;
    next.push_back(b.CreateFAdd(L.acc[0], lp));
    for (uint32_t j = 0; j < m; ++j)
      next.push_back(b.CreateFAdd(L.acc[1 + j], b.CreateFMul(c[1 + j], d)));
    endLoop(L, next);
    for (uint32_t j = 0; j < m; ++j)
      setPartial(nd, j, next[1 + j]);
    return next[0];
  }

  /// adj[slot] += g * p (ad.cpp's reverse step).
  void accumulate(llvm::Value* adjPtr, llvm::Value* g, llvm::Value* p) {
    b.CreateStore(b.CreateFAdd(b.CreateLoad(dbl, adjPtr), b.CreateFMul(g, p)), adjPtr);
  }
  /// The reverse step of a fused node (ad.cpp's backward and fusedBackward): skipped when its
  /// adjoint is 0; else the operands that depend on the position, in operand order.
  void fusedReverse(const symbolic::TapeNodeView& nd) {
    llvm::Value* g = b.CreateLoad(dbl, at(adjs, nd.out));
    auto* step = llvm::BasicBlock::Create(ctx, "", fn);
    auto* done = llvm::BasicBlock::Create(ctx, "", fn);
    b.CreateCondBr(b.CreateFCmpOEQ(g, num(0)), done, step);
    b.SetInsertPoint(step);
    // The head operands (the bases and a shared sigma) at fixed places.
    auto headStep = [&](uint32_t head) {
      for (uint32_t j = 0; j < head; ++j)
        if (argVar(nd, j)) accumulate(at(adjs, t.args[nd.arg + j]), g, b.CreateLoad(dbl, at(pds, nd.arg + j)));
    };
    // The per-element operands of the given columns, element by element.
    auto elementSteps = [&](uint32_t first, uint32_t stride, uint32_t count,
                            const std::vector<uint32_t>& offsets) {
      std::vector<uint32_t> live;
      for (uint32_t o : offsets)
        if (!column(first + o, stride, count).allConst) live.push_back(o);
      if (live.empty()) return;
      Loop L = beginLoop(count, {});
      for (uint32_t o : live) {
        const Column& c = column(first + o, stride, count);
        accumulate(b.CreateInBoundsGEP(dbl, adjs, slotOf(c, L.k)), g,
                   b.CreateLoad(dbl, partialAt(first + o, stride, L.k)));
      }
      endLoop(L, {});
    };
    std::string why;
    switch (nd.kind) {
    case TapeNodeKind::LogDensitySum: {
      const uint32_t stride = 1 + uint32_t(signature(DistKind(nd.aux)).nparams);
      std::vector<uint32_t> all;
      for (uint32_t j = 0; j < stride; ++j)
        all.push_back(j);
      elementSteps(nd.arg, stride, elementCount(nd, 0, stride, why), all);
      break;
    }
    case TapeNodeKind::NormalLinearSum: {
      const uint32_t m = nd.aux & symbolic::kTapeBaseMask;
      const bool shared = nd.aux & symbolic::kTapeSharedSigma;
      const bool dataX = nd.aux & symbolic::kTapeDataX;
      const uint32_t head = m + (shared ? 1 : 0), stride = (shared ? 2 : 3) + m;
      headStep(head);
      std::vector<uint32_t> offsets;
      if (!dataX) offsets.push_back(0);
      if (!shared) offsets.push_back(1);
      elementSteps(nd.arg + head, stride, elementCount(nd, head, stride, why), offsets);
      break;
    }
    case TapeNodeKind::BernoulliLogitLinearSum:
      headStep(nd.aux);
      break;
    default:
      break;
    }
    b.CreateBr(done);
    b.SetInsertPoint(done);
  }

  static constexpr size_t kNodesPerBlock = 32;
  /// Ends the current block; in the forward sweep, a failed check leaves for `reject` there (no
  /// value lives across blocks).
  void newBlock(llvm::Function* f) {
    auto* next = llvm::BasicBlock::Create(ctx, "", f);
    if (bad) b.CreateCondBr(bad, reject, next);
    else b.CreateBr(next);
    bad = nullptr;
    b.SetInsertPoint(next);
  }
  llvm::BasicBlock* reject = nullptr;

  /// The whole module; false (with `why`) when the tape has a node it cannot compile. The nodes
  /// go, in tape order, into pieces of at most `perFunction` nodes; piece k's forward sweep is a
  /// function `int fwd_k(const double* u, double* work)` (1: a check failed) and its reverse
  /// sweep a function `void rev_k(double* work)`; the entry `name` calls fwd_0, fwd_1, ... and
  /// then rev_last, ..., rev_0. Values and adjoints pass between pieces through the workspace, as
  /// between the nodes of one piece, so the pieces change no operation and no order (the same
  /// bits); what they change is that LLVM's optimisations (whose cost grows faster than linearly
  /// in a function's length) work on short functions. The pieces are `noinline`: inlined back,
  /// the entry would be the one long function again.
  bool function(const std::string& name, size_t perFunction, std::string& why) {
    llvm::Type* dptr = llvm::Type::getDoublePtrTy(ctx);
    perFunction = std::max<size_t>(perFunction, 1);
    isVar.assign(t.values.size(), 0);
    for (uint32_t s : t.positionSlots)
      isVar[s] = 1;
    for (const auto& nd : t.nodes)
      if (nd.kind != TapeNodeKind::GuardCmp && nd.kind != TapeNodeKind::GuardArgmax)
        isVar[nd.out] = 1;
    logStored.assign(t.values.size(), 0);
    uint32_t maxParams = 1;
    for (const auto& nd : t.nodes)
      if (nd.kind == TapeNodeKind::LogDensity || nd.kind == TapeNodeKind::LogDensitySum)
        maxParams = std::max(maxParams, nd.n);
    // hasAdj: the slot's adjoint can be nonzero (the target, or an operand); the adjoints of
    // the others stay 0, so their nodes are skipped in the reverse sweep as backward() skips
    // them.
    std::vector<char> hasAdj(t.values.size(), 0);
    hasAdj[t.target] = 1;
    for (const auto& nd : t.nodes)
      for (uint32_t j = 0; j < nd.n; ++j)
        if (argVar(nd, j)) hasAdj[t.args[nd.arg + j]] = 1;

    const size_t pieces = std::max<size_t>(1, (t.nodes.size() + perFunction - 1) / perFunction);
    auto piece = [&](const std::string& pieceName, llvm::Type* ret,
                     llvm::ArrayRef<llvm::Type*> params) {
      auto* f = llvm::Function::Create(llvm::FunctionType::get(ret, params, false),
                                       llvm::Function::PrivateLinkage, pieceName, mod);
      f->setDoesNotThrow();
      f->addFnAttr(llvm::Attribute::NoInline);
      f->addFnAttr(llvm::Attribute::NoUnwind);
      fn = f;
      return f;
    };
    auto setWorkspace = [&](llvm::Value* work) {
      vals = work;
      adjs = at(vals, t.values.size());
      pds = at(vals, 2 * t.values.size());
      logs = at(vals, 2 * t.values.size() + t.args.size());
    };
    std::vector<llvm::Function*> fwd, rev;
    for (size_t k = 0; k < pieces; ++k) {
      const size_t lo = k * perFunction, hi = std::min(t.nodes.size(), lo + perFunction);
      // Forward sweep, nodes [lo, hi): a failed check returns 1 at the end of its block.
      llvm::Function* f = piece(name + "_fwd_" + std::to_string(k), b.getInt32Ty(), {dptr, dptr});
      fwd.push_back(f);
      auto ai = f->arg_begin();
      llvm::Value* u = &*ai++;
      auto* entry = llvm::BasicBlock::Create(ctx, "forward", f);
      reject = llvm::BasicBlock::Create(ctx, "ask_the_tape", f);
      b.SetInsertPoint(entry);
      setWorkspace(&*ai);
      paramBuf = b.CreateAlloca(dbl, b.getInt32(maxParams));
      if (k == 0)
        for (size_t j = 0; j < t.positionSlots.size(); ++j)
          b.CreateStore(b.CreateLoad(dbl, at(u, j)), at(vals, t.positionSlots[j]));
      bad = nullptr;
      // A basic block per kNodesPerBlock nodes: values pass through the workspace, so the split
      // costs nothing at run time and keeps instruction selection's blocks small.
      for (size_t i = lo; i < hi; ++i) {
        if (i > lo && (i - lo) % kNodesPerBlock == 0) newBlock(f);
        if (!node(t.nodes[i], why)) return false;
      }
      auto* ok = llvm::BasicBlock::Create(ctx, "", f);
      b.CreateCondBr(bad ? bad : b.getFalse(), reject, ok);
      bad = nullptr;
      b.SetInsertPoint(ok);
      b.CreateRet(b.getInt32(0));
      b.SetInsertPoint(reject);
      b.CreateRet(b.getInt32(1));

      // Reverse sweep of the same nodes, as ad.cpp's backward(): over the nodes in reverse, a
      // node whose adjoint is 0 is skipped, else adj[a_j] += adj[out] * partial_j in operand
      // order.
      llvm::Function* r = piece(name + "_rev_" + std::to_string(k), b.getVoidTy(), {dptr});
      rev.push_back(r);
      b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "reverse", r));
      setWorkspace(&*r->arg_begin());
      reject = nullptr; // the reverse sweep has no checks
      for (size_t i = hi; i-- > lo;) {
        const auto& nd = t.nodes[i];
        if ((hi - 1 - i) % kNodesPerBlock == 0 && i + 1 < hi) newBlock(r);
        if (!hasAdj[nd.out] || !isVar[nd.out]) continue;
        if (fusedKind(nd.kind)) {
          fusedReverse(nd);
          continue;
        }
        llvm::Value* g = b.CreateLoad(dbl, at(adjs, nd.out));
        llvm::Value* skip = b.CreateFCmpOEQ(g, num(0));
        for (uint32_t j = 0; j < nd.n; ++j) {
          const uint32_t a = t.args[nd.arg + j];
          if (!isVar[a]) continue; // a constant's adjoint is never read
          llvm::Value* old = b.CreateLoad(dbl, at(adjs, a));
          llvm::Value* p = b.CreateLoad(dbl, at(pds, nd.arg + j));
          llvm::Value* sum = b.CreateFAdd(old, b.CreateFMul(g, p));
          b.CreateStore(b.CreateSelect(skip, old, sum), at(adjs, a));
        }
      }
      b.CreateRetVoid();
    }

    // The entry: the forward pieces in order (the first failed check returns 1), the adjoints
    // cleared and adj[target] = 1, the reverse pieces in reverse order, then the gradient.
    auto* ft = llvm::FunctionType::get(b.getInt32Ty(), {dptr, dptr, dptr, dptr}, false);
    auto* f = llvm::Function::Create(ft, llvm::Function::ExternalLinkage, name, mod);
    f->setDoesNotThrow();
    fn = f;
    auto ai = f->arg_begin();
    llvm::Value* u = &*ai++;
    llvm::Value* grad = &*ai++;
    llvm::Value* lp = &*ai++;
    llvm::Value* work = &*ai;
    auto* askTape = llvm::BasicBlock::Create(ctx, "ask_the_tape", f);
    b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "forward", f, askTape));
    setWorkspace(work);
    for (llvm::Function* p : fwd) {
      auto* next = llvm::BasicBlock::Create(ctx, "", f);
      llvm::Value* failed = b.CreateICmpNE(b.CreateCall(p, {u, work}), b.getInt32(0));
      b.CreateCondBr(failed, askTape, next);
      b.SetInsertPoint(next);
    }
    // The adjoints the reverse sweep reads are those of the variable slots (the position's and
    // the nodes' outputs): all the slots cleared when those are most of them, else only those
    // (a constant's adjoint is never written or read here).
    size_t varSlots = 0;
    for (char v : isVar)
      varSlots += v ? 1 : 0;
    if (2 * varSlots >= t.values.size()) {
      b.CreateMemSet(adjs, b.getInt8(0), b.getInt64(8 * t.values.size()), llvm::MaybeAlign(8));
    } else {
      for (size_t s = 0; s < t.values.size(); ++s)
        if (isVar[s]) b.CreateStore(num(0), at(adjs, s));
    }
    b.CreateStore(num(1), at(adjs, t.target));
    for (size_t k = rev.size(); k-- > 0;)
      b.CreateCall(rev[k], {work});
    llvm::Value* badGrad = b.getFalse();
    for (size_t k = 0; k < t.positionSlots.size(); ++k) {
      llvm::Value* g = b.CreateLoad(dbl, at(adjs, t.positionSlots[k]));
      b.CreateStore(g, at(grad, k));
      badGrad = b.CreateOr(badGrad, notFinite(g));
    }
    b.CreateStore(slot(t.target), lp);
    b.CreateRet(b.CreateSelect(badGrad, b.getInt32(1), b.getInt32(0)));
    b.SetInsertPoint(askTape);
    b.CreateRet(b.getInt32(1));
    functions = fwd.size() + rev.size();
    return true;
  }
  size_t functions = 0; // the pieces' functions (forward and reverse)
};

/// The tape's identity: everything the generated code depends on (structure, operand slots,
/// constants and guard outcomes), not the values recorded at the position.
std::string identityOf(const TapeView& t) {
  std::string key;
  auto put = [&key](const void* p, size_t n) { key.append(static_cast<const char*>(p), n); };
  const uint64_t sizes[4] = {t.nodes.size(), t.args.size(), t.values.size(),
                             t.positionSlots.size()};
  put(sizes, sizeof sizes);
  put(&t.target, sizeof t.target);
  std::vector<char> computed(t.values.size(), 0);
  for (uint32_t s : t.positionSlots)
    computed[s] = 1;
  for (const auto& nd : t.nodes) {
    put(&nd.kind, 1);
    put(&nd.aux, 1);
    put(&nd.out, 4);
    put(&nd.arg, 4);
    put(&nd.n, 4);
    if (nd.kind != TapeNodeKind::GuardCmp && nd.kind != TapeNodeKind::GuardArgmax)
      computed[nd.out] = 1;
  }
  put(t.args.data(), t.args.size() * sizeof(uint32_t));
  put(t.positionSlots.data(), t.positionSlots.size() * sizeof(uint32_t));
  // The constants the code reads (operands and the target) and the guard outcomes; not the
  // slots nothing reads (a fused tape's dropped nodes keep their last values there).
  // (A fused tape's args also keep the operands of the dropped nodes: only the nodes' count.)
  std::vector<char> read(t.values.size(), 0);
  read[t.target] = 1;
  for (const auto& nd : t.nodes) {
    for (uint32_t j = 0; j < nd.n; ++j)
      read[t.args[nd.arg + j]] = 1;
    if (nd.kind == TapeNodeKind::GuardCmp || nd.kind == TapeNodeKind::GuardArgmax)
      read[nd.out] = 1;
  }
  for (size_t s = 0; s < t.values.size(); ++s)
    if (!computed[s] && read[s]) put(&t.values[s], sizeof(double));
  return key;
}

std::mutex gCacheMu;
std::map<std::string, std::shared_ptr<const CompiledTape>>& cache() {
  static auto* c = new std::map<std::string, std::shared_ptr<const CompiledTape>>();
  return *c; // never destroyed: compiled code may run until exit
}

} // namespace

struct CompiledTape::Impl {
  std::unique_ptr<llvm::orc::LLJIT> jit;
};

CompiledTape::~CompiledTape() = default;

Expected<std::shared_ptr<const CompiledTape>> CompiledTape::compile(const TapeView& t,
                                                                   bool* cached,
                                                                   TapeOptLevel level,
                                                                   size_t nodesPerFunction) {
  if (cached) *cached = false;
  if (!t.recorded) return Error("the tape compiler: no tape is recorded");
  nodesPerFunction = std::max<size_t>(nodesPerFunction, 1);
  std::string key = identityOf(t);
  key.push_back(char(level));
  const uint64_t per = nodesPerFunction;
  key.append(reinterpret_cast<const char*>(&per), sizeof per);
  std::lock_guard<std::mutex> lock(gCacheMu);
  if (auto it = cache().find(key); it != cache().end()) {
    if (cached) *cached = true;
    return it->second;
  }
  const auto start = std::chrono::steady_clock::now();
  const double cpuStart = threadCpuSeconds();
  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto mod = std::make_unique<llvm::Module>("chassis_tape", *ctx);
  const std::string name = "chassis_tape_" + std::to_string(cache().size());
  std::string why;
  size_t functions = 0;
  {
    Gen g(t, *ctx, *mod);
    if (!g.function(name, nodesPerFunction, why)) return Error("the tape compiler: " + why);
    functions = g.functions;
  }
  std::string verifyMsg;
  llvm::raw_string_ostream vs(verifyMsg);
  if (llvm::verifyModule(*mod, &vs))
    return Error("the tape compiler: internal: invalid LLVM IR: " + vs.str().substr(0, 300));
  // AllowFPOpFusion stays Standard (jit_session.h): no fused multiply-add; no fast-math flags
  // are set, so the O2 pipeline keeps every operation and its order.
  if (level == TapeOptLevel::Auto)
    level = t.nodes.size() <= kOptimizeUpToNodes ? TapeOptLevel::O2 : TapeOptLevel::Lean;
  const bool o2 = level == TapeOptLevel::O2;
  JitSetup setup;
  setup.optimize = o2;
  setup.codeGen = level == TapeOptLevel::Fast ? llvm::CodeGenOpt::None : llvm::CodeGenOpt::Default;
  setup.processSymbols = true; // memset (the adjoints' clearing) and what O2 may call
  setup.add("chassis_tape_exp", &chassis_tape_exp);
  setup.add("chassis_tape_log", &chassis_tape_log);
  setup.add("chassis_tape_log1p", &chassis_tape_log1p);
  setup.add("chassis_tape_tanh", &chassis_tape_tanh);
  setup.add("chassis_tape_sigmoid", &chassis_tape_sigmoid);
  setup.add("chassis_tape_logit_jacobian", &chassis_tape_logit_jacobian);
  setup.add("chassis_tape_transform_sigmoid", &chassis_tape_transform_sigmoid);
  setup.add("chassis_tape_log_density", &chassis_tape_log_density);
  auto jit = startJit(std::move(mod), std::move(ctx), setup);
  if (!jit) return Error("the tape compiler: " + jit.error().message);
  std::optional<MachineSchedulerOff> noScheduler;
  if (level == TapeOptLevel::Lean) noScheduler.emplace();
  auto sym = (*jit)->lookup(name); // compiles the module
  noScheduler.reset();
  if (!sym) return Error("the tape compiler: LLJIT: " + llvmMessage(sym.takeError()));
  std::shared_ptr<CompiledTape> ct(new CompiledTape());
  ct->fn_ = reinterpret_cast<Fn>(sym->getAddress());
  ct->impl_ = std::make_unique<Impl>();
  ct->impl_->jit = std::move(*jit);
  ct->nodes_ = t.nodes.size();
  ct->optimized_ = o2;
  ct->level_ = level;
  ct->functions_ = functions;
  ct->workSize_ = 3 * t.values.size() + t.args.size();
  ct->seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ct->cpuSeconds_ = threadCpuSeconds() - cpuStart;
  cache().emplace(std::move(key), ct);
  return std::shared_ptr<const CompiledTape>(ct);
}

const char* CompiledTape::levelName() const {
  switch (level_) {
  case TapeOptLevel::O2: return "at O2";
  case TapeOptLevel::Lean: return "at its lean level";
  default: return "at its fast level";
  }
}

double threadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// ---- 3. The chain's gradient function ----

CompiledLogDensity::CompiledLogDensity(symbolic::LogDensityTape& tape,
                                       std::shared_ptr<TapeJitStats> stats)
    : tape_(&tape), stats_(std::move(stats)) {}

void CompiledLogDensity::refresh() {
  compiled_.reset();
  if (gaveUp_) return;
  TapeView v = tape_->view();
  if (!v.recorded) return; // retried at the next evaluation, after the tape records again
  compiledAt_ = tape_->recordings();
  if (compiles_ >= kMaxCompilesPerTape) {
    gaveUp_ = true;
    if (stats_) ++stats_->gaveUp;
    return;
  }
  ++compiles_;
  bool cached = false;
  auto c = CompiledTape::compile(v, &cached);
  if (c && stats_) {
    if (cached) {
      ++stats_->cacheHits;
    } else {
      ++stats_->compiles;
      std::lock_guard<std::mutex> lock(stats_->mu);
      stats_->compileSeconds += (*c)->compileSeconds();
    }
  }
  if (!c) {
    if (stats_) {
      std::lock_guard<std::mutex> lock(stats_->mu);
      if (stats_->firstFailure.empty()) stats_->firstFailure = c.error().message;
    }
    gaveUp_ = true; // the same nodes would not compile after a re-recording either
    return;
  }
  compiled_ = *c;
  work_.assign(compiled_->workSize(), 0.0);
}

Expected<double> CompiledLogDensity::operator()(std::span<const double> u,
                                                std::span<double> grad) {
  if (!gaveUp_ && (!compiled_ || tape_->recordings() != compiledAt_)) refresh();
  if (compiled_) {
    double lp;
    if ((*compiled_)(u.data(), grad.data(), &lp, work_.data()) == 0) {
      if (stats_) stats_->compiledEvals.fetch_add(1, std::memory_order_relaxed);
      return lp;
    }
  }
  if (stats_) stats_->interpretedEvals.fetch_add(1, std::memory_order_relaxed);
  return tape_->logDensity(u, grad);
}

std::function<symbolic::LogDensityGradientFn(symbolic::LogDensityTape&)>
compiledGradient(std::shared_ptr<TapeJitStats> stats) {
  return [stats](symbolic::LogDensityTape& tape) -> symbolic::LogDensityGradientFn {
    auto fn = std::make_shared<CompiledLogDensity>(tape, stats);
    return [fn](std::span<const double> u, std::span<double> grad) { return (*fn)(u, grad); };
  };
}

} // namespace chassis::codegen

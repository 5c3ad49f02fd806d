// The AD tape compiled by LLVM (see tape_compiler.h). Three parts: the C functions the generated
// code calls (the tape's own arithmetic), the IR generator (forward sweep, then reverse sweep,
// straight-line), and the cache with the LLJIT.
#include "codegen/tape_compiler.h"

#include "spec/ir.h"
#include "symbolic/distributions.h"
#include "symbolic/op_semantics.h"
#include "symbolic/transforms.h"

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <numbers>

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

std::string llvmMessage(llvm::Error e) {
  std::string s;
  llvm::handleAllErrors(std::move(e), [&](const llvm::ErrorInfoBase& info) { s = info.message(); });
  return s;
}

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
    case TapeNodeKind::Other:
      why = "a node kind the tape compiler does not know (the tape stays interpreted)";
      return false;
    }
    check(notFinite(out));
    b.CreateStore(out, at(vals, nd.out));
    return true;
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

  /// The whole function; false (with `why`) when the tape has a node it cannot compile.
  bool function(const std::string& name, std::string& why) {
    llvm::Type* dptr = llvm::Type::getDoublePtrTy(ctx);
    auto* ft = llvm::FunctionType::get(b.getInt32Ty(), {dptr, dptr, dptr, dptr}, false);
    auto* f = llvm::Function::Create(ft, llvm::Function::ExternalLinkage, name, mod);
    f->setDoesNotThrow();
    auto ai = f->arg_begin();
    llvm::Value* u = &*ai++;
    llvm::Value* grad = &*ai++;
    llvm::Value* lp = &*ai++;
    vals = &*ai;
    auto* entry = llvm::BasicBlock::Create(ctx, "forward", f);
    auto* reverse = llvm::BasicBlock::Create(ctx, "reverse", f);
    reject = llvm::BasicBlock::Create(ctx, "ask_the_tape", f);
    b.SetInsertPoint(entry);
    adjs = at(vals, t.values.size());
    pds = at(vals, 2 * t.values.size());
    logs = at(vals, 2 * t.values.size() + t.args.size());
    logStored.assign(t.values.size(), 0);
    uint32_t maxParams = 1;
    for (const auto& nd : t.nodes)
      if (nd.kind == TapeNodeKind::LogDensity) maxParams = std::max(maxParams, nd.n);
    paramBuf = b.CreateAlloca(dbl, b.getInt32(maxParams));
    isVar.assign(t.values.size(), 0);
    for (uint32_t s : t.positionSlots)
      isVar[s] = 1;
    for (const auto& nd : t.nodes)
      if (nd.kind != TapeNodeKind::GuardCmp && nd.kind != TapeNodeKind::GuardArgmax)
        isVar[nd.out] = 1;
    for (size_t k = 0; k < t.positionSlots.size(); ++k)
      b.CreateStore(b.CreateLoad(dbl, at(u, k)), at(vals, t.positionSlots[k]));
    // A basic block per kNodesPerBlock nodes: values pass through the workspace, so the split
    // costs nothing at run time and keeps instruction selection's blocks small.
    for (size_t i = 0; i < t.nodes.size(); ++i) {
      if (i > 0 && i % kNodesPerBlock == 0) newBlock(f);
      if (!node(t.nodes[i], why)) return false;
    }
    b.CreateCondBr(bad ? bad : b.getFalse(), reject, reverse);
    bad = nullptr;
    b.SetInsertPoint(reject);
    b.CreateRet(b.getInt32(1));

    // Reverse sweep, as ad.cpp's backward(): adj[target] = 1; over the nodes in reverse, a node
    // whose adjoint is 0 is skipped, else adj[a_j] += adj[out] * partial_j in operand order.
    b.SetInsertPoint(reverse);
    // hasAdj: the slot's adjoint can be nonzero (the target, or an operand); the adjoints of
    // the others stay 0, so their nodes are skipped here as backward() skips them.
    std::vector<char> hasAdj(t.values.size(), 0);
    hasAdj[t.target] = 1;
    for (const auto& nd : t.nodes)
      for (uint32_t j = 0; j < nd.n; ++j)
        if (argVar(nd, j)) hasAdj[t.args[nd.arg + j]] = 1;
    b.CreateMemSet(adjs, b.getInt8(0), b.getInt64(8 * t.values.size()), llvm::MaybeAlign(8));
    b.CreateStore(num(1), at(adjs, t.target));
    for (size_t i = t.nodes.size(); i-- > 0;) {
      const auto& nd = t.nodes[i];
      if (i % kNodesPerBlock == 0) newBlock(f);
      if (!hasAdj[nd.out] || !isVar[nd.out]) continue;
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
    llvm::Value* badGrad = b.getFalse();
    for (size_t k = 0; k < t.positionSlots.size(); ++k) {
      llvm::Value* g = b.CreateLoad(dbl, at(adjs, t.positionSlots[k]));
      b.CreateStore(g, at(grad, k));
      badGrad = b.CreateOr(badGrad, notFinite(g));
    }
    b.CreateStore(slot(t.target), lp);
    b.CreateRet(b.CreateSelect(badGrad, b.getInt32(1), b.getInt32(0)));
    return true;
  }
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
  for (size_t s = 0; s < t.values.size(); ++s)
    if (!computed[s]) put(&t.values[s], sizeof(double)); // constants and guard outcomes
  return key;
}

void initLlvm() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
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
                                                                   bool* cached) {
  if (cached) *cached = false;
  if (!t.recorded) return Error("the tape compiler: no tape is recorded");
  std::string key = identityOf(t);
  std::lock_guard<std::mutex> lock(gCacheMu);
  if (auto it = cache().find(key); it != cache().end()) {
    if (cached) *cached = true;
    return it->second;
  }
  const auto start = std::chrono::steady_clock::now();
  initLlvm();
  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto mod = std::make_unique<llvm::Module>("chassis_tape", *ctx);
  const std::string name = "chassis_tape_" + std::to_string(cache().size());
  std::string why;
  {
    Gen g(t, *ctx, *mod);
    if (!g.function(name, why)) return Error("the tape compiler: " + why);
  }
  std::string verifyMsg;
  llvm::raw_string_ostream vs(verifyMsg);
  if (llvm::verifyModule(*mod, &vs))
    return Error("the tape compiler: internal: invalid LLVM IR: " + vs.str().substr(0, 300));
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) return Error("the tape compiler: LLJIT: " + llvmMessage(jtmb.takeError()));
  // AllowFPOpFusion stays Standard (the default TargetOptions): no fused multiply-add.
  // CodeGenOpt::None (fast instruction selection and register allocation): the code is
  // straight-line loads, arithmetic and stores already. At Less/Default the generated gradient
  // was 1.3-2x faster, but compiling the bench models' 1300-2200 nodes took 3-9 s of CPU each
  // (against 0.3-0.6 s): perf puts most of it in the machine scheduler's dependence graph
  // (SUnit::addPred, MachineInstr::mayAlias); blocks of 32 nodes with conditional exits, which
  // bound its regions, did not help (not understood yet).
  jtmb->setCodeGenOptLevel(llvm::CodeGenOpt::None);
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*jtmb)).create();
  if (!jit) return Error("the tape compiler: LLJIT: " + llvmMessage(jit.takeError()));
  mod->setDataLayout((*jit)->getDataLayout());
  llvm::orc::SymbolMap syms;
  auto add = [&](const char* sym, auto* fn) {
    syms[(*jit)->mangleAndIntern(sym)] =
        llvm::JITEvaluatedSymbol(llvm::pointerToJITTargetAddress(fn),
                                 llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable);
  };
  add("chassis_tape_exp", &chassis_tape_exp);
  add("chassis_tape_log", &chassis_tape_log);
  add("chassis_tape_log1p", &chassis_tape_log1p);
  add("chassis_tape_tanh", &chassis_tape_tanh);
  add("chassis_tape_sigmoid", &chassis_tape_sigmoid);
  add("chassis_tape_logit_jacobian", &chassis_tape_logit_jacobian);
  add("chassis_tape_transform_sigmoid", &chassis_tape_transform_sigmoid);
  add("chassis_tape_log_density", &chassis_tape_log_density);
  add("memset", &std::memset); // the reverse sweep's clearing of the adjoints
  if (auto e = (*jit)->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(syms))))
    return Error("the tape compiler: LLJIT: " + llvmMessage(std::move(e)));
  if (auto e = (*jit)->addIRModule(llvm::orc::ThreadSafeModule(std::move(mod), std::move(ctx))))
    return Error("the tape compiler: LLJIT: " + llvmMessage(std::move(e)));
  auto sym = (*jit)->lookup(name);
  if (!sym) return Error("the tape compiler: LLJIT: " + llvmMessage(sym.takeError()));
  std::shared_ptr<CompiledTape> ct(new CompiledTape());
  ct->fn_ = reinterpret_cast<Fn>(sym->getAddress());
  ct->impl_ = std::make_unique<Impl>();
  ct->impl_->jit = std::move(*jit);
  ct->nodes_ = t.nodes.size();
  ct->workSize_ = 3 * t.values.size() + t.args.size();
  ct->seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  cache().emplace(std::move(key), ct);
  return std::shared_ptr<const CompiledTape>(ct);
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

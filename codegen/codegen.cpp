// IR to LLVM IR (see codegen.h for the semantics kept). One LLVM function per IR function, of type
// i32 (double* in, double* out); every variable is a stack slot of doubles (zeroed at entry,
// promoted to registers by the O2 pipeline); an expression's value, computed by the shared
// evaluator (symbolic/evaluator.h) in the LLVM domain of FunctionGen, is a double for a scalar
// and a pointer to its first element for an array. A check that fails branches to a block returning
// its error code; a callee's non-zero code is returned as is. For JitModel (random modules) every
// function takes a third argument, the run's JitRuntime (codegen/runtime.h): random statements
// call the runtime, and a failing check first stores its statement's site number there (a
// callee's failing input check is given the calling statement's site on the way out).
#include "codegen/codegen.h"
#include "codegen/jit_session.h"

#include "codegen/runtime.h"
#include "symbolic/distributions.h"
#include "symbolic/evaluator.h"
#include "symbolic/op_semantics.h"

#include <llvm/ADT/SmallVector.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/Host.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <chrono>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>

namespace chassis::codegen {

using namespace chassis::ir;

std::string_view errorCodeName(int code) {
  switch (code) {
  case kOk:
    return "ok";
  case kInputInvalid:
    return "input invalid";
  case kDivisionByZero:
    return "division by zero";
  case kDomain:
    return "log/sqrt domain";
  case kNotFinite:
    return "not finite";
  case kIntOverflow:
    return "integer overflow";
  case kIndexRange:
    return "index out of range";
  case kAssertFailed:
    return "assertion failed";
  case kInvalidParameter:
    return "invalid distribution parameter";
  case kFlatPrior:
    return "sample from a flat prior";
  case kFactorNaN:
    return "factor of NaN";
  case kConditionFailed:
    return "condition failed";
  }
  return "unknown error";
}

std::string symbolName(const Function& f) {
  std::string s = "chassis_";
  for (char c : f.name())
    s += (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  return s;
}

namespace {

using symbolic::ops::kMaxExactInt; // 2^53
/// Variables live on the stack: at most this many doubles (512 KiB) per function.
constexpr size_t kMaxFrameScalars = size_t(1) << 16;

// ------------------------------------------------------------------------------------------------
// Checking what compiles

/// `allowRandom`: sample/observe/condition/factor compile (with the runtime, JitModel).
Status checkFunction(const Function& f, std::vector<const Function*>& seen, bool allowRandom) {
  for (const Function* g : seen)
    if (g == &f) return Status::ok();
  seen.push_back(&f);
  if (f.kind() == FunctionKind::External)
    return Error(f.loc(), "network '" + f.name() + "' is declared but not loaded (file " +
                              f.externalFile() + "); it cannot be compiled");
  if (f.isRandom() && !allowRandom)
    return Error(f.loc(), "module '" + f.name() +
                              "' is random (it samples, observes, conditions or factors); only "
                              "deterministic modules compile");
  size_t frame = 0;
  for (const Var* v : f.vars())
    frame += v->type().numScalars();
  if (frame > kMaxFrameScalars)
    return Error(f.loc(), "module '" + f.name() + "' has " + std::to_string(frame) +
                              " scalars of variables; compiled code keeps at most " +
                              std::to_string(kMaxFrameScalars) + " on the stack");
  std::optional<Error> err;
  std::function<void(Expr, const SourceLoc&)> expr = [&](Expr e, const SourceLoc& loc) {
    if (err) return;
    if (auto* c = e->as<Call>()) {
      if (auto st = checkFunction(c->callee(), seen, allowRandom); !st)
        err = Error(loc, "call of '" + c->callee().name() + "': " + st.error().message);
    }
    for (Expr o : e->operands())
      expr(o, loc);
  };
  forEachStmt(f.body(), [&](Stmt s) {
    if (err) return;
    switch (s->kind()) {
    case StmtKind::Sample:
    case StmtKind::Observe:
    case StmtKind::Condition:
    case StmtKind::Factor:
      if (allowRandom) break;
      err = Error(s->loc(), "a " + std::string(kindName(s->kind())) +
                                " statement cannot be compiled (only deterministic code)");
      return;
    case StmtKind::Call:
      if (auto st = checkFunction(*s->as<CallStmt>()->callee, seen, allowRandom); !st) {
        err = Error(s->loc(),
                    "call of '" + s->as<CallStmt>()->callee->name() + "': " + st.error().message);
        return;
      }
      break;
    default:
      break;
    }
    forEachExpr(s, [&](Expr e) { expr(e, s->loc()); });
  });
  if (err) return *err;
  return Status::ok();
}

size_t flatSize(const std::vector<const Var*>& vs) {
  size_t n = 0;
  for (const Var* v : vs)
    n += v->type().numScalars();
  return n;
}
size_t flatInputs(const Function& f) {
  size_t n = 0;
  for (const Param& p : f.inputs())
    n += p.var->type().numScalars();
  return n;
}

// ------------------------------------------------------------------------------------------------
// Generating LLVM IR

// ---- chassis::Rng's draws in generated code (spec/rng.cpp's exact algorithm) ----
// The state is Rng's four uint64 words, read and written through `state` (an i64*) around each
// step; where it lives in a local that does not escape (the likelihood-weighting block loop,
// addLwBlockEntry), the optimiser keeps it in registers. The draws are Rng::uniform and
// Rng::normal operation for operation (integer steps, the same multiplications and additions in
// the same order, no fused multiply-add: makeTargetMachine; the process's libm `log` and the
// correctly rounded square root), so the stream is the one specified, bit for bit.
static_assert(std::is_standard_layout_v<Rng> && sizeof(Rng) == 4 * sizeof(uint64_t),
              "the generated code reads Rng's state as four uint64 words");

/// Rng::nextU64 (xoshiro256**) on the state at `state`: the result; the state advanced.
llvm::Value* emitRngNextU64(llvm::IRBuilder<>& b, llvm::Value* state) {
  llvm::Type* i64 = b.getInt64Ty();
  llvm::Value* w[4];
  llvm::Value* at[4];
  for (unsigned k = 0; k < 4; ++k) {
    at[k] = b.CreateConstGEP1_64(i64, state, k);
    w[k] = b.CreateLoad(i64, at[k]);
  }
  auto rotl = [&](llvm::Value* x, uint64_t r) {
    return b.CreateOr(b.CreateShl(x, r), b.CreateLShr(x, 64 - r));
  };
  llvm::Value* result = b.CreateMul(rotl(b.CreateMul(w[1], b.getInt64(5)), 7), b.getInt64(9));
  llvm::Value* t = b.CreateShl(w[1], 17);
  w[2] = b.CreateXor(w[2], w[0]);
  w[3] = b.CreateXor(w[3], w[1]);
  w[1] = b.CreateXor(w[1], w[2]);
  w[0] = b.CreateXor(w[0], w[3]);
  w[2] = b.CreateXor(w[2], t);
  w[3] = rotl(w[3], 45);
  for (unsigned k = 0; k < 4; ++k)
    b.CreateStore(w[k], at[k]);
  return result;
}

/// Copies the generator state (Rng's four uint64 words) at `from` to `to` (both i64*).
void emitCopyRngState(llvm::IRBuilder<>& b, llvm::Value* from, llvm::Value* to) {
  llvm::Type* i64 = b.getInt64Ty();
  for (uint64_t k = 0; k < 4; ++k)
    b.CreateStore(b.CreateLoad(i64, b.CreateConstGEP1_64(i64, from, k)),
                  b.CreateConstGEP1_64(i64, to, k));
}

/// Rng::uniform on the state at `state`: k = nextU64() >> 11, redrawn while 0, times 2^-53.
/// Leaves `b` at the end of the new blocks (in b's current function).
llvm::Value* emitRngUniform(llvm::IRBuilder<>& b, llvm::Value* state) {
  llvm::Function* fn = b.GetInsertBlock()->getParent();
  llvm::LLVMContext& ctx = fn->getContext();
  llvm::BasicBlock* draw = llvm::BasicBlock::Create(ctx, "rng.uniform", fn);
  llvm::BasicBlock* done = llvm::BasicBlock::Create(ctx, "rng.uniform.done", fn);
  b.CreateBr(draw);
  b.SetInsertPoint(draw);
  llvm::Value* k = b.CreateLShr(emitRngNextU64(b, state), 11);
  b.CreateCondBr(b.CreateICmpEQ(k, b.getInt64(0)), draw, done);
  b.SetInsertPoint(done);
  return b.CreateFMul(b.CreateUIToFP(k, b.getDoubleTy()),
                      llvm::ConstantFP::get(b.getDoubleTy(), 0x1.0p-53));
}

/// The constant global `name` of module `mod` holding `values` (created at its first use).
llvm::Constant* rngTable(llvm::Module& mod, const char* name, std::span<const double> values) {
  if (llvm::GlobalVariable* g = mod.getGlobalVariable(name, true)) return g;
  llvm::ArrayType* type = llvm::ArrayType::get(llvm::Type::getDoubleTy(mod.getContext()), values.size());
  std::vector<llvm::Constant*> elems;
  for (double v : values)
    elems.push_back(llvm::ConstantFP::get(llvm::Type::getDoubleTy(mod.getContext()), v));
  auto* g = new llvm::GlobalVariable(mod, type, true, llvm::GlobalValue::PrivateLinkage,
                                     llvm::ConstantArray::get(type, elems), name);
  g->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
  return g;
}

/// Rng::normal (the ziggurat of spec/rng.cpp, its tables as constants of `mod`) on the state at
/// `state`, calling `log` and `exp` (the libm functions of `mod`) in the rare edge cases. Leaves
/// `b` at the end of the new blocks.
llvm::Value* emitRngNormal(llvm::IRBuilder<>& b, llvm::Module& mod, llvm::Value* state) {
  using namespace chassis::rng_detail;
  llvm::Function* fn = b.GetInsertBlock()->getParent();
  llvm::LLVMContext& ctx = fn->getContext();
  llvm::Type* dbl = b.getDoubleTy();
  llvm::Type* i64 = b.getInt64Ty();
  auto cst = [&](double v) { return llvm::ConstantFP::get(dbl, v); };
  // Layer i's scale at 2i, its inner width at 2i + 1 (built once per process).
  static const std::vector<double> flat = [] {
    std::vector<double> v;
    for (const ZigLayer& z : kZigLayers) {
      v.push_back(z.scale);
      v.push_back(z.inner);
    }
    return v;
  }();
  llvm::Constant* layers = rngTable(mod, "chassis.rng.zig.layers", flat);
  llvm::Constant* density = rngTable(mod, "chassis.rng.zig.density", kZigDensity);
  llvm::FunctionType* unary = llvm::FunctionType::get(dbl, {dbl}, false);
  auto at = [&](llvm::Constant* table, llvm::Value* index) {
    return b.CreateLoad(dbl, b.CreateGEP(dbl, table, index));
  };
  auto block = [&](const char* name) { return llvm::BasicBlock::Create(ctx, name, fn); };
  llvm::BasicBlock* draw = block("rng.normal");
  llvm::BasicBlock* edge = block("rng.normal.edge");
  llvm::BasicBlock* tail = block("rng.normal.tail");
  llvm::BasicBlock* tailDone = block("rng.normal.tail.done");
  llvm::BasicBlock* wedge = block("rng.normal.wedge");
  llvm::BasicBlock* done = block("rng.normal.done");
  b.CreateBr(draw);
  // b = nextU64(); i = b & 255; x = (b >> 11) * (x_i 2^-53); x < x_(i+1): done.
  b.SetInsertPoint(draw);
  llvm::Value* bits = emitRngNextU64(b, state);
  llvm::Value* layer = b.CreateAnd(bits, b.getInt64(0xff));
  llvm::Value* two = b.CreateShl(layer, 1);
  llvm::Value* x = b.CreateFMul(b.CreateUIToFP(b.CreateLShr(bits, 11), dbl), at(layers, two));
  llvm::Value* inner = at(layers, b.CreateOr(two, b.getInt64(1)));
  b.CreateCondBr(b.CreateFCmpOLT(x, inner), done, edge);
  b.SetInsertPoint(edge);
  b.CreateCondBr(b.CreateICmpEQ(layer, b.getInt64(0)), tail, wedge);
  // The tail: a = -log(uniform()) / r, c = -log(uniform()), again while c + c < a * a.
  b.SetInsertPoint(tail);
  llvm::FunctionCallee log = mod.getOrInsertFunction("log", unary);
  llvm::Value* a = b.CreateFDiv(b.CreateFNeg(b.CreateCall(log, {emitRngUniform(b, state)})),
                                cst(kZigR));
  llvm::Value* c = b.CreateFNeg(b.CreateCall(log, {emitRngUniform(b, state)}));
  b.CreateCondBr(b.CreateFCmpOLT(b.CreateFAdd(c, c), b.CreateFMul(a, a)), tail, tailDone);
  b.SetInsertPoint(tailDone);
  llvm::Value* xTail = b.CreateFAdd(cst(kZigR), a);
  b.CreateBr(done);
  // A wedge: y = f(x_i) + uniform() * (f(x_(i+1)) - f(x_i)) < exp(-0.5 * x * x): done; else
  // draw again.
  b.SetInsertPoint(wedge);
  llvm::Value* lo = at(density, layer);
  llvm::Value* hi = at(density, b.CreateAdd(layer, b.getInt64(1)));
  llvm::Value* y = b.CreateFAdd(lo, b.CreateFMul(emitRngUniform(b, state), b.CreateFSub(hi, lo)));
  llvm::FunctionCallee exp = mod.getOrInsertFunction("exp", unary);
  llvm::Value* e = b.CreateCall(exp, {b.CreateFMul(b.CreateFMul(cst(-0.5), x), x)});
  llvm::BasicBlock* wedgeEnd = b.GetInsertBlock();
  b.CreateCondBr(b.CreateFCmpOLT(y, e), done, draw);
  // Signed by bit 8 of the last draw's b.
  b.SetInsertPoint(done);
  llvm::PHINode* mag = b.CreatePHI(dbl, 3);
  mag->addIncoming(x, draw);
  mag->addIncoming(xTail, tailDone);
  mag->addIncoming(x, wedgeEnd);
  llvm::Value* sign = b.CreateShl(b.CreateAnd(bits, b.getInt64(0x100)), 55);
  return b.CreateBitCast(b.CreateOr(b.CreateBitCast(mag, i64), sign), dbl);
}

class ModuleGen;

/// An array of the LLVM domain: a pointer to its first double and its length.
struct LlvmArray {
  llvm::Value* ptr = nullptr;
  size_t n = 0;
};
/// A value of the LLVM domain: a double (`s`) for a scalar, or an array.
struct LlvmVal {
  llvm::Value* s = nullptr;
  LlvmArray a;
};

/// The body of one IR function. Expressions are lowered by the shared evaluator
/// (symbolic/evaluator.h) in the LLVM domain below (its values are the code computing them:
/// a double for a scalar, a pointer to the first double for an array); statements through the
/// same generated statement dispatch as the interpreter's (symbolic::StmtDispatch: a statement
/// kind of ir_nodes.def without its stmt<Kind> method here does not compile).
class FunctionGen : public symbolic::ExprEvaluator<FunctionGen, LlvmVal>,
                    public symbolic::StmtDispatch<FunctionGen, void> {
public:
  using Evaluator = symbolic::ExprEvaluator<FunctionGen, LlvmVal>;
  using Evaluator::eval;
  /// `lw`: the likelihood-weighting variant (ModuleGen::get).
  FunctionGen(ModuleGen& mg, const Function& f, llvm::Function* fn, bool lw = false);
  void generate();

protected:
  // ---- helpers ----
  llvm::Value* cst(double v) { return llvm::ConstantFP::get(dbl_, v); }
  llvm::Value* i64(int64_t v) { return llvm::ConstantInt::get(i64_, uint64_t(v), true); }
  llvm::Value* truth(llvm::Value* d) { return b_.CreateFCmpUNE(d, cst(0)); }
  llvm::Value* fromBool(llvm::Value* i1) { return b_.CreateUIToFP(i1, dbl_); }

  /// A stack buffer of n doubles in the entry block.
  llvm::Value* alloca(size_t n) {
    llvm::IRBuilder<> ab(allocaBlock_);
    return ab.CreateAlloca(dbl_, i64(int64_t(std::max<size_t>(n, 1))));
  }
  llvm::Value* allocaI64() {
    llvm::IRBuilder<> ab(allocaBlock_);
    return ab.CreateAlloca(i64_);
  }
  llvm::Value* elem(llvm::Value* ptr, llvm::Value* idx) { return b_.CreateGEP(dbl_, ptr, idx); }
  llvm::Value* elem(llvm::Value* ptr, int64_t idx) { return elem(ptr, i64(idx)); }
  void copy(llvm::Value* dst, llvm::Value* src, size_t n) {
    b_.CreateMemMove(dst, llvm::MaybeAlign(8), src, llvm::MaybeAlign(8), n * 8);
  }

  llvm::BasicBlock* newBlock(const char* name) { return llvm::BasicBlock::Create(ctx_, name, fn_); }
  llvm::BasicBlock* failBlock(int code) {
    auto it = fail_.find({code, site_});
    if (it != fail_.end()) return it->second;
    llvm::BasicBlock* bb = newBlock("fail");
    llvm::IRBuilder<> fb(bb);
    if (rt_) fb.CreateStore(i32(site_), errSitePtr(fb));
    fb.CreateRet(llvm::ConstantInt::get(i32_, uint64_t(code)));
    fail_[{code, site_}] = bb;
    return bb;
  }
  llvm::Value* i32(int v) { return llvm::ConstantInt::get(i32_, uint64_t(int64_t(v)), true); }
  /// JitRuntime::errSite (offset 0 of the runtime argument).
  llvm::Value* errSitePtr(llvm::IRBuilder<>& b) {
    return b.CreateBitCast(rt_, llvm::PointerType::getUnqual(i32_));
  }
  /// Continues when the runtime call's code `rc` is 0; otherwise stores this statement's site
  /// and returns `rc`.
  void checkRuntime(llvm::Value* rc) {
    llvm::BasicBlock* cont = newBlock("ok");
    llvm::BasicBlock* bad = newBlock("rtfail");
    b_.CreateCondBr(b_.CreateICmpEQ(rc, i32(0)), cont, bad);
    b_.SetInsertPoint(bad);
    b_.CreateStore(i32(site_), errSitePtr(b_));
    b_.CreateRet(rc);
    b_.SetInsertPoint(cont);
  }
  llvm::FunctionCallee runtimeFunction(const char* name, llvm::Type* result,
                                       std::vector<llvm::Type*> params);
  int newSite(const SourceLoc& loc);
  llvm::Module& module();
  int choiceName(const std::string& name);
  bool drawsChoices(const Function& f);
  /// A field of the runtime argument (JitRuntime), as a pointer to `t`.
  llvm::Value* rtField(size_t offset, llvm::Type* t) {
    llvm::Value* p = b_.CreateConstGEP1_64(llvm::Type::getInt8Ty(ctx_), rt_, offset);
    return b_.CreateBitCast(p, llvm::PointerType::getUnqual(t));
  }
  /// The state of the run's generator (*JitRuntime::rng), as an i64* (emitRngNextU64).
  llvm::Value* rngState() {
    llvm::Type* i64p = llvm::PointerType::getUnqual(i64_);
    return b_.CreateLoad(i64p, rtField(offsetof(JitRuntime, rng), i64p));
  }
  /// rt.field += v (a double field).
  void addTo(size_t offset, llvm::Value* v) {
    llvm::Value* p = rtField(offset, dbl_);
    b_.CreateStore(b_.CreateFAdd(b_.CreateLoad(dbl_, p), v), p);
  }
  void countObserve() {
    llvm::Value* count = rtField(offsetof(JitRuntime, numObserves), i32_);
    b_.CreateStore(b_.CreateAdd(b_.CreateLoad(i32_, count), i32(1)), count);
  }
  /// validateParams for Bernoulli: 0 <= p <= 1 (NaN fails); else kInvalidParameter.
  void checkProbability(llvm::Value* p) {
    check(b_.CreateAnd(b_.CreateFCmpOGE(p, cst(0)), b_.CreateFCmpOLE(p, cst(1))),
          kInvalidParameter);
  }
  /// logDensity(Bernoulli, {p}, x): log(p) at 1, log1p(-p) at 0, -infinity elsewhere.
  llvm::Value* bernoulliLogMass(llvm::Value* p, llvm::Value* x) {
    llvm::Value* at0 = b_.CreateSelect(b_.CreateFCmpOEQ(x, cst(0)), libm("log1p", b_.CreateFNeg(p)),
                                       cst(-std::numeric_limits<double>::infinity()));
    return b_.CreateSelect(b_.CreateFCmpOEQ(x, cst(1)), libm("log", p), at0);
  }
  /// validateParams for Normal: mu finite, sigma > 0 and finite; else kInvalidParameter.
  void checkNormalParams(llvm::Value* mu, llvm::Value* sigma) {
    check(b_.CreateAnd(isFinite(mu), b_.CreateAnd(b_.CreateFCmpOGT(sigma, cst(0)),
                                                  isFinite(sigma))),
          kInvalidParameter);
  }
  /// logDensity(Normal, {mu, sigma}, x): z = (x - mu) / sigma; -0.5 * z * z - log(sigma) -
  /// log(sqrt(2 pi)), in that order.
  llvm::Value* normalLogDensity(llvm::Value* mu, llvm::Value* sigma, llvm::Value* x) {
    static const double logSqrt2Pi = [] {
      const double standard[2] = {0.0, 1.0};
      return -symbolic::logDensity(DistKind::Normal, standard, 0.0); // the runtime's constant
    }();
    llvm::Value* z = b_.CreateFDiv(b_.CreateFSub(x, mu), sigma);
    llvm::Value* sq = b_.CreateFMul(b_.CreateFMul(cst(-0.5), z), z);
    return b_.CreateFSub(b_.CreateFSub(sq, libm("log", sigma)), cst(logSqrt2Pi));
  }
  /// The parameters of a distribution evaluated left to right into one stack buffer (an array
  /// parameter expanded); returns the buffer and sets `n` to its length.
  llvm::Value* distParams(const std::vector<Expr>& ps, int64_t& n) {
    size_t total = 0;
    for (Expr p : ps)
      total += p->type().numScalars();
    llvm::Value* buf = alloca(total);
    size_t pos = 0;
    for (Expr p : ps) {
      llvm::Value* v = eval(p);
      size_t k = p->type().numScalars();
      if (p->type().isArray())
        copy(elem(buf, int64_t(pos)), v, k);
      else
        b_.CreateStore(v, elem(buf, int64_t(pos)));
      pos += k;
    }
    n = int64_t(total);
    return buf;
  }
  /// Continues when `ok` (i1) holds, returns `code` otherwise.
  void check(llvm::Value* ok, int code) {
    llvm::BasicBlock* cont = newBlock("ok");
    b_.CreateCondBr(ok, cont, failBlock(code));
    b_.SetInsertPoint(cont);
  }
  llvm::Value* isFinite(llvm::Value* d) {
    return b_.CreateFCmpOLT(b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, d),
                            cst(std::numeric_limits<double>::infinity()));
  }
  llvm::Value* checkReal(llvm::Value* d) {
    check(isFinite(d), kNotFinite);
    return d;
  }
  /// for (k = 0; k < n; ++k) body(k), k an i64; the body may add blocks.
  void loop(int64_t lo, int64_t hi, const std::function<void(llvm::Value*)>& body) {
    llvm::Value* k = allocaI64();
    b_.CreateStore(i64(lo), k);
    llvm::BasicBlock* head = newBlock("loop");
    llvm::BasicBlock* inner = newBlock("body");
    llvm::BasicBlock* done = newBlock("done");
    b_.CreateBr(head);
    b_.SetInsertPoint(head);
    llvm::Value* kv = b_.CreateLoad(i64_, k);
    b_.CreateCondBr(b_.CreateICmpSLT(kv, i64(hi)), inner, done);
    b_.SetInsertPoint(inner);
    body(kv);
    b_.CreateStore(b_.CreateAdd(b_.CreateLoad(i64_, k), i64(1)), k);
    b_.CreateBr(head);
    b_.SetInsertPoint(done);
  }
  llvm::Value* libm(const char* name, llvm::Value* x);
  /// Runs `callee` on `args` (evaluated here, left to right); returns its out buffer.
  /// `site`: the call statement (its site names the callee's choices), null for a call from
  /// an expression (whose choices the interpreter addresses without a prefix).
  llvm::Value* callFunction(const Function& callee, std::span<const Expr> args,
                            const CallStmt* site = nullptr);
  /// Runs `callee` on the values `args`; returns its out buffer. `site` as for callFunction.
  llvm::Value* callWith(const Function& callee, std::span<const LlvmVal> args,
                        const CallStmt* site = nullptr);
  void block(const Block& b) {
    for (Stmt s : b) {
      loc_ = &s->loc();
      if (rt_) site_ = newSite(s->loc());
      stmt(s);
    }
  }
  /// The code of `e`'s value: a double, or a double* for an array.
  llvm::Value* eval(Expr e) {
    LlvmVal v;
    if (!eval(e, frame_, v)) return llvm::UndefValue::get(e->type().isArray() ? dblp_ : dbl_);
    return e->type().isArray() ? v.a.ptr : v.s;
  }
  llvm::Value* slot(const Var* v) { return slots_.at(size_t(v->slot())); }
  void store(const Var* v, llvm::Value* val) {
    if (v->type().isArray())
      copy(slot(v), val, v->type().numScalars());
    else
      b_.CreateStore(val, slot(v));
  }

  // ---- the LLVM domain of the shared evaluator (symbolic/evaluator.h) ----
  // The skeleton owns the order of evaluation and the integer semantics (symbolic/
  // op_semantics.h, emitted through Arith); these methods emit the code of each operation, and a
  // branch and a phi where a float64 domain decides on a value.
public:
  bool fail(std::string msg) {
    if (!err_) err_ = Error(*loc_, "internal: " + msg);
    return false;
  }
  llvm::Value* constant(double v) { return cst(v); }

  /// The arithmetic of op_semantics.h's generic operations as instructions; a failing `require`
  /// branches to the block returning the fault's error code.
  struct Arith {
    FunctionGen& g;
    llvm::Value* num(double v) { return g.cst(v); }
    llvm::Value* add(llvm::Value* l, llvm::Value* r) { return g.b_.CreateFAdd(l, r); }
    llvm::Value* sub(llvm::Value* l, llvm::Value* r) { return g.b_.CreateFSub(l, r); }
    llvm::Value* mul(llvm::Value* l, llvm::Value* r) { return g.b_.CreateFMul(l, r); }
    llvm::Value* neg(llvm::Value* x) { return g.b_.CreateFNeg(x); }
    llvm::Value* abs(llvm::Value* x) { return g.b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x); }
    llvm::Value* truncDiv(llvm::Value* l, llvm::Value* r) {
      return g.b_.CreateSIToFP(g.b_.CreateSDiv(g.toInt(l), g.toInt(r)), g.dbl_);
    }
    llvm::Value* truncRem(llvm::Value* l, llvm::Value* r) {
      return g.b_.CreateSIToFP(g.b_.CreateSRem(g.toInt(l), g.toInt(r)), g.dbl_);
    }
    llvm::Value* eq(llvm::Value* l, llvm::Value* r) { return g.b_.CreateFCmpOEQ(l, r); }
    llvm::Value* ne(llvm::Value* l, llvm::Value* r) { return g.b_.CreateFCmpUNE(l, r); }
    llvm::Value* lt(llvm::Value* l, llvm::Value* r) { return g.b_.CreateFCmpOLT(l, r); }
    llvm::Value* le(llvm::Value* l, llvm::Value* r) { return g.b_.CreateFCmpOLE(l, r); }
    llvm::Value* gt(llvm::Value* l, llvm::Value* r) { return g.b_.CreateFCmpOGT(l, r); }
    llvm::Value* ge(llvm::Value* l, llvm::Value* r) { return g.b_.CreateFCmpOGE(l, r); }
    llvm::Value* both(llvm::Value* a, llvm::Value* b) { return g.b_.CreateAnd(a, b); }
    llvm::Value* pick(llvm::Value* c, llvm::Value* t, llvm::Value* f) {
      return g.b_.CreateSelect(c, t, f);
    }
    llvm::Value* fromCond(llvm::Value* c) { return g.fromBool(c); }
    template <class Message> bool require(llvm::Value* ok, symbolic::ops::Fault f, Message&&) {
      g.check(ok, faultCode(f));
      return true;
    }
    bool unsupported(std::string what) { return g.fail(std::move(what)); }
  };
  static int faultCode(symbolic::ops::Fault f) {
    switch (f) {
    case symbolic::ops::Fault::DivisionByZero:
      return kDivisionByZero;
    case symbolic::ops::Fault::IntOverflow:
      return kIntOverflow;
    case symbolic::ops::Fault::IndexRange:
      return kIndexRange;
    }
    return kIndexRange;
  }
  llvm::Value* toInt(llvm::Value* d) { return b_.CreateFPToSI(d, i64_); }

  /// Both arms emitted, merged by a phi (of doubles, or of array pointers).
  template <typename T, typename F>
  bool branch(llvm::Value* c, T&& ifTrue, F&& ifFalse, LlvmVal& out) {
    llvm::Value* cond = truth(c);
    llvm::BasicBlock *t = newBlock("then"), *f = newBlock("else"), *m = newBlock("merge");
    b_.CreateCondBr(cond, t, f);
    LlvmVal tv, fv;
    b_.SetInsertPoint(t);
    if (!ifTrue(tv)) return false;
    llvm::BasicBlock* tEnd = b_.GetInsertBlock();
    b_.CreateBr(m);
    b_.SetInsertPoint(f);
    if (!ifFalse(fv)) return false;
    llvm::BasicBlock* fEnd = b_.GetInsertBlock();
    b_.CreateBr(m);
    b_.SetInsertPoint(m);
    const bool isArray = tv.s == nullptr; // an arm's fresh value holds `s` only for a scalar
    llvm::Value* tx = isArray ? tv.a.ptr : tv.s;
    llvm::PHINode* phi = b_.CreatePHI(tx->getType(), 2);
    phi->addIncoming(tx, tEnd);
    phi->addIncoming(isArray ? fv.a.ptr : fv.s, fEnd);
    if (isArray)
      out.a = LlvmArray{phi, tv.a.n};
    else
      out.s = phi;
    return true;
  }
  llvm::Value* truthOf(llvm::Value* x, bool negate) {
    return b_.CreateSelect(truth(x), cst(negate ? 0 : 1), cst(negate ? 1 : 0));
  }
  llvm::Value* intToReal(llvm::Value* x) { return x; }
  bool intBinary(BinOp op, llvm::Value* x, llvm::Value* y, llvm::Value*& out) {
    Arith a{*this};
    return symbolic::ops::intBinary(a, op, x, y, out);
  }
  bool intUnary(UnOp op, llvm::Value* x, llvm::Value*& out) {
    Arith a{*this};
    return symbolic::ops::intUnary(a, op, x, out);
  }
  bool realComparison(BinOp op, llvm::Value* x, llvm::Value* y, llvm::Value*& out) {
    Arith a{*this};
    out = a.fromCond(symbolic::ops::comparison(a, op, x, y));
    return true;
  }

  bool realNeg(llvm::Value* x, llvm::Value*& out) { return out = b_.CreateFNeg(x), true; }
  bool realAbs(llvm::Value* x, llvm::Value*& out) {
    return out = b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x), true;
  }
  bool realRelu(llvm::Value* x, llvm::Value*& out) {
    return out = b_.CreateSelect(b_.CreateFCmpOGT(x, cst(0)), x, cst(0)), true;
  }
  bool realExp(llvm::Value* x, llvm::Value*& out) { return out = checkReal(libm("exp", x)), true; }
  bool realLog(llvm::Value* x, llvm::Value*& out) {
    check(b_.CreateFCmpOGT(x, cst(0)), kDomain); // ops::logDefined
    return out = checkReal(libm("log", x)), true;
  }
  bool realSqrt(llvm::Value* x, llvm::Value*& out) {
    check(b_.CreateFCmpOGE(x, cst(0)), kDomain); // ops::sqrtDefined
    return out = b_.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x), true;
  }
  bool realSigmoid(llvm::Value* x, llvm::Value*& out) { // ops::sigmoid
    llvm::Value* pos = b_.CreateFDiv(cst(1), b_.CreateFAdd(cst(1), libm("exp", b_.CreateFNeg(x))));
    llvm::Value* ex = libm("exp", x);
    llvm::Value* neg = b_.CreateFDiv(ex, b_.CreateFAdd(cst(1), ex));
    return out = b_.CreateSelect(b_.CreateFCmpOGE(x, cst(0)), pos, neg), true;
  }
  bool realTanh(llvm::Value* x, llvm::Value*& out) { return out = libm("tanh", x), true; }
  bool realAdd(llvm::Value* l, llvm::Value* r, llvm::Value*& out) {
    return out = checkReal(b_.CreateFAdd(l, r)), true;
  }
  bool realSub(llvm::Value* l, llvm::Value* r, llvm::Value*& out) {
    return out = checkReal(b_.CreateFSub(l, r)), true;
  }
  bool realMul(llvm::Value* l, llvm::Value* r, llvm::Value*& out) {
    return out = checkReal(b_.CreateFMul(l, r)), true;
  }
  bool realDiv(llvm::Value* l, llvm::Value* r, llvm::Value*& out) {
    Arith a{*this};
    symbolic::ops::nonzeroDivisor(a, BinOp::Div, r);
    return out = checkReal(b_.CreateFDiv(l, r)), true;
  }
  bool realMin(llvm::Value* l, llvm::Value* r, llvm::Value*& out) {
    return out = b_.CreateSelect(b_.CreateFCmpOLT(l, r), l, r), true;
  }
  bool realMax(llvm::Value* l, llvm::Value* r, llvm::Value*& out) {
    return out = b_.CreateSelect(b_.CreateFCmpOGT(l, r), l, r), true;
  }
  /// x[0] + x[1] + ... from 0, left to right (a loop).
  llvm::Value* sumLoop(const LlvmArray& x) {
    llvm::Value* acc = alloca(1);
    b_.CreateStore(cst(0), acc);
    loop(0, int64_t(x.n), [&](llvm::Value* k) {
      b_.CreateStore(b_.CreateFAdd(b_.CreateLoad(dbl_, acc), b_.CreateLoad(dbl_, elem(x.ptr, k))),
                     acc);
    });
    return b_.CreateLoad(dbl_, acc);
  }
  /// x[0] * y[0] + x[1] * y[1] + ... from 0, left to right (a loop, no fused multiply-add).
  llvm::Value* dotLoop(const LlvmArray& x, const LlvmArray& y) {
    llvm::Value* acc = alloca(1);
    b_.CreateStore(cst(0), acc);
    loop(0, int64_t(x.n), [&](llvm::Value* k) {
      llvm::Value* p =
          b_.CreateFMul(b_.CreateLoad(dbl_, elem(x.ptr, k)), b_.CreateLoad(dbl_, elem(y.ptr, k)));
      b_.CreateStore(b_.CreateFAdd(b_.CreateLoad(dbl_, acc), p), acc);
    });
    return b_.CreateLoad(dbl_, acc);
  }
  bool realSum(const LlvmArray& x, llvm::Value*& out) { return out = checkReal(sumLoop(x)), true; }
  bool intSum(const LlvmArray& x, llvm::Value*& out) {
    Arith a{*this};
    return symbolic::ops::intResult(a, sumLoop(x), "sum", out);
  }
  bool realDot(const LlvmArray& x, const LlvmArray& y, llvm::Value*& out) {
    return out = checkReal(dotLoop(x, y)), true;
  }
  bool intDot(const LlvmArray& x, const LlvmArray& y, llvm::Value*& out) {
    Arith a{*this};
    return symbolic::ops::intResult(a, dotLoop(x, y), "dot", out);
  }
  /// The first index of the maximum (a later element replaces it only when strictly larger).
  bool argmax(const LlvmArray& x, bool, llvm::Value*& out) {
    llvm::Value* best = allocaI64();
    b_.CreateStore(i64(0), best);
    loop(1, int64_t(x.n), [&](llvm::Value* k) {
      llvm::Value* bk = b_.CreateLoad(i64_, best);
      llvm::Value* better = b_.CreateFCmpOGT(b_.CreateLoad(dbl_, elem(x.ptr, k)),
                                             b_.CreateLoad(dbl_, elem(x.ptr, bk)));
      b_.CreateStore(b_.CreateSelect(better, k, bk), best);
    });
    out = b_.CreateSIToFP(b_.CreateLoad(i64_, best), dbl_);
    return true;
  }

  /// ops::indexInRange, then the index as an i64.
  llvm::Value* checkedIndex(llvm::Value* i, int n) {
    Arith a{*this};
    symbolic::ops::indexInRange(a, i, n);
    return toInt(i);
  }
  bool indexRead(const LlvmArray& src, llvm::Value* i, int n, size_t w, bool isArray,
                 LlvmVal& out) {
    llvm::Value* k = checkedIndex(i, n);
    if (isArray)
      out.a = LlvmArray{elem(src.ptr, b_.CreateMul(k, i64(int64_t(w)))), w};
    else
      out.s = b_.CreateLoad(dbl_, elem(src.ptr, k));
    return true;
  }
  bool indexWrite(LlvmArray& dst, llvm::Value* i, int n, const LlvmVal& v, size_t w, bool isArray) {
    llvm::Value* k = checkedIndex(i, n);
    if (isArray)
      copy(elem(dst.ptr, b_.CreateMul(k, i64(int64_t(w)))), v.a.ptr, w);
    else
      b_.CreateStore(v.s, elem(dst.ptr, k));
    return true;
  }
  /// A variable's frame entry is its stack slot: an array is read in place, a scalar loaded.
  void loadVar(const LlvmVal& slotVal, bool isArray, LlvmVal& out) {
    if (isArray)
      out.a = slotVal.a;
    else
      out.s = b_.CreateLoad(dbl_, slotVal.a.ptr);
  }
  void arrayStart(LlvmArray& a, size_t n) { a = LlvmArray{alloca(n), n}; }
  void arrayAppend(LlvmArray& a, size_t pos, const LlvmVal& v, size_t w, bool isArray) {
    if (isArray)
      copy(elem(a.ptr, int64_t(pos)), v.a.ptr, w);
    else
      b_.CreateStore(v.s, elem(a.ptr, int64_t(pos)));
  }
  /// An update writes a fresh stack copy (the array may be a variable's slot).
  void arrayOwn(LlvmArray& a, size_t n) {
    llvm::Value* buf = alloca(n);
    copy(buf, a.ptr, n);
    a = LlvmArray{buf, n};
  }
  /// A dense layer: loops over rows and columns, weights and bias as constant global arrays,
  /// each row b_r + sum_c W_rc x_c in that order, checked finite.
  bool affineLayer(const DenseLayer& L, const LlvmArray& inArr, LlvmArray& outArr);
  bool vecRelu(LlvmArray& a) {
    llvm::Value* out = alloca(a.n);
    loop(0, int64_t(a.n), [&](llvm::Value* k) {
      llvm::Value* x = b_.CreateLoad(dbl_, elem(a.ptr, k));
      b_.CreateStore(b_.CreateSelect(b_.CreateFCmpOGT(x, cst(0)), x, cst(0)), elem(out, k));
    });
    a.ptr = out;
    return true;
  }
  bool callPure(const Function& callee, std::vector<LlvmVal>& args, std::vector<LlvmVal>& outs) {
    llvm::Value* buf = callWith(callee, args);
    outs.assign(callee.outputs().size(), LlvmVal{});
    size_t off = 0;
    for (size_t k = 0; k < outs.size(); ++k) {
      const Type& t = callee.outputs()[k]->type();
      llvm::Value* p = elem(buf, int64_t(off));
      if (t.isArray())
        outs[k].a = LlvmArray{p, t.numScalars()};
      else
        outs[k].s = b_.CreateLoad(dbl_, p);
      off += t.numScalars();
    }
    return true;
  }

protected:
  // ---- statements (one stmt<Kind> per statement kind, called by StmtDispatch) ----
  friend class symbolic::StmtDispatch<FunctionGen, void>;
  void stmtLet(const LetStmt& s) { store(s.var, eval(s.value)); }
  void stmtAssign(const AssignStmt& s) { store(s.var, eval(s.value)); }
  void unsupported(const char* what) {
    if (!err_) err_ = Error(*loc_, std::string("a ") + what + " statement cannot be compiled");
  }
  // Random statements call the runtime (codegen/runtime.h), in the interpreter's order. Normal
  // and Bernoulli are generated inline (their validation, draw and log density are symbolic/
  // distributions.cpp's operations one for one; only the standard normal or uniform draw is a
  // call), so constant parameters fold; every other distribution is a call of the runtime's
  // generic functions.
  void stmtSample(const SampleStmt& s) {
    if (!rt_) return unsupported("sample");
    if (lw_) return sampleUntraced(s); // never traced
    // A traced run (JitRuntime::tracing set) records the choice and may replay it; the runtime
    // checks the params (after the address's indices are evaluated: when both fail, the
    // interpreter's error, which a failing run reports, is the params').
    llvm::Value* traced =
        b_.CreateICmpNE(b_.CreateLoad(i8p_, rtField(offsetof(JitRuntime, tracing), i8p_)),
                        llvm::ConstantPointerNull::get(llvm::cast<llvm::PointerType>(i8p_)));
    llvm::BasicBlock *withTrace = newBlock("traced"), *plain = newBlock("untraced"),
                     *joined = newBlock("sampled");
    b_.CreateCondBr(traced, withTrace, plain);
    b_.SetInsertPoint(withTrace);
    {
      int64_t n = 0;
      llvm::Value* ps = distParams(s.params, n);
      llvm::Value* idx = indexValues(s.indices);
      llvm::Value* v = alloca(1);
      llvm::BasicBlock* slow = newBlock("choice");
      fastReplay(s, ps, n, idx, slow, joined);
      b_.SetInsertPoint(slow);
      checkRuntime(b_.CreateCall(
          runtimeFunction("chassis_rt_choice", i32_,
                          {i8p_, i32_, dblp_, i64_, i32_, dblp_, i64_, dblp_}),
          {rt_, i32(choiceName(s.name)), idx, i64(int64_t(s.indices.size())),
           i32(int(s.dist)), ps, i64(n), v}));
      store(s.var, b_.CreateLoad(dbl_, v));
      b_.CreateBr(joined);
    }
    b_.SetInsertPoint(plain);
    sampleUntraced(s);
    b_.CreateBr(joined);
    b_.SetInsertPoint(joined);
  }
  /// A pointer to the field at `offset` bytes of `base`, as a pointer to `t`.
  llvm::Value* fieldOf(llvm::Value* base, size_t offset, llvm::Type* t) {
    llvm::Value* p = b_.CreateBitCast(base, i8p_);
    p = b_.CreateConstGEP1_64(llvm::Type::getInt8Ty(ctx_), p, offset);
    return b_.CreateBitCast(p, llvm::PointerType::getUnqual(t));
  }
  llvm::Value* loadField(llvm::Value* base, size_t offset, llvm::Type* t) {
    return b_.CreateLoad(t, fieldOf(base, offset, t));
  }
  /// The in-place replay of a traced sample (runtime.h JitFastReplay), inline: when the run is
  /// still replaying in place (JitRuntime::fast set) and the replay trace's choice at this run's
  /// position has this site's key (name and index bits), distribution and parameters (bits), its
  /// value (or the override) and score are taken and the run goes on at `done` with the value in
  /// the sample's variable and the score added to logPrior; otherwise at `slow` (chassis_rt_choice). The same
  /// decisions and values as chassis_rt_choice's fast path, which the slow block then is for the
  /// cases left (a key written, a call-site prefix, an override scored by symbolic::logDensity).
  void fastReplay(const SampleStmt& s, llvm::Value* ps, int64_t n, llvm::Value* idx,
                  llvm::BasicBlock* slow, llvm::BasicBlock* done) {
    using codegen::JitChoice;
    using codegen::JitFastReplay;
    constexpr int64_t kMaxInline = 16; // parameters compared inline (more: the runtime's path)
    if (n > kMaxInline) return b_.CreateBr(slow), void();
    llvm::Type* i8 = llvm::Type::getInt8Ty(ctx_);
    llvm::Type* fastPtrTy = i8p_;
    llvm::Value* fast = b_.CreateLoad(fastPtrTy, rtField(offsetof(JitRuntime, fast), fastPtrTy));
    llvm::BasicBlock* inMode = newBlock("inplace");
    b_.CreateCondBr(b_.CreateICmpNE(fast, llvm::ConstantPointerNull::get(
                                              llvm::cast<llvm::PointerType>(i8p_))),
                    inMode, slow);
    b_.SetInsertPoint(inMode);
    llvm::Value* pos = loadField(fast, offsetof(JitFastReplay, pos), i64_);
    llvm::Value* count = loadField(fast, offsetof(JitFastReplay, count), i64_);
    llvm::BasicBlock* atPos = newBlock("atpos");
    b_.CreateCondBr(b_.CreateICmpSLT(pos, count), atPos, slow);
    b_.SetInsertPoint(atPos);
    llvm::Value* choices = loadField(fast, offsetof(JitFastReplay, choices), i8p_);
    llvm::Value* r = b_.CreateGEP(i8, choices, b_.CreateMul(pos, i64(int64_t(sizeof(JitChoice)))));
    const int64_t nIdx = int64_t(s.indices.size());
    // The choice's shape: recorded (checked) by a run, this distribution, as many parameters,
    // a key of one segment with this many indices.
    llvm::Value* shape = b_.CreateAnd(
        b_.CreateICmpNE(loadField(r, offsetof(JitChoice, checked), i8), llvm::ConstantInt::get(i8, 0)),
        b_.CreateICmpEQ(loadField(r, offsetof(JitChoice, dist), i32_), i32(int(s.dist))));
    shape = b_.CreateAnd(shape, b_.CreateICmpEQ(loadField(r, offsetof(JitChoice, paramLen), i32_),
                                                i32(int(n))));
    shape = b_.CreateAnd(shape, b_.CreateICmpEQ(loadField(r, offsetof(JitChoice, keyLen), i32_),
                                                i32(int(8 + 8 * nIdx))));
    llvm::BasicBlock* bits = newBlock("samebits");
    b_.CreateCondBr(shape, bits, slow);
    b_.SetInsertPoint(bits);
    // The key: (name id, index count) as one 64-bit word, then the index bits; the parameters'
    // bits. Loaded unaligned from the pools.
    auto word = [&](llvm::Value* base, llvm::Value* byteOffset) {
      llvm::Value* p = b_.CreateBitCast(b_.CreateGEP(i8, base, byteOffset),
                                        llvm::PointerType::getUnqual(i64_));
      return b_.CreateAlignedLoad(i64_, p, llvm::MaybeAlign(1));
    };
    auto bitsOf = [&](llvm::Value* buf, int64_t k) {
      return b_.CreateBitCast(b_.CreateLoad(dbl_, elem(buf, k)), i64_);
    };
    llvm::Value* keys = loadField(fast, offsetof(JitFastReplay, keys), i8p_);
    llvm::Value* keyAt = b_.CreateZExt(loadField(r, offsetof(JitChoice, keyAt), i32_), i64_);
    const uint64_t head = uint64_t(uint32_t(choiceName(s.name))) | (uint64_t(uint32_t(nIdx)) << 32);
    llvm::Value* same = b_.CreateICmpEQ(word(keys, keyAt), llvm::ConstantInt::get(i64_, head));
    for (int64_t k = 0; k < nIdx; ++k)
      same = b_.CreateAnd(same, b_.CreateICmpEQ(word(keys, b_.CreateAdd(keyAt, i64(8 + 8 * k))),
                                                bitsOf(idx, k)));
    llvm::Value* params = loadField(fast, offsetof(JitFastReplay, params), dblp_);
    llvm::Value* paramAt = b_.CreateZExt(loadField(r, offsetof(JitChoice, paramAt), i32_), i64_);
    for (int64_t k = 0; k < n; ++k)
      same = b_.CreateAnd(
          same, b_.CreateICmpEQ(b_.CreateBitCast(b_.CreateLoad(dbl_, elem(params, b_.CreateAdd(paramAt, i64(k)))), i64_),
                                bitsOf(ps, k)));
    llvm::BasicBlock* take = newBlock("replay");
    b_.CreateCondBr(same, take, slow);
    // The value and its score: the recorded ones, or the override's (given, or Normal's from the
    // recorded log(sigma)).
    b_.SetInsertPoint(take);
    llvm::Value* overridden =
        b_.CreateICmpEQ(pos, loadField(fast, offsetof(JitFastReplay, overrideAt), i64_));
    llvm::BasicBlock *keep = newBlock("kept"), *over = newBlock("override"),
                     *given = newBlock("given"), *scored = newBlock("scored");
    b_.CreateCondBr(overridden, over, keep);
    b_.SetInsertPoint(keep);
    llvm::Value* keptV = loadField(r, offsetof(JitChoice, value), dbl_);
    llvm::Value* keptLp = loadField(r, offsetof(JitChoice, logProb), dbl_);
    b_.CreateBr(scored);
    b_.SetInsertPoint(over);
    // The override's score is kept for the trace the run implies (leaveFastReplay, the runner).
    llvm::Value* scoreField = fieldOf(fast, offsetof(JitFastReplay, overrideScore), dbl_);
    llvm::Value* overV = loadField(fast, offsetof(JitFastReplay, overrideValue), dbl_);
    llvm::Value* known = loadField(fast, offsetof(JitFastReplay, overrideLogProb), dblp_);
    llvm::Value* isKnown = b_.CreateICmpNE(
        known, llvm::ConstantPointerNull::get(llvm::cast<llvm::PointerType>(dblp_)));
    llvm::BasicBlock* computed = s.dist == DistKind::Normal && n == 2 ? newBlock("normal") : slow;
    b_.CreateCondBr(isKnown, given, computed);
    b_.SetInsertPoint(given);
    llvm::Value* givenLp = b_.CreateLoad(dbl_, known);
    b_.CreateStore(givenLp, scoreField);
    b_.CreateBr(scored);
    llvm::Value* normalLp = nullptr;
    if (computed != slow) { // codegen::normalLogDensity(params, logScale, x)
      b_.SetInsertPoint(computed);
      llvm::Value* z = b_.CreateFDiv(b_.CreateFSub(overV, b_.CreateLoad(dbl_, elem(ps, int64_t(0)))),
                                     b_.CreateLoad(dbl_, elem(ps, 1)));
      llvm::Value* sq = b_.CreateFMul(b_.CreateFMul(cst(-0.5), z), z);
      llvm::Value* lp = b_.CreateFSub(
          b_.CreateFSub(sq, loadField(r, offsetof(JitChoice, logScale), dbl_)),
          cst(symbolic::dist_detail::kLogSqrt2Pi));
      normalLp = b_.CreateSelect(b_.CreateFCmpUNO(overV, overV),
                                 cst(-std::numeric_limits<double>::infinity()), lp);
      b_.CreateStore(normalLp, scoreField);
      b_.CreateBr(scored);
    }
    b_.SetInsertPoint(scored);
    llvm::PHINode* val = b_.CreatePHI(dbl_, 3);
    llvm::PHINode* lp = b_.CreatePHI(dbl_, 3);
    val->addIncoming(keptV, keep);
    lp->addIncoming(keptLp, keep);
    val->addIncoming(overV, given);
    lp->addIncoming(givenLp, given);
    if (normalLp) {
      val->addIncoming(overV, computed);
      lp->addIncoming(normalLp, computed);
    }
    b_.CreateStore(b_.CreateAdd(pos, i64(1)), fieldOf(fast, offsetof(JitFastReplay, pos), i64_));
    addTo(offsetof(JitRuntime, logPrior), lp);
    store(s.var, val);
    b_.CreateBr(done);
  }
  /// Whether the parameters `ps` of `dist` are constants (scalars, or array literals of them)
  /// that symbolic::validateParams accepts, and `dist` is not a flat prior: then every run's
  /// check of them passes, and is left out.
  static bool constantlyValid(DistKind dist, const std::vector<Expr>& ps) {
    if (isFlat(dist)) return false;
    std::vector<double> values;
    for (Expr p : ps) {
      if (auto* c = p->as<Const>()) {
        values.push_back(c->asDouble());
      } else if (auto* a = p->as<ArrayLit>()) {
        for (Expr e : a->elements()) {
          auto* c = e->as<Const>();
          if (!c) return false;
          values.push_back(c->asDouble());
        }
      } else {
        return false;
      }
    }
    return !symbolic::validateParams(dist, values);
  }
  /// The index values of a choice's or call site's address, in a stack buffer.
  llvm::Value* indexValues(const std::vector<Expr>& indices) {
    llvm::Value* buf = alloca(indices.size());
    for (size_t k = 0; k < indices.size(); ++k)
      b_.CreateStore(eval(indices[k]), elem(buf, int64_t(k)));
    return buf;
  }
  /// A sample that records nothing (likelihood weighting's runs).
  void sampleUntraced(const SampleStmt& s) {
    if (s.dist == DistKind::Normal) {
      llvm::Value* mu = eval(s.params[0]);
      llvm::Value* sigma = eval(s.params[1]);
      checkNormalParams(mu, sigma);
      llvm::Value* z =
          lw_ ? emitRngNormal(b_, module(), rngState())
              : b_.CreateCall(runtimeFunction("chassis_rt_normal", dbl_, {i8p_}), {rt_});
      llvm::Value* v = b_.CreateFAdd(mu, b_.CreateFMul(sigma, z));
      // finiteOrMax: an infinite draw becomes the largest finite double of its sign
      const double inf = std::numeric_limits<double>::infinity();
      v = b_.CreateSelect(b_.CreateFCmpOEQ(v, cst(inf)), cst(std::numeric_limits<double>::max()),
                          v);
      v = b_.CreateSelect(b_.CreateFCmpOEQ(v, cst(-inf)),
                          cst(std::numeric_limits<double>::lowest()), v);
      addTo(offsetof(JitRuntime, logPrior), normalLogDensity(mu, sigma, v));
      store(s.var, v);
      return;
    }
    if (s.dist == DistKind::Bernoulli) {
      llvm::Value* p = eval(s.params[0]);
      checkProbability(p);
      llvm::Value* u =
          lw_ ? emitRngUniform(b_, rngState())
              : b_.CreateCall(runtimeFunction("chassis_rt_uniform", dbl_, {i8p_}), {rt_});
      llvm::Value* v = b_.CreateSelect(b_.CreateFCmpOLT(u, p), cst(1), cst(0));
      addTo(offsetof(JitRuntime, logPrior), bernoulliLogMass(p, v));
      store(s.var, v);
      return;
    }
    int64_t n = 0;
    // Constant parameters that validateParams accepts (not a flat prior's) are not checked per run.
    const bool valid = constantlyValid(s.dist, s.params);
    const char* entry = valid ? "chassis_rt_sample_valid" : "chassis_rt_sample";
    llvm::Value* ps = distParams(s.params, n);
    llvm::Value* v = alloca(1);
    if (lw_) { // chassis_rt_draw on a copy of the state (the generator's state stays a local)
      llvm::Value* st = rngState();
      llvm::Value* tmp = llvm::IRBuilder<>(allocaBlock_).CreateAlloca(i64_, i64(4));
      emitCopyRngState(b_, st, tmp);
      llvm::Value* rc = b_.CreateCall(
          runtimeFunction("chassis_rt_draw", i32_,
                          {llvm::PointerType::getUnqual(i64_), i32_, dblp_, i64_, i32_, dblp_}),
          {tmp, i32(int(s.dist)), ps, i64(n), i32(valid ? 0 : 1), v});
      emitCopyRngState(b_, tmp, st);
      checkRuntime(rc);
      store(s.var, b_.CreateLoad(dbl_, v));
      return;
    }
    llvm::Value* rc = b_.CreateCall(
        runtimeFunction(entry, i32_, {i8p_, i32_, dblp_, i64_, dblp_}),
        {rt_, i32(int(s.dist)), ps, i64(n), v});
    checkRuntime(rc);
    store(s.var, b_.CreateLoad(dbl_, v));
  }
  void stmtObserve(const ObserveStmt& s) {
    if (!rt_) return unsupported("observe");
    if (s.dist == DistKind::Normal) {
      llvm::Value* mu = eval(s.params[0]);
      llvm::Value* sigma = eval(s.params[1]);
      checkNormalParams(mu, sigma);
      llvm::Value* x = eval(s.value);
      addTo(offsetof(JitRuntime, logLikelihood), normalLogDensity(mu, sigma, x));
      countObserve();
      return;
    }
    if (s.dist == DistKind::Bernoulli) {
      llvm::Value* p = eval(s.params[0]);
      checkProbability(p);
      llvm::Value* x = eval(s.value);
      addTo(offsetof(JitRuntime, logLikelihood), bernoulliLogMass(p, x));
      countObserve();
      return;
    }
    int64_t n = 0;
    llvm::Value* ps = distParams(s.params, n);
    if (!constantlyValid(s.dist, s.params)) // constant valid parameters: not checked per run
      checkRuntime(
          b_.CreateCall(runtimeFunction("chassis_rt_check_params", i32_, {i32_, dblp_, i64_}),
                        {i32(int(s.dist)), ps, i64(n)}));
    llvm::Value* x = eval(s.value);
    if (lw_) { // chassis_rt_observe's operations, the density called, the sum inline
      addTo(offsetof(JitRuntime, logLikelihood),
            b_.CreateCall(runtimeFunction("chassis_rt_log_density", dbl_, {i32_, dblp_, i64_, dbl_}),
                          {i32(int(s.dist)), ps, i64(n), x}));
      countObserve();
      return;
    }
    b_.CreateCall(runtimeFunction("chassis_rt_observe", llvm::Type::getVoidTy(ctx_),
                                  {i8p_, i32_, dblp_, i64_, dbl_}),
                  {rt_, i32(int(s.dist)), ps, i64(n), x});
  }
  void stmtCondition(const ConditionStmt& s) {
    if (!rt_) return unsupported("condition");
    llvm::Value* c = eval(s.cond);
    if (lw_) { // chassis_rt_condition's operations, inline (the runtime stays a local)
      llvm::Value* count = rtField(offsetof(JitRuntime, numConditions), i32_);
      b_.CreateStore(b_.CreateAdd(b_.CreateLoad(i32_, count), i32(1)), count);
      llvm::Value* failed = rtField(offsetof(JitRuntime, conditionFailed), i32_);
      b_.CreateStore(
          b_.CreateSelect(b_.CreateFCmpOEQ(c, cst(0)), i32(1), b_.CreateLoad(i32_, failed)),
          failed);
      return;
    }
    b_.CreateCall(
        runtimeFunction("chassis_rt_condition", llvm::Type::getVoidTy(ctx_), {i8p_, dbl_}),
        {rt_, c});
  }
  void stmtFactor(const FactorStmt& s) {
    if (!rt_) return unsupported("factor");
    llvm::Value* w = eval(s.logWeight);
    if (lw_) { // chassis_rt_factor's operations, inline
      check(b_.CreateFCmpORD(w, w), kFactorNaN);
      addTo(offsetof(JitRuntime, logFactor), w);
      llvm::Value* count = rtField(offsetof(JitRuntime, numFactors), i32_);
      b_.CreateStore(b_.CreateAdd(b_.CreateLoad(i32_, count), i32(1)), count);
      return;
    }
    checkRuntime(b_.CreateCall(runtimeFunction("chassis_rt_factor", i32_, {i8p_, dbl_}), {rt_, w}));
  }
  void stmtAssert(const AssertStmt& s) { check(truth(eval(s.cond)), kAssertFailed); }
  void stmtIf(const IfStmt& s) {
    llvm::Value* c = truth(eval(s.cond));
    llvm::BasicBlock *t = newBlock("then"), *f = newBlock("else"), *m = newBlock("endif");
    b_.CreateCondBr(c, t, f);
    b_.SetInsertPoint(t);
    block(s.thenBody);
    b_.CreateBr(m);
    b_.SetInsertPoint(f);
    block(s.elseBody);
    b_.CreateBr(m);
    b_.SetInsertPoint(m);
  }
  void stmtFor(const ForStmt& s) {
    loop(s.lo, s.hi, [&](llvm::Value* k) {
      b_.CreateStore(b_.CreateSIToFP(k, dbl_), slot(s.index));
      block(s.body);
    });
  }
  void stmtCall(const CallStmt& s) {
    llvm::Value* out = callFunction(*s.callee, s.args, &s);
    size_t off = 0;
    for (size_t k = 0; k < s.callee->outputs().size(); ++k) {
      const Type& t = s.callee->outputs()[k]->type();
      if (k < s.results.size() && s.results[k]) {
        llvm::Value* p = elem(out, int64_t(off));
        store(s.results[k], t.isArray() ? p : b_.CreateLoad(dbl_, p));
      }
      off += t.numScalars();
    }
  }

public:
  std::optional<Error> err_;

private:
  ModuleGen& mg_;
  const Function& f_;
  llvm::Function* fn_;
  llvm::LLVMContext& ctx_;
  llvm::IRBuilder<> b_;
  llvm::Type *dbl_, *i64_, *i32_, *i8p_, *dblp_;
  llvm::BasicBlock* allocaBlock_ = nullptr;
  std::vector<llvm::Value*> slots_;
  std::vector<LlvmVal> frame_; // the evaluator's view of the slots: every variable as an array
  std::map<std::pair<int, int>, llvm::BasicBlock*> fail_; // by (code, site)
  llvm::Value* rt_ = nullptr; // the runtime argument (ModuleGen::withRuntime), else null
  int site_ = -1;             // the site of the statement being generated (with the runtime)
  bool lw_ = false;           // the likelihood-weighting variant: untraced, draws inline
  const SourceLoc* loc_;
};

/// The LLVM module being built: one function per IR function reached from the root.
class ModuleGen {
public:
  explicit ModuleGen(llvm::LLVMContext& ctx)
      : ctx(ctx), mod(std::make_unique<llvm::Module>("chassis", ctx)) {}

  llvm::FunctionType* fnType() {
    llvm::Type* p = llvm::Type::getDoublePtrTy(ctx);
    if (withRuntime)
      return llvm::FunctionType::get(llvm::Type::getInt32Ty(ctx),
                                     {p, p, llvm::Type::getInt8PtrTy(ctx)}, false);
    return llvm::FunctionType::get(llvm::Type::getInt32Ty(ctx), {p, p}, false);
  }
  /// A new site number for a statement at `loc` (JitModel::siteLocation).
  int addSite(const SourceLoc& loc) {
    sites.push_back(loc);
    return int(sites.size() - 1);
  }
  /// The id of a choice or call-site name in addresses (JitModel::choiceName).
  int choiceName(const std::string& name) {
    auto [it, added] = choiceNameIds.emplace(name, int(choiceNames.size()));
    if (added) choiceNames.push_back(name);
    return it->second;
  }
  /// Whether running `f` may sample (directly or through a call).
  bool drawsChoices(const Function& f) {
    if (auto it = draws.find(&f); it != draws.end()) return it->second;
    draws[&f] = false; // a call cycle adds nothing
    bool any = false;
    forEachStmt(f.body(), [&](Stmt s) {
      if (s->kind() == StmtKind::Sample) any = true;
      if (auto* c = s->as<CallStmt>()) any = any || drawsChoices(*c->callee);
      forEachExpr(s, [&](Expr e) {
        std::function<void(Expr)> walk = [&](Expr x) {
          if (auto* call = x->as<Call>()) any = any || drawsChoices(call->callee());
          for (Expr o : x->operands()) walk(o);
        };
        walk(e);
      });
    });
    return draws[&f] = any;
  }
  /// The LLVM function of `f`, generated on first use. `lw` (with the runtime): its
  /// likelihood-weighting variant, internal, for runs never traced (addLwBlockEntry): samples
  /// without the traced path, Normal's and Bernoulli's draws generated inline (emitRngNormal,
  /// emitRngUniform) instead of runtime calls, callees' variants called.
  llvm::Function* get(const Function& f, bool exported = false, bool lw = false) {
    auto& made = lw ? lwFns : fns;
    if (auto it = made.find(&f); it != made.end()) return it->second;
    std::string name =
        lw ? "chassis.lw." + f.name() : exported ? symbolName(f) : "chassis." + f.name();
    llvm::Function* fn = llvm::Function::Create(
        fnType(),
        exported && !lw ? llvm::Function::ExternalLinkage : llvm::Function::InternalLinkage, name,
        *mod);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    made[&f] = fn;
    FunctionGen g(*this, f, fn, lw);
    g.generate();
    if (g.err_ && !err) err = g.err_;
    return fn;
  }

  llvm::LLVMContext& ctx;
  std::unique_ptr<llvm::Module> mod;
  std::map<const Function*, llvm::Function*> fns;
  std::map<const Function*, llvm::Function*> lwFns; // get(f, _, true)
  std::optional<Error> err;
  bool withRuntime = false; // every function takes the runtime state as a third argument
  std::vector<SourceLoc> sites;
  std::vector<std::string> choiceNames;
  std::map<std::string, int> choiceNameIds;
  std::map<const Function*, bool> draws;
};

FunctionGen::FunctionGen(ModuleGen& mg, const Function& f, llvm::Function* fn, bool lw)
    : mg_(mg), f_(f), fn_(fn), ctx_(mg.ctx), b_(mg.ctx), lw_(lw), loc_(&f.loc()) {
  dbl_ = llvm::Type::getDoubleTy(ctx_);
  i64_ = llvm::Type::getInt64Ty(ctx_);
  i32_ = llvm::Type::getInt32Ty(ctx_);
  i8p_ = llvm::Type::getInt8PtrTy(ctx_);
  dblp_ = llvm::Type::getDoublePtrTy(ctx_);
}

int FunctionGen::newSite(const SourceLoc& loc) {
  return mg_.addSite(loc);
}
llvm::Module& FunctionGen::module() { return *mg_.mod; }
int FunctionGen::choiceName(const std::string& name) { return mg_.choiceName(name); }
bool FunctionGen::drawsChoices(const Function& f) { return mg_.drawsChoices(f); }

llvm::FunctionCallee FunctionGen::runtimeFunction(const char* name, llvm::Type* result,
                                                  std::vector<llvm::Type*> params) {
  return mg_.mod->getOrInsertFunction(name, llvm::FunctionType::get(result, params, false));
}

llvm::Value* FunctionGen::libm(const char* name, llvm::Value* x) {
  llvm::FunctionCallee callee =
      mg_.mod->getOrInsertFunction(name, llvm::FunctionType::get(dbl_, {dbl_}, false));
  return b_.CreateCall(callee, {x});
}

llvm::Value* FunctionGen::callFunction(const Function& callee, std::span<const Expr> args,
                                       const CallStmt* site) {
  std::vector<LlvmVal> vals(args.size());
  for (size_t k = 0; k < args.size(); ++k)
    if (!eval(args[k], frame_, vals[k])) return llvm::UndefValue::get(dblp_);
  return callWith(callee, vals, site);
}

llvm::Value* FunctionGen::callWith(const Function& callee, std::span<const LlvmVal> args,
                                   const CallStmt* site) {
  llvm::Value* in = alloca(flatInputs(callee));
  size_t pos = 0;
  for (size_t k = 0; k < args.size(); ++k) {
    const Type& t = callee.inputs()[k].var->type();
    size_t n = t.numScalars();
    if (t.isArray())
      copy(elem(in, int64_t(pos)), args[k].a.ptr, n);
    else
      b_.CreateStore(args[k].s, elem(in, int64_t(pos)));
    pos += n;
  }
  llvm::Value* out = alloca(flatSize(callee.outputs()));
  llvm::Function* fn = mg_.get(callee, false, lw_);
  // A traced run enters the call site's address prefix around a callee that samples.
  llvm::Value* traced = nullptr;
  if (rt_ && !lw_ && drawsChoices(callee)) {
    traced =
        b_.CreateICmpNE(b_.CreateLoad(i8p_, rtField(offsetof(JitRuntime, tracing), i8p_)),
                        llvm::ConstantPointerNull::get(llvm::cast<llvm::PointerType>(i8p_)));
    llvm::BasicBlock *enter = newBlock("enter"), *go = newBlock("call");
    b_.CreateCondBr(traced, enter, go);
    b_.SetInsertPoint(enter);
    llvm::Value* idx = site ? indexValues(site->siteIndices) : alloca(1);
    b_.CreateCall(runtimeFunction("chassis_rt_enter", llvm::Type::getVoidTy(ctx_),
                                  {i8p_, i32_, dblp_, i64_}),
                  {rt_, i32(site ? choiceName(site->site) : -1), idx,
                   i64(site ? int64_t(site->siteIndices.size()) : 0)});
    b_.CreateBr(go);
    b_.SetInsertPoint(go);
  }
  llvm::Value* rc = rt_ ? b_.CreateCall(fn, {in, out, rt_}) : b_.CreateCall(fn, {in, out});
  llvm::BasicBlock* cont = newBlock("called");
  llvm::BasicBlock* bad = newBlock("propagate");
  b_.CreateCondBr(b_.CreateICmpEQ(rc, llvm::ConstantInt::get(i32_, 0)), cont, bad);
  b_.SetInsertPoint(bad);
  if (rt_) { // a callee's failing input check is located at this (the calling) statement
    llvm::Value* p = errSitePtr(b_);
    llvm::Value* cur = b_.CreateLoad(i32_, p);
    b_.CreateStore(b_.CreateSelect(b_.CreateICmpSLT(cur, i32(0)), i32(site_), cur), p);
  }
  b_.CreateRet(rc);
  b_.SetInsertPoint(cont);
  if (traced) {
    llvm::BasicBlock *leave = newBlock("leave"), *after = newBlock("left");
    b_.CreateCondBr(traced, leave, after);
    b_.SetInsertPoint(leave);
    b_.CreateCall(
        runtimeFunction("chassis_rt_leave", llvm::Type::getVoidTy(ctx_), {i8p_}), {rt_});
    b_.CreateBr(after);
    b_.SetInsertPoint(after);
  }
  return out;
}

void FunctionGen::generate() {
  if (f_.kind() == FunctionKind::External) {
    err_ = Error(f_.loc(), "network '" + f_.name() + "' is declared but not loaded (file " +
                               f_.externalFile() + ")");
  }
  if (mg_.withRuntime) rt_ = fn_->getArg(2);
  allocaBlock_ = llvm::BasicBlock::Create(ctx_, "entry", fn_);
  llvm::BasicBlock* start = newBlock("start");
  b_.SetInsertPoint(start);
  for (const Var* v : f_.vars()) {
    size_t n = v->type().isScalar() || v->type().isArray() ? v->type().numScalars() : 1;
    llvm::Value* s = alloca(n);
    b_.CreateMemSet(s, llvm::ConstantInt::get(llvm::Type::getInt8Ty(ctx_), 0), n * 8,
                    llvm::MaybeAlign(8));
    slots_.push_back(s);
    frame_.push_back(LlvmVal{nullptr, LlvmArray{s, n}});
  }
  // The inputs, checked as symbolic::checkInput does.
  llvm::Value* in = fn_->getArg(0);
  llvm::Value* out = fn_->getArg(1);
  size_t pos = 0;
  for (const Param& p : f_.inputs()) {
    const Type& t = p.var->type();
    size_t n = t.numScalars();
    // One check per element, in a loop for an array (the checks are those of a scalar).
    auto checkOne = [&](llvm::Value* k) {
      llvm::Value* x = b_.CreateLoad(dbl_, elem(in, b_.CreateAdd(k, i64(int64_t(pos)))));
      check(isFinite(x), kInputInvalid);
      if (t.scalar == ScalarKind::Bool)
        check(b_.CreateOr(b_.CreateFCmpOEQ(x, cst(0)), b_.CreateFCmpOEQ(x, cst(1))), kInputInvalid);
      if (t.scalar == ScalarKind::Int || t.scalar == ScalarKind::Enum)
        check(b_.CreateAnd(b_.CreateFCmpOEQ(x, b_.CreateUnaryIntrinsic(llvm::Intrinsic::floor, x)),
                           b_.CreateFCmpOLE(b_.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x),
                                            cst(kMaxExactInt))),
              kInputInvalid);
      if (p.range)
        check(b_.CreateAnd(b_.CreateFCmpOGE(x, cst(p.range->first)),
                           b_.CreateFCmpOLE(x, cst(p.range->second))),
              kInputInvalid);
    };
    if (t.isArray())
      loop(0, int64_t(n), checkOne);
    else
      checkOne(i64(0));
    copy(slot(p.var), elem(in, int64_t(pos)), n);
    pos += n;
  }
  block(f_.body());
  pos = 0;
  for (const Var* o : f_.outputs()) {
    size_t n = o->type().numScalars();
    copy(elem(out, int64_t(pos)), slot(o), n);
    pos += n;
  }
  b_.CreateRet(llvm::ConstantInt::get(i32_, 0));
  llvm::IRBuilder<>(allocaBlock_).CreateBr(start);
}

bool FunctionGen::affineLayer(const DenseLayer& L, const LlvmArray& inArr, LlvmArray& outArr) {
  llvm::Value* in = inArr.ptr;
  auto global = [&](const std::vector<double>& v, const char* name) -> llvm::Value* {
    llvm::ArrayType* t = llvm::ArrayType::get(dbl_, v.size());
    auto* init = llvm::ConstantDataArray::get(ctx_, llvm::ArrayRef<double>(v));
    auto* g =
        new llvm::GlobalVariable(*mg_.mod, t, true, llvm::GlobalValue::PrivateLinkage, init, name);
    return b_.CreateConstGEP2_64(t, g, 0, 0);
  };
  // Rows side by side: out[r] = bias[r], then for each column c, out[r] += W[r][c] * in[c] over
  // every row r. Each row's sum is still bias + W[r][0] in[0] + W[r][1] in[1] + ... left to right
  // (the interpreter's order, so the result is bit-identical), but the inner loop runs over
  // independent rows, which the vectoriser turns into SIMD code; the weights are stored by column.
  const size_t rows = size_t(L.rows), cols = size_t(L.cols);
  std::vector<double> byColumn(rows * cols);
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c)
      byColumn[c * rows + r] = (*L.weights)[r * cols + c];
  llvm::Value* w = global(byColumn, "weights_by_column");
  llvm::Value* bias = global(*L.bias, "bias");
  llvm::Value* out = alloca(rows);
  loop(0, L.rows, [&](llvm::Value* r) {
    b_.CreateStore(b_.CreateLoad(dbl_, elem(bias, r)), elem(out, r));
  });
  loop(0, L.cols, [&](llvm::Value* c) {
    llvm::Value* x = b_.CreateLoad(dbl_, elem(in, c));
    llvm::Value* colStart = b_.CreateMul(c, i64(L.rows));
    loop(0, L.rows, [&](llvm::Value* r) {
      llvm::Value* p = b_.CreateFMul(b_.CreateLoad(dbl_, elem(w, b_.CreateAdd(colStart, r))), x);
      llvm::Value* o = elem(out, r);
      b_.CreateStore(b_.CreateFAdd(b_.CreateLoad(dbl_, o), p), o);
    });
  });
  loop(0, L.rows, [&](llvm::Value* r) {
    check(isFinite(b_.CreateLoad(dbl_, elem(out, r))), kNotFinite);
  });
  outArr = LlvmArray{out, size_t(L.rows)};
  return true;
}

// ------------------------------------------------------------------------------------------------
// Pipeline: build, verify, optimise, emit

Expected<std::unique_ptr<llvm::TargetMachine>> makeTargetMachine(bool hostCpu) {
  initNativeTarget();
  std::string triple = llvm::sys::getDefaultTargetTriple();
  std::string msg;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple, msg);
  if (!target) return Error("no LLVM target for " + triple + ": " + msg);
  std::string cpu = "generic", features;
  if (hostCpu) {
    cpu = llvm::sys::getHostCPUName().str();
    llvm::StringMap<bool> fs;
    if (llvm::sys::getHostCPUFeatures(fs)) {
      llvm::SubtargetFeatures sf;
      for (auto& kv : fs)
        sf.AddFeature(kv.first(), kv.second);
      features = sf.getString();
    }
  }
  llvm::TargetOptions opt; // AllowFPOpFusion stays Standard: no fused multiply-add
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, opt, llvm::Reloc::PIC_, llvm::None, llvm::CodeGenOpt::Default));
  if (!tm) return Error("cannot create an LLVM target machine for " + triple);
  return tm;
}

/// Makes `root` (a module's function with the runtime argument) internal and adds the exported
/// ahead-of-time entry `name`: i32 (double* in, double* out, i64 seed, double* log_weight),
/// which runs `root` through chassis_rt_run_seeded (runtime.h) on the generator of `seed`.
void addSeededEntry(llvm::Module& mod, llvm::Function* root, const std::string& name) {
  llvm::LLVMContext& ctx = mod.getContext();
  root->setName(name + ".module");
  root->setLinkage(llvm::Function::InternalLinkage);
  llvm::Type* i32 = llvm::Type::getInt32Ty(ctx);
  llvm::Type* i64 = llvm::Type::getInt64Ty(ctx);
  llvm::Type* i8p = llvm::Type::getInt8PtrTy(ctx);
  llvm::Type* dblp = llvm::Type::getDoublePtrTy(ctx);
  llvm::FunctionCallee run = mod.getOrInsertFunction(
      "chassis_rt_run_seeded", llvm::FunctionType::get(i32, {i8p, dblp, dblp, i64, dblp}, false));
  llvm::Function* entry =
      llvm::Function::Create(llvm::FunctionType::get(i32, {dblp, dblp, i64, dblp}, false),
                             llvm::Function::ExternalLinkage, name, mod);
  entry->addFnAttr(llvm::Attribute::NoUnwind);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", entry));
  b.CreateRet(b.CreateCall(run, {b.CreateBitCast(root, i8p), entry->getArg(0), entry->getArg(1),
                                 entry->getArg(2), entry->getArg(3)}));
}

/// Adds the exported likelihood-weighting block entry `name` (JitModel::runLwBlock): i32 (double*
/// in, double* rows, i8* rt, i64 n, double* logWeights, i64* done), which runs `body` (the
/// module's likelihood-weighting variant, ModuleGen::get) n times on the generator *rt->rng, trace i writing its outputs at rows + i * numOut and its
/// log weight (log likelihood + factors; -infinity when a condition failed) at logWeights[i].
/// Each trace runs on a fresh runtime of the entry's own (a local: errSite -1, zero totals,
/// counts and flags, no tracing) whose generator is a local copy of *rt->rng, so that once
/// `body` is inlined the optimiser keeps the state and the totals in registers across the loop.
/// Returns 0 with *done = n and *rt->rng advanced past the n traces; or the code of the first
/// failing trace with *done = its index, rt->errSite its site and *rt->rng the state it started
/// from (the caller re-runs it for the interpreter's error).
void addLwBlockEntry(llvm::Module& mod, llvm::Function* body, size_t numOut,
                     const std::string& name) {
  llvm::LLVMContext& ctx = mod.getContext();
  llvm::Type* i8 = llvm::Type::getInt8Ty(ctx);
  llvm::Type* i32 = llvm::Type::getInt32Ty(ctx);
  llvm::Type* i64 = llvm::Type::getInt64Ty(ctx);
  llvm::Type* dbl = llvm::Type::getDoubleTy(ctx);
  llvm::Type* i8p = llvm::Type::getInt8PtrTy(ctx);
  llvm::Type* i64p = llvm::PointerType::getUnqual(i64);
  llvm::Type* dblp = llvm::Type::getDoublePtrTy(ctx);
  llvm::Function* fn = llvm::Function::Create(
      llvm::FunctionType::get(i32, {dblp, dblp, i8p, i64, dblp, i64p}, false),
      llvm::Function::ExternalLinkage, name, mod);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  llvm::Value *in = fn->getArg(0), *rows = fn->getArg(1), *crt = fn->getArg(2),
              *n = fn->getArg(3), *logw = fn->getArg(4), *done = fn->getArg(5);
  llvm::BasicBlock* entry = llvm::BasicBlock::Create(ctx, "entry", fn);
  llvm::BasicBlock* head = llvm::BasicBlock::Create(ctx, "trace", fn);
  llvm::BasicBlock* run = llvm::BasicBlock::Create(ctx, "run", fn);
  llvm::BasicBlock* next = llvm::BasicBlock::Create(ctx, "weigh", fn);
  llvm::BasicBlock* fail = llvm::BasicBlock::Create(ctx, "failed", fn);
  llvm::BasicBlock* exit = llvm::BasicBlock::Create(ctx, "done", fn);
  llvm::IRBuilder<> b(entry);
  auto c64 = [&](int64_t v) { return llvm::ConstantInt::get(i64, uint64_t(v), true); };
  auto field = [&](llvm::Value* base, size_t offset, llvm::Type* t) {
    return b.CreateBitCast(b.CreateConstGEP1_64(i8, base, offset), llvm::PointerType::getUnqual(t));
  };
  llvm::Value* state = b.CreateAlloca(i64, c64(4));
  llvm::AllocaInst* rt = b.CreateAlloca(i8, c64(int64_t(sizeof(JitRuntime))));
  rt->setAlignment(llvm::Align(alignof(JitRuntime)));
  llvm::Value* callerState = b.CreateLoad(i64p, field(crt, offsetof(JitRuntime, rng), i64p));
  emitCopyRngState(b, callerState, state);
  b.CreateBr(head);

  b.SetInsertPoint(head);
  llvm::PHINode* i = b.CreatePHI(i64, 2);
  i->addIncoming(c64(0), entry);
  b.CreateCondBr(b.CreateICmpSLT(i, n), run, exit);

  b.SetInsertPoint(run);
  llvm::Value* before[4];
  for (int64_t k = 0; k < 4; ++k)
    before[k] = b.CreateLoad(i64, b.CreateConstGEP1_64(i64, state, uint64_t(k)));
  // A fresh runtime (JitRuntime's initial values): everything before `rng` zero, errSite -1, the
  // generator the local one, no tracing.
  b.CreateMemSet(rt, llvm::ConstantInt::get(i8, 0), offsetof(JitRuntime, rng),
                 llvm::MaybeAlign(alignof(JitRuntime)));
  b.CreateStore(llvm::ConstantInt::get(i32, uint64_t(-1), true), field(rt, 0, i32));
  llvm::Value* null = llvm::ConstantPointerNull::get(llvm::cast<llvm::PointerType>(i8p));
  b.CreateStore(b.CreateBitCast(state, i8p), field(rt, offsetof(JitRuntime, rng), i8p));
  b.CreateStore(null, field(rt, offsetof(JitRuntime, tracing), i8p));
  b.CreateStore(null, field(rt, offsetof(JitRuntime, fast), i8p));
  llvm::Value* out = b.CreateGEP(dbl, rows, b.CreateMul(i, c64(int64_t(numOut))));
  // Inlined (its only call, whatever its size), so that the state and the totals stay in
  // registers.
  llvm::CallInst* rc = b.CreateCall(body, {in, out, rt});
  rc->addFnAttr(llvm::Attribute::AlwaysInline);
  b.CreateCondBr(b.CreateICmpEQ(rc, llvm::ConstantInt::get(i32, 0)), next, fail);

  b.SetInsertPoint(next);
  llvm::Value* failed = b.CreateICmpNE(
      b.CreateLoad(i32, field(rt, offsetof(JitRuntime, conditionFailed), i32)),
      llvm::ConstantInt::get(i32, 0));
  llvm::Value* w = b.CreateFAdd(b.CreateLoad(dbl, field(rt, offsetof(JitRuntime, logLikelihood), dbl)),
                                b.CreateLoad(dbl, field(rt, offsetof(JitRuntime, logFactor), dbl)));
  w = b.CreateSelect(failed, llvm::ConstantFP::getInfinity(dbl, true), w);
  b.CreateStore(w, b.CreateGEP(dbl, logw, i));
  llvm::Value* i1 = b.CreateAdd(i, c64(1));
  i->addIncoming(i1, next);
  b.CreateBr(head);

  b.SetInsertPoint(fail);
  for (int64_t k = 0; k < 4; ++k)
    b.CreateStore(before[k], b.CreateConstGEP1_64(i64, callerState, uint64_t(k)));
  b.CreateStore(b.CreateLoad(i32, field(rt, 0, i32)), field(crt, 0, i32));
  b.CreateStore(i, done);
  b.CreateRet(rc);

  b.SetInsertPoint(exit);
  emitCopyRngState(b, state, callerState);
  b.CreateStore(n, done);
  b.CreateRet(llvm::ConstantInt::get(i32, 0));
}

/// The dense layers of a network whose body is a plain chain: one real[N] input without a range,
/// `let h1 = [relu](W1 x + b1); let h2 = [relu](W2 h1 + b2); ...`, and one output assigned the
/// last; empty when `f` is anything else.
std::vector<std::pair<const DenseLayer*, bool>> denseChain(const Function& f) {
  std::vector<std::pair<const DenseLayer*, bool>> layers;
  if (f.kind() != FunctionKind::Network || f.inputs().size() != 1 || f.outputs().size() != 1)
    return {};
  const Param& in = f.inputs()[0];
  if (in.range || !in.var->type().isArray() || in.var->type().scalar != ScalarKind::Real)
    return {};
  Expr prev = in.var;
  const Block& body = f.body();
  for (size_t k = 0; k + 1 < body.size(); ++k) {
    auto* let = body[k]->as<LetStmt>();
    if (!let) return {};
    Expr e = let->value;
    bool relu = false;
    if (auto* r = e->as<VecRelu>()) {
      relu = true;
      e = r->input();
    }
    auto* a = e->as<Affine>();
    if (!a || a->input() != prev) return {};
    layers.emplace_back(&a->layer(), relu);
    prev = let->var;
  }
  auto* last = body.empty() ? nullptr : body.back()->as<AssignStmt>();
  if (!last || last->var != f.outputs()[0] || last->value != prev) return {};
  return layers;
}

/// Adds the exported batched entry `name`: i32 (double* in, double* out, i64 rows), `rows` rows
/// of inputs and outputs one after the other, each computed as `row` (the one-row function)
/// computes it, bit for bit; returns 0, or the code of the first row that fails (the outputs are
/// then unspecified). For a plain chain of dense layers (denseChain) the rows run in tiles of up
/// to 16: each layer over the tile's rows at once, by chunks of 4 outputs for 8 rows at a time
/// whose 4-lane accumulators stay in registers over the columns (the weights packed by chunk,
/// each read once per 8 rows instead of once per row), each output still bias + W[r][0] x[0] +
/// W[r][1] x[1] + ... in that order with the same roundings; a tile where a check fails (an input
/// or a layer's output not finite) is re-run row by row for the code. Any other function, or a
/// network wider than 2048: a loop over `row`.
void addBatchEntry(llvm::Module& mod, const Function& f, llvm::Function* row,
                   const std::string& name) {
  llvm::LLVMContext& ctx = mod.getContext();
  llvm::Type* i32 = llvm::Type::getInt32Ty(ctx);
  llvm::Type* i64 = llvm::Type::getInt64Ty(ctx);
  llvm::Type* dbl = llvm::Type::getDoubleTy(ctx);
  llvm::Type* dblp = llvm::Type::getDoublePtrTy(ctx);
  llvm::Function* fn = llvm::Function::Create(
      llvm::FunctionType::get(i32, {dblp, dblp, i64}, false), llvm::Function::ExternalLinkage,
      name, mod);
  fn->addFnAttr(llvm::Attribute::NoUnwind);
  llvm::Value *in = fn->getArg(0), *out = fn->getArg(1), *rows = fn->getArg(2);
  const int64_t nIn = int64_t(flatInputs(f)), nOut = int64_t(flatSize(f.outputs()));
  llvm::BasicBlock* entry = llvm::BasicBlock::Create(ctx, "entry", fn);
  llvm::IRBuilder<> b(entry);
  auto c64 = [&](int64_t v) { return llvm::ConstantInt::get(i64, uint64_t(v), true); };
  auto cst = [&](double v) { return llvm::ConstantFP::get(dbl, v); };
  auto at = [&](llvm::Value* p, llvm::Value* k) { return b.CreateGEP(dbl, p, k); };
  auto counter = [&] {
    llvm::IRBuilder<> eb(entry, entry->begin());
    return eb.CreateAlloca(i64);
  };
  // for (k = lo; k < hi; ++k) body(k)
  auto loop = [&](llvm::Value* lo, llvm::Value* hi, const std::function<void(llvm::Value*)>& body) {
    llvm::Value* k = counter();
    b.CreateStore(lo, k);
    llvm::BasicBlock* head = llvm::BasicBlock::Create(ctx, "loop", fn);
    llvm::BasicBlock* inner = llvm::BasicBlock::Create(ctx, "body", fn);
    llvm::BasicBlock* done = llvm::BasicBlock::Create(ctx, "done", fn);
    b.CreateBr(head);
    b.SetInsertPoint(head);
    llvm::Value* kv = b.CreateLoad(i64, k);
    b.CreateCondBr(b.CreateICmpSLT(kv, hi), inner, done);
    b.SetInsertPoint(inner);
    body(kv);
    b.CreateStore(b.CreateAdd(b.CreateLoad(i64, k), c64(1)), k);
    b.CreateBr(head);
    b.SetInsertPoint(done);
  };
  // rows [lo, hi) one by one through `row`; a failing row returns its code
  auto rowByRow = [&](llvm::Value* lo, llvm::Value* hi) {
    loop(lo, hi, [&](llvm::Value* r) {
      llvm::Value* rc = b.CreateCall(
          row, {at(in, b.CreateMul(r, c64(nIn))), at(out, b.CreateMul(r, c64(nOut)))});
      llvm::BasicBlock* bad = llvm::BasicBlock::Create(ctx, "rowfail", fn);
      llvm::BasicBlock* ok = llvm::BasicBlock::Create(ctx, "rowok", fn);
      b.CreateCondBr(b.CreateICmpEQ(rc, llvm::ConstantInt::get(i32, 0)), ok, bad);
      b.SetInsertPoint(bad);
      b.CreateRet(rc);
      b.SetInsertPoint(ok);
    });
  };
  const auto layers = denseChain(f);
  int64_t widest = nIn;
  for (auto& l : layers)
    widest = std::max<int64_t>(widest, l.first->rows);
  // Rows per tile: 16, fewer when a layer is so wide that a tile buffer would pass 128 KiB; a
  // multiple of kBlock, the rows whose accumulators are kept in registers together (8 rows x 4
  // lanes: 8 of AVX2's 16 vector registers; at 8 lanes, AVX-512's, no faster here and spilling
  // on the generic CPU). Wider networks (a tile of kBlock rows past 128 KiB) run row by row.
  constexpr int64_t kLanes = 4, kBlock = 8, kTileScalars = int64_t(1) << 14;
  if (layers.empty() || widest * kBlock > kTileScalars) {
    rowByRow(c64(0), rows);
    b.CreateRet(llvm::ConstantInt::get(i32, 0));
    return;
  }
  const int64_t tile =
      std::clamp<int64_t>(kTileScalars / widest / kBlock, 1, 16 / kBlock) * kBlock;
  llvm::Type* vec = llvm::FixedVectorType::get(dbl, unsigned(kLanes));
  auto vecSlot = [&] {
    llvm::IRBuilder<> eb(entry, entry->begin());
    return eb.CreateAlloca(vec);
  };
  llvm::Value* bufA;
  llvm::Value* bufB;
  {
    llvm::IRBuilder<> eb(entry, entry->begin());
    bufA = eb.CreateAlloca(dbl, c64(tile * widest));
    bufB = eb.CreateAlloca(dbl, c64(tile * widest));
  }
  llvm::Value* t = counter(); // the first row of the tile
  b.CreateStore(c64(0), t);
  llvm::BasicBlock* tileHead = llvm::BasicBlock::Create(ctx, "tile", fn);
  llvm::BasicBlock* tileBody = llvm::BasicBlock::Create(ctx, "tilebody", fn);
  llvm::BasicBlock* tileFail = llvm::BasicBlock::Create(ctx, "tilefail", fn);
  llvm::BasicBlock* tileNext = llvm::BasicBlock::Create(ctx, "tilenext", fn);
  llvm::BasicBlock* tail = llvm::BasicBlock::Create(ctx, "tail", fn);
  b.CreateBr(tileHead);
  b.SetInsertPoint(tileHead);
  llvm::Value* t0 = b.CreateLoad(i64, t);
  b.CreateCondBr(b.CreateICmpSLE(b.CreateAdd(t0, c64(tile)), rows), tileBody, tail);
  b.SetInsertPoint(tileBody);
  llvm::Value* finiteAll = counter(); // an i64 flag: 1 while every value checked is finite
  b.CreateStore(c64(1), finiteAll);
  auto noteFinite = [&](llvm::Value* x) {
    llvm::Value* fin = b.CreateFCmpOLT(b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x),
                                       cst(std::numeric_limits<double>::infinity()));
    b.CreateStore(b.CreateAnd(b.CreateLoad(i64, finiteAll), b.CreateZExt(fin, i64)), finiteAll);
  };
  auto checkFinite = [&](llvm::Value* p, int64_t n) {
    loop(c64(0), c64(n), [&](llvm::Value* k) { noteFinite(b.CreateLoad(dbl, at(p, k))); });
    llvm::BasicBlock* go = llvm::BasicBlock::Create(ctx, "finite", fn);
    b.CreateCondBr(b.CreateICmpNE(b.CreateLoad(i64, finiteAll), c64(0)), go, tileFail);
    b.SetInsertPoint(go);
  };
  llvm::Value* src = at(in, b.CreateMul(t0, c64(nIn)));
  checkFinite(src, tile * nIn); // the row function's input check (a real without a range)
  for (size_t l = 0; l < layers.size(); ++l) {
    const DenseLayer& L = *layers[l].first;
    const int64_t R = L.rows, C = L.cols;
    llvm::Value* dst = l + 1 == layers.size() ? at(out, b.CreateMul(t0, c64(nOut)))
                                              : (l % 2 == 0 ? bufA : bufB);
    // The weights packed by chunks of kLanes rows: packed[(chunk C + c) kLanes + lane] =
    // W[chunk kLanes + lane][c] (0 past the last row), so a chunk's columns are read in order.
    const int64_t chunks = (R + kLanes - 1) / kLanes;
    std::vector<double> packed(size_t(chunks * C * kLanes), 0.0), biasPad(size_t(chunks * kLanes), 0.0);
    for (int64_t r = 0; r < R; ++r) {
      biasPad[size_t(r)] = (*L.bias)[size_t(r)];
      for (int64_t c = 0; c < C; ++c)
        packed[size_t(((r / kLanes) * C + c) * kLanes + r % kLanes)] = (*L.weights)[size_t(r * C + c)];
    }
    auto global = [&](const std::vector<double>& v, const char* gname) -> llvm::Value* {
      llvm::ArrayType* ty = llvm::ArrayType::get(dbl, v.size());
      auto* g = new llvm::GlobalVariable(mod, ty, true, llvm::GlobalValue::PrivateLinkage,
                                         llvm::ConstantDataArray::get(ctx, llvm::ArrayRef<double>(v)),
                                         gname);
      g->setAlignment(llvm::Align(32));
      return b.CreateConstGEP2_64(ty, g, 0, 0);
    };
    llvm::Value* w = global(packed, "batch_weights_packed");
    llvm::Value* bias = global(biasPad, "batch_bias");
    auto vecAt = [&](llvm::Value* p, llvm::Value* k) {
      return b.CreateBitCast(at(p, k), llvm::PointerType::getUnqual(vec));
    };
    // Each chunk of kLanes outputs for kBlock rows at a time: the accumulators stay in registers
    // over the columns, acc_j = bias, then acc_j += W[chunk][c] * x_j[c] for c = 0, 1, ...: per
    // output the row function's sum in its order (lane by lane: the same roundings).
    loop(c64(0), c64(chunks), [&](llvm::Value* chunk) {
      llvm::Value* wChunk = at(w, b.CreateMul(chunk, c64(C * kLanes)));
      llvm::Value* biasVec = b.CreateAlignedLoad(vec, vecAt(bias, b.CreateMul(chunk, c64(kLanes))),
                                                 llvm::Align(8));
      loop(c64(0), c64(tile / kBlock), [&](llvm::Value* group) {
        llvm::Value* row0 = b.CreateMul(group, c64(kBlock));
        llvm::Value* accs[kBlock];
        for (int64_t j = 0; j < kBlock; ++j) {
          accs[j] = vecSlot();
          b.CreateStore(biasVec, accs[j]);
        }
        loop(c64(0), c64(C), [&](llvm::Value* c) {
          llvm::Value* wv = b.CreateAlignedLoad(vec, vecAt(wChunk, b.CreateMul(c, c64(kLanes))),
                                                llvm::Align(8));
          for (int64_t j = 0; j < kBlock; ++j) {
            llvm::Value* x = b.CreateLoad(
                dbl, at(src, b.CreateAdd(b.CreateMul(b.CreateAdd(row0, c64(j)), c64(C)), c)));
            llvm::Value* p = b.CreateFMul(wv, b.CreateVectorSplat(unsigned(kLanes), x));
            b.CreateStore(b.CreateFAdd(b.CreateLoad(vec, accs[j]), p), accs[j]);
          }
        });
        // The lanes that are outputs (the last chunk may have fewer than kLanes).
        for (int64_t j = 0; j < kBlock; ++j) {
          llvm::Value* acc = b.CreateLoad(vec, accs[j]);
          llvm::Value* base = b.CreateAdd(b.CreateMul(b.CreateAdd(row0, c64(j)), c64(R)),
                                          b.CreateMul(chunk, c64(kLanes)));
          for (int64_t lane = 0; lane < kLanes; ++lane) {
            llvm::BasicBlock* put = llvm::BasicBlock::Create(ctx, "lane", fn);
            llvm::BasicBlock* next = llvm::BasicBlock::Create(ctx, "lanedone", fn);
            b.CreateCondBr(b.CreateICmpSLT(b.CreateAdd(b.CreateMul(chunk, c64(kLanes)), c64(lane)),
                                           c64(R)),
                           put, next);
            b.SetInsertPoint(put);
            b.CreateStore(b.CreateExtractElement(acc, uint64_t(lane)),
                          at(dst, b.CreateAdd(base, c64(lane))));
            b.CreateBr(next);
            b.SetInsertPoint(next);
          }
        }
      });
    });
    checkFinite(dst, tile * R);
    if (layers[l].second)
      loop(c64(0), c64(tile * R), [&](llvm::Value* k) {
        llvm::Value* cell = at(dst, k);
        llvm::Value* x = b.CreateLoad(dbl, cell);
        b.CreateStore(b.CreateSelect(b.CreateFCmpOGT(x, cst(0)), x, cst(0)), cell);
      });
    src = dst;
  }
  b.CreateBr(tileNext);
  b.SetInsertPoint(tileFail); // the tile again, row by row: the first failing row's code
  rowByRow(t0, b.CreateAdd(t0, c64(tile)));
  b.CreateBr(tileNext);
  b.SetInsertPoint(tileNext);
  b.CreateStore(b.CreateAdd(t0, c64(tile)), t);
  b.CreateBr(tileHead);
  b.SetInsertPoint(tail);
  rowByRow(t0, rows);
  b.CreateRet(llvm::ConstantInt::get(i32, 0));
}

/// The module of `f` with its callees, verified (and optimised at O2 when `tm`).
/// `sites` (when not null): the module is built with the runtime argument (JitModel) and
/// receives the statements' locations by site number. `objectEntries` (compileObject): a random
/// module's seeded entry (addSeededEntry), a deterministic function's batched one (addBatchEntry).
/// `lwBlockEntry` (JitModel): a random module's likelihood-weighting block (addLwBlockEntry).
Expected<std::unique_ptr<llvm::Module>> buildModule(const Function& f, llvm::LLVMContext& ctx,
                                                    llvm::TargetMachine* tm, bool optimize,
                                                    std::vector<SourceLoc>* sites = nullptr,
                                                    std::vector<std::string>* choiceNames = nullptr,
                                                    bool objectEntries = false,
                                                    bool lwBlockEntry = false) {
  std::vector<const Function*> seen;
  if (auto st = checkFunction(f, seen, sites != nullptr); !st) return st.error();
  ModuleGen mg(ctx);
  mg.withRuntime = sites != nullptr;
  llvm::Function* root = mg.get(f, /*exported=*/true);
  if (mg.err) return *mg.err;
  if (objectEntries && mg.withRuntime) addSeededEntry(*mg.mod, root, symbolName(f));
  if (objectEntries && !mg.withRuntime) addBatchEntry(*mg.mod, f, root, symbolName(f) + "_batch");
  if (lwBlockEntry && mg.withRuntime) {
    llvm::Function* body = mg.get(f, false, true);
    if (mg.err) return *mg.err;
    addLwBlockEntry(*mg.mod, body, flatSize(f.outputs()), symbolName(f) + "_lwblock");
  }
  std::string verifyMsg;
  llvm::raw_string_ostream vs(verifyMsg);
  if (llvm::verifyModule(*mg.mod, &vs))
    return Error(f.loc(), "internal: the generated LLVM IR is invalid: " + vs.str());
  if (tm) {
    mg.mod->setDataLayout(tm->createDataLayout());
    mg.mod->setTargetTriple(tm->getTargetTriple().str());
  }
  if (optimize) optimizeModule(*mg.mod, tm);
  if (sites) *sites = std::move(mg.sites);
  if (choiceNames) *choiceNames = std::move(mg.choiceNames);
  return std::move(mg.mod);
}

} // namespace

Status checkCompilable(const Function& f) {
  std::vector<const Function*> seen;
  return checkFunction(f, seen, false);
}

Status checkCompilableRandom(const Function& f) {
  std::vector<const Function*> seen;
  return checkFunction(f, seen, true);
}

Expected<std::string> emitLlvmIr(const Function& f, bool optimize, bool withRuntime,
                                 bool lwBlock) {
  auto tm = makeTargetMachine(false);
  if (!tm) return tm.error();
  llvm::LLVMContext ctx;
  std::vector<SourceLoc> sites;
  auto mod = buildModule(f, ctx, tm->get(), optimize, withRuntime ? &sites : nullptr, nullptr,
                         false, lwBlock);
  if (!mod) return mod.error();
  std::string text;
  llvm::raw_string_ostream os(text);
  (*mod)->print(os, nullptr);
  return os.str();
}

Expected<std::string> compileObject(const Function& f, bool hostCpu) {
  auto tm = makeTargetMachine(hostCpu);
  if (!tm) return tm.error();
  llvm::LLVMContext ctx;
  // A random module: its functions take the runtime argument, behind the seeded entry.
  std::vector<SourceLoc> sites;
  auto mod = buildModule(f, ctx, tm->get(), true, f.isRandom() ? &sites : nullptr, nullptr,
                         /*objectEntries=*/true);
  if (!mod) return mod.error();
  llvm::SmallVector<char, 0> buf;
  llvm::raw_svector_ostream os(buf);
  llvm::legacy::PassManager pm;
  if ((*tm)->addPassesToEmitFile(pm, os, nullptr, llvm::CGFT_ObjectFile))
    return Error(f.loc(), "the LLVM target cannot emit an object file");
  pm.run(**mod);
  return std::string(buf.begin(), buf.end());
}

std::string cHeader(const Function& f, const Context& ctx, const std::string& sourceFile) {
  std::string sym = symbolName(f), up;
  for (char c : sym)
    up += char(std::toupper(static_cast<unsigned char>(c)));
  std::ostringstream h;
  auto describe = [&](const Var* v) {
    const Type& t = v->type();
    std::string kind = t.scalar == ScalarKind::Bool   ? "bool, 0 or 1"
                       : t.scalar == ScalarKind::Int  ? "int, an integral double"
                       : t.scalar == ScalarKind::Enum ? "enum, the constant's index"
                                                      : "real";
    return ctx.typeName(t) + " (" + kind + ")";
  };
  const bool random = f.isRandom();
  h << "/* Generated by `chassis compile " << sourceFile << " " << f.name() << "`: module '"
    << f.name() << "' as native code\n"
    << " * (the interpreter's float64 semantics, operation by operation).\n *\n";
  if (!random) {
    h << " * Calling convention: int " << sym << "(const double* in, double* out);\n"
      << " *   and, for `rows` rows at once (inputs one row after the other, outputs likewise;\n"
      << " *   `in` and `out` must not overlap): int " << sym
      << "_batch(const double* in, double* out,\n"
      << " *   size_t rows), each row's outputs those of " << sym
      << " bit for bit; it returns 0 or the code\n"
      << " *   of the first row that fails (then `out` is unspecified).\n";
  } else {
    h << " * Calling convention: int " << sym
      << "(const double* in, double* out, uint64_t seed,\n"
      << " *                                   double* log_weight);\n"
      << " *   The module is random: one call is one run, its random choices drawn from the\n"
      << " *   generator of `seed`, the stream of `chassis run " << sourceFile << " " << f.name()
      << " --seed SEED`\n"
      << " *   (the same draws, outputs and weights, bit for bit, on a machine with the same\n"
      << " *   libm). `log_weight` (may be NULL) receives the run's log weight: the sum of its\n"
      << " *   observations' log densities and its factors (the priors of its samples excluded),\n"
      << " *   -infinity when a condition was false. A false condition returns\n"
      << " *   CHASSIS_CONDITION_FAILED with `out` holding the run's outputs (they are what\n"
      << " *   `chassis run` prints); every other error code leaves `out` unspecified.\n"
      << " *   The object calls the Chassis runtime (the samplers and densities the interpreter\n"
      << " *   uses, C++), written beside it by `chassis compile` as a static archive (--runtime;\n"
      << " *   by default the object's name with .o replaced by _runtime.a): link both, with\n"
      << " *   libstdc++ and libm:  cc prog.c module.o module_runtime.a -lstdc++ -lm\n";
  }
  h << " *   Every value is a double: bools 0 or 1, ints integral doubles (|v| <= 2^53), enums\n"
    << " *   the index of their constant; arrays are flattened, first element first. `in` holds\n"
    << " *   the inputs in declaration order, `out` receives the outputs in declaration order.\n"
    << " *   The function returns 0 on success, otherwise an error code below (then `out` is\n"
    << " *   unspecified). It is reentrant: no global state.\n *\n"
    << " * Inputs (" << flatInputs(f) << " doubles):\n";
  size_t pos = 0;
  for (const Param& p : f.inputs()) {
    size_t n = p.var->type().numScalars();
    h << " *   in[" << pos;
    if (n > 1) h << ".." << pos + n - 1;
    h << "]  " << p.var->name() << ": " << describe(p.var);
    if (p.range)
      h << " in [" << formatReal(p.range->first) << ", " << formatReal(p.range->second) << "]";
    h << "\n";
    pos += n;
  }
  h << " * Outputs (" << flatSize(f.outputs()) << " doubles):\n";
  pos = 0;
  for (const Var* o : f.outputs()) {
    size_t n = o->type().numScalars();
    h << " *   out[" << pos;
    if (n > 1) h << ".." << pos + n - 1;
    h << "]  " << o->name() << ": " << describe(o) << "\n";
    pos += n;
  }
  h << " */\n#ifndef " << up << "_H\n#define " << up << "_H\n\n"
    << (random ? "#include <stdint.h>\n\n" : "#include <stddef.h>\n\n")
    << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
    << "#ifndef CHASSIS_ERROR_CODES\n#define CHASSIS_ERROR_CODES\n"
    << "enum chassis_error {\n";
  // Every code, so that the first header included defines them for any other.
  for (int c = kOk; c <= kConditionFailed; ++c) {
    std::string name;
    for (char ch : errorCodeName(c))
      name += std::isalnum(static_cast<unsigned char>(ch)) ? char(std::toupper(ch)) : '_';
    h << "  CHASSIS_" << name << " = " << c << ",\n";
  }
  h << "};\n#endif\n\n";
  h << "#define " << up << "_NUM_INPUTS " << flatInputs(f) << "\n";
  h << "#define " << up << "_NUM_OUTPUTS " << flatSize(f.outputs()) << "\n";
  pos = 0;
  for (const Param& p : f.inputs()) {
    h << "#define " << up << "_IN_" << p.var->name() << " " << pos << "\n";
    pos += p.var->type().numScalars();
  }
  pos = 0;
  for (const Var* o : f.outputs()) {
    h << "#define " << up << "_OUT_" << o->name() << " " << pos << "\n";
    pos += o->type().numScalars();
  }
  if (random)
    h << "\nint " << sym
      << "(const double* in, double* out, uint64_t seed, double* log_weight);\n\n";
  else
    h << "\nint " << sym << "(const double* in, double* out);\n"
      << "int " << sym << "_batch(const double* in, double* out, size_t rows);\n\n";
  h
    << "#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
  return h.str();
}

// ------------------------------------------------------------------------------------------------
// JIT

namespace {

/// An LLJIT (host CPU) holding `mod` (optimised at O2 by buildModule), with libm from the
/// process and, when `withRuntime`, the functions of codegen/runtime.h.
Expected<std::unique_ptr<llvm::orc::LLJIT>> startModuleJit(std::unique_ptr<llvm::Module> mod,
                                                           std::unique_ptr<llvm::LLVMContext> ctx,
                                                           const SourceLoc& loc, bool withRuntime) {
  JitSetup setup;
  setup.codeGen = llvm::CodeGenOpt::Default;
  setup.processSymbols = true;
  if (withRuntime) {
    setup.add("chassis_rt_sample", &chassis_rt_sample);
    setup.add("chassis_rt_sample_valid", &chassis_rt_sample_valid);
    setup.add("chassis_rt_normal", &chassis_rt_normal);
    setup.add("chassis_rt_uniform", &chassis_rt_uniform);
    setup.add("chassis_rt_draw", &chassis_rt_draw);
    setup.add("chassis_rt_log_density", &chassis_rt_log_density);
    setup.add("chassis_rt_check_params", &chassis_rt_check_params);
    setup.add("chassis_rt_observe", &chassis_rt_observe);
    setup.add("chassis_rt_condition", &chassis_rt_condition);
    setup.add("chassis_rt_factor", &chassis_rt_factor);
    setup.add("chassis_rt_choice", &chassis_rt_choice);
    setup.add("chassis_rt_enter", &chassis_rt_enter);
    setup.add("chassis_rt_leave", &chassis_rt_leave);
  }
  auto jit = startJit(std::move(mod), std::move(ctx), setup);
  if (!jit) return Error(loc, jit.error().message);
  return std::move(*jit);
}

} // namespace

struct JitFunction::Impl {
  std::unique_ptr<llvm::orc::LLJIT> jit;
};

JitFunction::~JitFunction() = default;

Expected<std::unique_ptr<JitFunction>> JitFunction::create(const Function& f) {
  auto tm = makeTargetMachine(true);
  if (!tm) return tm.error();
  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto mod = buildModule(f, *ctx, tm->get(), true);
  if (!mod) return mod.error();
  auto jit = startModuleJit(std::move(*mod), std::move(ctx), f.loc(), false);
  if (!jit) return jit.error();
  auto sym = (*jit)->lookup(symbolName(f));
  if (!sym) return Error(f.loc(), "LLJIT: " + llvmMessage(sym.takeError()));
  std::unique_ptr<JitFunction> out(new JitFunction());
  out->fn_ = reinterpret_cast<Fn>(sym->getAddress());
  out->impl_ = std::make_unique<Impl>();
  out->impl_->jit = std::move(*jit);
  out->numIn_ = flatInputs(f);
  out->numOut_ = flatSize(f.outputs());
  return out;
}

struct JitModel::Impl {
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::vector<SourceLoc> sites;
  std::vector<std::string> choiceNames;
  SourceLoc module;
};

JitModel::~JitModel() = default;

Expected<std::unique_ptr<JitModel>> JitModel::create(const Function& f, bool lwBlock) {
  const auto t0 = std::chrono::steady_clock::now();
  auto tm = makeTargetMachine(true);
  if (!tm) return tm.error();
  auto ctx = std::make_unique<llvm::LLVMContext>();
  std::vector<SourceLoc> sites;
  std::vector<std::string> names;
  auto mod = buildModule(f, *ctx, tm->get(), true, &sites, &names, false, lwBlock);
  if (!mod) return mod.error();
  auto jit = startModuleJit(std::move(*mod), std::move(ctx), f.loc(), true);
  if (!jit) return jit.error();
  auto sym = (*jit)->lookup(symbolName(f)); // compiles the module
  if (!sym) return Error(f.loc(), "LLJIT: " + llvmMessage(sym.takeError()));
  std::unique_ptr<JitModel> out(new JitModel());
  out->fn_ = reinterpret_cast<Fn>(sym->getAddress());
  if (lwBlock) {
    auto block = (*jit)->lookup(symbolName(f) + "_lwblock");
    if (!block) return Error(f.loc(), "LLJIT: " + llvmMessage(block.takeError()));
    out->lwBlock_ = reinterpret_cast<LwBlockFn>(block->getAddress());
  }
  out->impl_ = std::make_unique<Impl>();
  out->impl_->jit = std::move(*jit);
  out->impl_->sites = std::move(sites);
  out->impl_->choiceNames = std::move(names);
  out->impl_->module = f.loc();
  out->numIn_ = flatInputs(f);
  out->numOut_ = flatSize(f.outputs());
  out->compileSeconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

const std::vector<std::string>& JitModel::choiceNames() const { return impl_->choiceNames; }

const SourceLoc& JitModel::siteLocation(int errSite) const {
  if (errSite < 0 || size_t(errSite) >= impl_->sites.size()) return impl_->module;
  return impl_->sites[size_t(errSite)];
}

} // namespace chassis::codegen

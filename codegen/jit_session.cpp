// The shared LLJIT set-up (see jit_session.h).
#include "codegen/jit_session.h"

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Target/TargetMachine.h>

#include <mutex>

namespace chassis::codegen {

void initNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

std::string llvmMessage(llvm::Error e) {
  return llvm::toString(std::move(e));
}

void optimizeModule(llvm::Module& mod, llvm::TargetMachine* tm) {
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2);
  mpm.run(mod, mam);
}

namespace {
/// LLVM's -enable-misched option (a cl::opt<bool>, MachineScheduler.cpp), registered once the
/// native target is initialised; null if this LLVM has none.
llvm::cl::opt<bool>* machineSchedulerOption() {
  initNativeTarget();
  auto& opts = llvm::cl::getRegisteredOptions();
  auto it = opts.find("enable-misched");
  return it == opts.end() ? nullptr : static_cast<llvm::cl::opt<bool>*>(it->second);
}
std::mutex gSchedulerMu; // one MachineSchedulerOff at a time
} // namespace

MachineSchedulerOff::MachineSchedulerOff() {
  gSchedulerMu.lock();
  auto* o = machineSchedulerOption();
  if (!o) return;
  // The scheduler pass reads the option only once it occurred (else it asks the target); it
  // may occur once: the first time here, later its value is set.
  if (o->getNumOccurrences() == 0) done_ = !o->addOccurrence(0, "enable-misched", "false");
  else {
    o->setValue(false);
    done_ = true;
  }
}

MachineSchedulerOff::~MachineSchedulerOff() {
  // Back on (the host targets' own choice: x86 and AArch64 enable the scheduler).
  if (auto* o = machineSchedulerOption(); o && done_) o->setValue(true);
  gSchedulerMu.unlock();
}

Expected<std::unique_ptr<llvm::orc::LLJIT>> startJit(std::unique_ptr<llvm::Module> mod,
                                                     std::unique_ptr<llvm::LLVMContext> ctx,
                                                     const JitSetup& setup) {
  initNativeTarget();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) return Error("LLJIT: " + llvmMessage(jtmb.takeError()));
  jtmb->setCodeGenOptLevel(setup.codeGen); // TargetOptions default: AllowFPOpFusion Standard
  if (setup.optimize) {
    auto tm = jtmb->createTargetMachine();
    if (!tm) return Error("LLJIT: " + llvmMessage(tm.takeError()));
    mod->setDataLayout((*tm)->createDataLayout());
    mod->setTargetTriple((*tm)->getTargetTriple().str());
    optimizeModule(*mod, tm->get());
  }
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*jtmb)).create();
  if (!jit) return Error("LLJIT: " + llvmMessage(jit.takeError()));
  mod->setDataLayout((*jit)->getDataLayout());
  if (setup.processSymbols) {
    auto gen = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
        (*jit)->getDataLayout().getGlobalPrefix());
    if (!gen) return Error("LLJIT: " + llvmMessage(gen.takeError()));
    (*jit)->getMainJITDylib().addGenerator(std::move(*gen));
  }
  if (!setup.symbols.empty()) {
    llvm::orc::SymbolMap syms;
    for (const auto& [name, address] : setup.symbols)
      syms[(*jit)->mangleAndIntern(name)] = llvm::JITEvaluatedSymbol(
          llvm::JITTargetAddress(address),
          llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable);
    if (auto e = (*jit)->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(syms))))
      return Error("LLJIT: " + llvmMessage(std::move(e)));
  }
  if (auto e = (*jit)->addIRModule(llvm::orc::ThreadSafeModule(std::move(mod), std::move(ctx))))
    return Error("LLJIT: " + llvmMessage(std::move(e)));
  return std::move(*jit);
}

} // namespace chassis::codegen

// The ORC LLJIT set-up shared by the in-process compilers (codegen.cpp's JitFunction and
// JitModel, and the tape compiler of codegen/tape_compiler.h): LLVM's native target initialised
// once, a JIT for the host CPU at a given code generation level (AllowFPOpFusion stays Standard:
// no fused multiply-add), optionally LLVM's O2 module pipeline on the module first, symbols from
// the process (libm) and named C functions as absolute symbols. Internal to codegen/.
#pragma once

#include "spec/error.h"

#include <llvm/Support/CodeGen.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace llvm {
class Error;
class LLVMContext;
class Module;
class TargetMachine;
namespace orc {
class LLJIT;
}
} // namespace llvm

namespace chassis::codegen {

/// LLVM's native target, asm printer and parser, initialised once per process.
void initNativeTarget();

/// The message of an LLVM error (consumed).
std::string llvmMessage(llvm::Error e);

/// LLVM's default per-module pipeline at O2 on `mod` (`tm` gives the target's cost models; may
/// be null).
void optimizeModule(llvm::Module& mod, llvm::TargetMachine* tm);

/// While alive, LLVM's machine instruction scheduler (the pre-register-allocation one) is off
/// for every code generation in the process; the destructor turns it back on. It is a global
/// LLVM option: on a long straight line of loads, arithmetic and stores (the tape compiler's)
/// it takes most of the code generator's time for no measurable gain. Code generated meanwhile
/// is correct either way (scheduling moves instructions, never changes an operation).
class MachineSchedulerOff {
public:
  MachineSchedulerOff();
  ~MachineSchedulerOff();
  MachineSchedulerOff(const MachineSchedulerOff&) = delete;
  MachineSchedulerOff& operator=(const MachineSchedulerOff&) = delete;

private:
  bool done_ = false;
};

/// How startJit sets up the JIT.
struct JitSetup {
  llvm::CodeGenOpt::Level codeGen = llvm::CodeGenOpt::Default;
  /// Run optimizeModule (O2) with the JIT's own target machine before adding the module.
  bool optimize = false;
  /// Resolve the module's other undefined symbols (libm) in the current process.
  bool processSymbols = false;
  /// C functions the module calls, by name and address.
  std::vector<std::pair<std::string, uint64_t>> symbols;
  /// Adds a C function.
  template <typename R, typename... A> void add(std::string name, R (*fn)(A...)) {
    symbols.emplace_back(std::move(name), uint64_t(reinterpret_cast<uintptr_t>(fn)));
  }
};

/// An LLJIT for the host CPU holding `mod` (its data layout set to the JIT's). Errors (not
/// located; the caller locates them): "LLJIT: <LLVM's message>".
Expected<std::unique_ptr<llvm::orc::LLJIT>> startJit(std::unique_ptr<llvm::Module> mod,
                                                     std::unique_ptr<llvm::LLVMContext> ctx,
                                                     const JitSetup& setup);

} // namespace chassis::codegen

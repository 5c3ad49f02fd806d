// `chassis compile FILE Module -o module.o [--header module.h] [--runtime module_runtime.a]
// [--emit=obj|llvm] [--cpu generic|host]`: compiles one module (and the modules and networks it
// calls) or a network to native code through LLVM (codegen/codegen.h), for any x86-64 or (--cpu
// host) for this machine's CPU: an object file and a C header documenting its calling
// convention, the position of each input and output, and the error codes. A deterministic
// module's object defines `int chassis_Module(const double* in, double* out)` and needs nothing
// else. A random module's defines `int chassis_Module(const double* in, double* out, uint64_t
// seed, double* log_weight)`, one run on the stream of `chassis run --seed seed`, and calls the
// Chassis runtime, which is written beside it as a static archive (--runtime, by default the
// object's name with `.o` replaced by `_runtime.a`; link it with -lstdc++ -lm).
// `--emit=llvm` gives the optimised LLVM IR as text instead (for a random module, its functions
// with the runtime argument, as the JIT compiles them): written to -o FILE when given, otherwise
// printed to standard output.
// Exit codes: 0 success; 2 bad input (front-end diagnostics, unknown module, a construct that
// does not compile, located at the offending statement; an output that cannot be written). Files
// are written whole (temporary files, then renames) and all together, or none at all.
#include "tools/command.h"
#include "tools/output_file.h"

#include "codegen/codegen.h"
#include "neural/lower_network.h"
#include "spec/diagnostics.h"
#include "spec/frontend.h"
#include "spec/lower.h"

#include <cstdio>
#include <iostream>

namespace {

using namespace chassis;

/// The default runtime archive of a random module's object: "dir/m.o" -> "dir/m_runtime.a".
std::string defaultRuntimePath(const std::string& object) {
  std::string stem = object;
  if (stem.size() > 2 && stem.compare(stem.size() - 2, 2, ".o") == 0) stem.resize(stem.size() - 2);
  return stem + "_runtime.a";
}

int compileCommand(const std::string& file, const std::string& module, const std::string& output,
                   const std::string& header, const std::string& runtime, const std::string& emit,
                   const std::string& cpu) {
  spec::DiagnosticEngine diags;
  auto fail = [&](const Error& e) {
    diags.report(e);
    diags.print(std::cerr);
    return tools::kUsage;
  };
  if (emit != "obj" && emit != "llvm")
    return fail(Error("--emit takes obj or llvm, got '" + emit + "'"));
  if (cpu != "generic" && cpu != "host")
    return fail(Error("--cpu takes generic or host, got '" + cpu + "'"));
  if (emit == "obj" && output.empty()) return fail(Error("compile needs -o FILE (or --emit=llvm)"));
  if (emit == "llvm" && !runtime.empty())
    return fail(Error("--runtime goes with an object file (--emit=obj), not --emit=llvm"));
  std::vector<std::string> outs;
  if (!output.empty()) outs.push_back(output);
  if (!header.empty()) outs.push_back(header);
  if (!runtime.empty()) outs.push_back(runtime);
  if (!tools::checkWritable(outs)) return tools::kUsage;

  auto ast = spec::loadProgram(file, diags);
  if (!ast) {
    diags.print(std::cerr);
    return tools::kUsage;
  }
  ir::LowerOptions options;
  options.networkLoader = neural::networkLoader();
  auto prog = ir::lower(*ast, options);
  if (!prog) return fail(prog.error());
  const ir::Function* f = prog->findFunction(module);
  auto compilable = [](const ir::Function& g) {
    return g.kind() == ir::FunctionKind::Module || g.kind() == ir::FunctionKind::Network;
  };
  if (!f || !compilable(*f)) {
    std::string names;
    for (auto& g : prog->functions())
      if (compilable(*g)) names += (names.empty() ? "" : ", ") + g->name();
    return fail(Error(SourceLoc{file, 0, 0}, "unknown module or network '" + module +
                                                 "' (available: " +
                                                 (names.empty() ? "none" : names) + ")"));
  }
  const bool random = f->isRandom();
  if (!random && !runtime.empty())
    return fail(Error(f->loc(), "--runtime: module '" + module +
                                    "' is deterministic; its object needs no runtime archive"));
  if (emit == "llvm") {
    auto ir = codegen::emitLlvmIr(*f, true, /*withRuntime=*/random);
    if (!ir) return fail(ir.error());
    if (!header.empty() && !tools::writeFileAtomic(header, codegen::cHeader(*f, prog->ctx(), file)))
      return tools::kUsage;
    if (output.empty())
      std::cout << *ir;
    else if (!tools::writeFileAtomic(output, *ir))
      return tools::kUsage;
    return tools::kOk;
  }
  const std::string runtimePath = random && runtime.empty() ? defaultRuntimePath(output) : runtime;
  if (random && runtime.empty() && !tools::checkWritable({runtimePath})) return tools::kUsage;
  auto obj = codegen::compileObject(*f, cpu == "host");
  if (!obj) return fail(obj.error());
  std::vector<std::pair<std::string, std::string>> files{{output, std::move(*obj)}};
  if (!header.empty()) files.emplace_back(header, codegen::cHeader(*f, prog->ctx(), file));
  if (random) files.emplace_back(runtimePath, std::string(codegen::aotRuntimeArchive()));
  if (!tools::writeFilesAtomic(files)) return tools::kUsage; // all or nothing
  return tools::kOk;
}

chassis::tools::Registration reg{
    "compile", "Compile a module or a network to an object file and a C header (LLVM)",
    [](CLI::App& app) {
      struct Opts {
        std::string file, module, output, header, runtime, emit = "obj", cpu = "generic";
      };
      auto o = std::make_shared<Opts>();
      app.add_option("file", o->file, "the .chs file")->required();
      app.add_option("module", o->module, "the module (or network) to compile")->required();
      app.add_option("-o,--output", o->output, "the object file to write");
      app.add_option("--header", o->header, "the C header to write");
      app.add_option("--runtime", o->runtime,
                     "a random module: where its runtime archive goes (default: the object's "
                     "name with .o replaced by _runtime.a)");
      app.add_option("--emit", o->emit,
                     "obj (default) or llvm: the LLVM IR as text (to -o, or stdout)");
      app.add_option("--cpu", o->cpu,
                     "generic (default: any x86-64) or host: this machine's CPU and its vector "
                     "extensions (the object may not run on another machine)");
      return [o]() -> int {
        return compileCommand(o->file, o->module, o->output, o->header, o->runtime, o->emit,
                              o->cpu);
      };
    }};

} // namespace

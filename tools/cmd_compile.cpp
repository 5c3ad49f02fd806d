// `chassis compile FILE Module -o module.o [--header module.h] [--emit=obj|llvm]
// [--cpu generic|host]`: compiles one deterministic module (and the modules and networks it
// calls) to native code through LLVM (codegen/codegen.h), for any x86-64 or (--cpu host) for this
// machine's CPU: an object file defining `int chassis_Module(const double* in, double* out)`
// and a C header documenting its calling convention, the position of each input and output, and
// the error codes. `--emit=llvm` gives the optimised LLVM IR as text instead: written to -o FILE
// when given, otherwise printed to standard output.
// Exit codes: 0 success; 2 bad input (front-end diagnostics, unknown module, a random module or a
// construct that does not compile, located at the offending statement; an output that cannot be
// written). Files are written whole (temporary file, then rename) or not at all.
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

int compileCommand(const std::string& file, const std::string& module, const std::string& output,
                   const std::string& header, const std::string& emit, const std::string& cpu) {
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
  std::vector<std::string> outs;
  if (!output.empty()) outs.push_back(output);
  if (!header.empty()) outs.push_back(header);
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
  if (emit == "llvm") {
    auto ir = codegen::emitLlvmIr(*f);
    if (!ir) return fail(ir.error());
    if (!header.empty() && !tools::writeFileAtomic(header, codegen::cHeader(*f, prog->ctx(), file)))
      return tools::kUsage;
    if (output.empty())
      std::cout << *ir;
    else if (!tools::writeFileAtomic(output, *ir))
      return tools::kUsage;
    return tools::kOk;
  }
  auto obj = codegen::compileObject(*f, cpu == "host");
  if (!obj) return fail(obj.error());
  if (!tools::writeFileAtomic(output, *obj)) return tools::kUsage;
  if (!header.empty() && !tools::writeFileAtomic(header, codegen::cHeader(*f, prog->ctx(), file))) {
    std::remove(output.c_str()); // all or nothing
    return tools::kUsage;
  }
  return tools::kOk;
}

chassis::tools::Registration reg{
    "compile", "Compile a deterministic module or a network to an object file and a C header (LLVM)",
    [](CLI::App& app) {
      struct Opts {
        std::string file, module, output, header, emit = "obj", cpu = "generic";
      };
      auto o = std::make_shared<Opts>();
      app.add_option("file", o->file, "the .chs file")->required();
      app.add_option("module", o->module, "the module (or network) to compile")->required();
      app.add_option("-o,--output", o->output, "the object file to write");
      app.add_option("--header", o->header, "the C header to write");
      app.add_option("--emit", o->emit,
                     "obj (default) or llvm: the LLVM IR as text (to -o, or stdout)");
      app.add_option("--cpu", o->cpu,
                     "generic (default: any x86-64) or host: this machine's CPU and its vector "
                     "extensions (the object may not run on another machine)");
      return [o]() -> int {
        return compileCommand(o->file, o->module, o->output, o->header, o->emit, o->cpu);
      };
    }};

} // namespace

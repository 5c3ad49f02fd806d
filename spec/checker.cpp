// The .chs type checker (spec/checker.h): the driver of its passes, one per file, each with one
// entry declared in spec/check_context.h, run in this order over one shared CheckContext:
//   1. collectNames        global names unique across all files; enum constants numbered;
//   2. checkSignatures     parameter types, input ranges (constant-folded), network rules;
//   3. checkModuleBodies   scopes, name resolution, typing with explicit int->real Promote nodes,
//                          and the output assignment rule;
//   4. checkDataSizes      inputs fixed by the data get their one-value range;
//   5. checkProperties     quantifiers, always / P / E over a module's variables, shapes;
//   6. checkCallGraph      recursion rejected, topological order, which modules are random;
//   7. checkTasks          the inputs module and its box, the label, the network clause.
// Every error is reported once at the token to look at; an expression that failed gets the Error
// type, which every later check accepts silently, so one mistake gives one message.
#include "spec/checker.h"

#include "spec/check_context.h"

namespace chassis::spec {

void checkProgram(Program& program, DiagnosticEngine& diags, const DataSizes* sizes) {
  check::CheckContext ctx(program, diags, sizes);
  check::collectNames(ctx);
  check::checkSignatures(ctx);
  check::checkModuleBodies(ctx);
  check::checkDataSizes(ctx);
  check::checkProperties(ctx);
  check::checkCallGraph(ctx);
  check::checkTasks(ctx);
}

} // namespace chassis::spec

// Chassis as a library, from its installed headers and CMake package (see CMakeLists.txt):
// loads and checks a .chs file, runs two of its modules, verifies two properties, and loads and
// evaluates an ONNX network, printing what `chassis run`, `chassis verify` and `chassis eval`
// print for the same inputs (tests/cli/install_package.sh compares them).
//
//   embed examples/braking.chs examples/braking_policy.onnx
//
// Every failure is a value (chassis::Expected / Error), printed as `file:line:col: error: ...`;
// the exit code is then 2.
#include <chassis/chassis.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

using namespace chassis;

namespace {

int fail(const Error& e) {
  std::cerr << e.str() << "\n";
  return 2;
}

/// Prints each output of `f` as `name = value` (the formatting of `chassis run`).
void printOutputs(const ir::Function& f, const std::vector<symbolic::Value>& outputs,
                  const ir::Context& ctx) {
  for (size_t k = 0; k < f.outputs().size(); ++k)
    std::cout << "  " << f.outputs()[k]->name() << " = "
              << symbolic::formatValue(outputs[k], f.outputs()[k]->type(), ctx) << "\n";
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: embed FILE.chs NETWORK.onnx\n";
    return 2;
  }
  const std::string chsPath = argv[1], onnxPath = argv[2];

  // Load and check the .chs file; lower it to the IR with its networks loaded from their files.
  spec::DiagnosticEngine diags;
  Expected<spec::Program> ast = spec::loadProgram(chsPath, diags);
  if (!ast) {
    diags.print(std::cerr);
    return 2;
  }
  ir::LowerOptions lowerOptions;
  lowerOptions.networkLoader = neural::networkLoader();
  Expected<ir::Program> program = ir::lower(*ast, lowerOptions);
  if (!program) return fail(program.error());
  const ir::Context& ctx = program->ctx();
  std::cout << "loaded " << chsPath << ": " << program->functions().size() << " functions, "
            << program->properties.size() << " properties\n";

  // Run the deterministic Controller on given inputs (parsed and range-checked as `chassis run
  // --input` does).
  const ir::Function* controller = program->findFunction("Controller");
  if (!controller) return fail(Error(chsPath + ": no module 'Controller'"));
  std::vector<symbolic::Value> inputs;
  for (auto [name, text] : {std::pair<std::string, std::string>{"reading", "3"}, {"speed", "20"}}) {
    int k = controller->inputIndex(name);
    if (k < 0) return fail(Error("Controller has no input '" + name + "'"));
    Expected<symbolic::Value> v =
        symbolic::parseValue(text, controller->inputs()[size_t(k)].var->type(), ctx, name);
    if (!v) return fail(v.error());
    if (auto why = symbolic::checkInput(*controller, size_t(k), *v)) return fail(Error(*why));
    inputs.push_back(*v);
  }
  Rng rng0(0);
  Expected<symbolic::RunResult> ran = symbolic::run(*controller, inputs, rng0);
  if (!ran) return fail(ran.error());
  std::cout << "run Controller reading=3 speed=20:\n";
  printOutputs(*controller, ran->outputs, ctx);

  // Run the random Braking scenario once, its choices drawn from seed 1.
  const ir::Function* braking = program->findFunction("Braking");
  if (!braking) return fail(Error(chsPath + ": no module 'Braking'"));
  Rng rng1(1);
  Expected<symbolic::RunResult> scenario = symbolic::run(*braking, {}, rng1);
  if (!scenario) return fail(scenario.error());
  std::cout << "run Braking seed=1:\n";
  printOutputs(*braking, scenario->outputs, ctx);

  // Verify two properties: one holds, one is violated with a counterexample.
  verifier::VerifyOptions verifyOptions;
  verifyOptions.timeoutSec = 60;
  for (const ir::Property& p : program->properties) {
    if (p.name != "brakes_when_close" && p.name != "never_late_when_slow") continue;
    verifier::PropertyResult r = verifier::verifyProperty(*program, p, verifyOptions);
    std::cout << "verify " << r.name << ": " << verifier::verdictName(r.verdict);
    std::string cx;
    for (auto& [name, value] : r.counterexample)
      cx += (cx.empty() ? "" : ", ") + name + " = " + value;
    if (!cx.empty()) std::cout << " at " << cx;
    if (!r.reason.empty()) std::cout << " (" << r.reason << ")";
    std::cout << "\n";
  }

  // Load the ONNX network and evaluate it (float64, as `chassis eval` does).
  Expected<neural::Network> net = neural::loadOnnx(onnxPath);
  if (!net) return fail(net.error());
  Eigen::MatrixXd x(1, net->inputSize());
  x << 30, 10;
  Eigen::MatrixXd y = net->forward(x);
  std::printf("eval %s at 30,10: %.17g,%.17g\n", onnxPath.c_str(), y(0, 0), y(0, 1));

  // The same network as the program's `Policy`, run through the interpreter.
  const ir::Function* policy = program->findFunction("Policy");
  if (!policy) return fail(Error(chsPath + ": no network 'Policy'"));
  Expected<symbolic::RunResult> viaProgram =
      symbolic::run(*policy, std::vector<symbolic::Value>{symbolic::Value::array({30, 10})}, rng0);
  if (!viaProgram) return fail(viaProgram.error());
  std::cout << "run Policy x=[30, 10]:\n";
  printOutputs(*policy, viaProgram->outputs, ctx);
  return 0;
}

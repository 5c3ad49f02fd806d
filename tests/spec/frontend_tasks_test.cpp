// Unit tests of `task` declarations (spec/ast.h TaskDecl): parsing of every clause and network
// form, the resolved pointers the checker sets, Program::tasks / findTask / TaskDecl::option, the
// AST dump, that lowering to the IR ignores tasks, and the exact text and place of diagnostics.
#include <catch2/catch.hpp>

#include "spec/ast_printer.h"
#include "spec/frontend.h"
#include "spec/lower.h"

using namespace chassis;
using namespace chassis::spec;

namespace {

std::vector<std::string> errs(const std::string& src) {
  DiagnosticEngine d;
  (void)fromString(src, "dir/t.chs", d);
  return d.messages();
}

Program ok(const std::string& src) {
  DiagnosticEngine d;
  auto p = fromString(src, "dir/t.chs", d);
  INFO(d.str());
  REQUIRE(p);
  return std::move(*p);
}

using V = std::vector<std::string>;

const std::string kModules = R"(enum Action { Coast, Brake }
module Controller(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool, action: Action) {
    brake = reading <= speed * speed / 12.0 + 5.0;
    action = if brake then Action.Brake else Action.Coast;
}
module Scenario() -> (distance: real, reading: real, speed: real) {
    distance ~ Uniform(0.0, 100.0);
    speed ~ Uniform(0.0, 30.0);
    reading = distance;
}
property close: always[Controller](reading <= 5.0 => brake);
property far: always[Controller](reading >= 100.0 && speed <= 10.0 => !brake);
)";

} // namespace

TEST_CASE("tasks: clauses parse in any order and resolve", "[frontend][task]") {
  Program p = ok(kModules + R"(
/// The braking task.
task braking {
  network: train(widths = [16, 8], epochs = 60, seed = 1, samples = 8000, lr = 0.003);
  box: speed in [5, 30], reading in [-0, 50.5];
  label: Controller.action;
  properties: far, close;
  inputs: Controller;
}
task scenario {
  inputs: Scenario;
  label: Controller.brake;
  network: onnx("../nets/policy.onnx");
}
)");
  REQUIRE(p.tasks.size() == 2);
  const TaskDecl* t = p.findTask("braking");
  REQUIRE(t == p.tasks[0]);
  CHECK(t->kind == DeclKind::Task);
  CHECK(t->doc == "The braking task.");
  CHECK(t->loc.line == 15);
  CHECK(t->loc.col == 6);
  CHECK(p.findTask("nope") == nullptr);
  CHECK(p.findCallable("braking") == nullptr);

  const ModuleDecl* controller = p.modules[0];
  REQUIRE(controller->name == "Controller");
  CHECK(t->inputs == controller);
  CHECK(t->reference == controller);
  REQUIRE(t->labelVar != nullptr);
  CHECK(t->labelVar == controller->outputs[1]);
  CHECK(t->labelVar->type.kind == TypeKind::Enum);
  CHECK(t->labelOutputLoc.line == 18);
  CHECK(t->labelOutputLoc.col == 21);

  CHECK(t->netSource == TaskDecl::NetSource::Train);
  CHECK(t->netLoc.line == 16);
  CHECK(t->netLoc.col == 12);
  REQUIRE(t->netOptions.size() == 5);
  CHECK(t->netOptions[0].name == "widths");
  CHECK(t->netOptions[0].isList);
  CHECK(t->netOptions[0].values == std::vector<double>{16, 8});
  CHECK(t->option("widths", 0) == 16);
  CHECK(t->option("epochs", 0) == 60);
  CHECK(t->option("lr", 0) == 0.003);
  CHECK(!t->findOption("lr")->integral);
  CHECK(t->findOption("seed")->integral);
  CHECK(t->option("batch", 32) == 32); // absent: the default
  CHECK(t->findOption("batch") == nullptr);

  REQUIRE(t->box.size() == 2);
  CHECK(t->box[0].name == "speed");
  CHECK(t->box[0].lo == 5);
  CHECK(t->box[0].hi == 30);
  CHECK(t->box[1].lo == 0);
  CHECK(t->box[1].hi == 50.5);

  REQUIRE(t->properties.size() == 2);
  CHECK(t->properties[0] == p.properties[1]); // far: in the order listed
  CHECK(t->properties[1] == p.properties[0]);
  CHECK(t->propertyNames == std::vector<std::string>{"far", "close"});

  const TaskDecl* s = p.findTask("scenario");
  REQUIRE(s != nullptr);
  CHECK(s->inputs == p.modules[1]);
  CHECK(s->reference == controller);
  CHECK(s->labelVar == controller->outputs[0]);
  CHECK(s->netSource == TaskDecl::NetSource::Onnx);
  CHECK(s->netPath == "../nets/policy.onnx");
  CHECK(s->resolvedNetPath == "nets/policy.onnx"); // relative to dir/, normalised
  CHECK(s->netOptions.empty());
  CHECK(s->box.empty());
  CHECK(s->properties.empty());
}

TEST_CASE("tasks: nnet and compile forms; the AST dump", "[frontend][task][printer]") {
  Program p = ok(kModules + R"(task a {
  inputs: Controller;
  label: Controller.brake;
  network: nnet("a.nnet");
}
task b {
  inputs: Controller;
  label: Controller.brake;
  network: compile(margin = 0.001);
  box: speed in [1, 2];
  properties: close;
}
task c {
  inputs: Controller;
  label: Controller.brake;
  network: compile();
}
)");
  REQUIRE(p.tasks.size() == 3);
  CHECK(p.tasks[0]->netSource == TaskDecl::NetSource::Nnet);
  CHECK(p.tasks[0]->resolvedNetPath == "dir/a.nnet");
  CHECK(p.tasks[1]->netSource == TaskDecl::NetSource::Compile);
  CHECK(p.tasks[1]->option("margin", 1) == 0.001);
  CHECK(p.tasks[2]->option("margin", 0.25) == 0.25);
  std::string dump = printProgram(p);
  std::string want = "task a\n"
                     "  inputs Controller\n"
                     "  label Controller.brake: bool\n"
                     "  network nnet(\"dir/a.nnet\")\n"
                     "task b\n"
                     "  inputs Controller\n"
                     "  label Controller.brake: bool\n"
                     "  network compile(margin = 0.001)\n"
                     "  box speed in [1.0, 2.0]\n"
                     "  properties close\n"
                     "task c\n"
                     "  inputs Controller\n"
                     "  label Controller.brake: bool\n"
                     "  network compile()\n"
                     "order: Controller Scenario\n";
  REQUIRE(dump.size() >= want.size());
  CHECK(dump.substr(dump.size() - want.size()) == want);
}

TEST_CASE("tasks: lowering to the IR skips them", "[frontend][task]") {
  Program p = ok(kModules + R"(task t {
  inputs: Controller;
  label: Controller.brake;
  network: train();
})");
  auto ir = ir::lower(p);
  INFO((ir ? std::string() : ir.error().message));
  REQUIRE(ir);
  CHECK(ir->findFunction("Controller") != nullptr);
  CHECK(ir->findFunction("t") == nullptr);
}

TEST_CASE("tasks: 'task' is a keyword; inputs, label, box, properties, train are not",
          "[frontend][task]") {
  (void)ok("module M(label: real in [0, 1], box: int in [0, 3]) -> (inputs: real, train: real) {\n"
           "  let properties = label;\n  inputs = properties;\n  train = 1.0;\n}");
  V e = errs("module M() -> (task: real) { task = 1.0; }");
  REQUIRE(!e.empty());
  CHECK(e[0] == "dir/t.chs:1:16: error: expected an output name, found 'task'");
}

TEST_CASE("tasks: the domain must be bounded", "[frontend][task]") {
  const std::string m = "module M(a: real, n: int, b: bool, xs: real[2] in [0, 1]) -> (y: real) "
                        "{ y = a; }\n";
  CHECK(errs(m + "task t { inputs: M; label: M.y; network: train(); }") ==
        V{"dir/t.chs:2:18: error: input 'a' of 'M' has no range: a task's domain must be bounded "
          "(declare `a: real in [lo, hi]` or add it to the task's box)",
          "dir/t.chs:2:18: error: input 'n' of 'M' has no range: a task's domain must be bounded "
          "(declare `n: int in [lo, hi]` or add it to the task's box)"});
  Program p = ok(m + "task t { inputs: M; label: M.y; network: train(); box: a in [0, 1], "
                     "n in [-3, 3]; }");
  CHECK(p.tasks[0]->inputs == p.modules[0]);
}

TEST_CASE("tasks: unresolved parts leave their pointers null", "[frontend][task]") {
  // A checked program has every pointer set; with errors, only the good parts are.
  DiagnosticEngine d;
  auto p = fromString(kModules + R"(task t {
  inputs: Scenario;
  label: Controller.nope;
  network: train();
  properties: close, nope;
})",
                      "t.chs", d);
  CHECK(!p);
  CHECK(d.messages() ==
        V{"t.chs:15:21: error: module 'Controller' has no output 'nope' (outputs: brake, action)",
          "t.chs:17:22: error: unknown property 'nope'"});
}

TEST_CASE("tasks: binding the label module's inputs", "[frontend][task]") {
  const std::string mods =
      R"(module A(x: real in [0, 1], y: real in [0, 1]) -> (s: real) { s = x + y; }
module ByName(y: real, x: real) -> (d: real) { d = y - x; }
module Subset(x: real) -> (d: real) { d = x; }
module ByCount(v: real[2]) -> (d: real) { d = v[0]; }
module Wrong(z: real) -> (d: real) { d = z; }
module WrongType(x: int, y: real) -> (d: real) { d = y; }
)";
  auto task = [](const std::string& label) {
    return "task t { inputs: A; label: " + label + "; network: train(); }";
  };
  Program p = ok(mods + task("ByName.d"));
  CHECK(p.tasks[0]->reference == p.modules[1]);
  (void)ok(mods + task("ByCount.d")); // 2 scalars either side: by position
  (void)ok(mods + task("A.s"));
  (void)ok(mods + task("Subset.d")); // by name: a subset of the features
  CHECK(errs(mods + task("Wrong.d")) ==
        V{"dir/t.chs:7:28: error: cannot bind the inputs of 'Wrong' (z: real) to the features of "
          "'A' (x: real, y: real): name them alike, or make the counts agree ('Wrong' takes 1 "
          "value, the features hold 2)"});
  (void)ok(mods + task("WrongType.d")); // x: int does not bind by name, but the counts agree
}

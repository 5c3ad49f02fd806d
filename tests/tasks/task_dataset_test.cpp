// Datasets from .chs tasks (tasks/task_dataset.h), checked against independent computations:
// box samples lie in the box and their labels equal the controller's rule evaluated here in C++;
// the seed fixes every byte; enum labels become class indices; a real label a regression target,
// an array label a vector target; features from a random module's outputs and choices, bound to
// the reference module by name or by position; and the errors for bad names, boxes and modules,
// located at the module concerned.
#include "tasks/task_dataset.h"

#include "neural/lower_network.h"
#include "spec/frontend.h"
#include "spec/lower.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

using namespace chassis;
using namespace chassis::tasks;

namespace {

const char* kTask = R"(
module Controller(reading: real in [0, 200], speed: real in [0, 40]) -> (brake: bool) {
    let stopping = speed * speed / 12.0;
    brake = reading <= stopping + 5.0;
}
enum Action { Coast, Brake, Emergency }
module Advisor(reading: real in [0, 200], speed: real in [0, 40]) -> (action: Action) {
    let stopping = speed * speed / 12.0;
    action = if reading <= stopping then Action.Emergency
             else (if reading <= stopping + 5.0 then Action.Brake else Action.Coast);
}
module Both(reading: real in [0, 200], speed: real in [0, 40]) -> (v: real[2]) {
    v = [reading + speed, reading - speed];
}
module Counts(n: int in [2, 4], flag: bool) -> (m: int) {
    m = if flag then n else 0 - n;
}
module Scenario() -> (distance: real, speed: real, close: bool) {
    distance ~ Uniform(0.0, 100.0);
    speed ~ Uniform(0.0, 30.0);
    noise ~ Normal(0.0, 0.5);
    close = distance + noise < 10.0;
}
module Free(x: real) -> (y: bool) {
    y = x > 0.0;
}
module Weighted() -> (x: real) {
    x ~ Normal(0.0, 1.0);
    observe(Normal(x, 1.0), 0.5);
}
)";

ir::Program compile() {
  spec::DiagnosticEngine diags;
  auto ast = spec::fromString(kTask, "task.chs", diags);
  INFO(diags.str());
  REQUIRE(ast);
  ir::LowerOptions lo;
  lo.networkLoader = neural::networkLoader();
  auto prog = ir::lower(*ast, lo);
  REQUIRE(prog);
  return std::move(*prog);
}

TaskDataset build(const ir::Program& p, const TaskOptions& o) {
  bool runtime = false;
  auto r = buildTaskDataset(p, "task.chs", o, runtime);
  INFO((r ? std::string() : r.error().str()));
  REQUIRE(r);
  return std::move(*r);
}

std::string errorOf(const ir::Program& p, const TaskOptions& o, bool* runtime = nullptr) {
  bool rt = false;
  auto r = buildTaskDataset(p, "task.chs", o, rt);
  REQUIRE(!r);
  if (runtime) *runtime = rt;
  return r.error().str();
}

} // namespace

TEST_CASE("box samples and controller labels", "[tasks][dataset]") {
  const ir::Program p = compile();
  TaskOptions o;
  o.inputs = "Controller";
  o.label = "Controller.brake";
  o.samples = 500;
  o.seed = 3;
  TaskDataset t = build(p, o);
  CHECK(t.kind == LabelKind::Class);
  CHECK(t.numClasses == 2);
  CHECK(t.data.featureNames == std::vector<std::string>{"reading", "speed"});
  CHECK(t.data.labelName == "brake");
  REQUIRE(t.data.size() == 500);
  int positives = 0;
  for (int i = 0; i < 500; ++i) {
    const double r = t.data.X(i, 0), s = t.data.X(i, 1);
    REQUIRE(r >= 0);
    REQUIRE(r <= 200);
    REQUIRE(s >= 0);
    REQUIRE(s <= 40);
    REQUIRE(t.data.y[i] == double(r <= s * s / 12.0 + 5.0));
    positives += t.data.y[i] == 1;
  }
  // P(brake) = (1/8000) * integral_0^40 (s^2/12 + 5) ds = (40^3/36 + 200) / 8000 = 0.247
  CHECK(positives > 90);
  CHECK(positives < 160);
  // The seed fixes every byte; another seed changes the samples.
  TaskDataset again = build(p, o);
  CHECK(std::memcmp(again.data.X.data(), t.data.X.data(), sizeof(double) * 1000) == 0);
  o.seed = 4;
  TaskDataset other = build(p, o);
  CHECK(other.data.X(0, 0) != t.data.X(0, 0));
  // --box narrows the box; the label may be given as Module alone (one output).
  o.box = {"reading=0:10", "speed=5:40"};
  o.label = "Controller";
  TaskDataset boxed = build(p, o);
  for (int i = 0; i < boxed.data.size(); ++i) {
    REQUIRE(boxed.data.X(i, 0) <= 10);
    REQUIRE(boxed.data.X(i, 1) >= 5);
    const double r = boxed.data.X(i, 0), s = boxed.data.X(i, 1);
    REQUIRE(boxed.data.y[i] == double(r <= s * s / 12.0 + 5.0));
  }
}

TEST_CASE("enum, real, array and int labels", "[tasks][dataset]") {
  const ir::Program p = compile();
  TaskOptions o;
  o.inputs = "Controller";
  o.label = "Advisor.action"; // another module, inputs bound by name
  o.samples = 300;
  TaskDataset t = build(p, o);
  CHECK(t.kind == LabelKind::Class);
  CHECK(t.numClasses == 3);
  CHECK(t.data.classNames == std::vector<std::string>{"Coast", "Brake", "Emergency"});
  int seen[3] = {0, 0, 0};
  for (int i = 0; i < t.data.size(); ++i) {
    const double r = t.data.X(i, 0), s = t.data.X(i, 1), stop = s * s / 12.0;
    const int want = r <= stop ? 2 : (r <= stop + 5.0 ? 1 : 0);
    REQUIRE(t.data.y[i] == want);
    ++seen[want];
  }
  CHECK(seen[0] > 0);
  CHECK(seen[2] > 0);
  // a vector label: MSE targets, one column per element
  o.label = "Both.v";
  TaskDataset v = build(p, o);
  CHECK(v.kind == LabelKind::Regression);
  REQUIRE(v.data.Y.cols() == 2);
  CHECK(v.data.labelNames == std::vector<std::string>{"v[0]", "v[1]"});
  for (int i = 0; i < v.data.size(); ++i) {
    REQUIRE(v.data.Y(i, 0) == v.data.X(i, 0) + v.data.X(i, 1));
    REQUIRE(v.data.Y(i, 1) == v.data.X(i, 0) - v.data.X(i, 1));
  }
  // int and bool inputs: integers of the box, fair bools; an int label is a regression target
  o.inputs = "Counts";
  o.label = "m";
  TaskDataset c = build(p, o);
  CHECK(c.kind == LabelKind::Regression);
  CHECK(c.data.featureNames == std::vector<std::string>{"n", "flag"});
  bool sawN[5] = {false, false, false, false, false};
  for (int i = 0; i < c.data.size(); ++i) {
    const double n = c.data.X(i, 0), f = c.data.X(i, 1);
    REQUIRE((n == 2 || n == 3 || n == 4));
    REQUIRE((f == 0 || f == 1));
    REQUIRE(c.data.y[i] == (f == 1 ? n : -n));
    sawN[int(n)] = true;
  }
  CHECK((sawN[2] && sawN[3] && sawN[4]));
}

TEST_CASE("features from a random module's run", "[tasks][dataset]") {
  const ir::Program p = compile();
  TaskOptions o;
  o.inputs = "Scenario";
  o.label = "Scenario.close"; // the same run's output; default features: the other outputs
  o.samples = 400;
  TaskDataset t = build(p, o);
  CHECK(t.data.featureNames == std::vector<std::string>{"distance", "speed"});
  int mismatches = 0;
  for (int i = 0; i < t.data.size(); ++i) {
    REQUIRE(t.data.X(i, 0) >= 0);
    REQUIRE(t.data.X(i, 0) <= 100);
    mismatches += t.data.y[i] != double(t.data.X(i, 0) < 10.0);
  }
  CHECK(mismatches > 0);  // the noise flips a few near 10
  CHECK(mismatches < 40); // but only near the threshold
  // a random choice as a feature, by address
  o.features = {"noise", "distance"};
  TaskDataset n = build(p, o);
  CHECK(n.data.featureNames == std::vector<std::string>{"noise", "distance"});
  for (int i = 0; i < n.data.size(); ++i)
    REQUIRE(n.data.y[i] == double(n.data.X(i, 1) + n.data.X(i, 0) < 10.0));
  // bound to another module by position: distance -> reading, speed -> speed
  o.features = {"distance", "speed"};
  o.label = "Controller.brake";
  TaskDataset b = build(p, o);
  for (int i = 0; i < b.data.size(); ++i) {
    const double r = b.data.X(i, 0), s = b.data.X(i, 1);
    REQUIRE(b.data.y[i] == double(r <= s * s / 12.0 + 5.0));
  }
  // positional binding that breaks a range is a run-time failure, located at the module
  o.features = {"noise", "speed"};
  bool runtime = false;
  const std::string e = errorOf(p, o, &runtime);
  CHECK(runtime);
  CHECK(e.find("task.chs:2:8: error: sample ") == 0);
  CHECK(e.find("input 'reading' = -") != std::string::npos);
}

TEST_CASE("task errors name the module and where it is", "[tasks][dataset]") {
  const ir::Program p = compile();
  TaskOptions o;
  o.inputs = "Nope";
  o.label = "Controller.brake";
  CHECK(errorOf(p, o) == "task.chs: error: no module named 'Nope' (modules: Controller, Advisor, "
                         "Both, Counts, Scenario, Free, Weighted)");
  o.inputs = "Controller";
  o.label = "Controller.brak";
  CHECK(errorOf(p, o) == "task.chs:2:8: error: label 'Controller.brak': module 'Controller' has "
                         "no output 'brak' (outputs: brake)");
  o.label = "Ctrl.brake";
  CHECK(errorOf(p, o).find("task.chs: error: label 'Ctrl.brake': no module named 'Ctrl'") == 0);
  o.label = "Scenario";
  CHECK(errorOf(p, o).find("error: label 'Scenario': module 'Scenario' has 3 outputs; name one "
                           "as Scenario.output") != std::string::npos);
  o.label = "Controller.brake";
  o.box = {"reading=0:300"};
  CHECK(errorOf(p, o) == "task.chs:2:8: error: --box reading=0:300 leaves the declared range "
                         "[0, 200] of input 'reading'");
  o.box = {"reading=0-10"};
  CHECK(errorOf(p, o) == "error: --box takes name=lo:hi with finite numbers, got 'reading=0-10'");
  o.box = {"distance=0:1"};
  CHECK(errorOf(p, o).find("has no input 'distance' (inputs: reading, speed)") !=
        std::string::npos);
  o.box = {};
  o.features = {"foo"};
  CHECK(errorOf(p, o) == "task.chs:2:8: error: feature 'foo': module 'Controller' has no input "
                         "or output so named (inputs: reading, speed; outputs: brake)");
  o.features = {};
  o.inputs = "Free";
  o.label = "Free.y";
  CHECK(errorOf(p, o).find("input 'x' of module 'Free' has no range to sample from") !=
        std::string::npos);
  o.box = {"x=-1:1"};
  CHECK(build(p, o).data.size() == 2000);
  o.box = {};
  o.inputs = "Weighted";
  o.label = "Weighted.x";
  CHECK(errorOf(p, o).find("module 'Weighted' observes, conditions or factors") !=
        std::string::npos);
  o.inputs = "Controller";
  o.label = "Controller.brake";
  o.samples = 0;
  CHECK(errorOf(p, o) == "error: --samples must be in [1, 10000000], got 0");
}

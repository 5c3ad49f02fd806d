// Tests of imports and the module call graph (spec/frontend.h, spec/callgraph.h): relative paths,
// files imported twice loaded once, import cycles named, missing files; recursion named,
// topological order; diagnostics with source lines and carets.
#include <catch2/catch.hpp>

#include "spec/callgraph.h"
#include "spec/frontend.h"

#include <filesystem>
#include <fstream>

using namespace chassis;
using namespace chassis::spec;
namespace fs = std::filesystem;

namespace {

using V = std::vector<std::string>;

// A fresh temporary directory, removed at the end of the test.
struct TempDir {
  fs::path dir;
  TempDir() {
    static int n = 0;
    dir = fs::temp_directory_path() /
          ("chassis_frontend_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string write(const std::string& rel, const std::string& text) const {
    fs::path p = dir / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
};

std::vector<std::string> errs(const std::string& src) {
  DiagnosticEngine d;
  (void)fromString(src, "t.chs", d);
  return d.messages();
}

} // namespace

TEST_CASE("imports: relative paths, diamond loaded once, imports first", "[frontend][imports]") {
  TempDir t;
  t.write("lib/base.chs", "enum Mode { Off, On }\nmodule Base(x: real) -> (y: real) { y = x; }\n");
  t.write("lib/left.chs", "import \"base.chs\";\nmodule Left() -> (y: real) { y = Base(1.0); }\n");
  t.write("right.chs", "import \"lib/base.chs\";\nmodule Right() -> (m: Mode) { m = On; }\n");
  std::string root =
      t.write("main.chs", "import \"lib/left.chs\";\nimport \"right.chs\";\n"
                          "module Main() -> (y: real) { y = Left() + Base(2.0); }\n");
  DiagnosticEngine d;
  auto p = loadProgram(root, d);
  INFO(d.str());
  REQUIRE(p);
  REQUIRE(p->files.size() == 4);
  CHECK(fs::path(p->files[0]->path).filename() == "base.chs");
  CHECK(fs::path(p->files[1]->path).filename() == "left.chs");
  CHECK(fs::path(p->files[2]->path).filename() == "right.chs");
  CHECK(p->files[3]->path == root);
  CHECK(p->modules.size() == 4);
  CHECK(p->enums.size() == 1);
  CHECK(p->order.front()->name == "Base");
  CHECK(p->order.back()->name == "Main");
}

TEST_CASE("imports: a cycle is an error naming it", "[frontend][imports]") {
  TempDir t;
  t.write("a.chs", "import \"b.chs\";\nmodule A() -> () { }\n");
  t.write("b.chs", "import \"a.chs\";\nmodule B() -> () { }\n");
  DiagnosticEngine d;
  std::string a = (t.dir / "a.chs").string();
  auto p = loadProgram(a, d);
  REQUIRE(!p);
  std::string b = (t.dir / "b.chs").string();
  CHECK(d.messages() == V{b + ":1:8: error: import cycle: " + a + " -> " + b + " -> " + a});
}

TEST_CASE("imports: self-import and missing files", "[frontend][imports]") {
  TempDir t;
  std::string a = t.write("a.chs", "import \"a.chs\";\nimport \"nope.chs\";\n");
  DiagnosticEngine d;
  REQUIRE(!loadProgram(a, d));
  CHECK(d.messages() ==
        V{a + ":1:8: error: import cycle: " + a + " -> " + a,
          a + ":2:8: error: cannot open imported file '" + (t.dir / "nope.chs").string() + "'"});
  DiagnosticEngine d2;
  REQUIRE(!loadProgram((t.dir / "missing.chs").string(), d2));
  CHECK(d2.messages() == V{(t.dir / "missing.chs").string() + ": error: cannot open '" +
                           (t.dir / "missing.chs").string() + "'"});
}

TEST_CASE("imports: names clash across files", "[frontend][imports]") {
  TempDir t;
  t.write("lib.chs", "module A() -> () { }\n");
  std::string m = t.write("m.chs", "import \"lib.chs\";\nmodule A() -> () { }\n");
  DiagnosticEngine d;
  REQUIRE(!loadProgram(m, d));
  CHECK(d.messages() == V{m + ":2:8: error: redefinition of 'A' (previously declared at " +
                          (t.dir / "lib.chs").string() + ":1:8)"});
}

TEST_CASE("call graph: recursion is rejected naming the cycle", "[frontend][callgraph]") {
  CHECK(errs("module A(x: real) -> (y: real) { y = B(x); }\n"
             "module B(x: real) -> (y: real) { y = A(x); }\n") ==
        V{"t.chs:1:38: error: recursion between modules: A -> B -> A"});
  CHECK(errs("module A(x: real) -> (y: real) { y = A(x); }") ==
        V{"t.chs:1:38: error: recursion between modules: A -> A"});
  CHECK(errs("module A() -> (y: real) { y = B(); }\nmodule B() -> (y: real) { y = C(); }\n"
             "module C() -> (y: real) { y = A(); }\nmodule D() -> (y: real) { y = D(); }\n") ==
        V{"t.chs:1:31: error: recursion between modules: A -> B -> C -> A",
          "t.chs:4:31: error: recursion between modules: D -> D"});
}

TEST_CASE("call graph: topological order, callees first", "[frontend][callgraph]") {
  DiagnosticEngine d;
  auto p = fromString("module Top() -> (y: real) { y = Mid() + Leaf(); }\n"
                      "module Mid() -> (y: real) { y = Leaf() + N([1.0])[0]; }\n"
                      "module Leaf() -> (y: real) { y = 1.0; }\n"
                      "network N(x: real[1]) -> (y: real[1]) = onnx(\"n.onnx\");\n",
                      "dir/t.chs", d);
  INFO(d.str());
  REQUIRE(p);
  std::vector<std::string> order;
  for (auto* c : p->order)
    order.push_back(c->name);
  CHECK(order == V{"Leaf", "N", "Mid", "Top"});
  CHECK(p->networks[0]->resolvedPath == "dir/n.onnx");
  CallGraph g({p->modules[0], p->modules[1], p->modules[2], p->networks[0]},
              {{p->modules[0], p->modules[1], {}}, {p->modules[1], p->networks[0], {}}});
  CHECK(g.dot() == "digraph calls {\n  \"Top\";\n  \"Mid\";\n  \"Leaf\";\n  \"N\" [shape=box];\n"
                   "  \"Top\" -> \"Mid\";\n  \"Mid\" -> \"N\";\n}\n");
}

TEST_CASE("diagnostics: sorted, with source line and caret", "[frontend][diagnostics]") {
  DiagnosticEngine d;
  (void)fromString("module M() -> (y: real) {\n\ty = zz + 1.0;\n  q = 2;\n}\n", "t.chs", d);
  CHECK(d.str() == "t.chs:2:6: error: undefined name 'zz'\n"
                   "  \ty = zz + 1.0;\n"
                   "  \t    ^\n"
                   "t.chs:3:3: error: undefined name 'q'\n"
                   "    q = 2;\n"
                   "    ^\n");
}

TEST_CASE("diagnostics: capped count, long lines windowed", "[frontend][diagnostics]") {
  DiagnosticEngine d;
  (void)fromString(std::string(5000, '@'), "t.chs", d);
  CHECK(d.errorCount() == 5000);
  CHECK(d.messages().size() == DiagnosticEngine::kMaxErrors);
  std::string out = d.str();
  CHECK(out.find("t.chs: error: too many errors: 4000 more not shown (the first 1000 are above)") !=
        std::string::npos);
  // The 1000th error is at column 1000 of a 5000-character line: shown in a window.
  CHECK(out.size() < 1000 * 400);
  DiagnosticEngine d2;
  (void)fromString("property p: " + std::string(300, ' ') + "zz;", "t.chs", d2);
  CHECK(d2.str() == "t.chs:1:313: error: undefined name 'zz'\n  ..." + std::string(80, ' ') +
                        "zz;\n     " + std::string(80, ' ') + "^\n");
}

TEST_CASE("call graph: a long cycle is abbreviated", "[frontend][callgraph]") {
  std::string src;
  for (int i = 0; i < 20; ++i)
    src += "module M" + std::to_string(i) + "() -> (y: real) { y = M" +
           std::to_string((i + 1) % 20) + "(); }\n";
  CHECK(errs(src) == V{"t.chs:1:32: error: recursion between modules: M0 -> M1 -> M2 -> M3 -> M4 "
                       "-> M5 -> ... (8 more) -> M14 -> M15 -> M16 -> M17 -> M18 -> M19 -> M0"});
}

TEST_CASE("imports: directories and devices are refused, not read", "[frontend][imports]") {
  TempDir t;
  fs::create_directories(t.dir / "lib");
  std::string a = t.write("a.chs", "import \"lib\";\nimport \"/dev/zero\";\n");
  DiagnosticEngine d;
  REQUIRE(!loadProgram(a, d));
  CHECK(d.messages() ==
        V{a + ":1:8: error: cannot open imported file '" + (t.dir / "lib").string() +
              "' (it is a directory)",
          a + ":2:8: error: cannot open imported file '/dev/zero' (not a regular file)"});
  DiagnosticEngine d2;
  REQUIRE(!loadProgram(t.dir.string(), d2));
  CHECK(d2.messages() ==
        V{t.dir.string() + ": error: cannot open '" + t.dir.string() + "' (it is a directory)"});
}

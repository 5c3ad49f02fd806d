// The front end's pipeline (spec/frontend.h): load the root file, follow imports depth-first
// (imports land in Program::files before their importers), parse each file once, then check the
// whole program (spec/checker.h), which also builds the call graph.
#include "spec/frontend.h"

#include "spec/checker.h"
#include "spec/parser.h"
#include "spec/source.h"

#include <filesystem>
#include <map>

namespace chassis::spec {

namespace {

namespace fs = std::filesystem;

class Loader {
public:
  Loader(Program& p, DiagnosticEngine& d) : prog_(p), diags_(d) {}

  void load(const std::string& display, const std::string& canonical, const std::string& text) {
    state_[canonical] = State::Loading;
    stack_.push_back({canonical, display});
    diags_.addSource(display, text);
    std::unique_ptr<FileAST> file = parseFile(text, display, diags_);
    for (auto& d : file->decls) {
      if (d->kind != DeclKind::Import) continue;
      auto& imp = static_cast<ImportDecl&>(*d);
      fs::path resolved = (fs::path(display).parent_path() / imp.name).lexically_normal();
      imp.resolvedPath = resolved.string();
      std::string canon = canonicalOf(imp.resolvedPath);
      auto st = state_.find(canon);
      if (st != state_.end() && st->second == State::Loading) {
        std::string cycle;
        bool on = false;
        for (auto& [c, disp] : stack_) {
          on |= c == canon;
          if (on) cycle += disp + " -> ";
        }
        diags_.error(imp.loc, "import cycle: " + cycle + imp.resolvedPath);
        continue;
      }
      if (st != state_.end()) continue; // already loaded: once is enough
      if (static_cast<int>(stack_.size()) >= kMaxImportDepth) {
        diags_.error(imp.loc,
                     "imports nested too deeply (limit " + std::to_string(kMaxImportDepth) + ")");
        continue;
      }
      auto src = readSourceFile(imp.resolvedPath, imp.loc, "imported file ");
      if (!src) {
        diags_.report(src.error());
        continue;
      }
      load(imp.resolvedPath, canon, *src);
    }
    stack_.pop_back();
    state_[canonical] = State::Done;
    prog_.files.push_back(std::move(file));
  }

  static std::string canonicalOf(const std::string& path) {
    std::error_code ec;
    fs::path c = fs::weakly_canonical(fs::path(path), ec);
    return ec ? fs::path(path).lexically_normal().string() : c.string();
  }

private:
  enum class State { Loading, Done };
  Program& prog_;
  DiagnosticEngine& diags_;
  std::map<std::string, State> state_;
  std::vector<std::pair<std::string, std::string>> stack_; // (canonical, display)
};

Expected<Program> finish(Program prog, DiagnosticEngine& diags, const DataSizes* sizes) {
  if (!diags.hasErrors()) checkProgram(prog, diags, sizes);
  if (diags.hasErrors()) return diags.sorted().front();
  return prog;
}

} // namespace

Expected<Program> loadProgram(const std::string& path, DiagnosticEngine& diags,
                              const DataSizes* sizes) {
  auto src = readSourceFile(path, SourceLoc{path, 0, 0});
  if (!src) {
    diags.report(src.error());
    return src.error();
  }
  Program prog;
  Loader(prog, diags).load(path, Loader::canonicalOf(path), *src);
  return finish(std::move(prog), diags, sizes);
}

Expected<Program> fromString(std::string_view source, const std::string& name,
                             DiagnosticEngine& diags, const DataSizes* sizes) {
  Program prog;
  Loader(prog, diags).load(name, Loader::canonicalOf(name), std::string(source));
  return finish(std::move(prog), diags, sizes);
}

} // namespace chassis::spec

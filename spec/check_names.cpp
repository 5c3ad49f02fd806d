// Global names (entry collectNames): enums, modules, networks, properties and tasks are unique
// across all files and not named like a builtin or a distribution; each goes into the context's
// tables and the Program's lists. Enum constants are numbered, and the bare ones indexed (a bare
// constant in two enums is ambiguous). Also the "did you mean" suggestions every pass uses.
#include "spec/check_context.h"

#include "spec/parser.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace chassis::spec::check {

namespace {

// Levenshtein distance (two rows).
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

void collectGlobals(CheckContext& ctx) {
  for (auto& f : ctx.prog.files)
    for (auto& d : f->decls) {
      if (d->kind == DeclKind::Import) continue;
      if (d->kind != DeclKind::Property) {
        if (builtinFromName(d->name)) {
          ctx.error(d->loc, "'" + d->name + "' is the name of a builtin function");
          continue;
        }
        if (distKindFromName(d->name)) {
          ctx.error(d->loc, "'" + d->name + "' is the name of a distribution");
          continue;
        }
      }
      auto [it, fresh] = ctx.globals.emplace(d->name, d.get());
      if (!fresh) {
        ctx.error(d->loc, "redefinition of '" + d->name + "' (previously declared at " +
                              ctx.where(it->second->loc) + ")");
        continue;
      }
      switch (d->kind) {
      case DeclKind::Enum:
        ctx.enums.push_back(static_cast<EnumDecl*>(d.get()));
        ctx.prog.enums.push_back(ctx.enums.back());
        break;
      case DeclKind::Module:
        ctx.callables.push_back(static_cast<CallableDecl*>(d.get()));
        ctx.prog.modules.push_back(static_cast<ModuleDecl*>(d.get()));
        break;
      case DeclKind::Network: {
        auto* n = static_cast<NetworkDecl*>(d.get());
        ctx.callables.push_back(n);
        ctx.prog.networks.push_back(n);
        namespace fs = std::filesystem;
        n->resolvedPath =
            (fs::path(n->loc.file).parent_path() / n->path).lexically_normal().string();
        break;
      }
      case DeclKind::Property:
        ctx.props.push_back(static_cast<PropertyDecl*>(d.get()));
        ctx.prog.properties.push_back(ctx.props.back());
        break;
      case DeclKind::Task: {
        auto* t = static_cast<TaskDecl*>(d.get());
        ctx.tasks.push_back(t);
        ctx.prog.tasks.push_back(t);
        if (t->netSource == TaskDecl::NetSource::Onnx ||
            t->netSource == TaskDecl::NetSource::Nnet) {
          namespace fs = std::filesystem;
          t->resolvedNetPath =
              (fs::path(t->loc.file).parent_path() / t->netPath).lexically_normal().string();
        }
        break;
      }
      case DeclKind::Import:
        break;
      }
    }
}

void checkEnum(CheckContext& ctx, EnumDecl& e) {
  std::set<std::string> seen;
  for (size_t i = 0; i < e.constants.size(); ++i) {
    EnumConstant& c = e.constants[i];
    c.value = static_cast<int64_t>(i);
    if (!seen.insert(c.name).second) {
      ctx.error(c.loc, "duplicate constant '" + c.name + "' in enum '" + e.name + "'");
      continue;
    }
    ctx.bareConstants[c.name].push_back({&e, c.value});
  }
}

} // namespace

void collectNames(CheckContext& ctx) {
  collectGlobals(ctx);
  for (EnumDecl* e : ctx.enums)
    checkEnum(ctx, *e);
}

bool CheckContext::suggestionWanted(const std::string& name) const {
  constexpr int kMaxSuggestions = 50;
  return name.size() >= 3 && suggestions < kMaxSuggestions;
}

std::string CheckContext::didYouMean(const std::string& name,
                                     const std::vector<std::string_view>& candidates) {
  if (!suggestionWanted(name)) return "";
  ++suggestions;
  size_t maxd = name.size() <= 4 ? 1 : 2, best = maxd + 1;
  std::string_view bestName;
  for (std::string_view c : candidates) {
    if (c == name ||
        (c.size() > name.size() ? c.size() - name.size() : name.size() - c.size()) > maxd)
      continue;
    size_t d = editDistance(name, c);
    if (d < best || (d == best && c < bestName)) {
      best = d;
      bestName = c;
    }
  }
  return best <= maxd ? " (did you mean '" + std::string(bestName) + "'?)" : "";
}

} // namespace chassis::spec::check

// Writing result files whole or not at all (see output_file.h).
#include "tools/output_file.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace chassis::tools {

namespace {

std::filesystem::path tempPathFor(const std::string& path) {
  const std::filesystem::path target(path);
  return target.parent_path() /
         (".chassis_tmp_" + std::to_string(::getpid()) + "_" + target.filename().string());
}

/// Writes `text` to `tmp` whole (closed and checked); false, with a diagnostic naming `path`.
bool writeTemp(const std::filesystem::path& tmp, const std::string& path, const std::string& text) {
  std::error_code ec;
  std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
  if (f) f << text;
  if (f) f.close();
  if (!f) {
    std::filesystem::remove(tmp, ec);
    std::cerr << path << ": error: cannot write the output file\n";
    return false;
  }
  return true;
}

} // namespace

bool writeFileAtomic(const std::string& path, const std::string& text) {
  return writeFilesAtomic({{path, text}});
}

bool writeFilesAtomic(const std::vector<std::pair<std::string, std::string>>& pathsAndTexts) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // A directory in a target's place would fail only at its rename, after earlier files are in
  // place: refuse it before writing anything.
  for (const auto& pt : pathsAndTexts)
    if (fs::is_directory(pt.first, ec)) {
      std::cerr << pt.first << ": error: cannot write the output file (is a directory)\n";
      return false;
    }
  std::vector<fs::path> tmps;
  for (const auto& [path, text] : pathsAndTexts) {
    tmps.push_back(tempPathFor(path));
    if (!writeTemp(tmps.back(), path, text)) {
      for (size_t i = 0; i + 1 < tmps.size(); ++i)
        fs::remove(tmps[i], ec);
      return false;
    }
  }
  for (size_t i = 0; i < tmps.size(); ++i) {
    fs::rename(tmps[i], pathsAndTexts[i].first, ec);
    if (ec) {
      std::cerr << pathsAndTexts[i].first << ": error: cannot write the output file ("
                << ec.message() << ")\n";
      std::error_code ig;
      for (size_t j = i; j < tmps.size(); ++j)
        fs::remove(tmps[j], ig);
      return false;
    }
  }
  return true;
}

bool checkWritable(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  for (const std::string& p : paths) {
    if (p.empty()) continue;
    std::error_code ec;
    fs::path dir = fs::path(p).parent_path();
    if (dir.empty()) dir = ".";
    if (!fs::is_directory(dir, ec) || ::access(dir.c_str(), W_OK) != 0) {
      std::cerr << p << ": error: cannot write here (the directory " << dir.string()
                << " does not exist or is not writable)\n";
      return false;
    }
    if (fs::is_directory(p, ec)) {
      std::cerr << p << ": error: is a directory, not a file\n";
      return false;
    }
  }
  return true;
}

} // namespace chassis::tools

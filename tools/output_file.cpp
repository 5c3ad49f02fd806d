// Writing result files whole or not at all (see output_file.h).
#include "tools/output_file.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace chassis::tools {

bool writeFileAtomic(const std::string& path, const std::string& text) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path target(path);
  const fs::path tmp = target.parent_path() / (".chassis_tmp_" + std::to_string(::getpid()) + "_" +
                                               target.filename().string());
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f || !(f << text) || !f.flush()) {
      fs::remove(tmp, ec);
      std::cerr << path << ": error: cannot write the output file\n";
      return false;
    }
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    fs::remove(tmp, ec);
    std::cerr << path << ": error: cannot write the output file (" << ec.message() << ")\n";
    return false;
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

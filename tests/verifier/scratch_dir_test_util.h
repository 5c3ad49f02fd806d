// Test helper shared by the verifier tests that write files (ONNX, VNN-LIB, .chs, outputs of the
// chassis command): a scratch directory per test file, under one directory of this process that
// is removed at exit.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace chassis::testing {

/// `name`'s scratch directory (created on first use) under this process's scratch root.
inline std::string scratchDirectory(const std::string& name) {
  struct Root {
    std::string path;
    Root() {
      path = (std::filesystem::temp_directory_path() /
              ("chassis_verifier_tests_" + std::to_string(::getpid())))
                 .string();
    }
    ~Root() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Root root;
  const std::string dir = root.path + "/" + name;
  std::filesystem::create_directories(dir);
  return dir;
}

} // namespace chassis::testing

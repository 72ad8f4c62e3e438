// A private directory under /tmp for one test, removed with everything in
// it when the test is done.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cxs::test {

class TempDir {
 public:
  // `prefix` names the test in /tmp (cxs-<prefix>-XXXXXX), for whoever
  // finds one left behind by a crash.
  explicit TempDir(std::string_view prefix = "test") {
    std::string tmpl = "/tmp/cxs-" + std::string(prefix) + "-XXXXXX";
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const noexcept { return path_; }
  std::filesystem::path operator/(std::string_view name) const {
    return std::filesystem::path(path_) / name;
  }

 private:
  std::string path_;
};

}  // namespace cxs::test

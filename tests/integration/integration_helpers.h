// Small helpers shared by the integration tests (header-only: the
// integration CMakeLists builds every *_test.cc, nothing else).
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "event_assertions.h"
#include "test_util.h"
#include "wire/message_type.h"

namespace cxs::test {

// Children of `path`: DIRECTORY, falling back to DIRECTORY_PART paging when
// the listing is too big for one reply. Empty on error.
inline std::vector<std::string> list_children(RawClient& c,
                                              const std::string& path) {
  Msg m = c.directory(path);
  if (is_type(m, wire::MsgType::XS_DIRECTORY)) return nul_split(m.payload);
  if (!m.is_error("E2BIG")) return {};
  std::string all;
  for (;;) {
    Msg part = c.request(ty(wire::MsgType::XS_DIRECTORY_PART),
                         nul_join({path, std::to_string(all.size())}));
    if (!is_type(part, wire::MsgType::XS_DIRECTORY_PART)) return {};
    std::size_t nul = part.payload.find('\0');
    std::string slice = part.payload.substr(nul + 1);
    if (slice.empty() || slice == std::string(1, '\0')) break;
    bool last = slice.size() >= 2 && slice.ends_with(std::string(2, '\0'));
    all += last ? slice.substr(0, slice.size() - 1) : slice;
    if (last) break;
  }
  return nul_split(all);
}

// Every node below (and including) `path` as "path = value (perms)" lines,
// read over the raw protocol: compares the store before and after abuse.
inline void dump_into(RawClient& c, const std::string& path,
                      std::string& out) {
  Msg v = c.read(path);
  Msg p = c.get_perms(path);
  out += path + " = " + v.shown() + " (" + p.shown() + ")\n";
  for (const auto& child : list_children(c, path))
    dump_into(c, path == "/" ? "/" + child : path + "/" + child, out);
}

inline std::string dump_store(const std::string& socket,
                              const std::string& root = "/") {
  RawClient c(socket);
  std::string out;
  dump_into(c, root, out);
  return out;
}

// The fds of `pid` open on `path` (a lock handed on across a live update
// is open exactly once).
inline int fds_open_on(pid_t pid, const std::string& path) {
  int n = 0;
  std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::error_code ec;
    n += std::filesystem::read_symlink(e.path(), ec) == path;
  }
  return n;
}

}  // namespace cxs::test

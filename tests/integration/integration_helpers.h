// Small helpers shared by the integration tests (header-only: the
// integration CMakeLists builds every *_test.cc, nothing else).
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "daemon_process.h"
#include "raw_client.h"
#include "wire/message_type.h"

namespace cxs::test {

constexpr std::uint32_t ty(wire::MsgType m) {
  return static_cast<std::uint32_t>(m);
}

inline std::string with_nul(std::string_view s) {
  std::string out(s);
  out += '\0';
  return out;
}

inline bool is_type(const Msg& m, wire::MsgType t) { return m.type == ty(t); }

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

inline bool file_executable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

// True if a program is on PATH (or is an executable absolute path).
inline bool have_program(const std::string& name) {
  if (!name.empty() && name[0] == '/') return file_executable(name);
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':'))
    if (!dir.empty() && file_executable(dir + "/" + name)) return true;
  return false;
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Polls `pred` every 10 ms until it holds or `timeout` passes.
template <typename Pred>
bool eventually(Pred pred,
                std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

}  // namespace cxs::test

// Small helpers every test binary shares: the harness's client and launcher
// under their test names, payload building, outcome names, polling, files
// and programs.
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

#include "daemon_process.h"
#include "raw_client.h"
#include "wire/header.h"
#include "wire/message_type.h"

namespace cxs::test {

// The harness (tests/harness/) is shared with the benchmarks; the tests name
// its pieces unqualified.
using harness::CommandResult;
using harness::daemon_binary;
using harness::DaemonProcess;
using harness::Msg;
using harness::nul_join;
using harness::nul_split;
using harness::RawClient;
using harness::SimXen;
using harness::ty;

inline std::string with_nul(std::string_view s) {
  std::string out(s);
  out += '\0';
  return out;
}

inline bool is_type(const Msg& m, wire::MsgType t) { return m.type == ty(t); }

// A reply that is not XS_ERROR.
inline bool is_type_ok(const Msg& m) {
  return m.type != ty(wire::MsgType::XS_ERROR);
}

// "E2BIG" for an XS_ERROR message, "" otherwise.
inline std::string error_of(const wire::Message& m) {
  if (m.hdr.type != ty(wire::MsgType::XS_ERROR)) return "";
  return m.payload.substr(0, m.payload.find('\0'));
}

// "EACCES" for an XS_ERROR message, the type name ("XS_READ") otherwise.
inline std::string outcome_of(const wire::Message& m) {
  if (m.hdr.type == ty(wire::MsgType::XS_ERROR)) return error_of(m);
  return std::string(wire::msg_type_name(m.hdr.type));
}
inline std::string outcome_of(const Msg& m) {
  if (m.type == ty(wire::MsgType::XS_ERROR))
    return m.payload.substr(0, m.payload.find('\0'));
  return std::string(wire::msg_type_name(m.type));
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

inline bool file_executable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

// True if a program is on PATH (or is an executable absolute path).
inline bool have_program(const std::string& name) {
  if (!name.empty() && name[0] == '/') return file_executable(name);
  const char* env = std::getenv("PATH");
  std::stringstream ss(env ? env : "");
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

}  // namespace cxs::test

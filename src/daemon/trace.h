// The trace file (-T): one line per request, reply and event, with direction,
// connection, time, type and arguments (NULs shown as spaces). SIGHUP reopens
// it (log rotation). A closed or failed trace costs nothing and is not fatal.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "cxenstored/ids.h"
#include "wire/header.h"

namespace cxs::daemon {

class Trace {
 public:
  Trace() = default;
  ~Trace();
  Trace(const Trace&) = delete;
  Trace& operator=(const Trace&) = delete;

  // Opens (appends to) `path`; false (and logs) if it cannot.
  bool open(const std::string& path);
  void reopen();
  bool active() const noexcept { return file_ != nullptr; }

  void request(ConnId conn, const wire::Header& hdr,
               std::string_view payload) noexcept;
  void reply(ConnId conn, const wire::Header& hdr,
             std::string_view payload) noexcept;
  void event(ConnId conn, std::string_view path,
             std::string_view token) noexcept;
  void note(ConnId conn, std::string_view what) noexcept;  // connect/close

 private:
  void line(char dir, ConnId conn, std::uint32_t type, std::uint32_t req_id,
            std::uint32_t tx_id, std::string_view payload) noexcept;
  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace cxs::daemon

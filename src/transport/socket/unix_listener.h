// The listening Unix socket (default /var/run/xenstored/socket), mode 0600.
// A stale socket file left by a dead daemon is replaced; the file is removed
// again when the listener is destroyed.
#pragma once

#include <string>

#include "cxenstored/unique_fd.h"

namespace cxs::transport {

class UnixListener {
 public:
  // Throws std::runtime_error with the reason (start-up only).
  explicit UnixListener(std::string path);
  // Takes over a socket already bound to `path` and listening, inherited
  // from the daemon this one replaced (live update); throws if `fd` is not
  // a listening stream socket.
  UnixListener(std::string path, UniqueFd fd);
  ~UnixListener();
  UnixListener(const UnixListener&) = delete;
  UnixListener& operator=(const UnixListener&) = delete;

  int fd() const noexcept { return fd_.get(); }
  const std::string& path() const noexcept { return path_; }
  // A nonblocking accepted socket, or an invalid fd when none is waiting.
  UniqueFd accept() noexcept;

 private:
  std::string path_;
  UniqueFd fd_;
};

}  // namespace cxs::transport

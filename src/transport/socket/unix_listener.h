// The listening Unix socket (default /var/run/xenstored/socket), mode 0600.
// A stale socket file left by a dead daemon is replaced; the file is removed
// again when the listener is destroyed.
#pragma once

#include <string>

#include "cxenstored/unique_fd.h"

namespace cxs::transport {

// What one accept() found.
enum class AcceptStatus {
  kAccepted,     // `fd` is the new connection
  kNoneWaiting,  // every waiting client has been taken
  kClientGone,   // that client left before it was taken: try the next
  // Out of descriptors (EMFILE, ENFILE) or kernel memory, or an error not
  // foreseen: the next call would fail the same way at once, so the caller
  // must stop polling the listener for a while rather than spin on it.
  kNoResource,
};

struct Accepted {
  UniqueFd fd;
  AcceptStatus status = AcceptStatus::kNoneWaiting;
  const char* reason = nullptr;  // strerror text for kNoResource
};

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
  // A nonblocking accepted socket, or why there is none. Logs nothing:
  // the caller rate-limits what a flood of failures would say.
  Accepted accept() noexcept;

 private:
  std::string path_;
  UniqueFd fd_;
};

}  // namespace cxs::transport

// The listening Unix socket (default /var/run/xenstored/socket), mode 0600,
// and the lock that makes the path this daemon's (socket_lock.h). A stale
// socket file left by a dead daemon is replaced; a socket another daemon
// holds the lock of, or that answers, is left alone and start-up fails. The
// file is removed again when the listener is destroyed, if the lock is held.
#pragma once

#include <string>

#include "cxenstored/unique_fd.h"
#include "transport/socket/socket_lock.h"

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
  // from the daemon this one replaced (live update), with its lock if it
  // passed one (SocketLock::adopt); throws if `fd` is not a listening
  // stream socket.
  UnixListener(std::string path, UniqueFd fd);
  ~UnixListener();
  UnixListener(const UnixListener&) = delete;
  UnixListener& operator=(const UnixListener&) = delete;

  int fd() const noexcept { return fd_.get(); }
  const std::string& path() const noexcept { return path_; }
  // The lock's fd (handed on by a live update's exec), -1 if none is held.
  int lock_fd() const noexcept { return lock_.fd(); }
  // After daemonise(): the lock file names the daemon, not its parent.
  void note_owner() const noexcept { lock_.note_owner(); }
  // A nonblocking accepted socket, or why there is none. Logs nothing:
  // the caller rate-limits what a flood of failures would say.
  Accepted accept() noexcept;

 private:
  std::string path_;
  SocketLock lock_;
  UniqueFd fd_;
};

}  // namespace cxs::transport

// SocketLock: this process's claim on a socket path, an flock(2) on
// "<socket>.lock" taken before the socket file is touched and held for the
// daemon's life. A second daemon given the same path finds it locked and
// refuses to start, instead of replacing the first one's socket (and
// deleting it on exit, leaving the first daemon unreachable).
//
// flock, not fcntl: an flock belongs to the open file description, so it
// survives fork (daemonise()'s parent exits, the daemon keeps the lock) and
// exec while the fd stays open (live update, see adopt()); an fcntl lock is
// not passed to a forked child and goes when any fd of the file is closed.
//
// The file holds the owner's pid, for the refusal message. It is left in
// place at exit: removing it would let a daemon starting meanwhile lock a
// file that no longer has a name.
#pragma once

#include <string>

#include "cxenstored/unique_fd.h"

namespace cxs::transport {

class SocketLock {
 public:
  SocketLock() = default;  // holds nothing

  // Takes the lock for `socket_path`. Throws std::runtime_error naming the
  // holder ("pid N") when another process has it, or why the file cannot
  // be opened or locked.
  static SocketLock acquire(const std::string& socket_path);

  // Live update: the lock the daemon before held, passed through exec as
  // an open fd (found by the lock file's device and inode, since nothing
  // in the state names it), else a fresh one. If another process holds it
  // the update goes on without it (held() is false), logged: refusing
  // would leave the host without a xenstored.
  static SocketLock adopt(const std::string& socket_path);

  bool held() const noexcept { return fd_.valid(); }
  int fd() const noexcept { return fd_.get(); }

  // Writes the current pid into the file (after daemonise() forked).
  void note_owner() const noexcept;

 private:
  explicit SocketLock(UniqueFd fd) noexcept : fd_(std::move(fd)) {}

  UniqueFd fd_;
};

// "<socket_path>.lock".
std::string lock_path_for(const std::string& socket_path);

}  // namespace cxs::transport

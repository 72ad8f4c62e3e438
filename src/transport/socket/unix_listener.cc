#include "transport/socket/unix_listener.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>


namespace cxs::transport {
namespace {

std::runtime_error sys_error(const std::string& what) {
  return std::runtime_error(what + ": " + std::strerror(errno));
}

// The directory must exist; create the last level if needed (as the C
// daemon does for /var/run/xenstored).
void ensure_parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return;
  std::string dir = path.substr(0, slash);
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    throw sys_error("mkdir " + dir);
}

// A daemon that takes no lock (the C xenstored, an older cxenstored) may
// be serving on the path: if a connection to it succeeds, or finds its
// backlog full, someone listens there and the file is not ours to replace.
void refuse_if_answered(const sockaddr_un& addr, const std::string& path) {
  UniqueFd probe(
      ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!probe.valid()) throw sys_error("socket");
  if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr),
                sizeof addr) == 0 ||
      errno == EAGAIN)
    throw std::runtime_error("another xenstored is serving on " + path +
                             "; not starting");
}

}  // namespace

UnixListener::UnixListener(std::string path) : path_(std::move(path)) {
  sockaddr_un addr{};
  if (path_.size() >= sizeof addr.sun_path)
    throw std::runtime_error("socket path too long (max " +
                             std::to_string(sizeof addr.sun_path - 1) +
                             " bytes): " + path_);
  ensure_parent_dir(path_);
  // Before the socket file is touched: a second daemon stops here.
  lock_ = SocketLock::acquire(path_);
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
  refuse_if_answered(addr, path_);
  fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) throw sys_error("socket");
  ::unlink(path_.c_str());
  // 0600 from the start: no window in which others could connect.
  mode_t old = ::umask(0177);
  int rc = ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc != 0) throw sys_error("bind " + path_);
  if (::listen(fd_.get(), 128) != 0) throw sys_error("listen " + path_);
}

UnixListener::UnixListener(std::string path, UniqueFd fd)
    : path_(std::move(path)), lock_(SocketLock::adopt(path_)),
      fd_(std::move(fd)) {
  int listening = 0;
  socklen_t len = sizeof listening;
  if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) !=
          0 ||
      !listening)
    throw std::runtime_error("inherited fd " + std::to_string(fd_.get()) +
                             " is not a listening socket");
  if (!make_own(fd_.get()))
    throw sys_error("fcntl on the inherited listening socket");
}

UnixListener::~UnixListener() {
  // Without the lock the path may be another daemon's by now.
  if (fd_.valid() && lock_.held()) ::unlink(path_.c_str());
}

Accepted UnixListener::accept() noexcept {
  int fd = ::accept4(fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd >= 0) return {UniqueFd(fd), AcceptStatus::kAccepted};
  switch (errno) {
    case EAGAIN:
      return {UniqueFd(), AcceptStatus::kNoneWaiting};
    // accept(2): errors of the pending connection itself; the next one
    // may be fine.
    case ECONNABORTED:
    case EINTR:
    case EPROTO:
    case EPERM:
      return {UniqueFd(), AcceptStatus::kClientGone};
    default:
      return {UniqueFd(), AcceptStatus::kNoResource, std::strerror(errno)};
  }
}

}  // namespace cxs::transport

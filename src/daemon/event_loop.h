// EventLoop: a thin epoll wrapper. Each registered fd carries a 64-bit token
// chosen by the caller (a ConnId, or a reserved value for the listener and
// the signal fd); wait() returns only the fds that are ready, so idle
// connections cost nothing per turn. Nothing here throws once constructed:
// a registration the kernel refuses is logged and reported as false, and
// the caller decides (close that connection, or fail start-up).
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <vector>

#include "cxenstored/unique_fd.h"

namespace cxs::daemon {

struct Ready {
  std::uint64_t token;
  std::uint32_t events;  // EPOLLIN | EPOLLOUT | EPOLLHUP | EPOLLERR
};

class EventLoop {
 public:
  EventLoop();  // throws std::runtime_error

  // Register or change interest; readable/writable select EPOLLIN/EPOLLOUT.
  // False (the reason logged) if epoll_ctl refused: the fd is then not
  // registered (add) or keeps its former interest (modify).
  [[nodiscard]] bool add(int fd, std::uint64_t token, bool readable,
                         bool writable) noexcept;
  [[nodiscard]] bool modify(int fd, std::uint64_t token, bool readable,
                            bool writable) noexcept;
  void remove(int fd) noexcept;

  // Blocks up to timeout_ms (-1: forever). EINTR gives an empty result.
  const std::vector<Ready>& wait(int timeout_ms) noexcept;

 private:
  UniqueFd epfd_;
  std::vector<epoll_event> raw_;
  std::vector<Ready> ready_;
};

}  // namespace cxs::daemon

#include "daemon/event_loop.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include <spdlog/spdlog.h>

namespace cxs::daemon {
namespace {

std::uint32_t mask(bool readable, bool writable) {
  return (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u) | EPOLLRDHUP;
}

// The errno stays here: the caller learns only that it failed, the log
// learns why (ENOMEM, ENOSPC past max_user_watches, EPERM for a file).
bool control(int epfd, int op, int fd, std::uint64_t token,
             std::uint32_t ev) noexcept {
  epoll_event e{};
  e.events = ev;
  e.data.u64 = token;
  if (::epoll_ctl(epfd, op, fd, &e) == 0) return true;
  spdlog::error("epoll_ctl {} fd {}: {}", op == EPOLL_CTL_ADD ? "ADD" : "MOD",
                fd, std::strerror(errno));
  return false;
}

}  // namespace

EventLoop::EventLoop() : epfd_(::epoll_create1(EPOLL_CLOEXEC)), raw_(256) {
  if (!epfd_.valid())
    throw std::runtime_error(std::string("epoll_create1: ") +
                             std::strerror(errno));
  // wait() never allocates: it returns at most raw_.size() entries.
  ready_.reserve(raw_.size());
}

bool EventLoop::add(int fd, std::uint64_t token, bool readable,
                    bool writable) noexcept {
  return control(epfd_.get(), EPOLL_CTL_ADD, fd, token,
                 mask(readable, writable));
}

bool EventLoop::modify(int fd, std::uint64_t token, bool readable,
                       bool writable) noexcept {
  return control(epfd_.get(), EPOLL_CTL_MOD, fd, token,
                 mask(readable, writable));
}

void EventLoop::remove(int fd) noexcept {
  if (::epoll_ctl(epfd_.get(), EPOLL_CTL_DEL, fd, nullptr) != 0)
    spdlog::debug("epoll_ctl DEL fd {}: {}", fd, std::strerror(errno));
}

const std::vector<Ready>& EventLoop::wait(int timeout_ms) noexcept {
  ready_.clear();
  int n = ::epoll_wait(epfd_.get(), raw_.data(), static_cast<int>(raw_.size()),
                       timeout_ms);
  if (n < 0) {
    if (errno != EINTR)
      spdlog::error("epoll_wait: {}", std::strerror(errno));
    return ready_;
  }
  for (int i = 0; i < n; ++i)
    ready_.push_back(Ready{raw_[i].data.u64, raw_[i].events});
  return ready_;
}

}  // namespace cxs::daemon

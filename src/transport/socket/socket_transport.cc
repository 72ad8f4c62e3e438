#include "transport/socket/socket_transport.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace cxs::transport {

IoResult SocketTransport::read(char* buf, std::size_t len) noexcept {
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buf, len, 0);
    if (n > 0) return {static_cast<std::size_t>(n), Fault::kNone};
    if (n == 0) return {0, Fault::kClosed};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {0, Fault::kNone};
    if (errno == ECONNRESET) return {0, Fault::kClosed};
    spdlog::warn("socket fd {}: recv: {}", fd_.get(), std::strerror(errno));
    return {0, Fault::kIo};
  }
}

IoResult SocketTransport::write(const char* buf, std::size_t len) noexcept {
  for (;;) {
    ssize_t n = ::send(fd_.get(), buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return {static_cast<std::size_t>(n), Fault::kNone};
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {0, Fault::kNone};
    if (errno == EPIPE || errno == ECONNRESET) return {0, Fault::kClosed};
    spdlog::warn("socket fd {}: send: {}", fd_.get(), std::strerror(errno));
    return {0, Fault::kIo};
  }
}

}  // namespace cxs::transport

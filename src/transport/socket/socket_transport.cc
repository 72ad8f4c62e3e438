#include "transport/socket/socket_transport.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>

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
  ConstBuf one{buf, len};
  return write_gather(&one, 1);
}

IoResult SocketTransport::write_gather(const ConstBuf* bufs,
                                       std::size_t n) noexcept {
  // One buffer (a closed-loop client's reply): send(), which spares the
  // kernel importing an iovec array.
  if (n == 1) return send_one(bufs[0]);
  std::array<iovec, 64> iov;
  n = std::min(n, iov.size());
  for (std::size_t i = 0; i < n; ++i)
    iov[i] = iovec{const_cast<char*>(bufs[i].data), bufs[i].len};
  msghdr msg{};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = n;
  for (;;) {
    ssize_t sent = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent >= 0 || errno != EINTR) return sent_result(sent, "sendmsg");
  }
}

IoResult SocketTransport::send_one(ConstBuf buf) noexcept {
  for (;;) {
    ssize_t sent =
        ::send(fd_.get(), buf.data, buf.len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent >= 0 || errno != EINTR) return sent_result(sent, "send");
  }
}

IoResult SocketTransport::sent_result(ssize_t sent,
                                      const char* call) noexcept {
  if (sent >= 0) return {static_cast<std::size_t>(sent), Fault::kNone};
  if (errno == EAGAIN || errno == EWOULDBLOCK) return {0, Fault::kNone};
  if (errno == EPIPE || errno == ECONNRESET) return {0, Fault::kClosed};
  spdlog::warn("socket fd {}: {}: {}", fd_.get(), call, std::strerror(errno));
  return {0, Fault::kIo};
}

}  // namespace cxs::transport

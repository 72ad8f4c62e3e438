// A socket client that sends but does not read: the daemon stops reading
// its requests once its unsent replies pass the read pause, drops (and
// logs) watch events past its queue bound, and meanwhile serves everyone
// else. When the client reads at last, everything it was promised arrives
// in order. (The same bounds over rings: tests/security/.)
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "integration_helpers.h"
#include "wire/header.h"

namespace cxs::test {
namespace {

using wire::MsgType;
using namespace std::chrono_literals;

// Writes `bytes` (repeatedly) without blocking until the peer stops taking
// them for `quiet` or `max_bytes` went out; returns how many were taken.
std::size_t write_until_stalled(int fd, const std::string& bytes,
                                std::size_t max_bytes,
                                std::chrono::milliseconds quiet) {
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  std::size_t sent = 0;
  while (sent < max_bytes) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(quiet.count())) <= 0) break;
    std::size_t off = sent % bytes.size();
    ssize_t n = ::write(fd, bytes.data() + off,
                        std::min(bytes.size() - off, max_bytes - sent));
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  ::fcntl(fd, F_SETFL, flags);
  return sent;
}

TEST(SlowReader, RequestsStopBeingReadWhileOthersAreServed) {
  DaemonProcess d;
  RawClient dom0(d.socket_path());
  const std::string value(4000, 'v');
  ASSERT_TRUE(is_type(dom0.write("/slow/v", value), MsgType::XS_WRITE));

  // 20000 READs would queue 80 MB of replies if the daemon kept reading.
  RawClient slow(d.socket_path());
  const std::string request =
      wire::encode_message(ty(MsgType::XS_READ), 7, 0, with_nul("/slow/v"));
  constexpr std::size_t kRequests = 20000;
  std::size_t sent = write_until_stalled(slow.fd(), request,
                                         kRequests * request.size(), 500ms);
  ASSERT_LT(sent, kRequests * request.size())
      << "the daemon read every request of a client that reads nothing";

  // Everyone else is served meanwhile.
  RawClient other(d.socket_path());
  Msg r = other.read("/slow/v");
  EXPECT_TRUE(is_type(r, MsgType::XS_READ)) << r.shown();
  EXPECT_TRUE(is_type(dom0.write("/slow/w", "x"), MsgType::XS_WRITE));

  // Reading again, the slow client gets a reply for every whole request,
  // then for the one it was cut off in.
  std::size_t whole = sent / request.size();
  for (std::size_t i = 0; i < whole; ++i) {
    auto m = slow.recv(10s);
    ASSERT_TRUE(m) << "reply " << i << " of " << whole;
    ASSERT_EQ(m->type, ty(MsgType::XS_READ)) << i << ": " << m->shown();
    ASSERT_EQ(m->req_id, 7u);
    ASSERT_EQ(m->payload, value);
  }
  if (std::size_t partial = sent % request.size()) {
    slow.send_bytes(std::string_view(request).substr(partial));
    auto m = slow.recv(10s);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->payload, value);
  }
  EXPECT_TRUE(d.alive()) << d.log();
}

}  // namespace
}  // namespace cxs::test

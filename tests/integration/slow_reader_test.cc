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

TEST(SlowReader, EventsPastTheQueueBoundAreDroppedAndLogged) {
  DaemonProcess d;
  // Each event is 4028 bytes on the wire: about 16 600 fit in the 64 MiB
  // bound of a privileged connection; 20 000 are fired.
  RawClient watcher(d.socket_path());
  const std::string token(4000, 't');
  ASSERT_TRUE(is_type(watcher.watch("/ev", token), MsgType::XS_WATCH));
  auto initial = watcher.recv_event(5s);
  ASSERT_TRUE(initial);

  RawClient writer(d.socket_path());
  constexpr int kEvents = 20000;
  constexpr int kBatch = 200;
  for (int base = 0; base < kEvents; base += kBatch) {
    for (int i = base; i < base + kBatch; ++i)
      writer.send(ty(MsgType::XS_WRITE),
                  std::string("/ev/") + std::to_string(100000 + i) + '\0');
    for (int i = 0; i < kBatch; ++i) {
      auto m = writer.recv_reply(10s);
      ASSERT_TRUE(m) << "writer stalled behind a watcher that does not read";
      ASSERT_TRUE(is_type(*m, MsgType::XS_WRITE)) << m->shown();
    }
  }
  EXPECT_NE(d.log().find("output queue over"), std::string::npos) << d.log();

  // What was queued arrives, each event once, in order; the rest is gone.
  int received = 0;
  int last = 0;
  while (auto m = watcher.recv(received < 10000 ? 10s : 1s)) {
    ASSERT_EQ(m->type, ty(MsgType::XS_WATCH_EVENT)) << m->shown();
    auto parts = nul_split(m->payload);
    ASSERT_EQ(parts.size(), 2u);
    ASSERT_EQ(parts[1], token);
    int n = std::stoi(parts[0].substr(4));
    ASSERT_GT(n, last);
    last = n;
    ++received;
  }
  EXPECT_GT(received, 15000);
  EXPECT_LT(received, kEvents);
  // The watch itself lives on: the next change is delivered.
  ASSERT_TRUE(is_type(writer.write("/ev/again", ""), MsgType::XS_WRITE));
  auto again = watcher.recv_event(5s);
  ASSERT_TRUE(again);
  EXPECT_EQ(nul_split(again->payload)[0], "/ev/again");
  EXPECT_TRUE(d.alive());
}

}  // namespace
}  // namespace cxs::test

// What a connection holds is what it is charged (held_bytes): the memory
// quota counts queued output at allocation sizes, so that a guest at its
// quota makes the daemon hold no more than the quota. The heap in use is
// read from malloc itself (mallinfo2) around the queueing.
#include <gtest/gtest.h>
#include <malloc.h>

#include <memory>
#include <string>

#include "transport/connection.h"
#include "wire/header.h"
#include "wire/message_type.h"

namespace cxs::test {
namespace {

// A peer that takes nothing: every message stays queued.
class StuckTransport final : public transport::Transport {
 public:
  transport::IoResult read(char*, std::size_t) noexcept override { return {}; }
  transport::IoResult write(const char*, std::size_t) noexcept override {
    return {};
  }
  bool on_protocol_fault(transport::Fault) noexcept override { return true; }
  const char* kind() const noexcept override { return "stuck"; }
};

std::size_t heap_in_use() {
  struct mallinfo2 mi = ::mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

std::string event(int i) {
  std::string payload = "/local/domain/7/data/n" + std::to_string(i);
  payload += '\0';
  payload += "token";
  payload += '\0';
  return wire::encode_message(
      static_cast<std::uint32_t>(wire::MsgType::XS_WATCH_EVENT), 0, 0, payload);
}

class ConnectionMemory : public ::testing::Test {
 protected:
  transport::SharedBuffers buffers;
  transport::Connection conn{ConnId{1}, std::make_unique<StuckTransport>(),
                             buffers};
};

TEST_F(ConnectionMemory, QueuedEventsAreChargedAtLeastWhatTheyHold) {
  constexpr int kEvents = 20000;
  std::size_t payload = 0;
  std::size_t before = heap_in_use();
  for (int i = 0; i < kEvents; ++i) {
    std::string e = event(i);
    payload += e.size();
    ASSERT_EQ(conn.queue_event(e, 0), transport::Connection::EventQueued::kYes);
  }
  std::size_t real = heap_in_use() - before;
  std::size_t charged = conn.held_bytes();
  std::cout << "[ events ] " << kEvents << " of ~" << payload / kEvents
            << " bytes: heap " << real / kEvents << " B each, charged "
            << charged / kEvents << " B each" << std::endl;
  // Charged at least what they hold, and not wildly more (a quota must
  // not shrink for nothing).
  EXPECT_GE(charged, real);
  EXPECT_LE(charged, real + real / 2);
  // About 160 bytes each; a 256-byte minimum block and a second copy in
  // the de-duplication index made it about 440.
  EXPECT_LT(real / kEvents, 200u);
  EXPECT_EQ(conn.queued_bytes(), payload);
}

TEST_F(ConnectionMemory, AnEventOverTheBoundIsRefusedByWhatIsHeld) {
  std::string e = event(1);
  std::size_t cost = transport::Connection::event_cost(e.size());
  EXPECT_GT(cost, e.size() * 2);
  // The bound counts allocation sizes: two events' worth of payload bytes
  // does not make room for two events.
  ASSERT_EQ(conn.queue_event(e, cost),
            transport::Connection::EventQueued::kYes);
  EXPECT_EQ(conn.held_bytes(), cost);
  EXPECT_EQ(conn.queue_event(event(2), cost + 2 * e.size()),
            transport::Connection::EventQueued::kOverLimit);
  // An identical pending event is a duplicate, bound or not.
  EXPECT_EQ(conn.queue_event(e, cost),
            transport::Connection::EventQueued::kDuplicate);
}

TEST_F(ConnectionMemory, RepliesAreChargedTheirBuffers) {
  wire::Header h{2, 1, 0, 1};
  conn.queue_reply(h, "x");
  // One coalescing buffer (256 bytes at first) and its slot.
  EXPECT_GE(conn.held_bytes(), 256u);
  EXPECT_LT(conn.held_bytes(), 400u);
}

TEST_F(ConnectionMemory, ExpiredAndResetEventsGiveTheirChargeBack) {
  for (int i = 0; i < 100; ++i) conn.queue_event(event(i), 0);
  ASSERT_GT(conn.held_bytes(), 0u);
  buffers.take_freed_bytes();
  std::size_t held = conn.held_bytes();
  EXPECT_EQ(conn.drop_events_before(std::chrono::steady_clock::now() +
                                    std::chrono::seconds(1)),
            100u);
  EXPECT_EQ(conn.held_bytes(), 0u);
  EXPECT_EQ(buffers.take_freed_bytes(), held);
  // The index no longer knows them: they queue again.
  EXPECT_EQ(conn.queue_event(event(1), 0),
            transport::Connection::EventQueued::kYes);
  conn.reset_io();
  EXPECT_EQ(conn.held_bytes(), 0u);
}

}  // namespace
}  // namespace cxs::test

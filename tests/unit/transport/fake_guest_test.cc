// The guest side itself (guest::GuestRing through FakeGuest), so that a
// failing ring test can be blamed on the right end: it refuses to write into
// or read from broken indexes and hands out only whole messages.
#include "fakes/fake_guest.h"

#include <gtest/gtest.h>

#include "ring_fixture.h"
#include "wire/header.h"

namespace cxs::test {
namespace {

using wire::kRingBytes;
using wire::MsgType;

using FakeGuestTest = RingFixture;

TEST_F(FakeGuestTest, KicksOnceForEachIndexItMoves) {
  guest_.send(MsgType::XS_READ, "a");
  EXPECT_EQ(guest_.kicks(), 1);
  EXPECT_EQ(to_daemon_.take(), 1u);
  std::string msg = wire::encode_message(2, 1, 0, "v");
  ASSERT_EQ(ring_.write(msg.data(), msg.size()).bytes, msg.size());
  EXPECT_TRUE(guest_.receive());
  EXPECT_EQ(guest_.kicks(), 2) << "consuming rsp[] frees space: a kick";
  EXPECT_FALSE(guest_.receive());
  EXPECT_EQ(guest_.kicks(), 2) << "nothing consumed, no kick";
}

TEST_F(FakeGuestTest, HandsOutOnlyWholeMessages) {
  std::string msg = wire::encode_message(2, 1, 0, "payload");
  ASSERT_EQ(ring_.write(msg.data(), 10).bytes, 10u);
  EXPECT_FALSE(guest_.receive());
  EXPECT_EQ(guest_.raw().partial_bytes(), 10u);
  ASSERT_EQ(ring_.write(msg.data() + 10, msg.size() - 10).bytes,
            msg.size() - 10);
  auto m = guest_.receive();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, "payload");
  EXPECT_EQ(guest_.raw().partial_bytes(), 0u);
}

TEST_F(FakeGuestTest, DoesNotWriteIntoBrokenRequestIndexes) {
  guest_.raw().set_req_cons(guest_.raw().req_prod() + 1);
  guest_.send(MsgType::XS_READ, "a");
  EXPECT_FALSE(guest_.all_sent());
  EXPECT_EQ(guest_.kicks(), 0);
}

TEST_F(FakeGuestTest, ReportsBrokenResponseIndexes) {
  guest_.raw().set_rsp_prod(guest_.raw().rsp_cons() + kRingBytes + 1);
  EXPECT_FALSE(guest_.receive());
  EXPECT_TRUE(guest_.raw().rsp_broken());
  EXPECT_EQ(guest_.raw().rsp_cons(), 0u) << "nothing consumed";
}

TEST_F(FakeGuestTest, TreatsAnOversizedReplyHeaderAsBroken) {
  wire::Header h{2, 1, 0, 5000};
  char bytes[kHeaderSize];
  wire::encode_header(h, bytes);
  ASSERT_EQ(ring_.write(bytes, sizeof bytes).bytes, sizeof bytes);
  EXPECT_FALSE(guest_.receive());
  EXPECT_TRUE(guest_.raw().rsp_broken());
}

TEST_F(FakeGuestTest, WriteRawWrapsAndMovesNoIndex) {
  guest_.raw().write_raw(1022, "wxyz");
  EXPECT_EQ(page_.daemon_view()->req[1022], 'w');
  EXPECT_EQ(page_.daemon_view()->req[1023], 'x');
  EXPECT_EQ(page_.daemon_view()->req[0], 'y');
  EXPECT_EQ(page_.daemon_view()->req[1], 'z');
  EXPECT_EQ(guest_.raw().req_prod(), 0u);
}

}  // namespace
}  // namespace cxs::test

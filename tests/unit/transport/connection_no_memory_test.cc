// Out of memory while reading a connection's input (issue 18): the bytes
// taken from the peer cannot be kept, so the stream cannot be followed;
// the connection reports Fault::kNoMemory (never std::terminate from a
// noexcept function) and a ring is marked in error for its guest, as for
// any stream it cannot follow. This binary's operator new fails on demand.
#include <sys/socket.h>

#include <gtest/gtest.h>

#include "failing_new.h"
#include "ring_fixture.h"
#include "transport/socket/socket_transport.h"
#include "wire/header.h"
#include "wire/message_type.h"

namespace cxs::test {
namespace {

using transport::Fault;
using wire::MsgType;

using NoMemoryOverRing = RingFixture;

// A message cut short is gathered in the framer, which allocates room for
// its payload: that allocation failing is the fault.
// Longer than a string's 15 inline bytes, so that gathering needs a block.
const std::string kPayload = "/a" + std::string(1, '\0') + std::string(97, 'v');

TEST_F(NoMemoryOverRing, ARequestThatCannotBeGatheredFaultsTheRing) {
  std::string msg = wire::encode_message(
      static_cast<std::uint32_t>(MsgType::XS_WRITE), 7, 0, kPayload);
  guest_.raw().send_bytes(std::string_view(msg).substr(0, kHeaderSize + 3));
  bool got = true;
  {
    FailAllocationAfter fail(0);
    conn_.new_turn();
    got = conn_.next_request().has_value();
  }
  EXPECT_FALSE(got);
  EXPECT_EQ(conn_.fault(), Fault::kNoMemory);
  EXPECT_FALSE(conn_.transport().on_protocol_fault(conn_.fault()));
  EXPECT_EQ(guest_.raw().error(), wire::kErrorComm);
}

TEST_F(NoMemoryOverRing, WithMemoryTheSameRequestIsGathered) {
  std::string msg = wire::encode_message(
      static_cast<std::uint32_t>(MsgType::XS_WRITE), 7, 0, kPayload);
  guest_.raw().send_bytes(std::string_view(msg).substr(0, kHeaderSize + 3));
  EXPECT_FALSE(next_request());
  guest_.raw().send_bytes(std::string_view(msg).substr(kHeaderSize + 3));
  auto req = next_request();
  ASSERT_TRUE(req);
  EXPECT_EQ(req->payload, kPayload);
  EXPECT_EQ(conn_.fault(), Fault::kNone);
}

// Connections share one read buffer; the one whose unread bytes are still
// in it must copy them out when another reads. That copy failing loses
// them: the first connection faults, the second is served.
TEST(NoMemoryOverSocket, UnreadBytesThatCannotBeKeptFaultTheirConnection) {
  int sa[2], sb[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sa), 0);
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sb), 0);
  UniqueFd peer_a(sa[1]), peer_b(sb[1]);
  transport::SharedBuffers buffers;
  transport::Connection a(
      ConnId{1}, std::make_unique<transport::SocketTransport>(UniqueFd(sa[0])),
      buffers);
  transport::Connection b(
      ConnId{2}, std::make_unique<transport::SocketTransport>(UniqueFd(sb[0])),
      buffers);
  std::string two = wire::encode_message(2, 1, 0, std::string("/a\0", 3)) +
                    wire::encode_message(2, 2, 0, std::string("/b\0", 3));
  ASSERT_EQ(::write(peer_a.get(), two.data(), two.size()),
            static_cast<ssize_t>(two.size()));
  std::string one = wire::encode_message(2, 3, 0, std::string("/c\0", 3));
  ASSERT_EQ(::write(peer_b.get(), one.data(), one.size()),
            static_cast<ssize_t>(one.size()));

  a.new_turn();
  auto first = a.next_request();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->hdr.req_id, 1u);
  b.new_turn();
  std::uint32_t other_id = 0;
  {
    FailAllocationAfter fail(0);
    // a's second request must leave the shared buffer first.
    if (auto other = b.next_request()) other_id = other->hdr.req_id;
  }
  EXPECT_EQ(other_id, 3u);
  EXPECT_EQ(a.fault(), Fault::kNoMemory);
  EXPECT_FALSE(a.next_request());
  EXPECT_EQ(b.fault(), Fault::kNone);
}

}  // namespace
}  // namespace cxs::test

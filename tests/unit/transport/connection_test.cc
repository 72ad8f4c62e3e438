// Connection over both transports: whole requests out of a guest's ring
// (oversized headers are protocol faults), replies longer than the ring
// leaving as the guest consumes, event deduplication, and the socket
// transport over a socketpair.
#include "transport/connection.h"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include "ring_fixture.h"
#include "transport/socket/socket_transport.h"
#include "wire/header.h"
#include "wire/message_type.h"

namespace cxs::test {
namespace {

using transport::Fault;
using Queued = transport::Connection::EventQueued;
using wire::MsgType;

using ConnectionOverRing = RingFixture;

TEST_F(ConnectionOverRing, WholeMessagesComeOutOfNextRequestInOrder) {
  std::uint32_t a = guest_.send(MsgType::XS_READ, std::string("a\0", 2));
  std::uint32_t b =
      guest_.send(MsgType::XS_WRITE, std::string("b\0value", 7), 4);
  std::uint32_t c = guest_.send(MsgType::XS_DIRECTORY, std::string("/\0", 2));
  for (auto [id, type, payload] :
       {std::tuple{a, MsgType::XS_READ, std::string("a\0", 2)},
        std::tuple{b, MsgType::XS_WRITE, std::string("b\0value", 7)},
        std::tuple{c, MsgType::XS_DIRECTORY, std::string("/\0", 2)}}) {
    auto req = next_request();
    ASSERT_TRUE(req);
    EXPECT_EQ(req->hdr.req_id, id);
    EXPECT_EQ(req->hdr.type, static_cast<std::uint32_t>(type));
    EXPECT_EQ(req->payload, payload);
  }
  EXPECT_FALSE(next_request());
  EXPECT_EQ(conn_.fault(), Fault::kNone);
}

TEST_F(ConnectionOverRing, AnEmptyPayloadIsAWholeMessage) {
  guest_.send(MsgType::XS_TRANSACTION_START, "");
  auto req = next_request();
  ASSERT_TRUE(req);
  EXPECT_EQ(req->payload, "");
}

TEST_F(ConnectionOverRing, AHeaderAnnouncing4097BytesIsAProtocolFault) {
  wire::Header h{static_cast<std::uint32_t>(MsgType::XS_WRITE), 1, 0,
                 static_cast<std::uint32_t>(kPayloadMax + 1)};
  char bytes[kHeaderSize];
  wire::encode_header(h, bytes);
  guest_.raw().send_bytes(std::string_view(bytes, sizeof bytes));
  EXPECT_FALSE(next_request());
  EXPECT_EQ(conn_.fault(), Fault::kProtocol);

  // What the server then does: the ring is marked, the connection stays.
  EXPECT_FALSE(conn_.transport().on_protocol_fault(conn_.fault()));
  EXPECT_EQ(guest_.raw().error(), wire::kErrorProto);
}

TEST_F(ConnectionOverRing, AHeaderSplitBeforeItsLengthFaultsOnlyWhenComplete) {
  wire::Header h{2, 1, 0, 5000};
  char bytes[kHeaderSize];
  wire::encode_header(h, bytes);
  guest_.raw().send_bytes(std::string_view(bytes, 13));
  EXPECT_FALSE(next_request());
  EXPECT_EQ(conn_.fault(), Fault::kNone);
  guest_.raw().send_bytes(std::string_view(bytes + 13, 3));
  EXPECT_FALSE(next_request());
  EXPECT_EQ(conn_.fault(), Fault::kProtocol);
}

TEST_F(ConnectionOverRing, APayloadOfExactly4096BytesIsAccepted) {
  std::string payload(kPayloadMax, 'z');
  guest_.send(MsgType::XS_WRITE, payload);
  std::optional<wire::Message> req;
  for (int i = 0; i < 10 && !req; ++i) {
    req = next_request();
    guest_.flush();
  }
  ASSERT_TRUE(req);
  EXPECT_EQ(req->payload.size(), kPayloadMax);
  EXPECT_EQ(conn_.fault(), Fault::kNone);
}

TEST_F(ConnectionOverRing, AReplyLongerThanTheRingLeavesAsTheGuestConsumes) {
  guest_.raw().set_all_indexes(0xFFFFFFF0u);
  std::string reply(kPayloadMax, 'r');
  conn_.queue_reply(wire::encode_message(2, 77, 0, reply));
  conn_.queue_reply(wire::encode_message(2, 78, 0, "second"));
  std::vector<wire::Message> got;
  for (int i = 0; i < 20 && got.size() < 2; ++i) {
    ASSERT_TRUE(conn_.flush());
    while (auto m = guest_.receive()) got.push_back(std::move(*m));
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].hdr.req_id, 77u);
  EXPECT_EQ(got[0].payload, reply);
  EXPECT_EQ(got[1].payload, "second");
  EXPECT_FALSE(conn_.has_output());
  EXPECT_EQ(conn_.queued_bytes(), 0u);
}

TEST_F(ConnectionOverRing, FlushStopsWithOutputQueuedWhenTheRingIsFull) {
  conn_.queue_reply(std::string(3000, 'q'));
  EXPECT_TRUE(conn_.flush());
  EXPECT_TRUE(conn_.has_output());
  EXPECT_EQ(conn_.queued_bytes(), 3000u);
  EXPECT_EQ(guest_.raw().rsp_prod() - guest_.raw().rsp_cons(),
            wire::kRingBytes);
}

TEST_F(ConnectionOverRing, FlushReportsBrokenRspIndexes) {
  conn_.queue_reply(wire::encode_message(2, 1, 0, "v"));
  guest_.raw().set_rsp_cons(guest_.raw().rsp_prod() + 1);
  EXPECT_FALSE(conn_.flush());
  EXPECT_EQ(conn_.fault(), Fault::kRingIndex);
}

TEST_F(ConnectionOverRing, AnIdenticalPendingEventIsQueuedOnce) {
  std::string ev = wire::encode_message(15, 0, 0, std::string("a\0t\0", 4));
  EXPECT_EQ(conn_.queue_event(ev, 0), Queued::kYes);
  EXPECT_EQ(conn_.queue_event(ev, 0), Queued::kDuplicate);
  ASSERT_TRUE(conn_.flush());
  EXPECT_EQ(conn_.queue_event(ev, 0), Queued::kYes)
      << "once written, it may come again";
  EXPECT_EQ(conn_.events_over_limit(), 0u);
}

TEST_F(ConnectionOverRing, AnEventPastTheHardLimitIsDropped) {
  conn_.queue_reply(std::string(100, 'x'));
  std::string ev = wire::encode_message(15, 0, 0, std::string("a\0t\0", 4));
  // The limit is on what the queue holds (allocation sizes).
  std::size_t held = conn_.held_bytes();
  std::size_t cost = transport::Connection::event_cost(ev.size());
  EXPECT_EQ(conn_.queue_event(ev, held + cost - 1), Queued::kOverLimit);
  EXPECT_EQ(conn_.events_over_limit(), 1u);
  EXPECT_EQ(conn_.queue_event(ev, held + cost), Queued::kYes);
  // Pending already: not a loss, whatever the limit says.
  EXPECT_EQ(conn_.queue_event(ev, held), Queued::kDuplicate);
  EXPECT_EQ(conn_.events_over_limit(), 1u);
}

TEST_F(ConnectionOverRing, ResetIoDropsPartialInputAndQueuedOutput) {
  std::string msg = wire::encode_message(2, 1, 0, "abcdef");
  guest_.raw().send_bytes(msg.substr(0, 10));
  EXPECT_FALSE(next_request());
  conn_.queue_reply(std::string(3000, 'q'));
  ASSERT_TRUE(conn_.flush());
  conn_.reset_io();
  EXPECT_FALSE(conn_.has_output());
  EXPECT_FALSE(conn_.has_buffered_input());
  // The next message starts from a clean framer.
  guest_.send(MsgType::XS_READ, "fresh");
  auto req = next_request();
  ASSERT_TRUE(req);
  EXPECT_EQ(req->payload, "fresh");
}

// ---- the socket transport --------------------------------------------------

class ConnectionOverSocket : public ::testing::Test {
 protected:
  ConnectionOverSocket() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0)
      std::abort();
    peer_.reset(sv[1]);
    conn_ = std::make_unique<transport::Connection>(
        ConnId{1},
        std::make_unique<transport::SocketTransport>(UniqueFd(sv[0])),
        buffers_);
  }
  std::optional<wire::Message> next_request() {
    conn_->new_turn();
    auto m = conn_->next_request();
    return m ? std::optional(m->owned()) : std::nullopt;
  }
  void peer_send(std::string_view bytes) {
    ASSERT_EQ(::write(peer_.get(), bytes.data(), bytes.size()),
              static_cast<ssize_t>(bytes.size()));
  }

  UniqueFd peer_;
  transport::SharedBuffers buffers_;
  std::unique_ptr<transport::Connection> conn_;
};

TEST_F(ConnectionOverSocket, RequestsSplitAcrossWritesComeOutWhole) {
  std::string msg = wire::encode_message(2, 5, 0, std::string("/a\0", 3));
  peer_send(msg.substr(0, 3));
  EXPECT_FALSE(next_request());
  peer_send(msg.substr(3));
  auto req = next_request();
  ASSERT_TRUE(req);
  EXPECT_EQ(req->hdr.req_id, 5u);
  EXPECT_EQ(req->payload, std::string("/a\0", 3));
}

TEST_F(ConnectionOverSocket, AnOversizedHeaderClosesTheSocket) {
  wire::Header h{2, 1, 0, 4097};
  char bytes[kHeaderSize];
  wire::encode_header(h, bytes);
  peer_send(std::string_view(bytes, sizeof bytes));
  EXPECT_FALSE(next_request());
  EXPECT_EQ(conn_->fault(), Fault::kProtocol);
  EXPECT_TRUE(conn_->transport().on_protocol_fault(Fault::kProtocol));
}

TEST_F(ConnectionOverSocket, APeerHangingUpIsAClosedFault) {
  peer_.reset();
  EXPECT_FALSE(next_request());
  EXPECT_EQ(conn_->fault(), Fault::kClosed);
}

TEST_F(ConnectionOverSocket, AShortReadEndsReadingUntilTheNextTurn) {
  std::string a = wire::encode_message(2, 1, 0, std::string("/a\0", 3));
  std::string b = wire::encode_message(2, 2, 0, std::string("/b\0", 3));
  peer_send(a);
  conn_->new_turn();
  ASSERT_TRUE(conn_->next_request());
  peer_send(b);  // arrives after the short read that drained the socket
  EXPECT_FALSE(conn_->next_request()) << "read again in the same turn";
  auto req = next_request();  // the next wake-up finds it
  ASSERT_TRUE(req);
  EXPECT_EQ(req->hdr.req_id, 2u);
}

// Connections share one read buffer: bytes one connection read but has not
// framed yet must survive another connection's read into it.
TEST_F(ConnectionOverSocket, UnframedBytesSurviveAnotherConnectionsRead) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  UniqueFd other_peer(sv[1]);
  transport::Connection other(
      ConnId{2}, std::make_unique<transport::SocketTransport>(UniqueFd(sv[0])),
      buffers_);

  std::string a1 = wire::encode_message(2, 11, 0, std::string("/a1\0", 4));
  std::string a2 = wire::encode_message(2, 12, 0, std::string("/a2\0", 4));
  std::string a3 = wire::encode_message(2, 13, 0, std::string("/a3-split\0", 10));
  peer_send(a1 + a2 + a3.substr(0, 20));  // one read: two whole, one cut
  conn_->new_turn();
  auto first = conn_->next_request();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->hdr.req_id, 11u);

  std::string b = wire::encode_message(2, 21, 0, std::string(300, 'b'));
  ASSERT_EQ(::write(other_peer.get(), b.data(), b.size()),
            static_cast<ssize_t>(b.size()));
  other.new_turn();
  auto theirs = other.next_request();
  ASSERT_TRUE(theirs);
  EXPECT_EQ(theirs->hdr.req_id, 21u);
  EXPECT_EQ(theirs->payload, std::string(300, 'b'));

  auto second = conn_->next_request();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->hdr.req_id, 12u);
  EXPECT_EQ(second->payload, std::string("/a2\0", 4));
  EXPECT_FALSE(conn_->next_request()) << "the third is still cut";
  peer_send(a3.substr(20));
  auto third = next_request();
  ASSERT_TRUE(third);
  EXPECT_EQ(third->hdr.req_id, 13u);
  EXPECT_EQ(third->payload, std::string("/a3-split\0", 10));
}

TEST_F(ConnectionOverSocket, ARequestCutAtEveryByteComesOutWhole) {
  std::string a = wire::encode_message(2, 1, 0, std::string("/first\0", 7));
  std::string b = wire::encode_message(2, 2, 0, std::string("/second\0", 8));
  std::string both = a + b;
  for (std::size_t cut = 1; cut < both.size(); ++cut) {
    peer_send(both.substr(0, cut));
    std::vector<wire::Message> got;
    while (auto m = next_request()) got.push_back(*m);
    peer_send(both.substr(cut));
    while (auto m = next_request()) got.push_back(*m);
    ASSERT_EQ(got.size(), 2u) << "cut at " << cut;
    EXPECT_EQ(got[0].hdr.req_id, 1u);
    EXPECT_EQ(got[0].payload, std::string("/first\0", 7));
    EXPECT_EQ(got[1].hdr.req_id, 2u);
    EXPECT_EQ(got[1].payload, std::string("/second\0", 8));
  }
}

TEST_F(ConnectionOverSocket, RepliesReachThePeer) {
  std::string msg = wire::encode_message(2, 5, 0, "value");
  conn_->queue_reply(msg);
  ASSERT_TRUE(conn_->flush());
  EXPECT_FALSE(conn_->has_output());
  char buf[64];
  ASSERT_EQ(::read(peer_.get(), buf, sizeof buf),
            static_cast<ssize_t>(msg.size()));
  EXPECT_EQ(std::string(buf, msg.size()), msg);
}

TEST_F(ConnectionOverSocket, ManyQueuedRepliesLeaveInOrderThroughAFullSocket) {
  int small = 4096;
  ::setsockopt(peer_.get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  std::string expected;
  for (std::uint32_t id = 1; id <= 300; ++id) {
    std::string msg = wire::encode_message(2, id, 0, std::string(id % 97, 'x'));
    expected += msg;
    conn_->queue_reply(msg);
  }
  std::string got;
  char buf[1000];
  for (int round = 0; round < 10000 && got.size() < expected.size(); ++round) {
    ASSERT_TRUE(conn_->flush());
    ssize_t n = ::read(peer_.get(), buf, sizeof buf);  // a little at a time
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_EQ(got, expected);
  EXPECT_FALSE(conn_->has_output());
  EXPECT_EQ(conn_->queued_bytes(), 0u);
}

// A transport that takes at most `budget` bytes per flush, through the
// default one-piece-at-a-time write_gather: writes stop mid-message.
class TrickleTransport final : public transport::Transport {
 public:
  explicit TrickleTransport(std::string& sink) : sink_(sink) {}
  transport::IoResult read(char*, std::size_t) noexcept override { return {}; }
  transport::IoResult write(const char* buf, std::size_t len) noexcept override {
    std::size_t n = std::min(len, budget);
    sink_.append(buf, n);
    budget -= n;
    return {n, Fault::kNone};
  }
  bool on_protocol_fault(Fault) noexcept override { return true; }
  const char* kind() const noexcept override { return "trickle"; }
  std::size_t budget = 0;

 private:
  std::string& sink_;
};

// A connection over a TrickleTransport writing into `sink`.
class ConnectionGather : public ::testing::Test {
 protected:
  ConnectionGather()
      : t_(new TrickleTransport(sink)),
        conn(ConnId{1}, std::unique_ptr<transport::Transport>(t_), buffers) {}
  // Queues a reply encoded in place, and what the peer should then read.
  void reply(std::uint32_t id, const std::string& payload) {
    wire::Header h{2, id, 0, static_cast<std::uint32_t>(payload.size())};
    conn.queue_reply(h, payload);
    expected += wire::encode_message(2, id, 0, payload);
  }
  std::string expected;
  std::string sink;
  TrickleTransport* t_;  // owned by conn
  transport::SharedBuffers buffers;
  transport::Connection conn;
};

TEST_F(ConnectionGather, PartialWritesAcrossMessageBoundariesKeepTheQueueExact) {
  for (std::uint32_t id = 1; id <= 5; ++id) {
    std::string msg = wire::encode_message(2, id, 0, std::string(10 * id, 'v'));
    expected += msg;
    conn.queue_reply(msg);
  }
  std::size_t total = expected.size();
  for (std::size_t step : {7u, 30u, 1u, 45u, 200u}) {
    t_->budget = step;
    ASSERT_TRUE(conn.flush());
    EXPECT_EQ(sink, expected.substr(0, sink.size()));
    EXPECT_EQ(conn.has_output(), sink.size() < total);
  }
  EXPECT_EQ(sink, expected);
  EXPECT_EQ(conn.queued_bytes(), 0u);
}

TEST_F(ConnectionGather, CoalescedRepliesAndEventsKeepOrderAndMessageCount) {
  reply(1, "a");
  reply(2, std::string(40, 'b'));
  std::string ev = wire::encode_message(15, 0, 0, std::string("p\0t\0", 4));
  ASSERT_EQ(conn.queue_event(ev, 0), Queued::kYes);
  expected += ev;
  reply(3, "c");
  reply(4, "");
  EXPECT_EQ(conn.queued_messages(), 5u);
  EXPECT_EQ(conn.queued_bytes(), expected.size());
  // The event between replies is still deduplicated while pending.
  EXPECT_EQ(conn.queue_event(ev, 0), Queued::kDuplicate);
  std::size_t before = conn.queued_messages();
  for (std::size_t step : {20u, 3u, 60u}) {
    t_->budget = step;
    ASSERT_TRUE(conn.flush());
    EXPECT_LE(conn.queued_messages(), before);
    before = conn.queued_messages();
  }
  t_->budget = 1000;
  ASSERT_TRUE(conn.flush());
  EXPECT_EQ(sink, expected);
  EXPECT_EQ(conn.queued_messages(), 0u);
  EXPECT_EQ(conn.queued_bytes(), 0u);
  EXPECT_FALSE(conn.has_output());
}

// The queue keeps a pointer to the reply buffer new replies go to: it must
// follow a half-written tail, an expired event erased from the middle and a
// fully written tail leaving the queue.
TEST_F(ConnectionGather, RepliesAfterPartialWritesAndExpiredEventsStayInOrder) {
  reply(1, "first");
  t_->budget = 10;  // the tail is now half written
  ASSERT_TRUE(conn.flush());
  reply(2, "joins the half-written tail");
  std::string ev = wire::encode_message(15, 0, 0, std::string("p\0t\0", 4));
  ASSERT_EQ(conn.queue_event(ev, 0), Queued::kYes);  // expires below
  reply(3, "after the event");
  EXPECT_EQ(conn.drop_events_before(std::chrono::steady_clock::now() +
                                    std::chrono::seconds(1)),
            1u);
  reply(4, "after the expiry");
  EXPECT_EQ(conn.queued_messages(), 4u);
  t_->budget = 1000;
  ASSERT_TRUE(conn.flush());
  EXPECT_FALSE(conn.has_output());
  reply(5, "into a fresh buffer");
  EXPECT_EQ(conn.queued_messages(), 1u);
  ASSERT_TRUE(conn.flush());
  EXPECT_EQ(sink, expected);
  EXPECT_EQ(conn.queued_bytes(), 0u);
}

}  // namespace
}  // namespace cxs::test

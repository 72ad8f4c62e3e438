// RingTransport against a fake guest on a real shared page (memfd mapped
// twice, eventfds as event channels): every wrap position of the
// free-running indexes, full rings both ways, a hostile guest's indexes,
// error reporting, reconnection and batched notification.
#include "transport/ring/ring_transport.h"

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "ring_fixture.h"
#include "wire/header.h"
#include "wire/message_type.h"

namespace cxs::test {
namespace {

using transport::Fault;
using transport::IoResult;
using wire::kRingBytes;
using wire::MsgType;

std::string pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>('a' + (i * 7 + seed) % 26);
  return s;
}

using RingTransportTest = RingFixture;

TEST_F(RingTransportTest, TheTwoViewsAreDifferentAddressesOfOnePage) {
  ASSERT_NE(page_.daemon_view(), page_.guest_view());
  page_.guest_view()->req_prod = 42;
  EXPECT_EQ(page_.daemon_view()->req_prod, 42u);
}

TEST_F(RingTransportTest, ReadsTheBytesTheGuestWroteAndAdvancesReqCons) {
  guest_.raw().send_bytes("hello ring");
  EXPECT_EQ(to_daemon_.take(), 1u);
  EXPECT_EQ(daemon_read_all(), "hello ring");
  EXPECT_EQ(guest_.raw().req_cons(), 10u);
  EXPECT_EQ(guest_.raw().req_prod(), 10u);
}

TEST_F(RingTransportTest, ReadWithNothingPendingReturnsZeroWithoutFault) {
  char buf[16];
  IoResult r = ring_.read(buf, sizeof buf);
  EXPECT_EQ(r.bytes, 0u);
  EXPECT_EQ(r.fault, Fault::kNone);
}

TEST_F(RingTransportTest, ReadTakesNoMoreThanTheCallerAsked) {
  guest_.raw().send_bytes("0123456789");
  char buf[4];
  IoResult r = ring_.read(buf, sizeof buf);
  ASSERT_EQ(r.bytes, 4u);
  EXPECT_EQ(std::string(buf, 4), "0123");
  EXPECT_EQ(guest_.raw().req_cons(), 4u);
  EXPECT_EQ(daemon_read_all(), "456789");
}

// Each start offset 0..1023 puts the wrap at a different place inside the
// request and the reply; the offsets just below 2^32 make the free-running
// counters themselves wrap to 0 mid-message.
TEST_F(RingTransportTest, EveryStartOffsetCarriesRequestAndReplyIntact) {
  std::vector<std::uint32_t> starts;
  for (std::uint32_t s = 0; s < kRingBytes; ++s) starts.push_back(s);
  for (std::uint32_t s = 0xFFFFFC00u; s != 0; ++s) starts.push_back(s);
  for (std::uint32_t start : starts) {
    SCOPED_TRACE(::testing::Message() << "start " << std::hex << start);
    guest_.raw().set_all_indexes(start);
    std::string payload = pattern(100 + start % 37, start);
    std::uint32_t id = guest_.send(MsgType::XS_WRITE, payload, 3);
    ASSERT_TRUE(guest_.all_sent());

    auto req = next_request();
    ASSERT_TRUE(req);
    EXPECT_EQ(req->hdr.type, static_cast<std::uint32_t>(MsgType::XS_WRITE));
    EXPECT_EQ(req->hdr.req_id, id);
    EXPECT_EQ(req->hdr.tx_id, 3u);
    EXPECT_EQ(req->payload, payload);
    EXPECT_EQ(guest_.raw().req_cons(),
              start + static_cast<std::uint32_t>(16 + payload.size()));

    std::string reply = pattern(200 + start % 53, start + 1);
    conn_.queue_reply(wire::encode_message(
        static_cast<std::uint32_t>(MsgType::XS_READ), id, 3, reply));
    ASSERT_TRUE(conn_.flush());
    EXPECT_FALSE(conn_.has_output());
    auto got = guest_.receive();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->hdr.req_id, id);
    EXPECT_EQ(got->payload, reply);
    EXPECT_EQ(guest_.raw().rsp_cons(),
              start + static_cast<std::uint32_t>(16 + reply.size()));
    if (::testing::Test::HasFailure()) break;
  }
}

TEST_F(RingTransportTest, CountersWrapAt2To32AcrossManyMessages) {
  guest_.raw().set_all_indexes(0xFFFFFF00u);
  for (int i = 0; i < 40; ++i) {
    SCOPED_TRACE(i);
    std::string payload = pattern(50 + i, i);
    guest_.send(MsgType::XS_READ, payload);
    auto req = next_request();
    ASSERT_TRUE(req);
    EXPECT_EQ(req->payload, payload);
    conn_.queue_reply(wire::encode_message(2, req->hdr.req_id, 0, payload));
    ASSERT_TRUE(conn_.flush());
    auto got = guest_.receive();
    ASSERT_TRUE(got);
    EXPECT_EQ(got->payload, payload);
  }
  // 40 messages of 66..105 bytes: well past 2^32, so the counters wrapped.
  EXPECT_LT(guest_.raw().req_cons(), 0x10000u);
  EXPECT_LT(guest_.raw().rsp_prod(), 0x10000u);
}

TEST_F(RingTransportTest, AHeaderSplitAcrossTheWrapArrivesWhole) {
  for (std::uint32_t start : {1024u - 7u, 0xFFFFFFF9u, 1024u - 1u, 1u}) {
    SCOPED_TRACE(start);
    guest_.raw().set_all_indexes(start);
    guest_.send(MsgType::XS_DIRECTORY, std::string("/local/domain\0", 14));
    auto req = next_request();
    ASSERT_TRUE(req);
    EXPECT_EQ(req->hdr.type, static_cast<std::uint32_t>(MsgType::XS_DIRECTORY));
    EXPECT_EQ(req->payload, std::string("/local/domain\0", 14));
  }
}

TEST_F(RingTransportTest, AHeaderSplitAcrossSeveralReadsArrivesWhole) {
  guest_.raw().set_all_indexes(1024 - 5);  // and across the wrap
  std::string msg = wire::encode_message(2, 9, 0, std::string("a/b\0", 4));
  for (std::size_t i = 0; i + 1 < msg.size(); ++i) {
    guest_.raw().push_raw(msg.substr(i, 1));
    EXPECT_FALSE(next_request()) << "after byte " << i;
    EXPECT_EQ(conn_.fault(), Fault::kNone);
  }
  guest_.raw().push_raw(msg.substr(msg.size() - 1));
  auto req = next_request();
  ASSERT_TRUE(req);
  EXPECT_EQ(req->hdr.req_id, 9u);
  EXPECT_EQ(req->payload, std::string("a/b\0", 4));
}

TEST_F(RingTransportTest, AFullResponseRingTakesNothingUntilTheGuestConsumes) {
  guest_.raw().set_all_indexes(500);
  std::string big = pattern(kRingBytes, 1);
  IoResult r = ring_.write(big.data(), big.size());
  EXPECT_EQ(r.bytes, kRingBytes);
  r = ring_.write("x", 1);
  EXPECT_EQ(r.bytes, 0u);
  EXPECT_EQ(r.fault, Fault::kNone);
  EXPECT_EQ(guest_.raw().rsp_prod() - guest_.raw().rsp_cons(), kRingBytes);

  // The guest consumes 100 bytes: exactly 100 fit again.
  guest_.raw().set_rsp_cons(guest_.raw().rsp_cons() + 100);
  std::string more = pattern(300, 2);
  r = ring_.write(more.data(), more.size());
  EXPECT_EQ(r.bytes, 100u);
  EXPECT_EQ(r.fault, Fault::kNone);
  EXPECT_EQ(std::memcmp(page_.guest_view()->rsp + (500 % kRingBytes),
                        more.data(), 100),
            0);
}

TEST_F(RingTransportTest,
       AFullRequestRingHoldsTheGuestBackUntilTheDaemonReads) {
  guest_.raw().set_all_indexes(0xFFFFFE00u);
  std::string payload = pattern(kPayloadMax, 3);  // four rings' worth
  guest_.send(MsgType::XS_WRITE, payload);
  EXPECT_FALSE(guest_.all_sent());
  EXPECT_EQ(guest_.raw().req_prod() - guest_.raw().req_cons(), kRingBytes);
  EXPECT_FALSE(guest_.flush());  // no space: nothing moves

  std::optional<wire::Message> req;
  int rounds = 0;
  while (!(req = next_request())) {
    ASSERT_EQ(conn_.fault(), Fault::kNone);
    ASSERT_LT(++rounds, 10);
    guest_.flush();
  }
  EXPECT_EQ(rounds, 4);  // 16 + 4096 bytes in five fills of the ring
  EXPECT_EQ(req->payload, payload);
  EXPECT_TRUE(guest_.all_sent());
}

TEST_F(RingTransportTest, ReqProdMoreThanARingAheadIsARingIndexFault) {
  guest_.raw().set_all_indexes(100);
  guest_.raw().set_req_prod(100 + kRingBytes + 1);
  char buf[64];
  IoResult r = ring_.read(buf, sizeof buf);
  EXPECT_EQ(r.bytes, 0u);
  EXPECT_EQ(r.fault, Fault::kRingIndex);
  EXPECT_EQ(guest_.raw().req_cons(), 100u) << "a broken ring is not consumed";
}

TEST_F(RingTransportTest, ReqProdExactlyARingAheadIsAccepted) {
  guest_.raw().set_all_indexes(0xFFFFFF00u);
  guest_.raw().set_req_prod(0xFFFFFF00u + kRingBytes);  // wraps to 0x300
  char buf[2048];
  IoResult r = ring_.read(buf, sizeof buf);
  EXPECT_EQ(r.bytes, kRingBytes);
  EXPECT_EQ(r.fault, Fault::kNone);
}

TEST_F(RingTransportTest, ReqProdBehindReqConsIsARingIndexFault) {
  for (std::uint32_t cons : {5u, 0u, 0xFFFFFF00u}) {
    SCOPED_TRACE(cons);
    guest_.raw().set_all_indexes(cons);
    guest_.raw().set_req_prod(cons - 1);
    char buf[64];
    EXPECT_EQ(ring_.read(buf, sizeof buf).fault, Fault::kRingIndex);
  }
}

TEST_F(RingTransportTest, ReqProdPastARingAcrossTheWrapIsARingIndexFault) {
  guest_.raw().set_all_indexes(0xFFFFFF00u);
  guest_.raw().set_req_prod(0xFFFFFF00u + kRingBytes + 1);
  char buf[64];
  EXPECT_EQ(ring_.read(buf, sizeof buf).fault, Fault::kRingIndex);
}

TEST_F(RingTransportTest, RspConsAheadOfRspProdIsARingIndexFault) {
  guest_.raw().set_all_indexes(1000);
  guest_.raw().set_rsp_cons(1001);
  IoResult r = ring_.write("reply", 5);
  EXPECT_EQ(r.bytes, 0u);
  EXPECT_EQ(r.fault, Fault::kRingIndex);
  EXPECT_EQ(guest_.raw().rsp_prod(), 1000u);
}

TEST_F(RingTransportTest, RspConsMoreThanARingBehindIsARingIndexFault) {
  guest_.raw().set_all_indexes(5000);
  guest_.raw().set_rsp_cons(5000 - kRingBytes - 1);
  EXPECT_EQ(ring_.write("reply", 5).fault, Fault::kRingIndex);
  guest_.raw().set_rsp_cons(5000 - kRingBytes);  // full, but sane
  IoResult r = ring_.write("reply", 5);
  EXPECT_EQ(r.fault, Fault::kNone);
  EXPECT_EQ(r.bytes, 0u);
}

TEST_F(RingTransportTest, BrokenIndexesReachTheConnectionAsARingIndexFault) {
  guest_.raw().set_req_prod(guest_.raw().req_cons() + 5000);
  EXPECT_FALSE(next_request());
  EXPECT_EQ(conn_.fault(), Fault::kRingIndex);
}

TEST_F(RingTransportTest, AProtocolFaultSetsErrorThreeAndKeepsTheConnection) {
  EXPECT_FALSE(ring_.on_protocol_fault(Fault::kProtocol));
  EXPECT_EQ(guest_.raw().error(), wire::kErrorProto);
  EXPECT_EQ(guest_.raw().error(), 3u);
  EXPECT_TRUE(ring_.in_error());
  EXPECT_EQ(to_guest_.take(), 1u) << "the guest is told";
}

TEST_F(RingTransportTest, ARingIndexFaultSetsErrorTwo) {
  EXPECT_FALSE(ring_.on_protocol_fault(Fault::kRingIndex));
  EXPECT_EQ(guest_.raw().error(), wire::kErrorRingIdx);
  EXPECT_EQ(guest_.raw().error(), 2u);
  EXPECT_EQ(to_guest_.take(), 1u);
}

TEST_F(RingTransportTest, ARingInErrorIsNoLongerServed) {
  ASSERT_FALSE(ring_.on_protocol_fault(Fault::kProtocol));
  guest_.raw().send_bytes("perfectly good bytes");
  char buf[64];
  IoResult r = ring_.read(buf, sizeof buf);
  EXPECT_EQ(r.bytes, 0u);
  EXPECT_NE(r.fault, Fault::kNone);
  r = ring_.write("late reply", 10);
  EXPECT_EQ(r.bytes, 0u);
  EXPECT_NE(r.fault, Fault::kNone);
  EXPECT_EQ(guest_.raw().req_cons(), 0u);
  EXPECT_EQ(guest_.raw().rsp_prod(), 0u);
}

TEST_F(RingTransportTest, ConnectionOneRequestsAReconnection) {
  EXPECT_FALSE(ring_.reconnect_requested());
  guest_.raw().request_reconnect();
  EXPECT_EQ(to_daemon_.take(), 1u);
  EXPECT_TRUE(ring_.reconnect_requested());
}

TEST_F(RingTransportTest, FinishReconnectResetsTheRingAndNotifiesTheGuest) {
  guest_.raw().set_all_indexes(0x1234);
  guest_.raw().send_bytes("half a mess");
  ASSERT_FALSE(ring_.on_protocol_fault(Fault::kRingIndex));
  to_guest_.take();
  guest_.raw().request_reconnect();
  ASSERT_TRUE(ring_.reconnect_requested());

  ring_.finish_reconnect();
  conn_.reset_io();
  EXPECT_EQ(guest_.raw().req_cons(), 0u);
  EXPECT_EQ(guest_.raw().req_prod(), 0u);
  EXPECT_EQ(guest_.raw().rsp_cons(), 0u);
  EXPECT_EQ(guest_.raw().rsp_prod(), 0u);
  EXPECT_EQ(guest_.raw().error(), 0u);
  EXPECT_EQ(guest_.raw().connection(), wire::kConnected);
  EXPECT_FALSE(ring_.reconnect_requested());
  EXPECT_FALSE(ring_.in_error());
  EXPECT_EQ(to_guest_.take(), 1u);

  // And it is served again, from offset 0.
  guest_.raw().reset_local();
  guest_.send(MsgType::XS_READ, std::string("x\0", 2));
  auto req = next_request();
  ASSERT_TRUE(req);
  EXPECT_EQ(req->payload, std::string("x\0", 2));
}

TEST_F(RingTransportTest, EndBatchNotifiesOnceForABatchWithProgress) {
  for (int i = 0; i < 3; ++i) guest_.send(MsgType::XS_READ, "p");
  while (auto req = next_request())
    conn_.queue_reply(wire::encode_message(2, req->hdr.req_id, 0, "v"));
  ASSERT_TRUE(conn_.flush());
  EXPECT_EQ(to_guest_.take(), 0u) << "nothing before the batch ends";
  ring_.end_batch();
  EXPECT_EQ(to_guest_.take(), 1u);
  ring_.end_batch();
  EXPECT_EQ(to_guest_.take(), 0u) << "no new progress, no kick";
}

TEST_F(RingTransportTest, EndBatchWithoutProgressDoesNotNotify) {
  char buf[16];
  EXPECT_EQ(ring_.read(buf, sizeof buf).bytes, 0u);  // empty ring
  ring_.end_batch();
  EXPECT_EQ(to_guest_.take(), 0u);
}

TEST_F(RingTransportTest, AReadAloneIsProgressWorthANotification) {
  // The guest may be waiting for space in req[].
  guest_.raw().send_bytes("abc");
  daemon_read_all();
  ring_.end_batch();
  EXPECT_EQ(to_guest_.take(), 1u);
}

TEST_F(RingTransportTest, AWriteThatFindsTheRingFullIsNotProgress) {
  std::string big = pattern(kRingBytes, 4);
  ASSERT_EQ(ring_.write(big.data(), big.size()).bytes, kRingBytes);
  ring_.end_batch();
  EXPECT_EQ(to_guest_.take(), 1u);
  EXPECT_EQ(ring_.write("x", 1).bytes, 0u);
  ring_.end_batch();
  EXPECT_EQ(to_guest_.take(), 0u);
}

}  // namespace
}  // namespace cxs::test

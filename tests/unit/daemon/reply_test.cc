// The choke point (XSA-72): every reply and event leaves through
// ReplySender; oversized replies become E2BIG, oversized events vanish.
#include "daemon/reply.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "cxenstored/limits.h"
#include "transport/connection.h"
#include "wire/message_type.h"

namespace cxs::daemon {
namespace {

using wire::MsgType;

// Captures what the connection writes.
class SinkTransport final : public transport::Transport {
 public:
  explicit SinkTransport(std::string& out) : out_(out) {}
  transport::IoResult read(char*, std::size_t) noexcept override { return {}; }
  transport::IoResult write(const char* b, std::size_t n) noexcept override {
    out_.append(b, n);
    return {n, transport::Fault::kNone};
  }
  bool on_protocol_fault(transport::Fault) noexcept override { return true; }
  const char* kind() const noexcept override { return "sink"; }

 private:
  std::string& out_;
};

class ReplyTest : public ::testing::Test {
 protected:
  ReplyTest()
      : conn_(ConnId{1}, std::make_unique<SinkTransport>(wire_), buffers_),
        sender_(nullptr) {}

  // The single message written, header decoded.
  wire::Header sent(std::string& payload) {
    EXPECT_TRUE(conn_.flush());
    EXPECT_GE(wire_.size(), kHeaderSize);
    wire::Header h = wire::decode_header(wire_.data());
    payload = wire_.substr(kHeaderSize);
    EXPECT_EQ(payload.size(), h.len);
    return h;
  }

  std::string wire_;
  transport::SharedBuffers buffers_;
  transport::Connection conn_;
  ReplySender sender_;
  wire::Header request_{static_cast<std::uint32_t>(MsgType::XS_READ), 77, 5,
                        0};
};

TEST_F(ReplyTest, ReplyOfExactly4096BytesPasses) {
  sender_.send_reply(conn_, request_, ops::Reply{std::string(kPayloadMax, 'x')});
  std::string payload;
  wire::Header h = sent(payload);
  EXPECT_EQ(h.type, static_cast<std::uint32_t>(MsgType::XS_READ));
  EXPECT_EQ(payload.size(), kPayloadMax);
}

TEST_F(ReplyTest, ReplyOf4097BytesBecomesE2bigWithIdsEchoed) {
  sender_.send_reply(conn_, request_,
                     ops::Reply{std::string(kPayloadMax + 1, 'x')});
  std::string payload;
  wire::Header h = sent(payload);
  EXPECT_EQ(h.type, static_cast<std::uint32_t>(MsgType::XS_ERROR));
  EXPECT_EQ(h.req_id, 77u);
  EXPECT_EQ(h.tx_id, 5u);
  EXPECT_EQ(payload, std::string("E2BIG\0", 6));
  EXPECT_EQ(sender_.stats().too_big, 1u);
}

TEST_F(ReplyTest, RefusalBecomesXsErrorWithItsName) {
  sender_.send_reply(conn_, request_, Result<ops::Reply>(XsErr::kENOENT));
  std::string payload;
  wire::Header h = sent(payload);
  EXPECT_EQ(h.type, static_cast<std::uint32_t>(MsgType::XS_ERROR));
  EXPECT_EQ(payload, std::string("ENOENT\0", 7));
}

TEST_F(ReplyTest, EventOverThePayloadLimitIsDroppedNotSent) {
  std::string token(kPayloadMax, 't');
  EXPECT_FALSE(sender_.send_event(conn_, "/a", token, 0));
  EXPECT_FALSE(conn_.has_output());
  EXPECT_EQ(sender_.stats().events_dropped, 1u);
}

TEST_F(ReplyTest, EventIsPathAndTokenWithZeroIds) {
  EXPECT_TRUE(sender_.send_event(conn_, "/a/b", "tok", 0));
  std::string payload;
  wire::Header h = sent(payload);
  EXPECT_EQ(h.type, static_cast<std::uint32_t>(MsgType::XS_WATCH_EVENT));
  EXPECT_EQ(h.req_id, 0u);
  EXPECT_EQ(h.tx_id, 0u);
  EXPECT_EQ(payload, std::string("/a/b\0tok\0", 9));
}

TEST_F(ReplyTest, IdenticalPendingEventIsQueuedOnce) {
  EXPECT_TRUE(sender_.send_event(conn_, "/a", "t", 0));
  EXPECT_FALSE(sender_.send_event(conn_, "/a", "t", 0));
  EXPECT_TRUE(sender_.send_event(conn_, "/a", "u", 0));
  EXPECT_EQ(conn_.queued_messages(), 2u);
  ASSERT_TRUE(conn_.flush());
  // Once written, the same event may be queued again.
  EXPECT_TRUE(sender_.send_event(conn_, "/a", "t", 0));
}

}  // namespace
}  // namespace cxs::daemon

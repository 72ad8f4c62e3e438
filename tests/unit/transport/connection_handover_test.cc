// What a connection hands to the next daemon in a live update, and takes
// from the one before: a request put back (held while an update is
// pending), input received and not yet handled (whole requests, half a
// request), and output not yet written (a reply cut by a short write, whole
// replies, events).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "transport/connection.h"
#include "wire/header.h"
#include "wire/message_type.h"

namespace cxs::test {
namespace {

using wire::MsgType;

// A transport whose reads come from `input` and whose writes take at most
// `budget` bytes in all (then nothing, as a full socket would).
class ScriptedTransport final : public transport::Transport {
 public:
  std::string input;
  std::string written;
  std::size_t budget = SIZE_MAX;

  transport::IoResult read(char* buf, std::size_t len) noexcept override {
    std::size_t n = std::min(len, input.size());
    input.copy(buf, n);
    input.erase(0, n);
    return {n, transport::Fault::kNone};
  }
  transport::IoResult write(const char* buf, std::size_t len) noexcept override {
    std::size_t n = std::min(len, budget);
    written.append(buf, n);
    budget -= n;
    return {n, transport::Fault::kNone};
  }
  bool on_protocol_fault(transport::Fault) noexcept override { return true; }
  const char* kind() const noexcept override { return "scripted"; }
};

std::string message(MsgType type, std::uint32_t req_id, std::string_view p) {
  return wire::encode_message(static_cast<std::uint32_t>(type), req_id, 0, p);
}

struct Conn {
  ScriptedTransport* t;
  transport::SharedBuffers buffers;
  transport::Connection conn;
  Conn() : Conn(std::make_unique<ScriptedTransport>()) {}
  explicit Conn(std::unique_ptr<ScriptedTransport> st)
      : t(st.get()), conn(ConnId{1}, std::move(st), buffers) {}
  std::optional<wire::Message> next() {
    conn.new_turn();
    auto m = conn.next_request();
    return m ? std::optional(m->owned()) : std::nullopt;
  }
};

const std::string kRead = message(MsgType::XS_READ, 1, std::string("/a\0", 3));
const std::string kWrite =
    message(MsgType::XS_WRITE, 2, std::string("/b\0value", 8));
const std::string kDir = message(MsgType::XS_DIRECTORY, 3, std::string("/\0", 2));

TEST(ConnectionHandover, ARequestPutBackComesOutFirstAndCountsAsInput) {
  Conn c;
  c.t->input = kRead + kWrite;
  auto first = c.next();
  ASSERT_TRUE(first);
  c.conn.put_back(wire::MessageView{first->hdr, first->payload});
  EXPECT_TRUE(c.conn.has_buffered_input());
  EXPECT_EQ(c.conn.unprocessed_input(), kRead + kWrite);
  auto again = c.next();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->hdr.req_id, 1u);
  auto second = c.next();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->hdr.req_id, 2u);
  EXPECT_FALSE(c.conn.has_put_back());
}

TEST(ConnectionHandover, UnprocessedInputIsWholeRequestsThenHalfARequest) {
  Conn c;
  c.t->input = kRead + kWrite + kDir.substr(0, 17);
  ASSERT_TRUE(c.next());  // kRead handled
  EXPECT_EQ(c.conn.unprocessed_input(), kWrite + kDir.substr(0, 17));
  ASSERT_TRUE(c.next());  // kWrite handled
  EXPECT_FALSE(c.next());  // half of kDir: in the framer now
  EXPECT_EQ(c.conn.unprocessed_input(), kDir.substr(0, 17));
}

TEST(ConnectionHandover, HalfAHeaderIsHandedOverToo) {
  Conn c;
  c.t->input = kRead.substr(0, 7);
  EXPECT_FALSE(c.next());
  EXPECT_EQ(c.conn.unprocessed_input(), kRead.substr(0, 7));
}

TEST(ConnectionHandover, PreloadedInputIsFramedBeforeWhatIsReadNext) {
  Conn c;
  c.conn.preload_input(kWrite + kDir.substr(0, 17));
  c.t->input = kDir.substr(17) + kRead;
  for (std::uint32_t id : {2u, 3u, 1u}) {
    auto m = c.next();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->hdr.req_id, id);
  }
  EXPECT_FALSE(c.next());
}

TEST(ConnectionHandover, PendingOutputStartsWithTheRestOfAHalfWrittenReply) {
  Conn c;
  c.conn.queue_reply(wire::Header{static_cast<std::uint32_t>(MsgType::XS_READ),
                                  1, 0, 5},
                     "hello");
  c.conn.queue_reply(wire::Header{static_cast<std::uint32_t>(MsgType::XS_WRITE),
                                  2, 0, 3},
                     std::string("OK\0", 3));
  std::string event = message(MsgType::XS_WATCH_EVENT, 0,
                              std::string("/w\0tok\0", 7));
  c.conn.queue_event(event, 0);
  c.t->budget = 18;  // the first header and two bytes of "hello"
  ASSERT_TRUE(c.conn.flush());
  auto out = c.conn.pending_output();
  EXPECT_EQ(out.partial, 3u);  // "llo"
  std::string ok = message(MsgType::XS_WRITE, 2, std::string("OK\0", 3));
  EXPECT_EQ(out.bytes, "llo" + ok + event);
}

TEST(ConnectionHandover, PendingOutputAtAMessageBoundaryHasNoPartialPart) {
  Conn c;
  std::string ok = message(MsgType::XS_WRITE, 2, std::string("OK\0", 3));
  c.conn.queue_reply(ok);
  c.conn.queue_reply(ok);
  c.t->budget = ok.size();
  ASSERT_TRUE(c.conn.flush());
  auto out = c.conn.pending_output();
  EXPECT_EQ(out.partial, 0u);
  EXPECT_EQ(out.bytes, ok);
}

TEST(ConnectionHandover, PreloadedOutputLeavesAsItWasAndEventsStayEvents) {
  std::string ok = message(MsgType::XS_WRITE, 2, std::string("OK\0", 3));
  std::string event = message(MsgType::XS_WATCH_EVENT, 0,
                              std::string("/w\0tok\0", 7));
  Conn c;
  ASSERT_TRUE(c.conn.preload_output("llo" + ok + event, 3));
  EXPECT_EQ(c.conn.queued_messages(), 3u);
  // The same event queued again is a duplicate of the pending one.
  EXPECT_EQ(c.conn.queue_event(event, 0),
            transport::Connection::EventQueued::kDuplicate);
  ASSERT_TRUE(c.conn.flush());
  EXPECT_EQ(c.t->written, "llo" + ok + event);
  EXPECT_FALSE(c.conn.has_output());
}

TEST(ConnectionHandover, OutputThatIsNotWholeMessagesIsStillSentAsItIs) {
  Conn c;
  std::string ok = message(MsgType::XS_WRITE, 2, std::string("OK\0", 3));
  EXPECT_FALSE(c.conn.preload_output(ok + ok.substr(0, 10), 0));
  ASSERT_TRUE(c.conn.flush());
  EXPECT_EQ(c.t->written, ok + ok.substr(0, 10));
}

}  // namespace
}  // namespace cxs::test

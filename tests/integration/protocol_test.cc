// The raw wire protocol over the Unix socket: framing (split and merged
// frames, pipelines, the 4096-byte payload limit), unknown message types,
// path validation and a few request-specific rules. Every malformed input
// is followed by a check that the daemon still serves and that the store is
// unchanged.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "integration_helpers.h"
#include "wire/header.h"

namespace cxs::test {
namespace {

using wire::MsgType;
using namespace std::chrono_literals;

class Protocol : public ::testing::Test {
 protected:
  void SetUp() override {
    RawClient c(d.socket_path());
    ASSERT_TRUE(is_type(c.write("/pr/a", "alpha"), MsgType::XS_WRITE));
    ASSERT_TRUE(is_type(c.write("/pr/b", "beta"), MsgType::XS_WRITE));
    before_ = dump_store(d.socket_path());
  }

  // The daemon is alive, answers a fresh connection, and the store is as
  // it was after SetUp (plus whatever the test declared in `expected`).
  void expect_serving_and_unchanged() {
    ASSERT_TRUE(d.alive()) << d.log();
    RawClient fresh(d.socket_path());
    Msg r = fresh.read("/pr/a");
    EXPECT_TRUE(is_type(r, MsgType::XS_READ)) << r.shown();
    EXPECT_EQ(r.payload, "alpha");
    EXPECT_EQ(dump_store(d.socket_path()), before_);
  }

  static std::string encode(MsgType type, std::uint32_t req,
                            std::string_view payload, std::uint32_t tx = 0) {
    return wire::encode_message(ty(type), req, tx, payload);
  }

  DaemonProcess d;
  std::string before_;
};

TEST_F(Protocol, RequestSentByteByByteIsReassembled) {
  RawClient c(d.socket_path());
  std::string frame = encode(MsgType::XS_READ, 77, with_nul("/pr/a"));
  for (char byte : frame) {
    c.send_bytes(std::string_view(&byte, 1));
    std::this_thread::sleep_for(2ms);
  }
  auto m = c.recv_reply();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, ty(MsgType::XS_READ));
  EXPECT_EQ(m->req_id, 77u);
  EXPECT_EQ(m->payload, "alpha");
  expect_serving_and_unchanged();
}

TEST_F(Protocol, HeaderSplitAtEveryByteIsReassembled) {
  RawClient c(d.socket_path());
  for (std::size_t cut = 1; cut < kHeaderSize; ++cut) {
    std::string frame = encode(MsgType::XS_READ, 100 + static_cast<std::uint32_t>(cut),
                               with_nul("/pr/b"));
    c.send_bytes(std::string_view(frame).substr(0, cut));
    std::this_thread::sleep_for(5ms);  // the daemon reads the half alone
    c.send_bytes(std::string_view(frame).substr(cut));
    // Nothing came back for half a header: the next message of any kind
    // is the whole frame's reply.
    auto m = c.recv();
    ASSERT_TRUE(m) << "cut " << cut;
    EXPECT_EQ(m->type, ty(MsgType::XS_READ)) << "cut " << cut;
    EXPECT_EQ(m->req_id, 100 + cut);
    EXPECT_EQ(m->payload, "beta") << "cut " << cut;
  }
  expect_serving_and_unchanged();
}

TEST_F(Protocol, BodySplitAcrossWritesIsReassembled) {
  RawClient c(d.socket_path());
  std::string frame =
      encode(MsgType::XS_WRITE, 5, std::string("/pr/split") + '\0' + "v" + "123");
  c.send_bytes(std::string_view(frame).substr(0, kHeaderSize));
  std::this_thread::sleep_for(10ms);
  c.send_bytes(std::string_view(frame).substr(kHeaderSize, 4));
  std::this_thread::sleep_for(10ms);
  c.send_bytes(std::string_view(frame).substr(kHeaderSize + 4, 7));
  std::this_thread::sleep_for(10ms);
  c.send_bytes(std::string_view(frame).substr(kHeaderSize + 11));
  // Nothing came back for the parts: the next message of any kind is the
  // whole frame's reply.
  auto m = c.recv();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->type, ty(MsgType::XS_WRITE)) << m->shown();
  EXPECT_EQ(m->req_id, 5u);
  EXPECT_EQ(c.read("/pr/split").payload, "v123");
}

TEST_F(Protocol, TwoRequestsInOneWriteGetTwoRepliesInOrder) {
  RawClient c(d.socket_path());
  c.send_bytes(encode(MsgType::XS_READ, 1, with_nul("/pr/a")) +
               encode(MsgType::XS_READ, 2, with_nul("/pr/b")));
  auto first = c.recv_reply();
  auto second = c.recv_reply();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->req_id, 1u);
  EXPECT_EQ(first->payload, "alpha");
  EXPECT_EQ(second->req_id, 2u);
  EXPECT_EQ(second->payload, "beta");
}

TEST_F(Protocol, HundredPipelinedRequestsAreAnsweredInOrderWithIdsEchoed) {
  RawClient c(d.socket_path());
  // Disjoint parents, so that the transaction's writes and the others do
  // not conflict at commit.
  ASSERT_TRUE(is_type(c.mkdir("/pr/pipe"), MsgType::XS_MKDIR));
  ASSERT_TRUE(is_type(c.mkdir("/pr/txw"), MsgType::XS_MKDIR));
  std::uint32_t tx = c.start_transaction();
  ASSERT_NE(tx, 0u);
  std::string batch;
  std::vector<std::uint32_t> req_ids, tx_ids;
  for (std::uint32_t i = 0; i < 100; ++i) {
    std::uint32_t req = 0xabc00000u + i * 7919u;  // arbitrary, not sequential
    std::uint32_t t = i % 2 ? tx : 0;
    req_ids.push_back(req);
    tx_ids.push_back(t);
    if (i % 3 == 0)
      batch += encode(MsgType::XS_WRITE, req,
                      (t ? "/pr/txw/n" : "/pr/pipe/n") + std::to_string(i) +
                          '\0' + std::to_string(i),
                      t);
    else
      batch += encode(MsgType::XS_READ, req, with_nul(i % 2 ? "/pr/a" : "/pr/b"), t);
  }
  c.send_bytes(batch);
  for (std::uint32_t i = 0; i < 100; ++i) {
    auto m = c.recv_reply();
    ASSERT_TRUE(m) << "reply " << i;
    EXPECT_EQ(m->req_id, req_ids[i]) << "reply " << i;
    EXPECT_EQ(m->tx_id, tx_ids[i]) << "reply " << i;
    if (i % 3 == 0) {
      EXPECT_EQ(m->type, ty(MsgType::XS_WRITE)) << i << ": " << m->shown();
    } else {
      EXPECT_EQ(m->type, ty(MsgType::XS_READ)) << i << ": " << m->shown();
      EXPECT_EQ(m->payload, i % 2 ? "alpha" : "beta");
    }
  }
  EXPECT_TRUE(is_type(c.end_transaction(tx, true), MsgType::XS_TRANSACTION_END));
  EXPECT_EQ(c.read("/pr/txw/n99").payload, "99");
  EXPECT_EQ(c.read("/pr/pipe/n0").payload, "0");
}

TEST_F(Protocol, PayloadOfExactly4096BytesIsAccepted) {
  RawClient c(d.socket_path());
  std::string path = "/pr/max";
  std::string value(kPayloadMax - path.size() - 1, 'v');
  std::string payload = path + '\0' + value;
  ASSERT_EQ(payload.size(), kPayloadMax);
  Msg m = c.request(ty(MsgType::XS_WRITE), payload);
  EXPECT_TRUE(is_type(m, MsgType::XS_WRITE)) << m.shown();
  Msg r = c.read(path);
  EXPECT_EQ(r.payload, value);
}

TEST_F(Protocol, PayloadOf4097BytesClosesThatConnectionOnly) {
  RawClient bystander(d.socket_path());
  RawClient c(d.socket_path());
  std::string path = "/pr/over";
  std::string payload = path + '\0' + std::string(kPayloadMax - path.size(), 'v');
  ASSERT_EQ(payload.size(), kPayloadMax + 1);
  c.send(ty(MsgType::XS_WRITE), payload);
  EXPECT_TRUE(c.closed_by_peer());
  Msg r = bystander.read("/pr/b");
  EXPECT_EQ(r.payload, "beta");
  EXPECT_TRUE(is_type(bystander.read("/pr/over"), MsgType::XS_ERROR));
  expect_serving_and_unchanged();
}

TEST_F(Protocol, HeaderClaimingAHugeLengthClosesTheConnection) {
  RawClient bystander(d.socket_path());
  RawClient c(d.socket_path());
  wire::Header h{ty(MsgType::XS_READ), 1, 0, 0xffffffffu};
  std::string bytes(kHeaderSize, '\0');
  wire::encode_header(h, bytes.data());
  // One send: the daemon may close as soon as it has the header, and a
  // second send would then fail with EPIPE (a race seen in ctest -j2).
  c.send_bytes(bytes + "/pr/a" + std::string(1, '\0'));
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(bystander.read("/pr/a").payload, "alpha");
  expect_serving_and_unchanged();
}

class UnknownType : public Protocol,
                    public ::testing::WithParamInterface<std::uint32_t> {};

TEST_P(UnknownType, GetsEnosysAndTheConnectionStays) {
  RawClient c(d.socket_path());
  std::uint32_t id = c.send(GetParam(), nul_join({"/pr/a", "x"}), 0, 4242);
  auto m = c.recv_reply();
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->is_error("ENOSYS")) << m->type << " " << m->shown();
  EXPECT_EQ(m->req_id, id);
  EXPECT_EQ(c.read("/pr/a").payload, "alpha");  // same connection still works
  expect_serving_and_unchanged();
}

INSTANTIATE_TEST_SUITE_P(
    Protocol, UnknownType,
    ::testing::Values(20u, 27u, 100u, 0xffffu,
                      ty(MsgType::XS_WATCH_EVENT), ty(MsgType::XS_ERROR)),
    [](const auto& info) { return "Type" + std::to_string(info.param); });

struct BadPath {
  const char* name;
  std::string path;
};

class InvalidPath : public Protocol,
                    public ::testing::WithParamInterface<BadPath> {};

TEST_P(InvalidPath, GivesEinvalForEveryRequestKind) {
  RawClient c(d.socket_path());
  const std::string& p = GetParam().path;
  EXPECT_TRUE(c.read(p).is_error("EINVAL")) << c.read(p).shown();
  EXPECT_TRUE(c.write(p, "x").is_error("EINVAL"));
  EXPECT_TRUE(c.mkdir(p).is_error("EINVAL"));
  EXPECT_TRUE(c.rm(p).is_error("EINVAL"));
  EXPECT_TRUE(c.directory(p).is_error("EINVAL"));
  EXPECT_TRUE(c.get_perms(p).is_error("EINVAL"));
  EXPECT_TRUE(c.set_perms(p, {"n0"}).is_error("EINVAL"));
  EXPECT_EQ(c.read("/pr/b").payload, "beta");
  expect_serving_and_unchanged();
}

INSTANTIATE_TEST_SUITE_P(
    Protocol, InvalidPath,
    ::testing::Values(BadPath{"Empty", ""}, BadPath{"DoubleSlash", "//a"},
                      BadPath{"InnerDoubleSlash", "/pr//a"},
                      BadPath{"TrailingSlash", "/a/"},
                      BadPath{"Space", "/a b"},
                      BadPath{"TooLongAbsolute", "/" + std::string(3072, 'a')},
                      BadPath{"NonAscii", "/caf\xc3\xa9"},
                      BadPath{"HighByte", "/a\xff"},
                      BadPath{"Star", "/a*"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(Protocol, RelativePathFromTheSocketResolvesUnderLocalDomain0) {
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type(c.write("relnode/x", "rel"), MsgType::XS_WRITE));
  EXPECT_EQ(c.read("/local/domain/0/relnode/x").payload, "rel");
  EXPECT_EQ(c.read("relnode/x").payload, "rel");
  Msg dir = c.directory("relnode");
  EXPECT_EQ(dir.payload, with_nul("x"));
}

TEST_F(Protocol, ReadWithoutTerminatingNulGivesEinval) {
  RawClient c(d.socket_path());
  Msg m = c.request(ty(MsgType::XS_READ), "/pr/a");
  EXPECT_TRUE(m.is_error("EINVAL")) << m.shown();
  expect_serving_and_unchanged();
}

TEST_F(Protocol, WriteWithoutAnyNulGivesEinval) {
  RawClient c(d.socket_path());
  Msg m = c.request(ty(MsgType::XS_WRITE), "/pr/a");
  EXPECT_TRUE(m.is_error("EINVAL")) << m.shown();
  expect_serving_and_unchanged();
}

TEST_F(Protocol, RmOfTheRootIsRefused) {
  RawClient c(d.socket_path());
  Msg m = c.rm("/");
  EXPECT_TRUE(is_type(m, MsgType::XS_ERROR)) << m.shown();
  expect_serving_and_unchanged();
}

TEST_F(Protocol, DirectoryPartPagesTheListingWithAGeneration) {
  RawClient c(d.socket_path());
  for (const char* n : {"aa", "bb", "cc"})
    ASSERT_TRUE(is_type(c.write(std::string("/pr/dp/") + n, ""), MsgType::XS_WRITE));
  auto part = [&](std::size_t off) {
    return c.request(ty(MsgType::XS_DIRECTORY_PART),
                     nul_join({"/pr/dp", std::to_string(off)}));
  };
  Msg all = part(0);
  ASSERT_TRUE(is_type(all, MsgType::XS_DIRECTORY_PART)) << all.shown();
  std::size_t nul = all.payload.find('\0');
  ASSERT_NE(nul, std::string::npos);
  std::string gen = all.payload.substr(0, nul);
  EXPECT_FALSE(gen.empty());
  EXPECT_EQ(all.payload.substr(nul + 1), std::string("aa\0bb\0cc\0\0", 10));
  Msg tail = part(3);
  EXPECT_EQ(tail.payload, gen + std::string("\0bb\0cc\0\0", 8));
  Msg end = part(9);
  EXPECT_EQ(end.payload, gen + std::string("\0\0", 2));
  Msg past = part(1000);
  EXPECT_EQ(past.payload, gen + std::string("\0\0", 2));
  EXPECT_TRUE(part(0).payload.starts_with(gen + '\0'));  // unchanged: same gen
}

TEST_F(Protocol, DirectoryPartOfAMissingNodeGivesEnoent) {
  RawClient c(d.socket_path());
  Msg m = c.request(ty(MsgType::XS_DIRECTORY_PART), nul_join({"/pr/none", "0"}));
  EXPECT_TRUE(m.is_error("ENOENT")) << m.shown();
}

TEST_F(Protocol, DirectoryPartWithoutAnOffsetGivesEinval) {
  RawClient c(d.socket_path());
  Msg m = c.request(ty(MsgType::XS_DIRECTORY_PART), with_nul("/pr"));
  EXPECT_TRUE(m.is_error("EINVAL")) << m.shown();
  expect_serving_and_unchanged();
}

}  // namespace
}  // namespace cxs::test

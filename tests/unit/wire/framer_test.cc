// Framer: reassembly of messages from arbitrary splits of a byte stream, and
// the length fault (len > 4096) that closes a connection.
#include "wire/framer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cxenstored/limits.h"
#include "wire/header.h"

namespace cxs::wire {
namespace {

// Feeds `bytes` in chunks of `chunk` (0 = all at once), taking every message
// as it completes.
std::vector<Message> feed_all(Framer& f, const std::string& bytes,
                              std::size_t chunk = 0) {
  std::vector<Message> out;
  std::size_t pos = 0;
  if (chunk == 0) chunk = bytes.size() ? bytes.size() : 1;
  while (pos < bytes.size() && f.state() == Framer::State::kOk) {
    std::size_t n = std::min(chunk, bytes.size() - pos);
    std::size_t used = f.feed(bytes.data() + pos, n);
    pos += used;
    if (auto m = f.take()) out.push_back(std::move(*m));
    if (used == 0 && !f.has_message()) break;
  }
  return out;
}

std::string header_with_len(std::uint32_t len) {
  char raw[kHeaderSize];
  encode_header(Header{2, 7, 0, len}, raw);
  return std::string(raw, kHeaderSize);
}

TEST(Framer, WholeMessageInOneFeedIsTakenIntact) {
  Framer f;
  std::string bytes = encode_message(2, 42, 9, std::string("/a\0", 3));
  EXPECT_EQ(f.feed(bytes.data(), bytes.size()), bytes.size());
  ASSERT_TRUE(f.has_message());
  auto m = f.take();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->hdr.type, 2u);
  EXPECT_EQ(m->hdr.req_id, 42u);
  EXPECT_EQ(m->hdr.tx_id, 9u);
  EXPECT_EQ(m->hdr.len, 3u);
  EXPECT_EQ(m->payload, std::string("/a\0", 3));
}

TEST(Framer, SplitAtEveryBytePositionGivesTheSameMessage) {
  const std::string payload("path\0val\0ue", 11);
  const std::string bytes = encode_message(11, 5, 3, payload);
  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    Framer f;
    EXPECT_EQ(f.feed(bytes.data(), cut), cut);
    if (cut < bytes.size()) {
      EXPECT_FALSE(f.has_message());
      EXPECT_EQ(f.mid_message(), cut > 0);
    }
    f.feed(bytes.data() + cut, bytes.size() - cut);
    ASSERT_TRUE(f.has_message());
    auto m = f.take();
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->hdr.type, 11u);
    EXPECT_EQ(m->hdr.req_id, 5u);
    EXPECT_EQ(m->hdr.tx_id, 3u);
    EXPECT_EQ(m->payload, payload);
    EXPECT_FALSE(f.mid_message());
  }
}

TEST(Framer, ByteAtATimeFeedingReassemblesTheMessage) {
  const std::string bytes = encode_message(1, 1, 0, std::string("/\0", 2));
  Framer f;
  auto msgs = feed_all(f, bytes, 1);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].payload, std::string("/\0", 2));
}

TEST(Framer, FeedStopsAtTheEndOfACompleteMessage) {
  std::string a = encode_message(2, 1, 0, std::string("/a\0", 3));
  std::string b = encode_message(2, 2, 0, std::string("/bb\0", 4));
  std::string both = a + b;
  Framer f;
  EXPECT_EQ(f.feed(both.data(), both.size()), a.size());
  EXPECT_TRUE(f.has_message());
  // Nothing more is taken until the message has been taken.
  EXPECT_EQ(f.feed(both.data() + a.size(), b.size()), 0u);
  ASSERT_TRUE(f.take().has_value());
  EXPECT_EQ(f.feed(both.data() + a.size(), b.size()), b.size());
  auto m = f.take();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->hdr.req_id, 2u);
}

TEST(Framer, SeveralMessagesInOneFeedComeOutInOrder) {
  std::string stream;
  for (std::uint32_t i = 0; i < 5; ++i)
    stream += encode_message(2, i, 0, std::string(i, 'x'));
  for (std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{7},
                            std::size_t{16}, std::size_t{17}}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    Framer f;
    auto msgs = feed_all(f, stream, chunk);
    ASSERT_EQ(msgs.size(), 5u);
    for (std::uint32_t i = 0; i < 5; ++i) {
      EXPECT_EQ(msgs[i].hdr.req_id, i);
      EXPECT_EQ(msgs[i].payload, std::string(i, 'x'));
    }
  }
}

TEST(Framer, EmptyPayloadCompletesWithTheHeader) {
  std::string bytes = encode_message(6, 3, 0, "");
  Framer f;
  EXPECT_EQ(f.feed(bytes.data(), bytes.size()), kHeaderSize);
  ASSERT_TRUE(f.has_message());
  auto m = f.take();
  ASSERT_TRUE(m.has_value());
  EXPECT_TRUE(m->payload.empty());
}

TEST(Framer, PayloadOfExactly4096BytesIsAccepted) {
  std::string payload(kPayloadMax, 'p');
  std::string bytes = encode_message(11, 1, 0, payload);
  Framer f;
  EXPECT_EQ(f.feed(bytes.data(), bytes.size()), bytes.size());
  EXPECT_EQ(f.state(), Framer::State::kOk);
  auto m = f.take();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->payload.size(), kPayloadMax);
}

TEST(Framer, LengthOf4097IsAFaultWithTheOffendingLength) {
  std::string hdr = header_with_len(kPayloadMax + 1);
  Framer f;
  EXPECT_EQ(f.feed(hdr.data(), hdr.size()), kHeaderSize);
  EXPECT_EQ(f.state(), Framer::State::kFault);
  EXPECT_EQ(f.fault_len(), kPayloadMax + 1);
  EXPECT_FALSE(f.has_message());
  EXPECT_FALSE(f.take().has_value());
}

TEST(Framer, HugeLengthIsAFaultEvenWhenTheHeaderArrivesInPieces) {
  std::string hdr = header_with_len(0xFFFFFFFFu);
  Framer f;
  EXPECT_EQ(f.feed(hdr.data(), 10), 10u);
  EXPECT_EQ(f.state(), Framer::State::kOk);
  EXPECT_EQ(f.feed(hdr.data() + 10, 6), 6u);
  EXPECT_EQ(f.state(), Framer::State::kFault);
  EXPECT_EQ(f.fault_len(), 0xFFFFFFFFu);
}

TEST(Framer, FaultedFramerTakesNoMoreBytes) {
  std::string bytes = header_with_len(5000) + std::string(100, 'x');
  Framer f;
  EXPECT_EQ(f.feed(bytes.data(), bytes.size()), kHeaderSize);
  EXPECT_EQ(f.feed(bytes.data() + kHeaderSize, 100), 0u);
  EXPECT_EQ(f.state(), Framer::State::kFault);
}

TEST(Framer, TakeResetsForTheNextMessage) {
  Framer f;
  EXPECT_FALSE(f.take().has_value());
  std::string a = encode_message(2, 1, 0, "abc");
  f.feed(a.data(), a.size());
  ASSERT_TRUE(f.take().has_value());
  EXPECT_FALSE(f.has_message());
  EXPECT_FALSE(f.mid_message());
  EXPECT_FALSE(f.take().has_value());
  std::string b = encode_message(3, 2, 0, "de");
  EXPECT_EQ(f.feed(b.data(), b.size()), b.size());
  auto m = f.take();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->hdr.type, 3u);
  EXPECT_EQ(m->payload, "de");
}

TEST(Framer, ResetDropsAPartialMessage) {
  std::string a = encode_message(2, 1, 0, "abcdef");
  Framer f;
  f.feed(a.data(), kHeaderSize + 2);
  EXPECT_TRUE(f.mid_message());
  f.reset();
  EXPECT_FALSE(f.mid_message());
  EXPECT_FALSE(f.has_message());
  std::string b = encode_message(9, 8, 0, "xy");
  EXPECT_EQ(f.feed(b.data(), b.size()), b.size());
  auto m = f.take();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->hdr.req_id, 8u);
  EXPECT_EQ(m->payload, "xy");
}

TEST(Framer, ResetDropsAPartialHeader) {
  std::string a = encode_message(2, 1, 0, "abcdef");
  Framer f;
  f.feed(a.data(), 5);
  EXPECT_TRUE(f.mid_message());
  f.reset();
  std::string b = encode_message(9, 8, 0, "xy");
  EXPECT_EQ(f.feed(b.data(), b.size()), b.size());
  auto m = f.take();
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->hdr.type, 9u);
}

TEST(Framer, ResetClearsAFault) {
  std::string bad = header_with_len(4097);
  Framer f;
  f.feed(bad.data(), bad.size());
  ASSERT_EQ(f.state(), Framer::State::kFault);
  f.reset();
  EXPECT_EQ(f.state(), Framer::State::kOk);
  EXPECT_EQ(f.fault_len(), 0u);
  std::string good = encode_message(2, 1, 0, "ok");
  EXPECT_EQ(f.feed(good.data(), good.size()), good.size());
  EXPECT_TRUE(f.take().has_value());
}

TEST(Framer, BinaryPayloadWithNulsIsKeptWhole) {
  std::string payload("\0\x01\xff\0z", 5);
  std::string bytes = encode_message(11, 1, 0, payload);
  Framer f;
  auto msgs = feed_all(f, bytes, 3);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].payload, payload);
}

TEST(Header, EncodeMessageSetsTheLengthAndRoundTrips) {
  std::string bytes = encode_message(4, 0xdeadbeef, 77, "hello");
  ASSERT_EQ(bytes.size(), kHeaderSize + 5);
  Header h = decode_header(bytes.data());
  EXPECT_EQ(h.type, 4u);
  EXPECT_EQ(h.req_id, 0xdeadbeefu);
  EXPECT_EQ(h.tx_id, 77u);
  EXPECT_EQ(h.len, 5u);
  EXPECT_EQ(bytes.substr(kHeaderSize), "hello");
}

TEST(Framer, NextHandsAWholeMessageOutInPlace) {
  std::string bytes = encode_message(2, 9, 3, "abc") + encode_message(2, 10, 0, "");
  Framer f;
  std::size_t used = 0;
  auto m = f.next(bytes.data(), bytes.size(), used);
  ASSERT_TRUE(m);
  EXPECT_EQ(used, kHeaderSize + 3);
  EXPECT_EQ(m->hdr.req_id, 9u);
  EXPECT_EQ(m->hdr.tx_id, 3u);
  EXPECT_EQ(m->payload.data(), bytes.data() + kHeaderSize) << "not copied";
  auto second = f.next(bytes.data() + used, bytes.size() - used, used);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->hdr.req_id, 10u);
  EXPECT_EQ(second->payload, "");
}

TEST(Framer, NextGathersAMessageCutAtEveryByte) {
  std::string bytes = encode_message(2, 4, 0, "/some/path");
  for (std::size_t cut = 1; cut < bytes.size(); ++cut) {
    Framer f;
    std::size_t used = 0;
    EXPECT_FALSE(f.next(bytes.data(), cut, used));
    EXPECT_EQ(used, cut);
    auto m = f.next(bytes.data() + cut, bytes.size() - cut, used);
    ASSERT_TRUE(m) << cut;
    EXPECT_EQ(used, bytes.size() - cut);
    EXPECT_EQ(m->hdr.req_id, 4u);
    EXPECT_EQ(m->payload, "/some/path");
  }
}

TEST(Framer, NextRefusesAnOversizedHeaderWholeOrCut) {
  Header h{2, 1, 0, static_cast<std::uint32_t>(kPayloadMax + 1)};
  char bytes[kHeaderSize];
  encode_header(h, bytes);
  for (std::size_t first : {kHeaderSize, std::size_t{5}}) {
    Framer f;
    std::size_t used = 0;
    EXPECT_FALSE(f.next(bytes, first, used));
    if (first < kHeaderSize) {
      EXPECT_FALSE(f.next(bytes + first, kHeaderSize - first, used));
    }
    EXPECT_EQ(f.state(), Framer::State::kFault);
    EXPECT_EQ(f.fault_len(), kPayloadMax + 1);
  }
}

}  // namespace
}  // namespace cxs::wire

// Replays seeded, generated inputs through the connection path fuzzer
// (connection_fuzz.h): requests, mostly well-formed, sent in pieces by
// dom0, dom5 and dom6 over sockets and rings, served, flushed and drained
// in random orders, with reads stalling and faulting, guests breaking
// their ring indexes and reconnecting. Deterministic: the same inputs on
// every run.
#include <gtest/gtest.h>

#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "connection_fuzz.h"
#include "output_check.h"
#include "seed_corpus.h"
#include "wire/header.h"
#include "wire/message_type.h"

namespace cxs::fuzz {
namespace {

using wire::MsgType;

const std::vector<std::string> kPaths = {"/a",
                                         "/a/b",
                                         "/local/domain/5",
                                         "/local/domain/5/x",
                                         "x",
                                         "x/y",
                                         "@releaseDomain",
                                         "@introduceDomain",
                                         "/",
                                         "/local/domain/6/q",
                                         ""};
const std::vector<std::string> kValues = {
    "v", "", "n0", "r5", "b6", std::string(300, 'w'), "tok"};

class Generator {
 public:
  explicit Generator(std::uint32_t seed) : rng_(seed) {}

  std::vector<std::uint8_t> input() {
    std::vector<std::uint8_t> out;
    out.push_back(static_cast<std::uint8_t>(pick(0, 3)));  // flavours
    int steps = pick(1, 120);
    for (int i = 0; i < steps; ++i) step(out);
    return out;
  }

 private:
  int pick(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  const std::string& one(const std::vector<std::string>& v) {
    return v[static_cast<std::size_t>(pick(0, static_cast<int>(v.size()) - 1))];
  }

  std::string request() {
    static const std::vector<MsgType> kTypes = {MsgType::XS_READ,
                                                MsgType::XS_WRITE,
                                                MsgType::XS_WRITE,
                                                MsgType::XS_MKDIR,
                                                MsgType::XS_RM,
                                                MsgType::XS_DIRECTORY,
                                                MsgType::XS_WATCH,
                                                MsgType::XS_WATCH,
                                                MsgType::XS_UNWATCH,
                                                MsgType::XS_TRANSACTION_START,
                                                MsgType::XS_TRANSACTION_END,
                                                MsgType::XS_GET_PERMS,
                                                MsgType::XS_SET_PERMS,
                                                MsgType::XS_CONTROL,
                                                MsgType::XS_RESET_WATCHES};
    MsgType t = kTypes[static_cast<std::size_t>(
        pick(0, static_cast<int>(kTypes.size()) - 1))];
    std::string path = one(kPaths);
    std::string body;
    switch (t) {
      case MsgType::XS_WRITE:
        body = path + '\0' + one(kValues);
        break;
      case MsgType::XS_WATCH:
      case MsgType::XS_UNWATCH:
        body = path + '\0' + one(kValues) + '\0';
        break;
      case MsgType::XS_TRANSACTION_END:
        body = pick(0, 1) ? std::string("T\0", 2) : std::string("F\0", 2);
        break;
      case MsgType::XS_SET_PERMS:
        body = path + '\0' + one(kValues) + '\0' + one(kValues) + '\0';
        break;
      case MsgType::XS_CONTROL:
        body = pick(0, 1) ? std::string("big\0", 4) : std::string("x\0", 2);
        break;
      default:
        body = path + '\0';
        break;
    }
    std::uint32_t tx =
        pick(0, 3) == 0 ? static_cast<std::uint32_t>(pick(1, 4)) : 0;
    std::string msg = wire::encode_message(
        static_cast<std::uint32_t>(t),
        static_cast<std::uint32_t>(pick(0, 1 << 20)), tx, body);
    switch (pick(0, 39)) {
      case 0:  // a length past 4096: a protocol fault
        msg[13] = static_cast<char>(0x20);
        break;
      case 1:  // a flipped byte
        msg[static_cast<std::size_t>(
            pick(0, static_cast<int>(msg.size()) - 1))] ^=
            static_cast<char>(1 << pick(0, 7));
        break;
      case 2:  // an unknown type
        msg[0] = static_cast<char>(pick(27, 255));
        break;
      default:
        break;
    }
    return msg;
  }

  void send(std::vector<std::uint8_t>& out, std::uint8_t slot,
            const std::string& bytes) {
    for (std::size_t at = 0; at < bytes.size();) {
      std::size_t n = std::min<std::size_t>(bytes.size() - at, 2048);
      out.push_back(static_cast<std::uint8_t>(kSend | slot << 4));
      out.push_back(static_cast<std::uint8_t>((n - 1) & 255));
      out.push_back(static_cast<std::uint8_t>((n - 1) >> 8));
      out.insert(out.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at),
                 bytes.begin() + static_cast<std::ptrdiff_t>(at + n));
      at += n;
    }
  }

  void step(std::vector<std::uint8_t>& out) {
    auto slot = static_cast<std::uint8_t>(pick(0, 2));
    int what = pick(0, 99);
    if (what < 40) {  // one to four requests, back to back
      std::string bytes;
      int n = pick(1, 4);
      for (int i = 0; i < n; ++i) bytes += request();
      send(out, slot, bytes);
      return;
    }
    ConnStep op = what < 50   ? kServe
                  : what < 60 ? kTurn
                  : what < 70 ? kDrain
                  : what < 78 ? kKick
                  : what < 90 ? kTune
                  : what < 96 ? kBreak
                              : kReconnect;
    // Breaking is rarer still: most runs should get far.
    if (op == kBreak && pick(0, 2) != 0) op = kDrain;
    out.push_back(static_cast<std::uint8_t>(op | slot << 4));
    out.push_back(static_cast<std::uint8_t>(pick(0, 255)));
  }

  std::mt19937 rng_;
};

TEST(ConnectionFuzzReplay, GeneratedSessionsKeepEveryInvariant) {
  Generator gen(20261207);
  ConnectionRunStats total;
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::uint8_t> in = gen.input();
    ConnectionRunStats s = run_connection_input(in.data(), in.size());
    total.dispatched += s.dispatched;
    total.frames += s.frames;
    total.errors += s.errors;
    total.events += s.events;
    total.faults += s.faults;
    total.reconnects += s.reconnects;
    save_seed(i, as_bytes(in));
  }
  std::cout << "[ fuzz ] " << total.dispatched << " requests dispatched, "
            << total.frames << " frames checked (" << total.errors
            << " errors, " << total.events << " events), " << total.faults
            << " faults, " << total.reconnects << " reconnections" << std::endl;
  // Each path must be taken often, or the test proves little.
  EXPECT_GT(total.dispatched, 20000u);
  EXPECT_GT(total.frames, total.dispatched / 2);
  EXPECT_GT(total.events, 1000u);
  EXPECT_GT(total.errors, 1000u);
  EXPECT_GT(total.faults, 100u);
  EXPECT_GT(total.reconnects, 50u);
}

TEST(ConnectionFuzzReplay, EmptyAndTinyInputsAreHarmless) {
  std::uint8_t bytes[4] = {3, 0, 0, 0};
  EXPECT_EQ(run_connection_input(bytes, 0).dispatched, 0u);
  EXPECT_EQ(run_connection_input(bytes, 1).dispatched, 0u);
  EXPECT_EQ(run_connection_input(bytes, 4).dispatched, 0u);
}

// The output checker itself: what it must catch, or the replay proves
// nothing.
wire::Header read_request() {
  return wire::Header{static_cast<std::uint32_t>(MsgType::XS_READ), 7, 3, 0};
}

std::string frame(MsgType t, std::uint32_t req_id, std::uint32_t tx_id,
                  std::string_view payload) {
  return wire::encode_message(static_cast<std::uint32_t>(t), req_id, tx_id,
                              payload);
}

TEST(ConnectionFuzzReplayDeathTest, TheOutputCheckCatchesIdsNotEchoed) {
  OutputCheck out("peer");
  out.expect_reply(read_request(), ops::Reply(std::string("v")));
  std::string got = frame(MsgType::XS_READ, 8, 3, "v");
  EXPECT_DEATH(out.received(got.data(), got.size()), "reply ids 8/3");
}

TEST(ConnectionFuzzReplayDeathTest, TheOutputCheckCatchesAFrameOver4096) {
  OutputCheck out("peer");
  out.expect_reply(read_request(), ops::Reply(std::string(5000, 'x')));
  std::string got = frame(MsgType::XS_READ, 7, 3, std::string(5000, 'x'));
  EXPECT_DEATH(out.received(got.data(), got.size()), "over 4096");
}

TEST(ConnectionFuzzReplayDeathTest, TheOutputCheckCatchesAnUnknownError) {
  OutputCheck out("peer");
  out.expect_reply(read_request(), XsErr::kENOENT);
  std::string got = frame(MsgType::XS_ERROR, 7, 3, std::string("ENOPE\0", 6));
  EXPECT_DEATH(out.received(got.data(), got.size()), "known E-name");
}

TEST(ConnectionFuzzReplayDeathTest, TheOutputCheckCatchesALostFrame) {
  OutputCheck out("peer");
  out.expect_event("/a", "tok");
  out.expect_reply(read_request(), ops::Reply(std::string("v")));
  std::string got = frame(MsgType::XS_READ, 7, 3, "v");
  EXPECT_DEATH(out.received(got.data(), got.size()), "watch event expected");
}

TEST(ConnectionFuzzReplay, TheOutputCheckTakesFramesInAnyPieces) {
  OutputCheck out("peer");
  out.expect_event("/a", "tok");
  out.expect_reply(read_request(), ops::Reply(std::string(5000, 'x')));
  std::string got =
      frame(MsgType::XS_WATCH_EVENT, 0, 0, std::string("/a\0tok\0", 7)) +
      frame(MsgType::XS_ERROR, 7, 3, std::string("E2BIG\0", 6));
  for (char c : got) out.received(&c, 1);
  out.check_all_received();
  EXPECT_EQ(out.frames(), 2u);
  EXPECT_EQ(out.errors(), 1u);
  EXPECT_EQ(out.events(), 1u);
}

}  // namespace
}  // namespace cxs::fuzz

// Replays seeded, generated inputs through the request fuzzer's body: a
// few thousand streams of well-formed, half-formed and corrupted requests
// from three callers (dom0, a guest, a guest with a target). Each must
// leave the store whole (request_fuzz.cc checks it after every request).
// Deterministic: the same inputs on every run.
#include <gtest/gtest.h>

#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "request_fuzz.h"
#include "seed_corpus.h"
#include "store/store.h"
#include "wire/header.h"
#include "wire/message_type.h"

namespace cxs::fuzz {
namespace {

const std::vector<std::string> kPaths = {
    "/", "/a", "/a/b", "/a/b/c", "a", "a/b", "/local/domain/5",
    "/local/domain/5/x", "/local/domain/5/x/y", "x", "x/y/z",
    "@releaseDomain", "@introduceDomain", "@releaseDomain/5", "/tool",
    "/tool/xenstored", "//", "/a/", "", "/a b", "/" + std::string(120, 'p'),
    "/local/domain/6/q"};
const std::vector<std::string> kWords = {
    "n0", "r5", "b6", "w0", "n5", "r32757", "x1", "", "v", "T", "F",
    "0", "5", "6", "7", "999999", "-1", "tok", "nodes", "memory", "1",
    std::string(400, 'v'), "n6", "r0"};

class Generator {
 public:
  explicit Generator(std::uint32_t seed) : rng_(seed) {}

  std::vector<std::uint8_t> input() {
    std::vector<std::uint8_t> out;
    int messages = pick(1, 40);
    for (int i = 0; i < messages; ++i) append_chunk(out, message());
    return out;
  }

 private:
  int pick(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  template <typename T>
  const T& one(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(pick(0, static_cast<int>(v.size()) - 1))];
  }

  std::string payload() {
    std::string p;
    int args = pick(0, 4);
    for (int i = 0; i < args; ++i) {
      p += i == 0 ? one(kPaths) : one(kWords);
      if (pick(0, 9) != 0) p += '\0';  // mostly terminated
    }
    return p;
  }

  std::string z(const std::string& s) { return s + '\0'; }

  // A payload shaped for its type (usually valid), or a random one.
  std::string payload_for(wire::MsgType t) {
    using wire::MsgType;
    if (pick(0, 3) == 0) return payload();
    const std::string& path = one(kPaths);
    switch (t) {
      case MsgType::XS_WRITE:
        return path + '\0' + one(kWords);
      case MsgType::XS_SET_PERMS: {
        std::string p = z(path);
        int n = pick(1, 4);
        for (int i = 0; i < n; ++i) p += z(one(kWords));
        return p;
      }
      case MsgType::XS_WATCH:
      case MsgType::XS_UNWATCH:
        return z(path) + z(one(kWords));
      case MsgType::XS_TRANSACTION_START:
        return z("");
      case MsgType::XS_TRANSACTION_END:
        return z(pick(0, 1) ? "T" : "F");
      case MsgType::XS_DIRECTORY_PART:
        return z(path) + z(std::to_string(pick(0, 20)));
      default:
        return z(path);
    }
  }

  std::string message() {
    using wire::MsgType;
    static const std::vector<MsgType> kCommon = {
        MsgType::XS_READ, MsgType::XS_WRITE, MsgType::XS_WRITE,
        MsgType::XS_MKDIR, MsgType::XS_RM, MsgType::XS_DIRECTORY,
        MsgType::XS_GET_PERMS, MsgType::XS_SET_PERMS, MsgType::XS_WATCH,
        MsgType::XS_UNWATCH, MsgType::XS_TRANSACTION_START,
        MsgType::XS_TRANSACTION_END, MsgType::XS_DIRECTORY_PART,
        MsgType::XS_RESET_WATCHES};
    // Mostly the store's own requests; sometimes any type 0-28 (every known
    // one, 1-26, and some beyond).
    std::uint32_t type = pick(0, 4) == 0
                             ? static_cast<std::uint32_t>(pick(0, 28))
                             : static_cast<std::uint32_t>(one(kCommon));
    std::uint32_t tx = pick(0, 2) == 0 ? static_cast<std::uint32_t>(pick(1, 6)) : 0;
    std::string body = payload_for(static_cast<wire::MsgType>(type));
    std::string msg = wire::encode_message(
        type, static_cast<std::uint32_t>(pick(0, 99)), tx, body);
    switch (pick(0, 29)) {
      case 0:  // a lying length
        msg[12] = static_cast<char>(pick(0, 255));
        msg[13] = static_cast<char>(pick(0, 255));
        break;
      case 1:  // a flipped byte anywhere
        msg[static_cast<std::size_t>(pick(0, static_cast<int>(msg.size()) - 1))] ^=
            static_cast<char>(1 << pick(0, 7));
        break;
      case 2:  // cut short
        msg.resize(static_cast<std::size_t>(pick(0, static_cast<int>(msg.size()))));
        break;
      default:
        break;
    }
    return msg;
  }

  // One chunk: caller byte, length byte (len*8+1 bytes follow, clipped).
  void append_chunk(std::vector<std::uint8_t>& out, const std::string& msg) {
    std::size_t at = 0;
    std::uint8_t caller = static_cast<std::uint8_t>(pick(0, 2));
    while (at < msg.size()) {
      std::size_t take = std::min<std::size_t>(msg.size() - at, 255 * 8 + 1);
      std::uint8_t code = static_cast<std::uint8_t>((take - 1) / 8);
      std::size_t len = std::size_t{code} * 8 + 1;
      out.push_back(caller);
      out.push_back(code);
      for (std::size_t i = 0; i < len; ++i)
        out.push_back(at + i < msg.size()
                          ? static_cast<std::uint8_t>(msg[at + i])
                          : 0);  // padding: the start of a next request
      at += len;
    }
  }

  std::mt19937 rng_;
};

TEST(RequestFuzzReplay, GeneratedInputsLeaveTheStoreWhole) {
  Generator gen(20261122);
  RunStats total;
  for (int i = 0; i < 40000; ++i) {
    std::vector<std::uint8_t> in = gen.input();
    RunStats s = run_input(in.data(), in.size());
    total.dispatched += s.dispatched;
    total.succeeded += s.succeeded;
    save_seed(i, as_bytes(in));
  }
  // The generator's requests must mostly reach dispatch, or the test
  // would prove nothing.
  EXPECT_GT(total.dispatched, 30000u);
  EXPECT_GT(total.succeeded, total.dispatched / 10);
  std::cout << "[ fuzz ] " << total.dispatched << " requests dispatched, "
            << total.succeeded << " answered without error" << std::endl;
}

// The checker itself: a node its parent does not list, or usage that does
// not match, must be caught (else the replay proves nothing).
TEST(RequestFuzzReplayDeathTest, TheStoreCheckCatchesAnOrphanNode) {
  store::Store st;
  store::Node orphan;
  orphan.perms = PermList{Perm{DomId{0}, kPermNone}};
  st.tree().put("/x", orphan);  // "/" does not list it
  EXPECT_DEATH(check_store(st), "unreachable");
}

TEST(RequestFuzzReplay, EmptyAndTinyInputsAreHarmless) {
  std::uint8_t bytes[4] = {0, 0, 0, 0};
  EXPECT_EQ(run_input(bytes, 0).dispatched, 0u);
  EXPECT_EQ(run_input(bytes, 1).dispatched, 0u);
  EXPECT_EQ(run_input(bytes, 4).dispatched, 0u);
}

}  // namespace
}  // namespace cxs::fuzz

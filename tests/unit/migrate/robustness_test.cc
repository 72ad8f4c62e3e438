// read_stream on damaged copies of a valid stream holding every record
// type: cut at every byte, and every bit of every byte flipped. It must
// fail cleanly (or, for a flip, parse), never read outside the input.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "migrate/reader.h"
#include "migrate/writer.h"

namespace cxs::migrate {
namespace {

using namespace std::string_view_literals;

std::string every_record_stream(std::uint32_t version) {
  StreamWriter w(version);
  PermList owner{{DomId{0}, kPermNone}};
  PermList guest{{DomId{1}, kPermBoth}, {DomId{2}, kPermRead | kPermIgnored}};
  std::string perms;
  EXPECT_TRUE(encode_perms(guest, perms));
  EXPECT_TRUE(w.global({.socket_fd = 3, .evtchn_fd = 4}));
  EXPECT_TRUE(w.global_quota({.per_domain = {{"nodes", 100}}, .global = {{"memory", 9}}}));
  EXPECT_TRUE(w.connection({.conn_id = 1, .domid = 1, .evtchn = 5,
                            .in = "\x01\0\0\0in"sv, .out_resp_len = 1,
                            .out = "out"}));
  EXPECT_TRUE(w.watch({.conn_id = 1, .path = "/local", .token = "t",
                       .depth = 1}));
  EXPECT_TRUE(w.connection({.conn_id = 2, .kind = ConnKind::kSocket,
                            .socket_fd = 8}));
  EXPECT_TRUE(w.cxs_daemon({.next_tx_id = 2, .tree_generation = 10,
                            .producer = "cxenstored"}));
  EXPECT_TRUE(w.cxs_connection({.conn_id = 1, .flags = kCxsConnStalled}));
  EXPECT_TRUE(w.cxs_watch_depth({.conn_id = 1, .depth = 1, .path = "/local",
                                 .token = "t"}));
  EXPECT_TRUE(w.cxs_transaction(
      {.conn_id = 1, .tx_id = 1, .max_entries = 10,
       .nodes = {{.path = "/local/x", .flags = kTxNodeHasCopy | kTxNodeCopyPresent,
                  .written = kTxWrittenValue, .base_generation = 3,
                  .value = "v", .perms_raw = perms, .children = "c\0"sv}},
       .events = {{.path = "/local/x", .perms_raw = perms}}}));
  EXPECT_TRUE(w.node({.path = "@releaseDomain"}, owner));
  EXPECT_TRUE(w.node({.path = "/"}, owner));
  EXPECT_TRUE(w.node({.path = "/local", .value = "a\0b"sv}, guest));
  std::vector<std::uint64_t> gens{1, 2, 3};
  EXPECT_TRUE(w.cxs_generations(gens));
  EXPECT_TRUE(w.domain({.domid = 1, .features = 1, .quotas = {{"watches", 5}}}));
  EXPECT_TRUE(w.cxs_domain({.domid = 1, .flags = kCxsDomainIntroduced,
                            .conn_id = 1, .gfn = 0x1234}));
  EXPECT_TRUE(w.ok()) << w.error();
  return w.finish();
}

// A copy of exactly `n` bytes on the heap, so that a read past the end
// would be one past an allocation (caught by ASan, and likelier to fault).
std::unique_ptr<char[]> exact_copy(const std::string& s, std::size_t n) {
  auto p = std::make_unique<char[]>(n == 0 ? 1 : n);
  std::memcpy(p.get(), s.data(), n);
  return p;
}

TEST(StreamRobustness, TheFullStreamParsesInBothVersions) {
  for (std::uint32_t v : {kVersion1, kVersion2}) {
    std::string bytes = every_record_stream(v);
    Stream s;
    StreamError e;
    ASSERT_TRUE(read_stream(bytes, s, e)) << e.to_string();
    EXPECT_EQ(s.nodes.size(), 3u);
    EXPECT_EQ(s.cxs_transactions.size(), 1u);
    EXPECT_TRUE(s.unknown.empty());
  }
}

TEST(StreamRobustness, AStreamCutAtEveryOffsetFailsCleanly) {
  for (std::uint32_t v : {kVersion1, kVersion2}) {
    std::string bytes = every_record_stream(v);
    for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
      auto copy = exact_copy(bytes, cut);
      Stream s;
      StreamError e;
      ASSERT_FALSE(read_stream(std::string_view(copy.get(), cut), s, e))
          << "cut at " << cut;
      EXPECT_LE(e.offset, cut) << e.to_string();
      EXPECT_FALSE(e.message.empty());
    }
  }
}

TEST(StreamRobustness, EveryBitFlipIsParsedOrRefusedWithoutHarm) {
  for (std::uint32_t v : {kVersion1, kVersion2}) {
    std::string bytes = every_record_stream(v);
    std::size_t refused = 0;
    for (std::size_t at = 0; at < bytes.size(); ++at) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string flipped = bytes;
        flipped[at] = static_cast<char>(flipped[at] ^ (1 << bit));
        auto copy = exact_copy(flipped, flipped.size());
        Stream s;
        StreamError e;
        if (!read_stream(std::string_view(copy.get(), flipped.size()), s, e)) {
          ++refused;
          EXPECT_LE(e.offset, flipped.size());
          EXPECT_FALSE(e.to_string().empty());
        }
      }
    }
    // Most flips land in fields the reader checks.
    EXPECT_GT(refused, bytes.size());
  }
}

}  // namespace
}  // namespace cxs::migrate

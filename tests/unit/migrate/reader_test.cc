// read_stream on bad input: one test per class of refusal, each checking
// that the error names the right record, type and offset; and what is
// skipped rather than refused.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>

#include "migrate/reader.h"
#include "migrate/writer.h"
#include "stream_bytes.h"

namespace cxs::migrate {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;
using testing::Bytes;
using testing::RawStream;

constexpr std::uint32_t kEnd = 0, kGlobal = 1, kConn = 2, kWatch = 3,
                        kTx = 4, kNode = 5, kQuota = 6, kDomain = 7,
                        kWatchExt = 8;
constexpr auto kCxsDaemon = static_cast<std::uint32_t>(RecordType::kCxsDaemon);
constexpr auto kCxsConn = static_cast<std::uint32_t>(RecordType::kCxsConnection);
constexpr auto kCxsDepth = static_cast<std::uint32_t>(RecordType::kCxsWatchDepth);
constexpr auto kCxsTx = static_cast<std::uint32_t>(RecordType::kCxsTransaction);
constexpr auto kCxsGens = static_cast<std::uint32_t>(RecordType::kCxsGenerations);
constexpr auto kCxsDomain = static_cast<std::uint32_t>(RecordType::kCxsDomain);

StreamError refused(const std::string& bytes) {
  Stream s;
  StreamError err;
  EXPECT_FALSE(read_stream(bytes, s, err)) << "accepted";
  return err;
}

// The error must name record `index` of `raw`, of type `type`, and say
// `words`.
void expect_refused(const RawStream& raw, std::size_t index,
                    std::uint32_t type, std::string_view words) {
  StreamError e = refused(raw.bytes());
  EXPECT_EQ(e.record_index, index) << e.to_string();
  EXPECT_EQ(e.record_type, type) << e.to_string();
  EXPECT_EQ(e.offset, raw.offset(index)) << e.to_string();
  EXPECT_NE(e.message.find(words), std::string::npos) << e.to_string();
}

void expect_preamble_refused(const std::string& bytes, std::string_view words) {
  StreamError e = refused(bytes);
  EXPECT_EQ(e.record_index, StreamError::kPreamble) << e.to_string();
  EXPECT_NE(e.message.find(words), std::string::npos) << e.to_string();
  EXPECT_EQ(e.to_string().rfind("preamble at offset 0: ", 0), 0u)
      << e.to_string();
}

std::string cxs_daemon() { return testing::cxs_daemon_body(); }

// GLOBAL, ring conn 1 (dom0), "/" — the prefix most bad streams build on.
RawStream base(std::uint32_t version = 1) {
  RawStream r(version);
  r.global().record(kConn, testing::ring_conn(1, 0)).record(kNode, testing::node_body("/"));
  return r;
}

// ---------------------------------------------------------------- preamble

TEST(StreamReader, AStreamShorterThanThePreambleIsRefused) {
  expect_preamble_refused("xenstore\0\0\0\x01"s, "shorter than the 16-byte");
  expect_preamble_refused("", "shorter");
}

TEST(StreamReader, AWrongIdentIsRefused) {
  std::string bytes = base().end().bytes();
  bytes[0] = 'X';
  expect_preamble_refused(bytes, "ident");
}

TEST(StreamReader, VersionsOtherThan1And2AreRefused) {
  for (std::uint32_t v : {0u, 3u, 0x01000000u}) {
    expect_preamble_refused(RawStream(v).global().end().bytes(),
                            "not supported");
  }
  Stream s;
  StreamError e;
  EXPECT_TRUE(read_stream(RawStream(2).global().end().bytes(), s, e));
  EXPECT_EQ(s.version, 2u);
}

TEST(StreamReader, ABigEndianStreamIsRefusedWithAClearMessage) {
  expect_preamble_refused(RawStream(1, 1).global().end().bytes(),
                          "big-endian stream: only little-endian");
}

TEST(StreamReader, ReservedPreambleFlagBitsAreRefused) {
  expect_preamble_refused(RawStream(1, 2).global().end().bytes(),
                          "reserved preamble flag bits");
  // A flags word written little-endian with bit 0 set reads as bit 24.
  expect_preamble_refused(RawStream(1, 0x01000000).global().end().bytes(),
                          "reserved");
}

// ---------------------------------------------------------------- framing

TEST(StreamReader, ARecordHeaderPastTheEndIsRefused) {
  RawStream r = base();
  std::size_t at = r.bytes().size();
  r.append("\0\0\0\0"sv);
  StreamError e = refused(r.bytes());
  EXPECT_EQ(e.record_index, 3u);
  EXPECT_EQ(e.offset, at);
  EXPECT_EQ(e.record_type, StreamError::kNoType);
  EXPECT_EQ(e.to_string(), "record 3 at offset " + std::to_string(at) +
                               ": record header runs past the end (4 bytes left)");
}

TEST(StreamReader, ALengthNotAMultipleOf8IsRefused) {
  RawStream r = base();
  r.record_raw(kNode, 12, std::string(12, '\0')).end();
  expect_refused(r, 3, kNode, "length 12 is not a multiple of 8");
}

TEST(StreamReader, ALengthPastTheEndIsRefused) {
  RawStream r = base();
  r.record_raw(kNode, 64, std::string(16, '\0'));
  expect_refused(r, 3, kNode, "length 64 runs past the end (16 bytes left)");
}

TEST(StreamReader, ABodyShorterThanItsFixedPartIsRefused) {
  expect_refused(RawStream().record_raw(kGlobal, 0, "").end(), 0, kGlobal,
                 "shorter than its 8-byte fixed part");
  expect_refused(base().record_raw(kConn, 16, std::string(16, '\0')).end(), 3,
                 kConn, "shorter than its 24-byte");
  expect_refused(base().record_raw(kNode, 8, std::string(8, '\0')).end(), 3,
                 kNode, "shorter than its 16-byte");
}

TEST(StreamReader, VariableFieldsPastTheBodyAreRefused) {
  Bytes w;
  w.u32(1).u16(200).u16(2).str("/a\0t\0"sv);
  expect_refused(base().record(kWatch, w.bytes()).end(), 3, kWatch,
                 "path of 200 bytes runs past the body");
  Bytes c;
  c.u32(2).u16(1).u16(0).u32(5).u32(0).u16(100).u16(0).u32(0);
  expect_refused(base().record(kConn, c.bytes()).end(), 3, kConn,
                 "100 in and 0 out bytes run past the body");
  Bytes n;
  n.u32(0).u32(0).u16(3).u16(90).u16(0).u16(1).str("n\0\0\0/a\0"sv);
  expect_refused(base().record(kNode, n.bytes()).end(), 3, kNode,
                 "value of 90 bytes runs past the body");
  Bytes p;
  p.u32(0).u32(0).u16(3).u16(0).u16(0).u16(500).str("n\0\0\0/a\0"sv);
  expect_refused(base().record(kNode, p.bytes()).end(), 3, kNode,
                 "500 perms run past the body");
}

// ---------------------------------------------------------------- strings

TEST(StreamReader, AStringOfWireLength0IsRefused) {
  Bytes w;
  w.u32(1).u16(0).u16(2).str("t\0"sv);
  expect_refused(base().record(kWatch, w.bytes()).end(), 3, kWatch,
                 "path length 0");
}

TEST(StreamReader, AStringWithoutItsNulIsRefused) {
  Bytes w;
  w.u32(1).u16(3).u16(2).str("/abt\0"sv);
  expect_refused(base().record(kWatch, w.bytes()).end(), 3, kWatch,
                 "path not NUL-terminated");
  Bytes n;
  n.u32(0).u32(0).u16(2).u16(0).u16(0).u16(1).str("n\0\0\0/a"sv);
  expect_refused(base().record(kNode, n.bytes()).end(), 3, kNode,
                 "path not NUL-terminated");
}

TEST(StreamReader, ANulInsideAPathIsRefused) {
  expect_refused(base().record(kNode, testing::node_body("/a\0b"sv)).end(), 3,
                 kNode, "NUL inside path \"/a\\0b\"");
  expect_refused(base().record(kWatch, testing::watch_body(1, "/x", "a\0b"sv)).end(),
                 3, kWatch, "NUL inside token");
}

// ---------------------------------------------------------------- nodes

TEST(StreamReader, ANodePathNeitherAbsoluteNorSpecialIsRefused) {
  expect_refused(base().record(kNode, testing::node_body("local")).end(), 3,
                 kNode, "neither absolute nor a special @ path");
  expect_refused(base().record(kNode, testing::node_body("")).end(), 3, kNode,
                 "neither absolute");
}

TEST(StreamReader, ANonCanonicalNodePathIsRefused) {
  expect_refused(base().record(kNode, testing::node_body("/a/")).end(), 3,
                 kNode, "not canonical");
  expect_refused(base().record(kNode, testing::node_body("//a")).end(), 3,
                 kNode, "not canonical");
}

TEST(StreamReader, ACommittedNodeWithoutPermsIsRefused) {
  Bytes n;
  n.u32(0).u32(0).u16(3).u16(0).u16(0).u16(0).str("/a\0"sv);
  expect_refused(base().record(kNode, n.bytes()).end(), 3, kNode,
                 "committed node without perms");
}

TEST(StreamReader, APermCharOtherThanNRWBIsRefused) {
  expect_refused(base().record(kNode, testing::node_body("/a", "", 'x')).end(),
                 3, kNode, "perm entry 0: access 120 is not one of n r w b");
}

TEST(StreamReader, UnknownPermFlagBitsAreRefused) {
  expect_refused(base().record(kNode, testing::node_body("/a", "", 'r', 0x03)).end(),
                 3, kNode, "perm entry 0: unknown flag bits");
  // The stale flag alone is fine.
  Stream s;
  StreamError e;
  RawStream r = base();
  r.record(kNode, testing::node_body("/a", "", 'r', 0x01, 7)).end();
  ASSERT_TRUE(read_stream(r.bytes(), s, e)) << e.to_string();
  EXPECT_EQ(decode_perms(s.nodes[1].perms_raw),
            (PermList{{DomId{7}, kPermRead | kPermIgnored}}));
}

TEST(StreamReader, ADuplicateNodePathIsRefused) {
  expect_refused(base().record(kNode, testing::node_body("/a"))
                     .record(kNode, testing::node_body("/a")).end(),
                 4, kNode, "duplicate node path \"/a\"");
  expect_refused(base().record(kNode, testing::node_body("@releaseDomain"))
                     .record(kNode, testing::node_body("@releaseDomain")).end(),
                 4, kNode, "duplicate node path");
}

TEST(StreamReader, ADuplicateNodePathFarFromTheFirstIsRefused) {
  RawStream r = base();
  r.record(kNode, testing::node_body("/a"))
      .record(kNode, testing::node_body("/b"))
      .record(kNode, testing::node_body("/b/c"))
      .record(kNode, testing::node_body("/a"))
      .record(kNode, testing::node_body("/d")).end();
  expect_refused(r, 6, kNode, "duplicate node path \"/a\"");
}

TEST(StreamReader, AParentEarlierButNotOnThePreviousPathIsFound) {
  RawStream r = base();
  r.record(kNode, testing::node_body("/a"))
      .record(kNode, testing::node_body("/b"))
      .record(kNode, testing::node_body("@releaseDomain"))
      .record(kNode, testing::node_body("/a/x"))
      .record(kNode, testing::node_body("/ab"))
      .record(kNode, testing::node_body("/a/x/y")).end();
  Stream s;
  StreamError e;
  ASSERT_TRUE(read_stream(r.bytes(), s, e)) << e.to_string();
  EXPECT_EQ(s.nodes.size(), 7u);
  // The previous path "/ab" does not make "/a" an earlier node.
  RawStream bad = base();
  bad.record(kNode, testing::node_body("/ab"))
      .record(kNode, testing::node_body("/a/c")).end();
  expect_refused(bad, 4, kNode, "the parent of \"/a/c\"");
}

TEST(StreamReader, NodeWhoseParentIsMissingIsRefused) {
  expect_refused(base().record(kNode, testing::node_body("/a/b")).end(), 3,
                 kNode, "the parent of \"/a/b\" is not an earlier NODE");
}

TEST(StreamReader, WithoutTreeChecksParentsAndDuplicatesAreTheCallers) {
  ReadOptions no_tree{false};
  for (const RawStream& r :
       {base().record(kNode, testing::node_body("/a/b")).end(),
        base().record(kNode, testing::node_body("/a"))
            .record(kNode, testing::node_body("/a")).end()}) {
    Stream s;
    StreamError e;
    EXPECT_TRUE(read_stream(r.bytes(), s, e, no_tree)) << e.to_string();
    EXPECT_FALSE(read_stream(r.bytes(), s, e));
  }
}

TEST(StreamReader, ANodeBeforeTheRootIsRefused) {
  RawStream r;
  r.global().record(kNode, testing::node_body("@releaseDomain"))
      .record(kNode, testing::node_body("/a"))
      .record(kNode, testing::node_body("/")).end();
  expect_refused(r, 2, kNode, "the parent of \"/a\" is not an earlier NODE");
}

TEST(StreamReader, SpecialNodesNeedNoParent) {
  Stream s;
  StreamError e;
  RawStream r;
  r.global().record(kNode, testing::node_body("@releaseDomain"))
      .record(kNode, testing::node_body("@introduceDomain"))
      .record(kNode, testing::node_body("/")).end();
  ASSERT_TRUE(read_stream(r.bytes(), s, e)) << e.to_string();
  EXPECT_EQ(s.nodes.size(), 3u);
}

TEST(StreamReader, TransactionNodesAndTransactionRecordsAreCountedAndSkipped) {
  Bytes t;
  t.u32(1).u32(5);
  RawStream r = base();
  r.record(kTx, t.bytes())
      .record(kNode, testing::node_body("/tx/only", "v", 'n', 0, 0, /*conn*/ 1))
      .end();
  Stream s;
  StreamError e;
  ASSERT_TRUE(read_stream(r.bytes(), s, e)) << e.to_string();
  EXPECT_EQ(s.transactions_skipped, 1u);
  EXPECT_EQ(s.transaction_nodes_skipped, 1u);
  EXPECT_EQ(s.nodes.size(), 1u);  // only "/"
}

// ---------------------------------------------------------------- GLOBAL

TEST(StreamReader, AStreamWithoutGlobalIsRefused) {
  expect_refused(RawStream().end(), 0, kEnd, "END before any GLOBAL record");
  expect_refused(RawStream().record(kConn, testing::ring_conn(1, 0)).end(), 0,
                 kConn, "the first record is not GLOBAL");
}

TEST(StreamReader, ASecondGlobalIsRefused) {
  expect_refused(base().global().end(), 3, kGlobal, "a second GLOBAL record");
}

// ---------------------------------------------------------------- connections

TEST(StreamReader, ADuplicateOrZeroConnIdIsRefused) {
  expect_refused(base().record(kConn, testing::ring_conn(1, 2)).end(), 3,
                 kConn, "duplicate conn_id 1");
  expect_refused(base().record(kConn, testing::ring_conn(0, 2)).end(), 3,
                 kConn, "conn_id 0");
}

TEST(StreamReader, AnUnknownConnTypeIsRefused) {
  std::string c = testing::ring_conn(2, 2);
  c[4] = 2;
  expect_refused(base().record(kConn, c).end(), 3, kConn, "unknown conn_type 2");
}

TEST(StreamReader, UnknownConnectionFieldBitsAreRefused) {
  std::string c = testing::ring_conn(2, 2);
  c[6] = 2;
  expect_refused(base().record(kConn, c).end(), 3, kConn, "unknown fields bits");
}

TEST(StreamReader, AResponseLengthBeyondTheOutputIsRefused) {
  expect_refused(base().record(kConn, testing::ring_conn(2, 2, "", "ab", 3)).end(),
                 3, kConn, "out_resp_len 3 exceeds out_len 2");
}

TEST(StreamReader, AUniqueIdPastTheBodyIsRefused) {
  std::string c = testing::ring_conn(2, 2, "abc");
  c[6] = 1;  // unique id flagged, but the body ends at the padding
  expect_refused(base().record(kConn, c).end(), 3, kConn,
                 "unique id runs past the body");
}

TEST(StreamReader, RecordsNamingAConnectionNotYetSeenAreRefused) {
  expect_refused(base().record(kWatch, testing::watch_body(9, "/a", "t")).end(),
                 3, kWatch, "conn_id 9 has no earlier CONNECTION");
  Bytes we;
  we.u32(9).u16(3).u16(2).u16(1).u16(0).str("/a\0t\0"sv);
  expect_refused(base(2).record(kWatchExt, we.bytes()).end(), 3, kWatchExt,
                 "conn_id 9 has no earlier CONNECTION");
  RawStream d = base().record(kCxsDaemon, cxs_daemon());
  Bytes depth;
  depth.u32(9).u16(1).u16(2).u16(1).zeros(6).str("/at"sv);
  expect_refused(RawStream(d).record(kCxsDepth, depth.bytes()).end(), 4,
                 kCxsDepth, "conn_id 9 has no earlier CONNECTION");
  Bytes conn;
  conn.u32(9).u32(0);
  expect_refused(RawStream(d).record(kCxsConn, conn.bytes()).end(), 4, kCxsConn,
                 "conn_id 9 has no earlier CONNECTION");
  Bytes tx;
  tx.u32(9).u32(1).u32(0).u32(0).u32(0).u32(0);
  expect_refused(RawStream(d).record(kCxsTx, tx.bytes()).end(), 4, kCxsTx,
                 "conn_id 9 has no earlier CONNECTION");
  Bytes dom;
  dom.u16(3).u16(1).u32(0).u32(0).u32(9).u64(0);
  expect_refused(RawStream(d).record(kCxsDomain, dom.bytes()).end(), 4,
                 kCxsDomain, "conn_id 9 has no earlier CONNECTION");
}

TEST(StreamReader, WatchExtendedInAVersion1StreamIsRefused) {
  Bytes we;
  we.u32(1).u16(3).u16(2).u16(1).u16(0).str("/a\0t\0"sv);
  expect_refused(base(1).record(kWatchExt, we.bytes()).end(), 3, kWatchExt,
                 "WATCH_EXTENDED in a version 1 stream");
}

// ---------------------------------------------------------------- quotas

TEST(StreamReader, QuotaNamesPastTheBodyAreRefused) {
  Bytes q;
  q.u16(2).u16(0).u32(1).u32(2).str("nodes\0memory"sv);
  expect_refused(base().record(kQuota, q.bytes()).record_raw(kEnd, 0, ""), 3,
                 kQuota, "quota name 1 runs past the body");
  Bytes many;
  many.u16(1000).u16(0);
  expect_refused(base().record(kQuota, many.bytes()).end(), 3, kQuota,
                 "1000 quota values run past the body");
}

TEST(StreamReader, ASecondGlobalQuotaOrDomainRecordIsRefused) {
  Bytes q;
  q.u16(0).u16(0);
  expect_refused(base().record(kQuota, q.bytes()).record(kQuota, q.bytes()).end(),
                 4, kQuota, "a second GLOBAL_QUOTA");
  Bytes d;
  d.u16(3).u16(0).u32(0);
  expect_refused(base().record(kDomain, d.bytes()).record(kDomain, d.bytes()).end(),
                 4, kDomain, "a second DOMAIN record for domid 3");
}

// ---------------------------------------------------------------- private

TEST(StreamReader, APrivateRecordBeforeCxsDaemonIsRefused) {
  Bytes conn;
  conn.u32(1).u32(0);
  expect_refused(base().record(kCxsConn, conn.bytes()).end(), 3, kCxsConn,
                 "private record before CXS_DAEMON");
}

TEST(StreamReader, ASecondCxsDaemonIsRefused) {
  expect_refused(base().record(kCxsDaemon, cxs_daemon())
                     .record(kCxsDaemon, cxs_daemon()).end(),
                 4, kCxsDaemon, "a second CXS_DAEMON record");
}

TEST(StreamReader, PrivateRecordsOfAnUnknownFormatAreSkippedNotRefused) {
  Bytes conn;
  conn.u32(1).u32(0xFFFF);  // would be refused in format 1
  RawStream r = base();
  r.record(kCxsDaemon, testing::cxs_daemon_body(2))
      .record(kCxsConn, conn.bytes()).end();
  Stream s;
  StreamError e;
  ASSERT_TRUE(read_stream(r.bytes(), s, e)) << e.to_string();
  ASSERT_TRUE(s.cxs_daemon.has_value());
  EXPECT_EQ(s.cxs_daemon->format, 2u);
  EXPECT_TRUE(s.cxs_conns.empty());
  ASSERT_EQ(s.unknown.size(), 1u);
  EXPECT_EQ(s.unknown[0].first, kCxsConn);
  EXPECT_EQ(s.unknown[0].second, r.offset(4));
}

TEST(StreamReader, CxsGenerationsWithTheWrongCountIsRefused) {
  Bytes g;
  g.u32(2).u32(0).u64(1).u64(2);
  expect_refused(base().record(kCxsDaemon, cxs_daemon()).record(kCxsGens, g.bytes()).end(),
                 4, kCxsGens, "2 generations for 1 committed NODE records");
}

TEST(StreamReader, CxsGenerationsBeforeTheLastNodeIsRefused) {
  Bytes g;
  g.u32(1).u32(0).u64(1);
  expect_refused(base().record(kCxsDaemon, cxs_daemon())
                     .record(kCxsGens, g.bytes())
                     .record(kNode, testing::node_body("/a")).end(),
                 5, kNode, "NODE after CXS_GENERATIONS");
}

TEST(StreamReader, ASecondCxsGenerationsIsRefused) {
  Bytes g;
  g.u32(1).u32(0).u64(1);
  expect_refused(base().record(kCxsDaemon, cxs_daemon())
                     .record(kCxsGens, g.bytes())
                     .record(kCxsGens, g.bytes()).end(),
                 5, kCxsGens, "a second CXS_GENERATIONS");
}

TEST(StreamReader, EachNodeCarriesItsGenerationFromTheRecordAfterTheNodes) {
  Bytes g;
  g.u32(2).u32(0).u64(7).u64(9);
  RawStream r = base().record(kCxsDaemon, cxs_daemon());
  r.record(kNode, testing::node_body("/a")).record(kCxsGens, g.bytes()).end();
  Stream s;
  StreamError e;
  ASSERT_TRUE(read_stream(r.bytes(), s, e)) << e.to_string();
  ASSERT_EQ(s.nodes.size(), 2u);
  EXPECT_EQ(s.nodes[0].generation, 7u);
  EXPECT_EQ(s.nodes[1].generation, 9u);
  EXPECT_EQ(s.committed_nodes, 2u);
}

TEST(StreamReader, WithoutCxsGenerationsNodesHaveGeneration0) {
  Stream s;
  StreamError e;
  ASSERT_TRUE(read_stream(base().end().bytes(), s, e)) << e.to_string();
  ASSERT_EQ(s.nodes.size(), 1u);
  EXPECT_EQ(s.nodes[0].generation, 0u);
}

TEST(StreamReader, GenerationsOfAnUnknownPrivateFormatAreNotUsed) {
  Bytes g;
  g.u32(1).u32(0).u64(5);
  RawStream r = base().record(kCxsDaemon, testing::cxs_daemon_body(2));
  r.record(kCxsGens, g.bytes()).end();
  Stream s;
  StreamError e;
  ASSERT_TRUE(read_stream(r.bytes(), s, e)) << e.to_string();
  ASSERT_EQ(s.nodes.size(), 1u);
  EXPECT_EQ(s.nodes[0].generation, 0u);
  EXPECT_FALSE(s.cxs_generations.has_value());
}

// Records what read_stream hands over; refuses the path named `refuse`.
class RecordingSink final : public NodeSink {
 public:
  std::size_t expected = 0;
  std::vector<std::string> paths;
  std::vector<std::uint64_t> generations;
  std::string refuse;
  void expect(std::size_t nodes) override { expected = nodes; }
  std::vector<std::string> hints;
  bool take(const NodeRec& n, std::string_view next_path,
            std::string& why) override {
    hints.emplace_back(next_path);
    if (n.path == refuse) {
      why = "refused by the sink";
      return false;
    }
    paths.emplace_back(n.path);
    generations.push_back(n.generation);
    return true;
  }
};

TEST(StreamReader, ANodeSinkTakesTheCommittedNodesInOrder) {
  Bytes g;
  g.u32(3).u32(0).u64(4).u64(5).u64(6);
  RawStream r = base().record(kCxsDaemon, cxs_daemon());
  r.record(kNode, testing::node_body("/a"))
      .record(kNode, testing::node_body("/a/b"))
      .record(kCxsGens, g.bytes())
      .end();
  RecordingSink sink;
  Stream s;
  StreamError e;
  ASSERT_TRUE(read_stream(r.bytes(), s, e, ReadOptions{true, &sink}))
      << e.to_string();
  EXPECT_EQ(sink.expected, 3u);
  EXPECT_EQ(sink.paths, (std::vector<std::string>{"/", "/a", "/a/b"}));
  EXPECT_EQ(sink.generations, (std::vector<std::uint64_t>{4, 5, 6}));
  // Each node comes with the path of the NODE right after it, if any.
  EXPECT_EQ(sink.hints, (std::vector<std::string>{"", "/a/b", ""}));
  EXPECT_TRUE(s.nodes.empty());
  EXPECT_EQ(s.committed_nodes, 3u);
}

TEST(StreamReader, ANodeTheSinkRefusesStopsTheReadAtItsRecord) {
  RawStream r = base();
  r.record(kNode, testing::node_body("/a"))
      .record(kNode, testing::node_body("/b"))
      .end();
  RecordingSink sink;
  sink.refuse = "/a";
  Stream s;
  StreamError e;
  EXPECT_FALSE(read_stream(r.bytes(), s, e, ReadOptions{false, &sink}));
  EXPECT_EQ(e.record_index, 3u);
  EXPECT_EQ(e.offset, r.offset(3));
  EXPECT_EQ(e.message, "refused by the sink");
  EXPECT_EQ(sink.paths, std::vector<std::string>{"/"});
}

TEST(StreamReader, ReadGlobalReadsTheFirstRecordAndTheFramingOfTheRest) {
  Bytes g;
  g.u32(11).u32(12);
  RawStream r(1);
  r.record(kGlobal, g.bytes()).record(0x77, "garbage!").end();
  GlobalRec global;
  StreamError e;
  ASSERT_TRUE(read_global(r.bytes(), global, e)) << e.to_string();
  EXPECT_EQ(global.socket_fd, 11);
  EXPECT_EQ(global.evtchn_fd, 12);
  // ...but the framing of the rest is checked.
  std::string cut = r.bytes().substr(0, r.bytes().size() - 4);
  EXPECT_FALSE(read_global(cut, global, e));
  EXPECT_EQ(e.record_index, 2u);
  EXPECT_NE(e.message.find("runs past the end"), std::string::npos)
      << e.message;
  EXPECT_FALSE(read_global(r.bytes() + "x", global, e));
  EXPECT_EQ(e.message, "1 bytes after the END record");
  RawStream no_global(1);
  no_global.record(kNode, testing::node_body("/")).end();
  EXPECT_FALSE(read_global(no_global.bytes(), global, e));
  EXPECT_EQ(e.message, "the first record is not GLOBAL");
  EXPECT_FALSE(read_global("xenstor", global, e));
  EXPECT_EQ(e.record_index, StreamError::kPreamble);
}

TEST(StreamReader, AGenerationCountLargerThanTheBodyIsRefusedBeforeUse) {
  Bytes g;
  g.u32(0xFFFFFFFF).u32(0);
  expect_refused(base().record(kCxsDaemon, cxs_daemon()).record(kCxsGens, g.bytes()).end(),
                 4, kCxsGens, "4294967295 generations run past the body");
}

TEST(StreamReader, ATransactionWithMoreEntriesThanBytesIsRefusedBeforeUse) {
  Bytes tx;
  tx.u32(1).u32(1).u32(0).u32(0x7FFFFFFF).u32(0).u32(0);
  expect_refused(base().record(kCxsDaemon, cxs_daemon()).record(kCxsTx, tx.bytes()).end(),
                 4, kCxsTx, "2147483647 node entries run past the body");
  Bytes ev;
  ev.u32(1).u32(1).u32(0).u32(0).u32(9).u32(0);
  expect_refused(base().record(kCxsDaemon, cxs_daemon()).record(kCxsTx, ev.bytes()).end(),
                 4, kCxsTx, "9 event entries run past the body");
}

TEST(StreamReader, ATransactionEntryWithBadFieldsIsRefused) {
  auto tx_with_node = [](std::uint8_t flags, std::string_view path,
                         std::string_view perms, std::string_view children,
                         std::optional<std::string_view> delta = {}) {
    Bytes b;
    b.u32(1).u32(1).u32(0).u32(1).u32(0).u32(0);
    b.u8(flags).u8(0).u16(static_cast<std::uint16_t>(path.size())).u32(0);
    b.u64(0).u64(0).u32(static_cast<std::uint32_t>(perms.size()));
    b.u32(static_cast<std::uint32_t>(children.size()));
    b.str(path).str(perms).str(children);
    if (delta) b.u32(static_cast<std::uint32_t>(delta->size())).str(*delta);
    return b.bytes();
  };
  RawStream d = base().record(kCxsDaemon, cxs_daemon());
  expect_refused(
      RawStream(d).record(kCxsTx, tx_with_node(32, "/a", "", "")).end(), 4,
      kCxsTx, "node entry 0: unknown flag bits");
  // kTxNodeHasDelta: a length and the delta must follow the children.
  expect_refused(
      RawStream(d).record(kCxsTx, tx_with_node(16, "/abcdef", "", "")).end(), 4,
      kCxsTx, "node entry 0: child delta runs past the body");
  expect_refused(
      RawStream(d).record(kCxsTx, tx_with_node(16, "/a", "", "", "+x"sv)).end(),
      4, kCxsTx, "child delta empty or not NUL-terminated");
  expect_refused(
      RawStream(d).record(kCxsTx, tx_with_node(16, "/a", "", "", ""sv)).end(),
      4, kCxsTx, "child delta empty or not NUL-terminated");
  expect_refused(RawStream(d).record(kCxsTx, tx_with_node(0, "", "", "")).end(),
                 4, kCxsTx, "node entry 0: empty path");
  expect_refused(RawStream(d).record(kCxsTx, tx_with_node(0, "/a", "z\0\0\0"sv, "")).end(),
                 4, kCxsTx, "node entry perms entry 0: access");
  expect_refused(RawStream(d).record(kCxsTx, tx_with_node(0, "/a", "", "x")).end(),
                 4, kCxsTx, "children not NUL-terminated");
  Bytes zero;
  zero.u32(1).u32(0).u32(0).u32(0).u32(0).u32(0);
  expect_refused(RawStream(d).record(kCxsTx, zero.bytes()).end(), 4, kCxsTx,
                 "tx_id 0");
}

// ---------------------------------------------------------------- END

TEST(StreamReader, RecordsAfterEndAreRefused) {
  RawStream r = base();
  r.end().global();
  expect_refused(r, 4, kGlobal, "16 bytes after the END record");
}

TEST(StreamReader, AStreamEndingWithoutEndIsRefused) {
  RawStream r = base();
  StreamError e = refused(r.bytes());
  EXPECT_EQ(e.record_index, 3u);
  EXPECT_EQ(e.offset, r.bytes().size());
  EXPECT_EQ(e.message, "stream ends without an END record");
}

TEST(StreamReader, UnknownRecordTypesAreSkippedAndListed) {
  RawStream r = base();
  r.record(9, "anything").record(0x100, "").record(kCxsDomain + 1, "x").end();
  Stream s;
  StreamError e;
  ASSERT_TRUE(read_stream(r.bytes(), s, e)) << e.to_string();
  ASSERT_EQ(s.unknown.size(), 3u);
  EXPECT_EQ(s.unknown[0], std::make_pair(std::uint32_t{9}, r.offset(3)));
  EXPECT_EQ(s.unknown[1], std::make_pair(std::uint32_t{0x100}, r.offset(4)));
  EXPECT_EQ(s.unknown[2].first, kCxsDomain + 1);
}

TEST(StreamError, ToStringNamesTheRecordTypeAndOffset) {
  StreamError e{.offset = 416, .record_index = 12, .record_type = kNode,
                .message = "path not NUL-terminated"};
  EXPECT_EQ(e.to_string(), "record 12 (NODE) at offset 416: path not NUL-terminated");
  e.record_type = 0x1234;
  EXPECT_EQ(e.to_string(),
            "record 12 (unknown type 0x00001234) at offset 416: path not NUL-terminated");
  e.record_type = kCxsTx;
  EXPECT_EQ(e.to_string().substr(0, 30), "record 12 (CXS_TRANSACTION) at");
}

TEST(StreamReader, ParsedViewsPointIntoTheInput) {
  std::string bytes = base().end().bytes();
  Stream s;
  StreamError e;
  ASSERT_TRUE(read_stream(bytes, s, e));
  ASSERT_EQ(s.nodes.size(), 1u);
  EXPECT_GE(s.nodes[0].path.data(), bytes.data());
  EXPECT_LT(s.nodes[0].path.data(), bytes.data() + bytes.size());
}

}  // namespace
}  // namespace cxs::migrate

// StreamWriter then read_stream: every record type comes back with the
// fields it was written with.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "migrate/reader.h"
#include "migrate/writer.h"

namespace cxs::migrate {
namespace {

using namespace std::string_view_literals;

// The start every reader needs: GLOBAL, and connections 1 (ring, dom1)
// and 2 (socket).
StreamWriter started(std::uint32_t version = kVersion1) {
  StreamWriter w(version);
  EXPECT_TRUE(w.global({.socket_fd = 5, .evtchn_fd = 6}));
  EXPECT_TRUE(w.connection({.conn_id = 1, .kind = ConnKind::kRing, .domid = 1,
                            .evtchn = 9}));
  EXPECT_TRUE(w.connection({.conn_id = 2, .kind = ConnKind::kSocket,
                            .socket_fd = 11}));
  return w;
}

// Takes an lvalue: the Stream's views point into `bytes`.
Stream read_ok(std::string& bytes) {
  Stream s;
  StreamError err;
  EXPECT_TRUE(read_stream(bytes, s, err)) << err.to_string();
  return s;
}

TEST(StreamRoundTrip, GlobalAndConnectionsKeepEveryField) {
  StreamWriter w(kVersion1);
  ASSERT_TRUE(w.global({.socket_fd = -1, .evtchn_fd = 42}));
  ConnRec ring{.conn_id = 7, .kind = ConnKind::kRing, .domid = 3,
               .target = 4, .evtchn = 0x12345678,
               .in = "\x01\0\0\0partial"sv, .out_resp_len = 3,
               .out = "tailOK\0"sv};
  ConnRec sock{.conn_id = 8, .kind = ConnKind::kSocket, .socket_fd = 17};
  ASSERT_TRUE(w.connection(ring));
  ASSERT_TRUE(w.connection(sock));
  std::string bytes = w.finish();
  Stream s = read_ok(bytes);
  EXPECT_EQ(s.version, kVersion1);
  EXPECT_EQ(s.global, (GlobalRec{-1, 42}));
  ASSERT_EQ(s.conns.size(), 2u);
  EXPECT_EQ(s.conns[0], ring);
  EXPECT_EQ(s.conns[1], sock);
  EXPECT_EQ(s.conns[1].domid, 0);  // ring-only fields keep their defaults
  EXPECT_EQ(s.conns[1].target, kDomidInvalid);
  EXPECT_FALSE(s.conns[0].unique_id.has_value());
}

TEST(StreamRoundTrip, AConnectionWithTheMostInputAFieldHoldsSurvives) {
  std::string in(65535, 'i');
  std::string out(70000, 'o');  // out_len is a u32
  StreamWriter w;
  ASSERT_TRUE(w.global({}));
  ASSERT_TRUE(w.connection({.conn_id = 1, .in = in, .out_resp_len = 65535,
                            .out = out}));
  std::string bytes = w.finish();
  Stream s = read_ok(bytes);
  ASSERT_EQ(s.conns.size(), 1u);
  EXPECT_EQ(s.conns[0].in, in);
  EXPECT_EQ(s.conns[0].out, out);
  EXPECT_EQ(s.conns[0].out_resp_len, 65535);
}

TEST(StreamRoundTrip, WatchesAreWatchInVersion1AndExtendedInVersion2) {
  for (std::uint32_t version : {kVersion1, kVersion2}) {
    StreamWriter w = started(version);
    ASSERT_TRUE(w.watch({.conn_id = 1, .path = "/a/b", .token = "t1"}));
    ASSERT_TRUE(w.watch({.conn_id = 2, .path = "rel", .token = "",
                         .depth = 2}));
    ASSERT_TRUE(w.watch({.conn_id = 2, .path = "@releaseDomain",
                         .token = "tok", .depth = kDepthUnlimited}));
    std::string bytes = w.finish();
    Stream s = read_ok(bytes);
    ASSERT_EQ(s.watches.size(), 3u);
    EXPECT_EQ(s.watches[0], (WatchRec{1, "/a/b", "t1", std::nullopt}));
    EXPECT_EQ(s.watches[1].path, "rel");
    EXPECT_EQ(s.watches[1].token, "");
    EXPECT_EQ(s.watches[2].token, "tok");
    if (version == kVersion2) {
      EXPECT_EQ(s.watches[1].depth, std::optional<std::uint16_t>(2));
      EXPECT_EQ(s.watches[2].depth, std::optional<std::uint16_t>(0xFFFF));
    } else {  // v1 has no depth: it travels in CXS_WATCH_DEPTH
      EXPECT_FALSE(s.watches[1].depth.has_value());
      EXPECT_FALSE(s.watches[2].depth.has_value());
    }
  }
}

TEST(StreamRoundTrip, AWatchDepthTravelsInCxsWatchDepthInVersion1) {
  StreamWriter w = started();
  ASSERT_TRUE(w.watch({.conn_id = 1, .path = "/w", .token = "k", .depth = 3}));
  ASSERT_TRUE(w.cxs_daemon({.next_tx_id = 9, .tree_generation = 77,
                            .producer = "cxenstored test"}));
  CxsWatchDepthRec d{.conn_id = 1, .depth = 3, .path = "/w", .token = "k"};
  ASSERT_TRUE(w.cxs_watch_depth(d));
  std::string bytes = w.finish();
  Stream s = read_ok(bytes);
  ASSERT_EQ(s.cxs_watch_depths.size(), 1u);
  EXPECT_EQ(s.cxs_watch_depths[0], d);
  ASSERT_EQ(s.watches.size(), 1u);
  EXPECT_FALSE(s.watches[0].depth.has_value());
}

TEST(StreamRoundTrip, NodesKeepBinaryValuesEmptyValuesAndIgnoredPerms) {
  StreamWriter w = started();
  std::string binary("a\0b\0\xff\x00"sv);
  PermList perms{{DomId{5}, kPermBoth}, {DomId{0}, kPermRead},
                 {DomId{7}, kPermWrite | kPermIgnored}, {DomId{0x7FF5}, kPermNone}};
  ASSERT_TRUE(w.node({.path = "/"}, PermList{{DomId{0}, kPermNone}}));
  ASSERT_TRUE(w.node({.path = "/bin", .value = binary}, perms));
  ASSERT_TRUE(w.node({.path = "/empty"}, perms));
  std::string max_value(65535, 'v');
  ASSERT_TRUE(w.node({.path = "/big", .value = max_value},
                     PermList{{DomId{0}, kPermRead}}));
  std::string bytes = w.finish();
  Stream s = read_ok(bytes);
  ASSERT_EQ(s.nodes.size(), 4u);
  EXPECT_EQ(s.nodes[0].path, "/");
  EXPECT_EQ(s.nodes[1].path, "/bin");
  EXPECT_EQ(s.nodes[1].value, binary);
  EXPECT_EQ(decode_perms(s.nodes[1].perms_raw), perms);
  EXPECT_EQ(s.nodes[2].value, "");
  EXPECT_EQ(s.nodes[3].value, max_value);
  EXPECT_EQ(s.nodes[1].conn_id, 0u);
}

TEST(StreamRoundTrip, TheRawPermsFormWritesTheSameBytesAsThePermList) {
  PermList perms{{DomId{3}, kPermRead}, {DomId{4}, kPermBoth | kPermIgnored}};
  std::string raw;
  ASSERT_TRUE(encode_perms(perms, raw));
  EXPECT_EQ(raw, std::string("r\0\x03\0b\x01\x04\0"sv));
  StreamWriter a, b;
  ASSERT_TRUE(a.node({.path = "/"}, perms));
  ASSERT_TRUE(b.node({.perms_raw = raw, .path = "/"}));
  EXPECT_EQ(a.finish(), b.finish());
}

TEST(StreamRoundTrip, QuotasAndDomainsKeepTheirNamesAndValues) {
  for (std::uint32_t version : {kVersion1, kVersion2}) {
    StreamWriter w = started(version);
    GlobalQuotaRec q{.per_domain = {{"nodes", 1000}, {"soft-memory", 0}},
                     .global = {{"memory", 1u << 30}}};
    ASSERT_TRUE(w.global_quota(q));
    DomainRec d{.domid = 3, .features = 7, .quotas = {{"watches", 128}}};
    ASSERT_TRUE(w.domain(d));
    ASSERT_TRUE(w.domain({.domid = 4}));
    std::string bytes = w.finish();
    Stream s = read_ok(bytes);
    ASSERT_TRUE(s.global_quota.has_value());
    EXPECT_EQ(*s.global_quota, q);
    ASSERT_EQ(s.domains.size(), 2u);
    EXPECT_EQ(s.domains[0].quotas, d.quotas);
    // features exist from version 2 on; version 1 writes and reads 0.
    EXPECT_EQ(s.domains[0].features, version == kVersion2 ? 7u : 0u);
    EXPECT_TRUE(s.domains[1].quotas.empty());
  }
}

TEST(StreamRoundTrip, PrivateRecordsKeepEveryField) {
  StreamWriter w = started();
  CxsDaemonRec daemon{.format = kCxsFormat, .next_tx_id = 12,
                      .tree_generation = 0x1122334455667788ull, .flags = 0,
                      .producer = "cxenstored 0.1.0"};
  ASSERT_TRUE(w.cxs_daemon(daemon));
  CxsConnectionRec conn{.conn_id = 1, .flags = kCxsConnStalled | kCxsConnPrivileged};
  ASSERT_TRUE(w.cxs_connection(conn));
  std::string perms;
  ASSERT_TRUE(encode_perms({{DomId{1}, kPermBoth}}, perms));
  std::string old_perms;
  ASSERT_TRUE(encode_perms({{DomId{0}, kPermNone}, {DomId{1}, kPermRead}}, old_perms));
  CxsTransactionRec tx{
      .conn_id = 1,
      .tx_id = 3,
      .max_entries = 1024,
      .nodes = {{.path = "/local/domain/1/x",
                 .flags = kTxNodeHasCopy | kTxNodeCopyPresent,
                 .written = kTxWrittenValue | kTxWrittenChildren,
                 .base_generation = 41,
                 .copy_generation = 0,
                 .value = "v\0al"sv,
                 .perms_raw = perms,
                 .children = "a\0bb\0"sv},
                {.path = "/local/domain/1/gone",
                 .flags = kTxNodeHasCopy,
                 .base_generation = 7},
                {.path = "/local/domain/1",
                 .flags = kTxNodeCheckGeneration,
                 .base_generation = 5},
                {.path = "/local/domain",
                 .flags = kTxNodeHasCopy | kTxNodeCopyPresent |
                          kTxNodeCheckPerms | kTxNodeHasDelta,
                 .written = kTxWrittenChildren,
                 .base_generation = 3,
                 .perms_raw = perms,
                 .children = "1\0"sv,
                 .child_delta = "+1\0-7\0"sv}},
      .events = {{.path = "/local/domain/1/x", .flags = 0, .perms_raw = perms},
                 {.path = "/local/domain/1/gone",
                  .flags = kTxEventRecursive | kTxEventExact,
                  .perms_raw = perms,
                  .old_perms_raw = old_perms}}};
  ASSERT_TRUE(w.cxs_transaction(tx));
  CxsTransactionRec empty_tx{.conn_id = 2, .tx_id = 1};
  ASSERT_TRUE(w.cxs_transaction(empty_tx));
  ASSERT_TRUE(w.node({.path = "/"}, PermList{{DomId{0}, kPermNone}}));
  ASSERT_TRUE(w.node({.path = "/a"}, PermList{{DomId{0}, kPermNone}}));
  std::vector<std::uint64_t> gens{1, 0xFFFFFFFFFFFFFFFFull};
  ASSERT_TRUE(w.cxs_generations(gens));
  CxsDomainRec dom{.domid = 1, .flags = kCxsDomainIntroduced | kCxsDomainShutdownReported,
                   .features = 5, .local_port = 33, .conn_id = 1,
                   .gfn = 0xFEFFFull};
  ASSERT_TRUE(w.cxs_domain(dom));
  ASSERT_TRUE(w.cxs_domain({.domid = 9}));
  std::string bytes = w.finish();
  Stream s = read_ok(bytes);
  ASSERT_TRUE(s.cxs_daemon.has_value());
  EXPECT_EQ(*s.cxs_daemon, daemon);
  ASSERT_EQ(s.cxs_conns.size(), 1u);
  EXPECT_EQ(s.cxs_conns[0], conn);
  ASSERT_EQ(s.cxs_transactions.size(), 2u);
  EXPECT_EQ(s.cxs_transactions[0], tx);
  EXPECT_EQ(s.cxs_transactions[1], empty_tx);
  ASSERT_TRUE(s.cxs_generations.has_value());
  ASSERT_EQ(s.cxs_generations->count(), 2u);
  EXPECT_EQ(s.cxs_generations->at(0), 1u);
  EXPECT_EQ(s.cxs_generations->at(1), 0xFFFFFFFFFFFFFFFFull);
  ASSERT_EQ(s.cxs_domains.size(), 2u);
  EXPECT_EQ(s.cxs_domains[0], dom);
  EXPECT_TRUE(s.unknown.empty());
}

TEST(StreamRoundTrip, TheUniqueIdOfANewerXenIsRead) {
  // Xen 4.21+: fields bit 0, and a u64 after the data padded to 8.
  StreamWriter w;
  ASSERT_TRUE(w.global({}));
  ASSERT_TRUE(w.connection({.conn_id = 1, .domid = 2, .in = "abc"}));
  std::string bytes = w.finish();
  // The CONN header is at 32; its body at 40; fields at body + 6.
  ASSERT_EQ(bytes[32], 2);
  bytes[40 + 6] = 1;
  std::uint32_t len = 40;  // 24 + 3 -> 32, + 8 for the id
  std::memcpy(&bytes[36], &len, 4);
  std::uint64_t uid = 0xDEADBEEF00C0FFEEull;
  std::string tail(8, '\0');
  std::memcpy(tail.data(), &uid, 8);
  bytes.insert(40 + 32, tail);
  Stream s = read_ok(bytes);
  ASSERT_EQ(s.conns.size(), 1u);
  EXPECT_EQ(s.conns[0].unique_id, std::optional<std::uint64_t>(uid));
  EXPECT_EQ(s.conns[0].in, "abc");
}

TEST(StreamRoundTrip, AStreamInC417OrderReadsBackInOrder) {
  StreamWriter w;
  ASSERT_TRUE(w.global({.socket_fd = 4, .evtchn_fd = 5}));
  ASSERT_TRUE(w.connection({.conn_id = 1, .domid = 0, .evtchn = 1}));
  ASSERT_TRUE(w.watch({.conn_id = 1, .path = "@releaseDomain", .token = "r"}));
  ASSERT_TRUE(w.connection({.conn_id = 2, .domid = 1, .evtchn = 2}));
  ASSERT_TRUE(w.watch({.conn_id = 2, .path = "/local/domain/1/device",
                       .token = "d"}));
  ASSERT_TRUE(w.watch({.conn_id = 2, .path = "control", .token = "c"}));
  ASSERT_TRUE(w.connection({.conn_id = 3, .kind = ConnKind::kSocket,
                            .socket_fd = 9}));
  PermList dom0{{DomId{0}, kPermNone}};
  PermList dom1{{DomId{1}, kPermNone}, {DomId{0}, kPermRead}};
  ASSERT_TRUE(w.node({.path = "@releaseDomain"}, dom0));
  ASSERT_TRUE(w.node({.path = "@introduceDomain"}, dom0));
  const std::vector<std::string> tree = {
      "/", "/local", "/local/domain", "/local/domain/0",
      "/local/domain/1", "/local/domain/1/device", "/local/domain/1/name",
      "/tool", "/tool/xenstored", "/vm"};
  for (const auto& p : tree)
    ASSERT_TRUE(w.node({.path = p, .value = p == "/local/domain/1/name" ? "guest" : ""},
                       p.starts_with("/local/domain/1") ? dom1 : dom0));
  std::string bytes = w.finish();
  Stream s = read_ok(bytes);
  EXPECT_EQ(s.conns.size(), 3u);
  EXPECT_EQ(s.watches.size(), 3u);
  ASSERT_EQ(s.nodes.size(), tree.size() + 2);
  EXPECT_EQ(s.nodes[0].path, "@releaseDomain");
  EXPECT_EQ(s.nodes[1].path, "@introduceDomain");
  for (std::size_t i = 0; i < tree.size(); ++i)
    EXPECT_EQ(s.nodes[i + 2].path, tree[i]);
  EXPECT_EQ(s.nodes[8].value, "guest");
  EXPECT_EQ(decode_perms(s.nodes[8].perms_raw), dom1);
  EXPECT_EQ(s.transaction_nodes_skipped, 0u);
  EXPECT_FALSE(s.cxs_daemon.has_value());
}

TEST(StreamRoundTrip, EveryRecordIsPaddedToEightBytes) {
  StreamWriter w = started();
  ASSERT_TRUE(w.watch({.conn_id = 1, .path = "/x", .token = "t"}));
  ASSERT_TRUE(w.node({.path = "/", .value = "abc"}, PermList{{DomId{0}, 0}}));
  std::string bytes = w.finish();
  std::size_t at = kPreambleSize;
  while (at < bytes.size()) {
    std::uint32_t len;
    std::memcpy(&len, &bytes[at + 4], 4);
    EXPECT_EQ(len % 8, 0u) << "record at " << at;
    at += 8 + len;
  }
  EXPECT_EQ(at, bytes.size());
}

TEST(StreamWriter, FieldsTooWideForTheWireAreRefusedAndAppendNothing) {
  PermList owner{{DomId{0}, kPermNone}};
  std::string long_path = "/" + std::string(65534, 'p');  // 65536 with NUL
  std::string big(65536, 'x');
  StreamWriter w;
  ASSERT_TRUE(w.global({}));
  std::size_t size = w.size();
  EXPECT_FALSE(w.node({.path = long_path}, owner));
  EXPECT_FALSE(w.node({.path = "/", .value = big}, owner));
  EXPECT_FALSE(w.node({.path = "/"}, PermList{}));
  EXPECT_FALSE(w.node({.path = "/"}, PermList{{DomId{0x10000}, kPermRead}}));
  EXPECT_FALSE(w.node({.conn_id = 1, .path = "/"}, owner));
  EXPECT_FALSE(w.node({.perms_raw = "x\0\0\0"sv, .path = "/"}));
  EXPECT_FALSE(w.connection({.conn_id = 1, .in = big}));
  EXPECT_FALSE(w.connection({.conn_id = 1, .out_resp_len = 2, .out = "a"}));
  EXPECT_FALSE(w.connection({.conn_id = 0}));
  EXPECT_FALSE(w.watch({.conn_id = 1, .path = long_path, .token = "t"}));
  EXPECT_FALSE(w.watch({.conn_id = 1, .path = "/a\0b"sv, .token = "t"}));
  EXPECT_FALSE(w.global_quota({.per_domain = {{"", 1}}}));
  EXPECT_FALSE(w.cxs_transaction({.conn_id = 1, .tx_id = 0}));
  EXPECT_FALSE(w.cxs_transaction(
      {.conn_id = 1, .tx_id = 1, .nodes = {{.path = "/a", .children = "a"}}}));
  EXPECT_EQ(w.size(), size);
  EXPECT_FALSE(w.ok());
  // The first refusal is the one reported.
  EXPECT_NE(w.error().find("NODE"), std::string::npos) << w.error();
  EXPECT_NE(w.error().find("too long"), std::string::npos) << w.error();
}

TEST(StreamWriter, AVersionOtherThan1Or2IsRefused) {
  StreamWriter w(3);
  EXPECT_FALSE(w.ok());
  EXPECT_TRUE(StreamWriter(2).ok());
}

TEST(Perms, TheStaleFlagBecomesKPermIgnoredAndBack) {
  std::string raw("w\x01\x05\0n\0\xf4\x7f"sv);
  PermList perms;
  ASSERT_TRUE(decode_perms(raw, perms));
  EXPECT_EQ(perms, (PermList{{DomId{5}, kPermWrite | kPermIgnored},
                             {DomId{0x7FF4}, kPermNone}}));
  std::string back;
  ASSERT_TRUE(encode_perms(perms, back));
  EXPECT_EQ(back, raw);
  EXPECT_FALSE(decode_perms("q\0\0\0"sv, perms));
  EXPECT_FALSE(decode_perms("n\x02\0\0"sv, perms));
  EXPECT_FALSE(decode_perms("n\0\0"sv, perms));
}

TEST(StreamWriter, AnAdoptedBufferChangesNoByte) {
  auto write = [](StreamWriter& w) {
    w.global({4, 5});
    w.node(NodeRec{0, 0, 0, {}, "/", "root"}, PermList{{kDom0, kPermNone}});
    return w.finish();
  };
  StreamWriter plain(kVersion2);
  StreamWriter adopting(kVersion2);
  std::string buffer(1 << 16, 'x');  // stale content, room to keep
  adopting.adopt_buffer(std::move(buffer));
  EXPECT_EQ(write(adopting), write(plain));
}

}  // namespace
}  // namespace cxs::migrate

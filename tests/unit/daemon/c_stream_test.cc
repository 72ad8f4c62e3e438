// Streams written by the C xenstored 4.17 itself (tests/fixtures/live-update,
// whose README says how each was made and what it holds), read with
// and restored with daemon::restore_bytes into a fresh store, as the new
// daemon of a live update does: what a hot swap from C to cxenstored starts
// from.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "daemon/state_restore.h"
#include "migrate/reader.h"
#include "store/store.h"
#include "store/watches.h"

namespace cxs::daemon {
namespace {

std::string fixture(const std::string& name) {
  return std::string(CXS_FIXTURE_DIR) + "/c417-" + name + ".state";
}

// A fixture restored as a new cxenstored restores it (master domain 0,
// the default quotas).
struct Restored {
  explicit Restored(const std::string& name)
      : file(fixture(name)) {
    try {
      state = restore_bytes(file.bytes(), /*check_tree=*/true, kDom0,
                            QuotaDefaults{}, store, watches, stream);
      ok = true;
    } catch (const RestoreError& e) {
      ADD_FAILURE() << name << ": " << e.what();
    }
  }

  std::string value(std::string_view path) const {
    store::NodeView n = store.tree().find(path);
    return n ? std::string(n.value()) : "(absent)";
  }
  PermList perms(std::string_view path) const {
    store::NodeView n = store.tree().find(path);
    return n ? n.perms().list() : PermList{};
  }
  // "path|token|strip" for each watch of the connection restored as `conn`.
  std::vector<std::string> watches_of(std::uint64_t conn) const {
    std::vector<std::string> out;
    watches.for_each_of(ConnId{conn}, [&](const store::WatchRecord& w) {
      out.push_back(std::string(w.path()) + "|" + std::string(w.token()) + "|" +
                    std::to_string(w.strip()));
    });
    std::sort(out.begin(), out.end());
    return out;
  }
  const migrate::ConnRec& conn(std::size_t i) const {
    return *state.conns.at(i).rec;
  }

  StateFile file;
  bool ok = false;
  migrate::Stream stream;
  store::Store store;
  store::WatchIndex watches;
  RestoredState state;
};

// The "OK" the -s requester gets from the new daemon: {XS_CONTROL, req_id
// 102, tx 0, len 3} "OK\0".
const std::string kOkReply("\0\0\0\0\x66\0\0\0\0\0\0\0\x03\0\0\0OK\0", 19);

TEST(CStream, FreshHasTheFiveNodesTheDom0RingAndTheRequester) {
  Restored r("fresh");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.stream.version, 1u);
  EXPECT_EQ(r.stream.global.socket_fd, 3);
  EXPECT_EQ(r.stream.global.evtchn_fd, 6);
  EXPECT_FALSE(r.state.from_cxenstored);
  EXPECT_TRUE(r.stream.unknown.empty());
  EXPECT_EQ(r.store.tree().size(), 5u);
  for (const char* p : {"@releaseDomain", "@introduceDomain", "/", "/tool",
                        "/tool/xenstored"}) {
    EXPECT_EQ(r.value(p), "") << p;
    EXPECT_EQ(r.perms(p), (PermList{{kDom0, kPermNone}})) << p;
  }
  ASSERT_EQ(r.state.conns.size(), 2u);
  EXPECT_EQ(r.conn(0).kind, migrate::ConnKind::kRing);
  EXPECT_EQ(r.state.conns[0].dom, kDom0);
  EXPECT_EQ(r.conn(0).evtchn, 100u);
  EXPECT_FALSE(r.state.conns[0].target);
  EXPECT_EQ(r.conn(1).kind, migrate::ConnKind::kSocket);
  EXPECT_EQ(r.conn(1).socket_fd, 8);
  EXPECT_EQ(r.conn(1).in.size(), 0u);
  EXPECT_EQ(r.conn(1).out, kOkReply);
  EXPECT_EQ(r.state.watches, 0u);
  EXPECT_EQ(r.state.transactions, 0u);
  // A C stream carries no features: the new daemon asks the ring page.
  ASSERT_TRUE(r.state.domains.count(kDom0));
  EXPECT_TRUE(r.state.domains.at(kDom0).introduced);
  EXPECT_FALSE(r.state.domains.at(kDom0).features_known);
}

TEST(CStream, NodesKeepValuesPermsIgnoredEntriesAndChildOrder) {
  Restored r("nodes");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.stream.committed_nodes, 220u);
  EXPECT_EQ(r.store.tree().size(), 220u);
  EXPECT_EQ(r.value("/nodes/owned-by-3"), "three");
  EXPECT_EQ(r.perms("/nodes/owned-by-3"),
            (PermList{{DomId{3}, kPermNone}, {kDom0, kPermRead}}));
  EXPECT_EQ(r.value("/nodes/plain"), "again");
  EXPECT_EQ(r.value("/nodes/nul"), std::string("a\0b\0\0c", 6));
  EXPECT_EQ(r.value("/nodes/allnul"), std::string(4, '\0'));
  EXPECT_EQ(r.value("/nodes/empty"), "");
  // Entries naming domains that did not exist carry the ignored flag.
  auto ignored = [](std::uint32_t dom, std::uint8_t bits) {
    return Perm{DomId{dom}, static_cast<std::uint8_t>(bits | kPermIgnored)};
  };
  EXPECT_EQ(r.perms("/nodes/perms"), (PermList{{kDom0, kPermNone},
                                               ignored(5, kPermRead),
                                               ignored(7, kPermBoth),
                                               ignored(9, kPermWrite),
                                               {DomId{3}, kPermRead}}));
  EXPECT_EQ(r.value("/deep/a/b/c/d/e/f"), "");
  EXPECT_EQ(r.value("/deep/a/b/c/d/e/f/g"), "(absent)");
  EXPECT_EQ(r.value("/many/c111"), "(absent)");
  EXPECT_EQ(r.value("/many/c074"), "back");
  EXPECT_EQ(r.value("/many/c148"), "148");
  // Children in the C daemon's order (creation order; c074 re-created last).
  store::NodeView many = r.store.tree().find("/many");
  ASSERT_TRUE(many);
  std::string names = std::string(many.children().joined());
  EXPECT_EQ(names.rfind(std::string("c000\0c037\0c148\0c185\0", 20), 0), 0u);
  EXPECT_TRUE(names.ends_with(std::string("c074\0", 5)));
  store::NodeView nodes = r.store.tree().find("/nodes");
  ASSERT_TRUE(nodes);
  EXPECT_EQ(std::string(nodes.children().joined()),
            std::string("empty-cli\0owned-by-3\0plain\0nul\0allnul\0empty\0"
                        "perms\0",
                        50));
}

TEST(CStream, WatchesStayWithTheirConnectionsAndRelativeOnesStayRelative) {
  Restored r("watches");
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.state.conns.size(), 4u);
  EXPECT_EQ(r.state.watches, 5u);
  EXPECT_EQ(r.watches.total(), 5u);
  // Connection 2 (client A): "watched/rel" is relative to dom0's home and
  // its events will have the home cut off again (strip).
  EXPECT_EQ(r.watches_of(2),
            (std::vector<std::string>{"/local/domain/0/watched/rel|tokA-rel|16",
                                      "/watched/abs|tokA-abs|0",
                                      "@introduceDomain|tokA-intro|0"}));
  EXPECT_EQ(r.watches_of(3),
            (std::vector<std::string>{"/watched|tokB-subtree|0",
                                      "@releaseDomain|tokB-release|0"}));
  EXPECT_TRUE(r.watches_of(1).empty());
  EXPECT_TRUE(r.watches_of(4).empty());
  EXPECT_EQ(r.conn(3).out, kOkReply);
}

TEST(CStream, GuestsKeepTheirPartialInputQueuedOutputAndTarget) {
  Restored r("guests");
  ASSERT_TRUE(r.ok);
  ASSERT_EQ(r.state.conns.size(), 6u);
  EXPECT_EQ(r.store.tree().size(), 11u);
  EXPECT_EQ(r.value("/local/domain/5/data"), "hello");
  EXPECT_EQ(r.perms("/local/domain/5/data"), (PermList{{DomId{5}, kPermNone}}));
  EXPECT_EQ(r.value("/local/domain/6/big"), std::string(600, 'x'));
  EXPECT_EQ(r.perms("/local/domain/6"), (PermList{{DomId{6}, kPermNone}}));

  // dom5: 24 bytes of a READ (header and 8 of its 21 body bytes).
  const RestoredConn& dom5 = r.state.conns[2];
  EXPECT_EQ(dom5.dom, DomId{5});
  EXPECT_FALSE(dom5.target);
  EXPECT_EQ(r.conn(2).evtchn, 105u);
  EXPECT_EQ(r.conn(2).in.size(), 24u);
  EXPECT_EQ(r.conn(2).out.size(), 0u);
  // dom6 acts for dom5: the tail of a reply (208 bytes), a whole reply and
  // an event.
  const RestoredConn& dom6 = r.state.conns[3];
  EXPECT_EQ(dom6.dom, DomId{6});
  ASSERT_TRUE(dom6.target);
  EXPECT_EQ(*dom6.target, DomId{5});
  EXPECT_EQ(r.conn(3).evtchn, 106u);
  EXPECT_EQ(r.conn(3).out_resp_len, 208u);
  EXPECT_EQ(r.conn(3).out.size(), 871u);
  EXPECT_TRUE(r.conn(3).out.ends_with(
      std::string_view("/local/domain/5/data\0g6-target\0", 31)));
  // A socket's partial WRITE: 21 bytes.
  EXPECT_EQ(r.conn(4).kind, migrate::ConnKind::kSocket);
  EXPECT_EQ(r.conn(4).in.size(), 21u);
  EXPECT_EQ(r.conn(5).out, kOkReply);

  EXPECT_EQ(r.watches_of(3),
            (std::vector<std::string>{"/local/domain/5/data|g5-data|16",
                                      "@releaseDomain|g5-release|0"}));
  EXPECT_EQ(r.watches_of(4),
            (std::vector<std::string>{"/local/domain/5/data|g6-target|0"}));
  for (DomId d : {kDom0, DomId{5}, DomId{6}}) {
    ASSERT_TRUE(r.state.domains.count(d)) << d.value;
    EXPECT_TRUE(r.state.domains.at(d).introduced);
  }
}

TEST(CStream, TransactionsAreNotInAC417StreamButTheHeldStartIs) {
  Restored r("transaction");
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.state.transactions, 0u);
  EXPECT_EQ(r.stream.transactions_skipped, 0u);
  EXPECT_EQ(r.stream.transaction_nodes_skipped, 0u);
  EXPECT_EQ(r.value("/tx/outside"), "committed");
  EXPECT_EQ(r.value("/tx/inside"), "(absent)");
  EXPECT_EQ(r.store.transaction_count(ConnId{2}), 0u);
  // The TRANSACTION_START held while the update was pending.
  ASSERT_EQ(r.state.conns.size(), 4u);
  EXPECT_EQ(r.conn(3).in.size(), 17u);
}

}  // namespace
}  // namespace cxs::daemon

// Advisories about resources and the store's integrity: write storms (206),
// the node quota (272), the OOM vectors of XSA-326 (one test each), watch
// reset (330), owners and the root node (352, 353), error paths of node
// creation (414, 415), unread replies (416), deep paths (418) and nodes
// created and deleted in one transaction (421).
#include <gtest/gtest.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <thread>

#include "security_helpers.h"

namespace cxs::test {
namespace {

using wire::MsgType;

// Generous bound on what a refused guest may cost the daemon.
constexpr long kGrowthBoundKib = 16 * 1024;

long rss(const SimHost& h) { return const_cast<SimHost&>(h).daemon().rss_kib(); }

// Every node below `root` as seen by dom0, reached through DIRECTORY.
void collect(RawClient& c, const std::string& path,
             std::vector<std::string>& out) {
  out.push_back(path);
  Msg m = c.directory(path);
  if (m.type != ty(MsgType::XS_DIRECTORY)) return;
  for (const auto& child : nul_split(m.payload))
    collect(c, path + "/" + child, out);
}

TEST(Security, xsa_206_guest_write_storm_does_not_starve_dom0_transactions) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  RawClient dom0(host.socket());
  ASSERT_TRUE(is_type_ok(dom0.write("/vm/cfg", "0")));
  int conflicts = 0;
  for (int round = 0; round < 20; ++round) {
    std::uint32_t tx = dom0.start_transaction();
    ASSERT_NE(tx, 0u);
    ASSERT_TRUE(is_type_ok(dom0.read("/vm/cfg", tx)));
    // The guest hammers its own nodes meanwhile.
    std::uint32_t last = 0;
    for (int i = 0; i < 30; ++i)
      last = g.send(ty(MsgType::XS_WRITE),
                    "/local/domain/5/n" + std::to_string(i % 5) + '\0' +
                        std::to_string(round * 100 + i));
    ASSERT_TRUE(g.await(last));
    ASSERT_TRUE(is_type_ok(dom0.write("/vm/cfg", std::to_string(round), tx)));
    Msg end = dom0.end_transaction(tx, true);
    if (end.is_error("EAGAIN")) ++conflicts;
  }
  EXPECT_EQ(conflicts, 0) << "dom0's transactions on /vm failed with EAGAIN "
                             "because of unrelated guest writes";
  EXPECT_EQ(dom0.read("/vm/cfg").payload, "19");
}

TEST(Security, xsa_272_node_quota_applies_to_implicit_parents_and_transactions) {
  SimHost host({"-Q", "nodes=20"});
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  RawClient dom0(host.socket());
  // One WRITE that would create 30 missing parents: refused whole.
  std::string deep = "/local/domain/5/p";
  for (int i = 0; i < 30; ++i) deep += "/q" + std::to_string(i);
  EXPECT_EQ(g.outcome(ty(MsgType::XS_WRITE), deep + '\0' + "v"), "ENOSPC");
  EXPECT_TRUE(dom0.read("/local/domain/5/p").is_error("ENOENT"));
  // Inside a transaction the quota holds as well (at the write or at the
  // commit), and the committed store stays within it.
  std::uint32_t tx = g.start_transaction();
  ASSERT_NE(tx, 0u);
  int refused = 0;
  for (int i = 0; i < 40; ++i)
    if (g.outcome(ty(MsgType::XS_WRITE),
                  "/local/domain/5/t" + std::to_string(i) + '\0' + "v",
                  tx) != "XS_WRITE")
      ++refused;
  std::string end = g.outcome(ty(MsgType::XS_TRANSACTION_END),
                              with_nul("T"), tx);
  EXPECT_TRUE(refused > 0 || end != "XS_TRANSACTION_END") << end;
  std::vector<std::string> nodes;
  collect(dom0, "/local/domain/5", nodes);
  EXPECT_LE(nodes.size(), 20u);
}

TEST(Security, xsa_326_many_nodes_are_refused_with_enospc) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  long before = rss(host);
  // Spread over directories of 40: a parent's child list counts towards its
  // own node size (2048), which would stop a flat directory first.
  int made = 0;
  std::string why = "none";
  for (; made < 1500; ++made) {
    std::string r = g.outcome(ty(MsgType::XS_WRITE),
                              "/local/domain/5/d" + std::to_string(made / 40) +
                                  "/n" + std::to_string(made % 40) + '\0' + "v");
    if (r != "XS_WRITE") {
      why = r;
      break;
    }
  }
  EXPECT_EQ(why, "ENOSPC");
  // Owned: the home, the directories and the leaves; the refused write may
  // have needed two nodes (a new directory and its first leaf).
  int owned = 1 + (made + 39) / 40 + made;
  EXPECT_LE(owned, 1000);
  EXPECT_GE(owned, 999);
  EXPECT_LT(rss(host) - before, kGrowthBoundKib);
  RawClient dom0(host.socket());
  EXPECT_TRUE(is_type_ok(dom0.write("/dom0/ok", "yes")));
  report_peak_rss(host.daemon(), "xsa_326 many nodes");
}

TEST(Security, xsa_326_big_nodes_are_refused_and_memory_is_bounded) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  RawClient dom0(host.socket());
  // Over node-size (2048): ENOSPC, nothing stored.
  EXPECT_EQ(g.outcome(ty(MsgType::XS_WRITE),
                      "/local/domain/5/huge" + std::string(1, '\0') +
                          std::string(3000, 'x')),
            "ENOSPC");
  EXPECT_TRUE(dom0.read("/local/domain/5/huge").is_error("ENOENT"));
  // Many nodes just under node-size: the memory quota (2.5 MB) or the node
  // quota stops the guest.
  long before = rss(host);
  std::string last;
  int made = 0;
  for (; made < 2000; ++made) {
    last = g.outcome(ty(MsgType::XS_WRITE),
                     "/local/domain/5/b" + std::to_string(made) + '\0' +
                         std::string(1900, 'y'));
    if (last != "XS_WRITE") break;
  }
  EXPECT_TRUE(last == "ENOMEM" || last == "ENOSPC") << last;
  EXPECT_LT(made, 2000);
  EXPECT_LT(rss(host) - before, kGrowthBoundKib);
  EXPECT_TRUE(is_type_ok(dom0.write("/dom0/ok", "yes")));
  report_peak_rss(host.daemon(), "xsa_326 big nodes");
}

TEST(Security, xsa_326_many_watches_are_refused_with_enospc) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  int made = 0;
  std::string last;
  for (; made < 300; ++made) {
    last = g.outcome(ty(MsgType::XS_WATCH),
                     "/local/domain/5/w" + std::to_string(made) + '\0' +
                         std::string(200, 't') + '\0');
    if (last != "XS_WATCH") break;
  }
  EXPECT_EQ(last, "ENOSPC");
  EXPECT_EQ(made, 128);
  g.drain();
  EXPECT_TRUE(host.daemon().alive());
}

TEST(Security, xsa_326_many_transactions_are_refused_with_enospc) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  int made = 0;
  std::string last;
  for (; made < 50; ++made) {
    last = g.outcome(ty(MsgType::XS_TRANSACTION_START), with_nul(""));
    if (last != "XS_TRANSACTION_START") break;
  }
  EXPECT_EQ(last, "ENOSPC");
  EXPECT_EQ(made, 10);
  RawClient dom0(host.socket());
  EXPECT_NE(dom0.start_transaction(), 0u);
}

TEST(Security, xsa_326_outstanding_requests_are_not_read_past_the_quota) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  // 300 requests, no reply read: the daemon stops taking requests off the
  // ring after `outstanding` (20) unread replies.
  for (int i = 0; i < 300; ++i)
    g.send(ty(MsgType::XS_READ), with_nul("/local/domain/5"));
  for (int i = 0; i < 50; ++i) {
    g.ring().flush();
    std::this_thread::sleep_for(milliseconds(2));
  }
  std::uint32_t taken = g.ring().req_cons();
  std::size_t per_request = kHeaderSize + std::string("/local/domain/5").size() + 1;
  // At most: the replies that fit in rsp[] (1024 bytes of 16-byte empty
  // replies) plus `outstanding` queued behind them.
  // The connection may also have read one ring's worth of requests ahead
  // into its framer (1 KB, bounded).
  std::size_t bound =
      20 + wire::kRingBytes / kHeaderSize + wire::kRingBytes / per_request + 1;
  EXPECT_LE(taken / per_request, bound)
      << "the daemon kept reading requests whose replies were not taken";
  RawClient dom0(host.socket());
  EXPECT_TRUE(is_type_ok(dom0.write("/dom0/ok", "yes")));
  // Reading now gets every reply, in order.
  for (std::uint32_t id = 1; id <= 300; ++id) {
    auto m = g.await(id);
    ASSERT_TRUE(m) << id;
    EXPECT_EQ(m->hdr.type, ty(MsgType::XS_READ));
  }
}

TEST(Security, xsa_326_big_transactions_are_refused_with_enospc) {
  SimHost host({"-Q", "transaction-nodes=64"});
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  std::uint32_t tx = g.start_transaction();
  ASSERT_NE(tx, 0u);
  int made = 0;
  std::string last;
  for (; made < 200; ++made) {
    last = g.outcome(ty(MsgType::XS_WRITE),
                     "/local/domain/5/t" + std::to_string(made) + '\0' + "v",
                     tx);
    if (last != "XS_WRITE") break;
  }
  EXPECT_EQ(last, "ENOSPC");
  EXPECT_LE(made, 64);
  EXPECT_GE(made, 60);
  g.outcome(ty(MsgType::XS_TRANSACTION_END), with_nul("F"), tx);
  EXPECT_TRUE(host.daemon().alive());
}

// The default bound (1024 nodes a transaction touches) holds for a guest
// without any -Q option, and a dom0 socket is exempt, as in C.
TEST(Security, xsa_326_default_transaction_node_bound_spares_dom0) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  constexpr int kReads = 1100;
  auto outcomes_of_reads = [&](std::uint32_t tx) {
    std::vector<std::uint32_t> ids;
    for (int i = 0; i < kReads; ++i)
      ids.push_back(g.send(ty(MsgType::XS_READ),
                           with_nul("n" + std::to_string(i)), tx));
    std::vector<std::string> out;
    for (std::uint32_t id : ids) {
      auto m = g.await(id);
      out.push_back(!m ? "timeout"
                       : m->hdr.type == ty(MsgType::XS_ERROR)
                           ? m->payload.substr(0, m->payload.find('\0'))
                           : "ok");
    }
    return out;
  };
  std::uint32_t tx = g.start_transaction();
  ASSERT_NE(tx, 0u);
  std::vector<std::string> seen = outcomes_of_reads(tx);
  auto first_refused = std::find(seen.begin(), seen.end(), "ENOSPC");
  ASSERT_NE(first_refused, seen.end()) << "no bound on a guest's transaction";
  // Each absent node read is an entry; "/" and the home path's ancestors
  // take a few more.
  long allowed = first_refused - seen.begin();
  EXPECT_LE(allowed, 1024);
  EXPECT_GE(allowed, 1015);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), "ENOENT"), allowed);
  EXPECT_EQ(g.outcome(MsgType::XS_TRANSACTION_END, with_nul("T"), tx),
            "XS_TRANSACTION_END");

  RawClient dom0(host.socket());
  std::uint32_t dtx = dom0.start_transaction();
  ASSERT_NE(dtx, 0u);
  for (int i = 0; i < kReads; ++i) {
    Msg r = dom0.read("/absent/n" + std::to_string(i), dtx);
    ASSERT_TRUE(r.is_error("ENOENT")) << i << ": " << r.shown();
  }
  ASSERT_TRUE(is_type_ok(dom0.write("/dom0/big", "done", dtx)));
  EXPECT_TRUE(is_type_ok(dom0.end_transaction(dtx, true)));
  EXPECT_EQ(dom0.read("/dom0/big").payload, "done");
}

TEST(Security, xsa_326_watch_events_for_a_non_reading_guest_are_bounded) {
  SimHost host({"-w", "watch-event=1"});
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  RawClient dom0(host.socket());
  ASSERT_TRUE(is_type_ok(dom0.mkdir("/pub")));
  ASSERT_TRUE(is_type_ok(dom0.set_perms("/pub", {"n0", "r5"})));
  // A 3.5 KB token makes every event big; the guest never reads them.
  ASSERT_EQ(g.outcome(ty(MsgType::XS_WATCH),
                      "/pub" + std::string(1, '\0') + std::string(3500, 't') +
                          '\0'),
            "XS_WATCH");
  long before = rss(host);
  // 8000 distinct changes = 28 MB of events if they were all kept.
  std::string batch;
  for (int i = 0; i < 8000; ++i) {
    batch += wire::encode_message(ty(MsgType::XS_WRITE), i + 1, 0,
                                  "/pub/n" + std::to_string(i) + '\0' + "v");
    if (batch.size() > 32768 || i == 7999) {
      dom0.send_bytes(batch);
      batch.clear();
    }
  }
  for (int i = 0; i < 8000; ++i) ASSERT_TRUE(dom0.recv_reply()) << i;
  long growth = rss(host) - before;
  std::cout << "[ rss growth ] " << growth << " KiB for 28 MB of events"
            << std::endl;
  EXPECT_LT(growth, kGrowthBoundKib);
  // Another guest and dom0 are served.
  ASSERT_TRUE(is_type_ok(host.introduce(6)));
  SimGuest h(host, 6);
  EXPECT_EQ(h.outcome(ty(MsgType::XS_READ), with_nul("/local/domain/6")),
            "XS_READ");
  EXPECT_TRUE(is_type_ok(dom0.read("/pub/n7999")));
  report_peak_rss(host.daemon(), "xsa_326 unread watch events");
}

TEST(Security, xsa_330_reset_watches_frees_the_watches) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 128; ++i)
      ASSERT_EQ(g.outcome(ty(MsgType::XS_WATCH),
                          "/local/domain/5/w" + std::to_string(i) + '\0' +
                              "r" + std::to_string(round) + '\0'),
                "XS_WATCH")
          << round << " " << i;
    ASSERT_EQ(g.outcome(ty(MsgType::XS_RESET_WATCHES), ""),
              "XS_RESET_WATCHES");
    (void)g.events_before_barrier();  // the watches' first events
  }
  // No watch left: a change fires nothing.
  ASSERT_EQ(g.outcome(ty(MsgType::XS_WRITE),
                      std::string("/local/domain/5/w3\0v", 20)),
            "XS_WRITE");
  EXPECT_TRUE(no_event_before_barrier(g));
}

TEST(Security, xsa_352_unprivileged_guest_cannot_change_a_node_owner) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  ASSERT_TRUE(is_type_ok(host.introduce(6)));
  SimGuest g5(host, 5), g6(host, 6);
  RawClient dom0(host.socket());
  ASSERT_EQ(g5.outcome(ty(MsgType::XS_WRITE),
                       std::string("/local/domain/5/x\0v", 19)),
            "XS_WRITE");
  EXPECT_EQ(g5.outcome(ty(MsgType::XS_SET_PERMS),
                       nul_join({"/local/domain/5/x", "n6"})),
            "EPERM");
  EXPECT_EQ(g5.outcome(ty(MsgType::XS_SET_PERMS),
                       nul_join({"/local/domain/5/x", "b0", "r6"})),
            "EPERM");
  // Another domain, even with write access, is not the owner.
  ASSERT_TRUE(is_type_ok(
      dom0.set_perms("/local/domain/5/x", {"n5", "b6"})));
  EXPECT_EQ(g6.outcome(ty(MsgType::XS_SET_PERMS),
                       nul_join({"/local/domain/5/x", "n6"})),
            "EACCES");
  EXPECT_EQ(nul_split(dom0.get_perms("/local/domain/5/x").payload),
            (std::vector<std::string>{"n5", "b6"}));
  // The owner may still change the other entries.
  EXPECT_EQ(g5.outcome(ty(MsgType::XS_SET_PERMS),
                       nul_join({"/local/domain/5/x", "n5", "r6"})),
            "XS_SET_PERMS");
}

TEST(Security, xsa_353_root_node_permissions_are_checked) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  RawClient dom0(host.socket());
  std::string before = "";
  std::vector<std::string> top_before = nul_split(dom0.directory("/").payload);
  EXPECT_EQ(g.outcome(ty(MsgType::XS_WRITE), std::string("/evil\0v", 7)),
            "EACCES");
  EXPECT_EQ(g.outcome(ty(MsgType::XS_MKDIR), with_nul("/evil")), "EACCES");
  EXPECT_EQ(g.outcome(ty(MsgType::XS_WRITE), std::string("/\0v", 3)),
            "EACCES");
  EXPECT_EQ(g.outcome(ty(MsgType::XS_SET_PERMS), nul_join({"/", "n5"})),
            "EACCES");
  EXPECT_EQ(g.outcome(ty(MsgType::XS_SET_PERMS), nul_join({"/", "b5"})),
            "EACCES");
  std::string rm = g.outcome(ty(MsgType::XS_RM), with_nul("/"));
  EXPECT_TRUE(rm == "EACCES" || rm == "EINVAL") << rm;
  EXPECT_EQ(g.outcome(ty(MsgType::XS_RM), with_nul("/tool")), "EACCES");
  EXPECT_EQ(nul_split(dom0.directory("/").payload), top_before);
  EXPECT_EQ(nul_split(dom0.get_perms("/").payload),
            std::vector<std::string>{"n0"});
}

TEST(Security, xsa_414_failed_node_creation_leaves_the_store_intact) {
  SimHost host({"-Q", "nodes=10"});
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  RawClient dom0(host.socket());
  ASSERT_TRUE(is_type_ok(dom0.watch("/local/domain/5", "w")));
  ASSERT_EQ(g.outcome(ty(MsgType::XS_WATCH),
                      std::string("/local/domain/5\0g\0", 18)),
            "XS_WATCH");
  auto [made, why] = fill_nodes(g, "/local/domain/5", 100);
  ASSERT_EQ(why, "ENOSPC");
  std::vector<std::string> before;
  collect(dom0, "/local/domain/5", before);
  // Many creations on the error path: deep writes, mkdirs, in and out of
  // transactions.
  for (int i = 0; i < 100; ++i) {
    std::string p = "/local/domain/5/x" + std::to_string(i) + "/y/z";
    EXPECT_EQ(g.outcome(ty(MsgType::XS_WRITE), p + '\0' + "v"), "ENOSPC");
    EXPECT_EQ(g.outcome(ty(MsgType::XS_MKDIR), with_nul(p)), "ENOSPC");
  }
  std::vector<std::string> after;
  collect(dom0, "/local/domain/5", after);
  EXPECT_EQ(after, before);
  EXPECT_TRUE(host.daemon().alive());
  EXPECT_EQ(g.outcome(ty(MsgType::XS_WRITE),
                      std::string("/local/domain/5/n0\0w", 20)),
            "XS_WRITE");
}

TEST(Security, xsa_415_failed_transaction_writes_leave_no_orphans) {
  SimHost host({"-Q", "nodes=10"});
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  RawClient dom0(host.socket());
  for (int round = 0; round < 3; ++round) {
    std::uint32_t tx = g.start_transaction();
    ASSERT_NE(tx, 0u);
    std::string p = "/local/domain/5/r" + std::to_string(round);
    std::vector<std::string> chain;
    for (int i = 0; i < 14; ++i) {
      p += "/c" + std::to_string(i);
      chain.push_back(p);
      g.outcome(ty(MsgType::XS_WRITE), p + '\0' + "v", tx);
    }
    g.outcome(ty(MsgType::XS_TRANSACTION_END), with_nul("T"), tx);
    // Whatever was committed forms a tree: every node that exists has its
    // parent, and its parent lists it.
    for (std::size_t i = 1; i < chain.size(); ++i) {
      if (!is_type_ok(dom0.read(chain[i]))) continue;
      ASSERT_TRUE(is_type_ok(dom0.read(chain[i - 1])))
          << "orphan: " << chain[i];
      auto kids = nul_split(dom0.directory(chain[i - 1]).payload);
      std::string name = chain[i].substr(chain[i].rfind('/') + 1);
      EXPECT_NE(std::find(kids.begin(), kids.end(), name), kids.end())
          << chain[i] << " not listed by its parent";
    }
  }
  std::vector<std::string> nodes;
  collect(dom0, "/local/domain/5", nodes);
  EXPECT_LE(nodes.size(), 10u);
}

TEST(Security, xsa_416_unread_big_replies_do_not_pin_memory) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  RawClient dom0(host.socket());
  ASSERT_TRUE(is_type_ok(dom0.mkdir("/dir")));
  ASSERT_TRUE(is_type_ok(dom0.set_perms("/dir", {"n0", "r5"})));
  for (int i = 0; i < 300; ++i)  // a ~3.9 KB listing
    ASSERT_TRUE(is_type_ok(dom0.mkdir("/dir/child-" + std::to_string(100000 + i))));
  SimGuest g(host, 5);
  long before = rss(host);
  for (int i = 0; i < 1500; ++i)
    g.send(ty(MsgType::XS_DIRECTORY), with_nul("/dir"));
  for (int i = 0; i < 200; ++i) {
    g.ring().flush();
    std::this_thread::sleep_for(milliseconds(1));
  }
  long growth = rss(host) - before;
  EXPECT_LT(growth, 4 * 1024) << "KiB held for replies the guest never read";
  EXPECT_TRUE(is_type_ok(dom0.write("/dom0/ok", "yes")));
  for (std::uint32_t id = 1; id <= 1500; ++id) {
    auto m = g.await(id);
    ASSERT_TRUE(m) << id;
    ASSERT_EQ(m->hdr.type, ty(MsgType::XS_DIRECTORY)) << error_of(*m);
  }
  report_peak_rss(host.daemon(), "xsa_416 unread replies");
}

TEST(Security, xsa_418_deep_path_created_removed_and_checked) {
  SimHost host;
  RawClient dom0(host.socket());
  RawClient watcher(host.socket());
  std::string deep;
  for (int i = 0; i < 1500; ++i) deep += "/a";
  ASSERT_EQ(deep.size(), 3000u);
  ASSERT_TRUE(is_type_ok(watcher.watch("/a", "top")));
  ASSERT_TRUE(is_type_ok(watcher.watch(deep, "bottom")));
  (void)watcher.events_before_barrier();  // the watches' first events
  ASSERT_TRUE(is_type_ok(dom0.write(deep, "bottom"))) << "1500 levels";
  EXPECT_EQ(dom0.read(deep).payload, "bottom");
  EXPECT_TRUE(is_type_ok(dom0.get_perms(deep)));
  EXPECT_TRUE(is_type_ok(
      dom0.request(ty(MsgType::XS_CONTROL), with_nul("check"))));
  // The same inside a transaction.
  std::uint32_t tx = dom0.start_transaction();
  ASSERT_NE(tx, 0u);
  ASSERT_TRUE(is_type_ok(dom0.write(deep.substr(0, 2998) + "/b", "x", tx)));
  ASSERT_TRUE(is_type_ok(dom0.rm("/a/a/a", tx)));
  ASSERT_TRUE(is_type_ok(dom0.end_transaction(tx, true)));
  ASSERT_TRUE(is_type_ok(dom0.write(deep, "again")));
  // Remove all 1500 levels at once.
  ASSERT_TRUE(is_type_ok(dom0.rm("/a")));
  EXPECT_TRUE(host.daemon().alive());
  EXPECT_TRUE(dom0.read("/a").is_error("ENOENT"));
  EXPECT_TRUE(dom0.read(deep).is_error("ENOENT"));
  EXPECT_TRUE(is_type_ok(
      dom0.request(ty(MsgType::XS_CONTROL), with_nul("check"))));
  std::vector<std::string> paths;
  for (const Msg& ev : watcher.events_before_barrier())
    paths.push_back(ev.payload.substr(0, ev.payload.find('\0')));
  EXPECT_NE(std::find(paths.begin(), paths.end(), deep), paths.end());
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/a"), paths.end());
}

TEST(Security, xsa_421_node_created_and_deleted_in_one_transaction_is_accounted) {
  SimHost host({"-Q", "nodes=12"});
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  ASSERT_TRUE(is_type_ok(host.introduce(6)));
  SimGuest g(host, 5);
  RawClient dom0(host.socket());
  for (int i = 0; i < 40; ++i) {
    std::uint32_t tx = g.start_transaction();
    ASSERT_NE(tx, 0u);
    std::string p = "/local/domain/5/x" + std::to_string(i);
    ASSERT_EQ(g.outcome(ty(MsgType::XS_WRITE), p + "/y" + '\0' + "v", tx),
              "XS_WRITE");
    ASSERT_EQ(g.outcome(ty(MsgType::XS_WRITE), p + "/z" + '\0' + "v", tx),
              "XS_WRITE");
    ASSERT_EQ(g.outcome(ty(MsgType::XS_RM), with_nul(p), tx), "XS_RM");
    std::string end = g.outcome(ty(MsgType::XS_TRANSACTION_END),
                                with_nul("T"), tx);
    ASSERT_EQ(end, "XS_TRANSACTION_END") << i;
  }
  std::vector<std::string> nodes;
  collect(dom0, "/local/domain/5", nodes);
  EXPECT_EQ(nodes.size(), 1u);
  // The count is exact: as many new nodes as a fresh domain may create.
  auto [made, why] = fill_nodes(g, "/local/domain/5", 100);
  EXPECT_EQ(why, "ENOSPC");
  SimGuest fresh(host, 6);
  auto [baseline, why6] = fill_nodes(fresh, "/local/domain/6", 100);
  EXPECT_EQ(made, baseline);
}

}  // namespace
}  // namespace cxs::test

namespace cxs::test {
namespace {

// The soft memory quota refuses nothing; crossing it is logged once per
// excursion above it.
TEST(Security, soft_memory_quota_warns_once_and_refuses_nothing) {
  SimHost host({"-q", "memory=3000"});
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  std::string value(1500, 'v');
  auto write = [&](const std::string& name) {
    return g.outcome(ty(MsgType::XS_WRITE),
                     "/local/domain/5/" + name + '\0' + value);
  };
  EXPECT_EQ(write("a"), "XS_WRITE");
  EXPECT_EQ(write("b"), "XS_WRITE");  // over 3000 bytes: warned
  EXPECT_EQ(write("c"), "XS_WRITE");  // still over: no second warning
  auto warnings = [&] {
    std::string log = host.daemon().log();
    std::size_t n = 0;
    for (std::size_t at = log.find("soft memory"); at != std::string::npos;
         at = log.find("soft memory", at + 1))
      ++n;
    return n;
  };
  EXPECT_TRUE(eventually([&] { return warnings() == 1; }));
  EXPECT_EQ(g.outcome(ty(MsgType::XS_RM), with_nul("/local/domain/5/b")), "XS_RM");
  EXPECT_EQ(g.outcome(ty(MsgType::XS_RM), with_nul("/local/domain/5/c")), "XS_RM");
  EXPECT_EQ(write("d"), "XS_WRITE");  // over again: warned again
  EXPECT_TRUE(eventually([&] { return warnings() == 2; }));
}

}  // namespace
}  // namespace cxs::test

// Advisories about domains coming and going: teardown races (233), stale
// permissions of a reused domid (322, 417), cleanup after a ring fault (325),
// nodes of a dead guest (419), XS_RELEASE of a live domain (425), quota use
// counts across destruction (483), and a commit after outside removal (440).
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "security_helpers.h"

namespace cxs::test {
namespace {

using wire::MsgType;

// Events queued for `c` so far whose path starts with `prefix` (call it
// once the daemon is known to have done what could fire them).
std::vector<std::string> events_with_prefix(RawClient& c,
                                            const std::string& prefix) {
  std::vector<std::string> out;
  for (const Msg& ev : c.events_before_barrier()) {
    std::string path = ev.payload.substr(0, ev.payload.find('\0'));
    if (path.rfind(prefix, 0) == 0) out.push_back(path);
  }
  return out;
}

TEST(Security, xsa_233_simultaneous_teardown_of_domain_and_stubdom_is_safe) {
  SimHost host;
  RawClient dom0(host.socket());
  ASSERT_TRUE(is_type_ok(dom0.watch("@releaseDomain", "rel")));
  ASSERT_TRUE(dom0.recv_event());
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  ASSERT_TRUE(is_type_ok(host.introduce(6)));  // 6 is 5's stub domain
  ASSERT_TRUE(is_type_ok(
      dom0.request(ty(MsgType::XS_SET_TARGET), nul_join({"6", "5"}))));
  {
    SimGuest g5(host, 5), g6(host, 6);
    for (SimGuest* g : {&g5, &g6}) {
      std::string home = "/local/domain/" + std::to_string(g->dom());
      ASSERT_EQ(g->outcome(ty(MsgType::XS_WATCH),
                           home + '\0' + "t" + '\0'),
                "XS_WATCH");
      ASSERT_NE(g->start_transaction(), 0u);
      // Requests still in the ring when the domains die.
      for (int i = 0; i < 20; ++i)
        g->send(ty(MsgType::XS_WRITE),
                home + "/p" + std::to_string(i) + '\0' + "v");
      g->ring().flush();
    }
    // Both die in one hypervisor update; the toolstack releases 5 as well.
    host.set_dying(5);
    host.set_dying(6);
    dom0.send(ty(MsgType::XS_RELEASE), with_nul("5"));
    host.raise(1);
    dom0.send(ty(MsgType::XS_RELEASE), with_nul("6"));
    host.raise(1);
    host.raise(105);
    host.raise(106);
    // Each RELEASE is answered: OK, or ENOENT if the death came first.
    for (int i = 0; i < 2; ++i) {
      auto r = dom0.recv_reply();
      ASSERT_TRUE(r) << i;
      EXPECT_TRUE(r->type == ty(MsgType::XS_RELEASE) || r->is_error("ENOENT"))
          << r->shown();
    }
  }
  EXPECT_TRUE(released(dom0, 5));
  EXPECT_TRUE(released(dom0, 6));
  EXPECT_TRUE(host.daemon().alive());
  // @releaseDomain fired (once per domain at most).
  auto rel = events_with_prefix(dom0, "@releaseDomain");
  EXPECT_GE(rel.size(), 1u);
  EXPECT_LE(rel.size(), 2u);
  EXPECT_TRUE(dom0.read("/local/domain/5").is_error("ENOENT"))
      << dom0.directory("/local/domain/5").shown() << " perms "
      << dom0.get_perms("/local/domain/5").shown();
  EXPECT_TRUE(dom0.read("/local/domain/6").is_error("ENOENT"))
      << dom0.directory("/local/domain/6").shown() << " perms "
      << dom0.get_perms("/local/domain/6").shown();
  // The host goes on: a new domain with a reused id is served.
  host.set_gone(5);
  host.set_gone(6);
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest again(host, 5);
  EXPECT_EQ(again.outcome(ty(MsgType::XS_READ), with_nul("/local/domain/5")),
            "XS_READ");
}

TEST(Security, xsa_322_new_domain_does_not_inherit_old_domid_permissions) {
  SimHost host;
  RawClient dom0(host.socket());
  host.set_alive(5);  // the toolstack grants to a domain it has created
  ASSERT_TRUE(is_type_ok(dom0.write("/vm/secret", "s")));
  ASSERT_TRUE(is_type_ok(dom0.set_perms("/vm/secret", {"n0", "r5"})));
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  {
    SimGuest g(host, 5);
    ASSERT_EQ(g.outcome(ty(MsgType::XS_READ), with_nul("/vm/secret")),
              "XS_READ");
  }
  host.destroy(5);
  ASSERT_TRUE(released(dom0, 5));
  // The entry naming the dead domain is gone...
  EXPECT_EQ(nul_split(dom0.get_perms("/vm/secret").payload),
            std::vector<std::string>{"n0"});
  // ...so the next domain 5 cannot read the node.
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  EXPECT_EQ(g.outcome(ty(MsgType::XS_READ), with_nul("/vm/secret")),
            "EACCES");
}

// A grant naming a domain that does not exist yet is kept (GET_PERMS lists
// it) but grants nothing to the domain later created with that id, as in C;
// granted again once the domain exists, it applies.
TEST(Security, xsa_322_grant_to_a_domain_not_yet_created_is_ignored) {
  SimHost host;
  RawClient dom0(host.socket());
  ASSERT_TRUE(is_type_ok(dom0.write("/vm/early", "e")));
  ASSERT_TRUE(is_type_ok(dom0.set_perms("/vm/early", {"n0", "r5"})));
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  EXPECT_EQ(g.outcome(ty(MsgType::XS_READ), with_nul("/vm/early")), "EACCES");
  EXPECT_EQ(nul_split(dom0.get_perms("/vm/early").payload),
            (std::vector<std::string>{"n0", "r5"}));
  // A child copies the list, the ignored entry with it.
  ASSERT_TRUE(is_type_ok(dom0.write("/vm/early/child", "c")));
  EXPECT_EQ(g.outcome(ty(MsgType::XS_READ), with_nul("/vm/early/child")),
            "EACCES");
  ASSERT_TRUE(is_type_ok(dom0.set_perms("/vm/early", {"n0", "r5"})));
  EXPECT_EQ(g.read("/vm/early"), "e");
}

TEST(Security, xsa_417_grant_to_a_domain_that_died_unintroduced_is_not_inherited) {
  SimHost host;
  RawClient dom0(host.socket());
  // Domain 7 exists in the hypervisor; the toolstack prepares nodes for it
  // but 7 dies before it is ever introduced.
  host.set_alive(7);
  ASSERT_TRUE(is_type_ok(dom0.write("/vm/for7", "meant for the old 7")));
  ASSERT_TRUE(is_type_ok(dom0.set_perms("/vm/for7", {"n0", "r7"})));
  host.destroy(7);
  // The daemon takes the death (a VIRQ, answered by no reply) when it
  // forgets what 7 was granted.
  ASSERT_TRUE(eventually(
      [&] {
        return nul_split(dom0.get_perms("/vm/for7").payload) !=
               std::vector<std::string>{"n0", "r7"};
      },
      std::chrono::seconds(10)))
      << "the daemon never took domain 7's death";
  // Another writer touches the node while no domain 7 exists.
  ASSERT_TRUE(is_type_ok(dom0.write("/vm/for7", "still secret")));
  // A new domain 7 is created and introduced.
  ASSERT_TRUE(is_type_ok(host.introduce(7)));
  SimGuest g(host, 7);
  EXPECT_EQ(g.outcome(ty(MsgType::XS_READ), with_nul("/vm/for7")), "EACCES")
      << "perms now: " << dom0.get_perms("/vm/for7").shown();
}

TEST(Security, xsa_325_ring_fault_does_not_disturb_domain_cleanup) {
  SimHost host;
  RawClient dom0(host.socket());
  ASSERT_TRUE(is_type_ok(dom0.watch("@releaseDomain", "rel")));
  ASSERT_TRUE(dom0.recv_event());
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  ASSERT_EQ(g.outcome(ty(MsgType::XS_WRITE),
                      std::string("/local/domain/5/x\0v", 19)),
            "XS_WRITE");
  wire::Header hdr{ty(MsgType::XS_READ), 1, 0, 5000};
  char raw[kHeaderSize];
  wire::encode_header(hdr, raw);
  g.ring().send_bytes(std::string_view(raw, sizeof raw));
  ASSERT_TRUE(eventually([&] { return g.ring().error() != 0; }));
  EXPECT_EQ(g.ring().error(), wire::kErrorProto);
  // The domain stays known until it dies...
  EXPECT_TRUE(introduced(dom0, 5));
  host.kill(5);
  // ...and then it is cleaned up completely.
  EXPECT_TRUE(released(dom0, 5));
  auto rel = events_with_prefix(dom0, "@releaseDomain");
  EXPECT_EQ(rel.size(), 1u);
  EXPECT_TRUE(dom0.read("/local/domain/5/x").is_error("ENOENT"));
  EXPECT_TRUE(host.daemon().alive());
}

TEST(Security, xsa_419_nodes_a_dead_guest_wrote_in_another_home_are_removed) {
  SimHost host({"-Q", "nodes=30"});
  RawClient dom0(host.socket());
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  ASSERT_TRUE(is_type_ok(host.introduce(6)));
  SimGuest g5(host, 5);
  ASSERT_EQ(g5.outcome(ty(MsgType::XS_MKDIR), with_nul("/local/domain/5/share")),
            "XS_MKDIR");
  ASSERT_EQ(g5.outcome(ty(MsgType::XS_SET_PERMS),
                       nul_join({"/local/domain/5/share", "n5", "b6"})),
            "XS_SET_PERMS");
  {
    SimGuest g6(host, 6);
    auto [made, why] = fill_nodes(g6, "/local/domain/5/share", 100);
    EXPECT_EQ(why, "ENOSPC");
    EXPECT_GE(made, 20);
    EXPECT_LE(made, 30);
  }
  host.destroy(6);
  ASSERT_TRUE(released(dom0, 6));
  // Not handed to dom0 (which has no quota): gone.
  EXPECT_EQ(dom0.directory("/local/domain/5/share").payload, "");
  EXPECT_TRUE(dom0.read("/local/domain/5/share/n0").is_error("ENOENT"));
  EXPECT_TRUE(is_type_ok(dom0.read("/local/domain/5/share")));
  // The grant to the dead domain went with it (XSA-322).
  EXPECT_EQ(nul_split(dom0.get_perms("/local/domain/5/share").payload),
            std::vector<std::string>{"n5"});
  // A new domain 6, granted again once it exists, is still bounded by its
  // own quota.
  ASSERT_TRUE(is_type_ok(host.introduce(6)));
  ASSERT_EQ(g5.outcome(ty(MsgType::XS_SET_PERMS),
                       nul_join({"/local/domain/5/share", "n5", "b6"})),
            "XS_SET_PERMS");
  SimGuest g6(host, 6);
  auto [made, why] = fill_nodes(g6, "/local/domain/5/share", 100);
  EXPECT_EQ(why, "ENOSPC");
  EXPECT_LE(made, 30);
}

TEST(Security, xsa_425_release_of_a_live_domain_and_reintroduction_is_safe) {
  SimHost host;
  RawClient dom0(host.socket());
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  {
    SimGuest g(host, 5);
    ASSERT_EQ(g.outcome(ty(MsgType::XS_WATCH),
                        std::string("/local/domain/5\0t\0", 18)),
              "XS_WATCH");
    ASSERT_NE(g.start_transaction(), 0u);
    // A guest may not release anybody.
    EXPECT_EQ(g.outcome(ty(MsgType::XS_RELEASE), with_nul("5")), "EACCES");
    // Soft reset: the toolstack releases the (still running) domain while
    // requests are in flight.
    for (int i = 0; i < 10; ++i)
      g.send(ty(MsgType::XS_WRITE),
             "/local/domain/5/q" + std::to_string(i) + '\0' + "v");
    g.ring().flush();
    EXPECT_TRUE(is_type_ok(
        dom0.request(ty(MsgType::XS_RELEASE), with_nul("5"))));
    host.raise(105);
  }
  EXPECT_TRUE(dom0.request(ty(MsgType::XS_RELEASE), with_nul("5"))
                  .is_error("ENOENT"));
  EXPECT_FALSE(introduced(dom0, 5));
  for (int round = 0; round < 3; ++round) {
    ASSERT_TRUE(is_type_ok(host.introduce(5))) << round;
    SimGuest g(host, 5);
    EXPECT_EQ(g.outcome(ty(MsgType::XS_WRITE),
                        std::string("/local/domain/5/y\0v", 19)),
              "XS_WRITE");
    EXPECT_TRUE(is_type_ok(
        dom0.request(ty(MsgType::XS_RELEASE), with_nul("5"))));
  }
  EXPECT_TRUE(host.daemon().alive());
  EXPECT_TRUE(is_type_ok(dom0.write("/still", "here")));
}

TEST(Security, xsa_483_quota_use_counts_do_not_survive_domain_destruction) {
  SimHost host({"-Q", "nodes=25"});
  RawClient dom0(host.socket());
  int first = 0;
  for (int life = 0; life < 3; ++life) {
    ASSERT_TRUE(is_type_ok(host.introduce(5))) << life;
    SimGuest g(host, 5);
    auto [made, why] = fill_nodes(g, "/local/domain/5", 100);
    EXPECT_EQ(why, "ENOSPC") << life;
    if (life == 0)
      first = made;
    else
      EXPECT_EQ(made, first) << "life " << life << " of domain 5";
    host.destroy(5);
    ASSERT_TRUE(released(dom0, 5));
  }
  EXPECT_GE(first, 20);
}

TEST(Security, xsa_440_commit_after_outside_removal_is_safe) {
  SimHost host({"-Q", "nodes=20"});
  RawClient dom0(host.socket());
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  ASSERT_EQ(g.outcome(ty(MsgType::XS_WRITE),
                      std::string("/local/domain/5/a/b/c\0v", 23)),
            "XS_WRITE");
  for (int round = 0; round < 5; ++round) {
    std::uint32_t tx = g.start_transaction();
    ASSERT_NE(tx, 0u);
    EXPECT_EQ(g.outcome(ty(MsgType::XS_WRITE),
                        std::string("/local/domain/5/a/b/c/d\0v", 25), tx),
              "XS_WRITE");
    EXPECT_EQ(g.outcome(ty(MsgType::XS_WRITE),
                        std::string("/local/domain/5/a/b\0w", 21), tx),
              "XS_WRITE");
    // Outside the transaction the subtree goes away.
    ASSERT_TRUE(is_type_ok(dom0.rm("/local/domain/5/a")));
    std::string end =
        g.outcome(ty(MsgType::XS_TRANSACTION_END), with_nul("T"), tx);
    EXPECT_TRUE(end == "EAGAIN" || end == "XS_TRANSACTION_END") << end;
    ASSERT_TRUE(host.daemon().alive()) << round;
    if (dom0.read("/local/domain/5/a/b/c/d").type != ty(MsgType::XS_ERROR)) {
      // A commit that went through left a consistent tree.
      EXPECT_TRUE(is_type_ok(dom0.read("/local/domain/5/a/b/c")));
    }
    dom0.rm("/local/domain/5/a");
    ASSERT_EQ(g.outcome(ty(MsgType::XS_WRITE),
                        std::string("/local/domain/5/a/b/c\0v", 23)),
              "XS_WRITE");
  }
  dom0.rm("/local/domain/5/a");
  // The accounting is exact: the guest owns only its home now, so it can
  // create exactly as many nodes as a fresh domain.
  auto [made, why] = fill_nodes(g, "/local/domain/5", 100);
  EXPECT_EQ(why, "ENOSPC");
  ASSERT_TRUE(is_type_ok(host.introduce(6)));
  SimGuest fresh(host, 6);
  auto [baseline, why6] = fill_nodes(fresh, "/local/domain/6", 100);
  EXPECT_EQ(why6, "ENOSPC");
  EXPECT_EQ(made, baseline);
}

}  // namespace
}  // namespace cxs::test

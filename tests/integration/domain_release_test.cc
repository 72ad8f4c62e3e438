// What a dead domain leaves behind, end to end (cxenstored --sim-xen, the
// domain killed through DIR/domains and VIRQ_DOM_EXC): its connection goes
// with its watches and transactions, the nodes it owns go with their
// subtrees (or, with -K, pass to the privileged domain, content kept), the
// permission entries naming it are dropped, and @releaseDomain fires once.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "event_assertions.h"
#include "sim_host.h"
#include "test_util.h"

namespace cxs::test {
namespace {

using wire::MsgType;

// A number from CONTROL memreport ("watches: 3\n..."), -1 if missing.
long memreport_field(RawClient& dom0, const std::string& name) {
  Msg m = dom0.request(ty(MsgType::XS_CONTROL), with_nul("memreport"));
  std::string key = "\n" + name + ": ";
  std::size_t at = m.payload.find(key);
  if (at == std::string::npos) return -1;
  return std::atol(m.payload.c_str() + at + key.size());
}

std::string introduced(RawClient& dom0, std::uint32_t dom) {
  return dom0
      .request(ty(MsgType::XS_IS_DOMAIN_INTRODUCED),
               with_nul(std::to_string(dom)))
      .shown();
}

std::vector<std::string> perms_of(RawClient& dom0, const std::string& path) {
  return nul_split(dom0.get_perms(path).payload);
}

// dom0 watching @releaseDomain, its initial event taken.
void watch_release(RawClient& dom0) {
  ASSERT_TRUE(is_type_ok(dom0.watch("@releaseDomain", "rel")));
  auto initial = dom0.recv_event();
  ASSERT_TRUE(initial);
  ASSERT_EQ(initial->shown(), "@releaseDomain|rel|");
}

TEST(DomainRelease, DyingThenGoneReleasesOnceDroppingWatchesAndTransactions) {
  SimHost host;
  RawClient dom0(host.socket());
  watch_release(dom0);
  long watches = memreport_field(dom0, "watches");
  long transactions = memreport_field(dom0, "transactions");
  ASSERT_GE(watches, 1);
  ASSERT_GE(transactions, 0);
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  std::uint32_t old_tx = 0;
  {
    SimGuest g(host, 5);
    ASSERT_EQ(g.outcome(MsgType::XS_WATCH, nul_join({"data", "a"})),
              "XS_WATCH");
    ASSERT_EQ(g.outcome(MsgType::XS_WATCH, nul_join({"/", "b"})), "XS_WATCH");
    old_tx = g.start_transaction();
    ASSERT_NE(old_tx, 0u);
    ASSERT_EQ(g.write("data/in-tx", "1", old_tx), "XS_WRITE");
    ASSERT_NE(g.start_transaction(), 0u);
  }
  ASSERT_EQ(memreport_field(dom0, "watches"), watches + 2);
  ASSERT_EQ(memreport_field(dom0, "transactions"), transactions + 2);

  host.kill(5);  // dying
  auto ev = dom0.recv_event();
  ASSERT_TRUE(ev) << "no @releaseDomain for the dying domain";
  EXPECT_EQ(ev->shown(), "@releaseDomain|rel|");
  EXPECT_EQ(introduced(dom0, 5), "F|");
  EXPECT_EQ(memreport_field(dom0, "watches"), watches);
  EXPECT_EQ(memreport_field(dom0, "transactions"), transactions);

  // Then gone: already released, nothing more. Domain 6 goes with it, in
  // the same VIRQ, so that its release says the daemon has looked.
  ASSERT_TRUE(is_type_ok(host.introduce(6)));
  host.set_gone(5);
  host.destroy(6);
  ev = dom0.recv_event();
  ASSERT_TRUE(ev) << "no @releaseDomain for domain 6";
  EXPECT_EQ(ev->shown(), "@releaseDomain|rel|");
  EXPECT_TRUE(no_event_before_barrier(dom0)) << "domain 5 released twice";

  // A new domain 5 starts with nothing of the old one's.
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest again(host, 5);
  EXPECT_EQ(again.outcome(MsgType::XS_TRANSACTION_END, with_nul("T"), old_tx),
            "ENOENT");
  ASSERT_TRUE(is_type_ok(dom0.write("/local/domain/5/data/new", "x")));
  EXPECT_EQ(again.read("data/new"), "x");
  EXPECT_TRUE(no_event_before_barrier(again));
  EXPECT_EQ(memreport_field(dom0, "watches"), watches);
}

// Domain 5 writes in its home and, granted, below /shared; dom0 grants it
// /vm/x and owns a node inside 5's subtree of /shared.
void make_nodes_of_dom5(SimHost& host, RawClient& dom0) {
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  ASSERT_TRUE(is_type_ok(dom0.mkdir("/shared")));
  ASSERT_TRUE(is_type_ok(dom0.set_perms("/shared", {"n0", "b5"})));
  ASSERT_TRUE(is_type_ok(dom0.write("/shared/dom0s", "d")));
  ASSERT_TRUE(is_type_ok(dom0.write("/vm/x", "v")));
  ASSERT_TRUE(is_type_ok(dom0.set_perms("/vm/x", {"n0", "r5"})));
  SimGuest g(host, 5);
  ASSERT_EQ(g.write("data/a/b/c", "deep"), "XS_WRITE");
  ASSERT_EQ(g.write("/shared/from5/sub/leaf", "l"), "XS_WRITE");
  ASSERT_EQ(perms_of(dom0, "/shared/from5")[0], "n5");
  ASSERT_TRUE(is_type_ok(dom0.write("/shared/from5/sub/dom0s", "k")));
  ASSERT_TRUE(is_type_ok(dom0.set_perms("/shared/from5/sub/dom0s", {"n0"})));
}

void kill_and_wait(SimHost& host, RawClient& dom0, std::uint32_t dom) {
  watch_release(dom0);
  host.kill(dom);
  ASSERT_TRUE(dom0.recv_event()) << "no @releaseDomain";
  ASSERT_EQ(introduced(dom0, dom), "F|");
}

TEST(DomainRelease, NodesADeadDomainOwnsGoWithTheirSubtrees) {
  SimHost host;
  RawClient dom0(host.socket());
  make_nodes_of_dom5(host, dom0);
  kill_and_wait(host, dom0, 5);
  EXPECT_TRUE(dom0.read("/local/domain/5").is_error("ENOENT"));
  EXPECT_TRUE(dom0.read("/shared/from5").is_error("ENOENT"));
  // dom0's node went with the subtree it was in.
  EXPECT_TRUE(dom0.read("/shared/from5/sub/dom0s").is_error("ENOENT"));
  EXPECT_EQ(dom0.read("/shared/dom0s").payload, "d");
  EXPECT_EQ(dom0.directory("/shared").shown(), "dom0s|");
}

TEST(DomainRelease, PermissionEntriesNamingADeadDomainAreRemoved) {
  SimHost host;
  RawClient dom0(host.socket());
  make_nodes_of_dom5(host, dom0);
  ASSERT_EQ(perms_of(dom0, "/shared/dom0s"),
            (std::vector<std::string>{"n0", "b5"}));
  kill_and_wait(host, dom0, 5);
  EXPECT_EQ(perms_of(dom0, "/vm/x"), std::vector<std::string>{"n0"});
  EXPECT_EQ(perms_of(dom0, "/shared"), std::vector<std::string>{"n0"});
  EXPECT_EQ(perms_of(dom0, "/shared/dom0s"), std::vector<std::string>{"n0"});
}

// Issue 17, item 4 (kept difference, docs/compat.md): RELEASE drops the
// entries naming the domain (C 4.17 keeps listing them); either way a
// domain introduced again with the same id (soft reset) gets no access
// from them, as from C.
TEST(DomainRelease, ReleasedDomainsEntriesGoAndGrantNothingAfterReintroduce) {
  SimHost host;
  RawClient dom0(host.socket());
  ASSERT_EQ(outcome_of(host.introduce(6)), "XS_INTRODUCE");
  ASSERT_TRUE(is_type_ok(dom0.write("/q", "v")));
  ASSERT_TRUE(is_type_ok(dom0.set_perms("/q", {"n0", "r6", "b7"})));
  {
    SimGuest g6(host, 6);
    EXPECT_EQ(g6.read("/q"), "v");
  }
  ASSERT_TRUE(is_type_ok(
      dom0.request(ty(MsgType::XS_RELEASE), with_nul("6"))));
  EXPECT_EQ(perms_of(dom0, "/q"), (std::vector<std::string>{"n0", "b7"}));
  ASSERT_EQ(outcome_of(host.introduce(6)), "XS_INTRODUCE");
  SimGuest again(host, 6);
  EXPECT_EQ(again.read("/q"), "EACCES");
}

// Issue 17, item 7 (kept difference): a domain listed as dying does not
// exist for permission entries (C 4.17 accepts it as an owner).
TEST(DomainRelease, ADyingDomainCannotBeMadeAnOwner) {
  SimHost host;
  RawClient dom0(host.socket());
  ASSERT_TRUE(is_type_ok(dom0.write("/q", "v")));
  host.set_alive(7);
  EXPECT_TRUE(is_type_ok(dom0.set_perms("/q", {"n7"})));
  host.kill(7);
  ASSERT_TRUE(is_type_ok(dom0.write("/r", "v")));
  EXPECT_TRUE(dom0.set_perms("/r", {"n7"}).is_error("ENOENT"));
}

// Found by the differential tester: C 4.17 never releases a domain made its
// own target (a reference loop); cxenstored releases it like any other.
TEST(DomainRelease, ADomainThatIsItsOwnTargetIsReleasedWhenItDies) {
  SimHost host;
  RawClient dom0(host.socket());
  ASSERT_EQ(outcome_of(host.introduce(6)), "XS_INTRODUCE");
  ASSERT_TRUE(is_type_ok(
      dom0.request(ty(MsgType::XS_SET_TARGET), nul_join({"6", "6"}))));
  kill_and_wait(host, dom0, 6);
}

// The same for a domain another one targets (C 4.17 keeps it while the
// other lives).
TEST(DomainRelease, ADomainThatIsATargetIsReleasedWhenItDies) {
  SimHost host;
  RawClient dom0(host.socket());
  ASSERT_EQ(outcome_of(host.introduce(5)), "XS_INTRODUCE");
  ASSERT_EQ(outcome_of(host.introduce(7)), "XS_INTRODUCE");
  ASSERT_TRUE(is_type_ok(
      dom0.request(ty(MsgType::XS_SET_TARGET), nul_join({"7", "5"}))));
  kill_and_wait(host, dom0, 5);
  EXPECT_TRUE(dom0.read("/local/domain/5").is_error("ENOENT"));
  EXPECT_EQ(introduced(dom0, 7), "T|");
}

TEST(DomainRelease, KeepOrphansGivesADeadDomainsNodesToDom0) {
  SimHost host({"-K"});
  RawClient dom0(host.socket());
  make_nodes_of_dom5(host, dom0);
  kill_and_wait(host, dom0, 5);
  EXPECT_EQ(dom0.read("/local/domain/5/data/a/b/c").payload, "deep");
  EXPECT_EQ(dom0.read("/shared/from5/sub/leaf").payload, "l");
  EXPECT_EQ(dom0.read("/shared/from5/sub/dom0s").payload, "k");
  for (const char* path :
       {"/local/domain/5", "/local/domain/5/data/a/b/c", "/shared/from5",
        "/shared/from5/sub/leaf", "/shared/from5/sub/dom0s", "/vm/x"})
    EXPECT_EQ(perms_of(dom0, path), std::vector<std::string>{"n0"}) << path;
}

TEST(DomainRelease, KeepOrphansGivesThemToThePrivDomid) {
  SimHost host({"-K", "--priv-domid", "7"});
  RawClient dom0(host.socket());
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  {
    SimGuest g(host, 5);
    ASSERT_EQ(g.write("data/x", "kept"), "XS_WRITE");
  }
  kill_and_wait(host, dom0, 5);
  EXPECT_EQ(dom0.read("/local/domain/5/data/x").payload, "kept");
  EXPECT_EQ(perms_of(dom0, "/local/domain/5/data/x"),
            std::vector<std::string>{"n7"});
}

}  // namespace
}  // namespace cxs::test

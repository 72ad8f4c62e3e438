// Rings and domains, end to end: the built cxenstored runs with --sim-xen
// and several guest domains talk to it over their rings from this process
// (SimGuest), while dom0 uses the socket. Each test runs one scenario of
// ring_scenarios.h (the same list reference_compare_test.cc runs against the
// C daemon) and checks cxenstored's outcome of every step.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "ring_scenarios.h"

namespace cxs::test {
namespace {

using Expected = std::vector<std::pair<std::string, std::string>>;

Transcript run_named(const std::string &name) {
  for (const auto &s : ring_scenarios())
    if (name == s.name)
      return run_scenario(s, Peer::kCxenstored);
  ADD_FAILURE() << "no scenario " << name;
  return {};
}

void expect_steps(const Transcript &t, const Expected &expected) {
  for (const auto &[step, outcome] : expected)
    EXPECT_EQ(t[step], outcome) << "step: " << step << "\n" << t.text();
}

TEST(RingDomains, RelativePathsResolveToTheGuestsHome) {
  expect_steps(run_named("relative_paths"),
               {{"INTRODUCE 5", "XS_INTRODUCE"},
                {"guest WRITE data/x", "XS_WRITE"},
                {"dom0 READ /local/domain/5/data/x", "hello"},
                {"guest READ data/x", "hello"},
                {"guest READ /local/domain/5/data/x", "hello"},
                {"guest DIRECTORY data", "x|"},
                {"guest GET_DOMAIN_PATH 5", "/local/domain/5|"}});
}

TEST(RingDomains, GuestCannotTouchDom0OnlyNodes) {
  expect_steps(run_named("dom0_only_nodes"),
               {{"guest READ /tool/xenstored", "EACCES"},
                {"guest READ /secret/key", "EACCES"},
                {"guest READ /secret/missing", "EACCES"},
                {"guest DIRECTORY /", "EACCES"},
                {"guest WRITE /secret/key", "EACCES"},
                {"guest RM /secret", "EACCES"},
                {"guest GET_PERMS /secret/key", "EACCES"},
                {"dom0 READ /secret/key", "s3cr3t"}});
}

TEST(RingDomains, WatchesFireAcrossDomains) {
  expect_steps(run_named("watches_across_domains"),
               {{"guest WATCH data g", "OK"},
                {"guest initial event", "data|g|"},
                {"guest event after dom0 write", "data/a|g|"},
                {"dom0 WATCH /local/domain/5/out d", "XS_WATCH"},
                {"dom0 initial event", "/local/domain/5/out|d|"},
                {"guest WRITE out/b", "XS_WRITE"},
                {"dom0 event after guest write", "/local/domain/5/out/b|d|"},
                {"guest events left", "none"}});
}

TEST(RingDomains, GuestWatchingRootSeesOnlyNodesItMayRead) {
  expect_steps(run_named("permission_filtered_events"),
               {{"guest WATCH / all", "OK"},
                {"guest initial event", "/|all|"},
                {"guest events", "/local/domain/5/visible|all|"}});
}

TEST(RingDomains, TransactionsOverTheRingCommitAndConflict) {
  expect_steps(run_named("ring_transactions"),
               {{"guest TRANSACTION_START", "id"},
                {"guest READ data/t in tx", "0"},
                {"guest WRITE data/t in tx", "XS_WRITE"},
                {"dom0 WRITE data/t meanwhile", "XS_WRITE"},
                {"guest READ data/t in tx after dom0", "guest"},
                {"guest commit", "EAGAIN"},
                {"dom0 READ data/t", "dom0"},
                {"dom0 READ data/u before commit", "ENOENT"},
                {"guest commit tx2", "OK"},
                {"dom0 READ data/t after commit", "second"},
                {"dom0 READ data/u after commit", "new"},
                {"guest abort tx3", "OK"},
                {"guest READ data/t after abort", "second"},
                {"guest end of an ended tx", "ENOENT"}});
}

TEST(RingDomains, E2bigDirectoryLeavesTheRingUsableAndPartsListAll600) {
  expect_steps(run_named("big_directory"),
               {{"dom0 writes", "600"},
                {"guest DIRECTORY big", "E2BIG"},
                {"guest WRITE data/after", "XS_WRITE"},
                {"guest READ data/after", "still here"},
                {"DIRECTORY_PART children", "600"},
                {"DIRECTORY_PART in creation order", "yes"},
                {"DIRECTORY_PART replies", "2"},
                {"DIRECTORY_PART one generation", "yes"}});
}

TEST(RingDomains, HostileGuestsAreCutOffWhileOthersGoOn) {
  expect_steps(run_named("hostile_guests"),
               {{"good WRITE data/x", "XS_WRITE"},
                {"bad-index WRITE data/x", "XS_WRITE"},
                {"oversize WRITE data/x", "XS_WRITE"},
                {"bad-index error field", "2"},
                {"oversize error field", "3"},
                {"good READ data/x after", "1"},
                {"good WRITE data/y after", "XS_WRITE"},
                {"bad-index READ after (ring in error)", "timeout"},
                {"dom0 READ /local/domain/5/data/y", "2"},
                // XSA-325: a faulty ring does not make the domain unknown.
                {"dom0 IS_DOMAIN_INTRODUCED 6", "T|"},
                {"dom0 IS_DOMAIN_INTRODUCED 7", "T|"},
                {"daemon alive", "yes"}});
}

TEST(RingDomains, ReconnectionResetsTheConnectionAndDropsWatches) {
  expect_steps(run_named("ring_reconnection"),
               {{"server_features reconnection bit", "set"},
                {"server_features error bit", "set"},
                {"guest WATCH data r", "OK"},
                {"guest TRANSACTION_START", "id"},
                {"connection back to 0", "yes"},
                {"indexes after reset", "0,0,0,0"},
                {"guest READ data/after", "x"},
                {"guest events after reset", "none"},
                {"guest end old tx", "ENOENT"},
                {"dom0 IS_DOMAIN_INTRODUCED 5", "T|"}});
}

const Expected kDeath = {{"dom0 WATCH @releaseDomain rel", "XS_WATCH"},
                         {"initial event", "@releaseDomain|rel|"},
                         {"dom0 events", "@releaseDomain|rel|"},
                         {"IS_DOMAIN_INTRODUCED 5", "F|"},
                         {"READ /local/domain/5/data/x", "ENOENT"},
                         {"READ /local/domain/5", "ENOENT"},
                         {"READ /local/domain/6/peer5", "kept"},
                         {"IS_DOMAIN_INTRODUCED 6", "T|"}};

TEST(RingDomains, DyingDomainFiresReleaseDomainAndLosesItsNodes) {
  expect_steps(run_named("domain_dying"), kDeath);
}

TEST(RingDomains, VanishedDomainFiresReleaseDomainAndLosesItsNodes) {
  expect_steps(run_named("domain_gone"), kDeath);
}

TEST(RingDomains, ReleaseOverTheSocketForgetsTheDomain) {
  expect_steps(run_named("release_over_socket"),
               {{"RELEASE 5", "OK"},
                {"dom0 events", "@releaseDomain|rel|"},
                {"IS_DOMAIN_INTRODUCED 5", "F|"},
                {"READ /local/domain/5/data/x", "ENOENT"},
                {"RELEASE 5 again", "ENOENT"},
                {"RELEASE 9 (never introduced)", "ENOENT"},
                {"RELEASE abc", "EINVAL"},
                {"RESUME 5 (released)", "ENOENT"},
                {"INTRODUCE 5 after release", "XS_INTRODUCE"},
                {"guest READ data/x after re-introduce", "ENOENT"},
                {"guest WRITE data/y after re-introduce", "XS_WRITE"}});
}

// The C daemon refuses domid 0 for RELEASE and RESUME with EINVAL, and so
// does cxenstored.
TEST(RingDomains, ReleaseAndResumeOfDom0AreEinvalAsInC) {
  expect_steps(run_named("release_over_socket"),
               {{"RELEASE 0", "EINVAL"}, {"RESUME 0", "EINVAL"}});
}

TEST(RingDomains, IsDomainIntroducedAnswersTAndF) {
  expect_steps(run_named("is_domain_introduced"),
               {{"IS_DOMAIN_INTRODUCED 0", "T|"},
                {"IS_DOMAIN_INTRODUCED 5 before", "F|"},
                {"IS_DOMAIN_INTRODUCED 5 after", "T|"},
                {"IS_DOMAIN_INTRODUCED 6", "F|"},
                {"guest IS_DOMAIN_INTRODUCED 5", "EACCES"}});
}

TEST(RingDomains, ReintroducingAKnownDomainKeepsItsRing) {
  expect_steps(run_named("reintroduce"),
               {{"initial event", "@introduceDomain|intro|"},
                {"INTRODUCE 5", "XS_INTRODUCE"},
                {"events after first", "@introduceDomain|intro|"},
                {"INTRODUCE 5 again", "OK"},
                {"events after second", "none"},
                {"guest READ data/x", "1"},
                {"INTRODUCE 5 again, other gfn", "OK"},
                {"guest READ data/x #2", "1"}});
}

TEST(RingDomains, IntroduceWithPortZeroOrBadDomidIsEinval) {
  expect_steps(run_named("introduce_invalid"),
               {{"INTRODUCE 5 port 0", "EINVAL"},
                {"INTRODUCE domid abc", "EINVAL"},
                {"INTRODUCE domid 32752 (DOMID_FIRST_RESERVED)", "EINVAL"},
                {"INTRODUCE domid 70000", "EINVAL"},
                {"INTRODUCE two arguments", "EINVAL"},
                {"IS_DOMAIN_INTRODUCED 5", "F|"}});
}

TEST(RingDomains, UnprivilegedDomainOpsAreEacces) {
  expect_steps(run_named("unprivileged_domain_ops"),
               {{"guest INTRODUCE 7", "EACCES"},
                {"guest RELEASE 6", "EACCES"},
                {"guest SET_TARGET 5 6", "EACCES"},
                {"guest RESUME 6", "EACCES"},
                {"IS_DOMAIN_INTRODUCED 7", "F|"},
                {"IS_DOMAIN_INTRODUCED 6", "T|"}});
}

TEST(RingDomains, QuotaAndFeatureBeforeAndAfterIntroduce) {
  expect_steps(run_named("quota_and_feature"),
               {{"GET_QUOTA nodes", "1000|"},
                {"GET_QUOTA 5 nodes before", "ENOENT"},
                {"SET_QUOTA 5 nodes 10 before", "ENOENT"},
                {"SET_FEATURE 5 1 before", "OK"},
                {"GET_FEATURE 5 before", "1|"},
                {"INTRODUCE 5", "XS_INTRODUCE"},
                {"ring server_features", "1"},
                {"GET_FEATURE 5 after", "1|"},
                {"SET_FEATURE 5 1 after", "EBUSY"},
                {"GET_QUOTA 5 nodes after", "1000|"},
                {"SET_QUOTA 5 nodes 4 after", "OK"},
                {"GET_QUOTA 5 nodes after set", "4|"},
                {"guest SET_QUOTA 5 nodes 99", "EACCES"},
                {"guest GET_QUOTA 5 nodes", "EACCES"},
                // home + q + q/n0 + q/n1 = 4 nodes.
                {"guest writes under nodes=4", "2 then ENOSPC"}});
}

TEST(RingDomains, DomidAnyGrantsEveryDomainWhenTheWriterHasTheFeature) {
  expect_steps(run_named("domid_any"),
               {{"GET_FEATURE", "15|"},
                {"SET_FEATURE 6 7 (no DOMID_ANY)", "OK"},
                {"dom0 SET_PERMS /pub n0 r32757", "OK"},
                {"dom0 GET_PERMS /pub", "n0|r32757|"},
                {"dom5 READ /pub", "v"},
                {"dom5 WRITE /pub", "EACCES"},
                {"dom5 SET_PERMS x n5 r32757", "OK"},
                {"dom6 READ dom5's x", "five"},
                // dom6 lacks the feature: its DOMID_ANY entry is dropped.
                {"dom6 SET_PERMS x n6 r32757", "OK"},
                {"dom6 GET_PERMS x", "n6|"},
                {"dom5 READ dom6's x", "EACCES"},
                {"dom0 SET_PERMS /pub b32757 (DOMID_ANY owner)", "OK"},
                {"dom6 WRITE /pub", "XS_WRITE"}});
}

TEST(RingDomains, GuestOverItsNodesQuotaGetsEnospc) {
  expect_steps(run_named("nodes_quota"),
               {// home + data + 18 = 20 nodes.
                {"guest writes under -E 20", "18 then ENOSPC"},
                {"guest overwrite existing node", "XS_WRITE"},
                {"guest RM data/n0", "OK"},
                {"guest WRITE after RM", "XS_WRITE"},
                {"dom0 WRITE in the full guest home", "XS_WRITE"}});
}

TEST(RingDomains, SetTargetGivesADomainItsTargetsRights) {
  expect_steps(run_named("set_target"),
               {{"dom5 READ dom6 node before", "EACCES"},
                {"dom5 WRITE dom6 node before", "EACCES"},
                {"SET_TARGET 5 6", "OK"},
                {"dom5 READ dom6 node after", "s"},
                {"dom5 WRITE dom6 node after", "XS_WRITE"},
                {"dom5 READ dom0 node after", "EACCES"},
                {"SET_TARGET 5 9 (unknown target)", "ENOENT"},
                {"SET_TARGET 9 5 (unknown domain)", "ENOENT"}});
}

// Every scenario's steps are checked by one of the tests above.
TEST(RingDomains, FeatureBitsAGuestWritesIntoItsPageGiveItNothing) {
  SimHost h;
  RawClient dom0(h.socket());
  // dom6 gets only the error bit: no reconnection, no DOMID_ANY.
  ASSERT_TRUE(is_type_ok(dom0.request(ty(wire::MsgType::XS_SET_FEATURE),
                                      nul_join({"6", "2"}))));
  ASSERT_TRUE(is_type_ok(h.introduce(6)));
  SimGuest g(h, 6);
  EXPECT_EQ(g.ring().server_features(), 2u);
  g.ring().page()->server_features = 0xF;  // the guest claims everything
  Msg f = dom0.request(ty(wire::MsgType::XS_GET_FEATURE), with_nul("6"));
  EXPECT_EQ(f.payload, std::string("2\0", 2));
  ASSERT_EQ(g.write("x", "v"), "XS_WRITE");
  EXPECT_EQ(guest_request(g, wire::MsgType::XS_SET_PERMS, {"x", "n6", "r32757"}),
            "OK");
  EXPECT_EQ(guest_request(g, wire::MsgType::XS_GET_PERMS, {"x"}), "n6|");
  // A reconnection request is not honoured without the feature.
  g.ring().request_reconnect();
  EXPECT_FALSE(eventually([&] { return g.ring().connection() == 0; },
                          std::chrono::milliseconds(500)));
  EXPECT_TRUE(h.alive());
}

TEST(RingDomains, EveryScenarioHasATest) {
  EXPECT_EQ(ring_scenarios().size(), 19u);
}

} // namespace
} // namespace cxs::test

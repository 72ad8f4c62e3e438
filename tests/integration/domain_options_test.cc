// --master-domid and --priv-domid, end to end on the simulated hypervisor.
// The master domain is the one whose ring is dom0's xsd_kva page (ring-0 in
// the simulated directory; its channel is port 100+M like any domain's); the
// privileged domain's ring connection may do what dom0 may. (--event, which
// only changes the remote port dom0's channel is bound to, is invisible in
// the simulated hypervisor: tests/unit/daemon/domain_lifecycle_test.cc
// checks it on the binding itself.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim_host.h"
#include "test_util.h"

namespace cxs::test {
namespace {

using wire::MsgType;

std::string introduce_payload(std::uint32_t dom) {
  return nul_join({std::to_string(dom), std::to_string(0x1000 + dom), "1"});
}

TEST(DomainOptions, MasterDomidIsTheDomainOnTheXsdKvaRing) {
  SimHost host({"--master-domid", "3"});
  RawClient dom0(host.socket());
  SimGuest master(host.dir(), 3, /*ring_file_dom=*/0, kGuestPortBase + 3);
  // Relative paths resolve in the master's home, not in dom0's. (It is
  // privileged, so what it creates keeps its parent's owner, as in C.)
  ASSERT_EQ(master.write("x", "1"), "XS_WRITE");
  EXPECT_EQ(dom0.read("/local/domain/3/x").payload, "1");
  EXPECT_TRUE(dom0.read("/local/domain/0/x").is_error("ENOENT"));
  EXPECT_EQ(master.read("/local/domain/3/x"), "1");
  // It is privileged (the priv domid defaults to the master).
  ASSERT_TRUE(is_type_ok(dom0.write("/secret", "s")));
  ASSERT_TRUE(is_type_ok(dom0.set_perms("/secret", {"n0"})));
  EXPECT_EQ(master.read("/secret"), "s");
  EXPECT_EQ(
      dom0.request(ty(MsgType::XS_IS_DOMAIN_INTRODUCED), with_nul("3")).shown(),
      "T|");
}

TEST(DomainOptions, PrivDomidsRingIsPrivilegedAndOthersAreNot) {
  SimHost host({"--priv-domid", "7"});
  RawClient dom0(host.socket());
  ASSERT_TRUE(is_type_ok(dom0.write("/secret", "s")));
  ASSERT_TRUE(is_type_ok(dom0.set_perms("/secret", {"n0"})));
  ASSERT_TRUE(is_type_ok(host.introduce(6)));
  ASSERT_TRUE(is_type_ok(host.introduce(7)));
  SimGuest other(host, 6);
  SimGuest priv(host, 7);
  EXPECT_EQ(other.read("/secret"), "EACCES");
  EXPECT_EQ(priv.read("/secret"), "s");
  EXPECT_EQ(priv.write("/secret", "t"), "XS_WRITE");
  EXPECT_EQ(other.outcome(MsgType::XS_IS_DOMAIN_INTRODUCED, with_nul("6")),
            "EACCES");
  EXPECT_EQ(priv.outcome(MsgType::XS_IS_DOMAIN_INTRODUCED, with_nul("6")),
            "XS_IS_DOMAIN_INTRODUCED");
  // It introduces a domain as the toolstack in dom0 would.
  host.set_alive(8);
  host.zero_ring(8);
  EXPECT_EQ(other.outcome(MsgType::XS_INTRODUCE, introduce_payload(8)),
            "EACCES");
  EXPECT_EQ(priv.outcome(MsgType::XS_INTRODUCE, introduce_payload(8)),
            "XS_INTRODUCE");
  EXPECT_EQ(
      dom0.request(ty(MsgType::XS_IS_DOMAIN_INTRODUCED), with_nul("8")).shown(),
      "T|");
}

}  // namespace
}  // namespace cxs::test

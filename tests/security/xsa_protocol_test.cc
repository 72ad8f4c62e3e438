// Advisories about the wire protocol and the ring: hostile indexes (38),
// oversize replies (72) and events (324), watch permissions (115), path
// lengths (323), 32-bit header values (420), "/local/domain/" (481) and
// RESET_WATCHES inside a transaction (484). Each drives the real daemon on
// the simulated hypervisor and asserts the safe outcome.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "security_helpers.h"

namespace cxs::test {
namespace {

using wire::MsgType;

// Waits until the daemon has set the ring's error field (or gives up).
std::uint32_t wait_ring_error(SimGuest& g, milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (g.ring().error() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(2));
  return g.ring().error();
}

// Another domain and dom0 still get answers.
void expect_others_served(SimHost& host, std::uint32_t other) {
  ASSERT_TRUE(is_type_ok(host.introduce(other)));
  SimGuest g(host, other);
  std::string home = "/local/domain/" + std::to_string(other);
  EXPECT_EQ(g.outcome(ty(MsgType::XS_WRITE), home + "/alive" + '\0' + "yes"),
            "XS_WRITE");
  auto r = g.request(ty(MsgType::XS_READ), with_nul(home + "/alive"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->payload, "yes");
  RawClient dom0(host.socket());
  EXPECT_EQ(dom0.read(home + "/alive").payload, "yes");
  EXPECT_TRUE(host.daemon().alive());
}

TEST(Security, xsa_38_hostile_ring_indexes_mark_only_that_ring_in_error) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  ASSERT_EQ(g.outcome(ty(MsgType::XS_WRITE),
                      std::string("/local/domain/5/x\0v", 19)),
            "XS_WRITE");
  // req_prod more than a ring ahead of req_cons: impossible indexes.
  g.ring().set_req_prod(g.ring().req_cons() + 5000);
  g.ring().kick();
  EXPECT_EQ(wait_ring_error(g, milliseconds(3000)), wire::kErrorRingIdx);
  // rsp_cons past rsp_prod on a second domain.
  ASSERT_TRUE(is_type_ok(host.introduce(6)));
  SimGuest h(host, 6);
  h.ring().set_rsp_cons(h.ring().rsp_prod() + 3000);
  h.send(ty(MsgType::XS_READ), with_nul("/local/domain/6"));
  h.ring().flush();
  h.ring().kick();
  EXPECT_NE(wait_ring_error(h, milliseconds(3000)), 0u)
      << "a ring whose rsp_cons is past rsp_prod must be cut off";
  expect_others_served(host, 7);
  RawClient dom0(host.socket());
  EXPECT_EQ(dom0.read("/local/domain/5/x").payload, "v");
}

TEST(Security, xsa_72_oversize_reply_is_e2big_and_ring_lives) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  {
    RawClient dom0(host.socket());
    ASSERT_TRUE(is_type_ok(dom0.mkdir("/big")));
    ASSERT_TRUE(is_type_ok(dom0.set_perms("/big", {"n0", "r5"})));
    std::string batch;
    for (int i = 0; i < 600; ++i)
      batch += wire::encode_message(ty(MsgType::XS_MKDIR), i + 1, 0,
                                    with_nul("/big/entry" + std::to_string(
                                                                10000 + i)));
    dom0.send_bytes(batch);
    for (int i = 0; i < 600; ++i) ASSERT_TRUE(dom0.recv_reply());
  }
  SimGuest g(host, 5);
  auto m = g.request(ty(MsgType::XS_DIRECTORY), with_nul("/big"));
  ASSERT_TRUE(m);
  EXPECT_EQ(error_of(*m), "E2BIG");
  EXPECT_LE(m->hdr.len, kPayloadMax);
  EXPECT_EQ(g.ring().error(), 0u);
  EXPECT_EQ(g.outcome(ty(MsgType::XS_READ), with_nul("/big/entry10042")),
            "XS_READ");
  EXPECT_TRUE(host.daemon().alive());
}

TEST(Security, xsa_115_watch_events_withheld_without_read_permission) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  ASSERT_TRUE(is_type_ok(host.introduce(6)));
  RawClient dom0(host.socket());
  ASSERT_TRUE(is_type_ok(dom0.write("/local/domain/6/secret", "s0")));
  ASSERT_TRUE(is_type_ok(dom0.write("/public", "p0")));
  ASSERT_TRUE(is_type_ok(dom0.set_perms("/public", {"n0", "r5"})));
  SimGuest g(host, 5);
  for (const char* path : {"/local/domain/6/secret", "/public",
                           "@introduceDomain", "@releaseDomain"}) {
    EXPECT_EQ(g.outcome(ty(MsgType::XS_WATCH),
                        std::string(path) + '\0' + "tok" + '\0'),
              "XS_WATCH")
        << path;
  }
  // The registration events (one per watch) are allowed; drop them.
  (void)g.events_before_barrier();
  // dom0 sees @releaseDomain, so the test knows when the daemon has taken
  // the domain's death (a VIRQ, not a request whose reply would say so).
  ASSERT_TRUE(is_type_ok(dom0.watch("@releaseDomain", "r")));
  ASSERT_TRUE(dom0.recv_event());
  ASSERT_TRUE(is_type_ok(dom0.write("/local/domain/6/secret", "s1")));
  ASSERT_TRUE(is_type_ok(host.introduce(7)));  // fires @introduceDomain
  host.destroy(7);                               // fires @releaseDomain
  ASSERT_TRUE(dom0.recv_event(milliseconds(10000))) << "no @releaseDomain";
  ASSERT_TRUE(is_type_ok(dom0.write("/public", "p1")));
  // The readable change arrives; nothing about the others: every event
  // was queued before the barrier's reply.
  std::vector<std::string> seen = g.events_before_barrier();
  ASSERT_EQ(seen.size(), 1u) << "events: " << ::testing::PrintToString(seen);
  EXPECT_EQ(seen[0], "/public|tok|");
}

TEST(Security, xsa_323_path_length_is_checked_on_the_absolute_path) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  const std::string home = "/local/domain/5/";
  // A relative path that is fine, and one past the 2048 path-max quota.
  std::string ok_rel = "d/" + std::string(1990, 'a');
  std::string long_rel = "d/" + std::string(2100, 'b');
  EXPECT_EQ(g.outcome(ty(MsgType::XS_WRITE), ok_rel + '\0' + "v"), "XS_WRITE");
  EXPECT_EQ(g.outcome(ty(MsgType::XS_WRITE), long_rel + '\0' + "v"), "EINVAL");
  // The same over-long path spelt absolute is refused the same way.
  EXPECT_EQ(g.outcome(ty(MsgType::XS_WRITE), home + long_rel + '\0' + "v"),
            "EINVAL");
  EXPECT_EQ(g.outcome(ty(MsgType::XS_MKDIR), with_nul(home + long_rel)),
            "EINVAL");
  // An absolute path over XENSTORE_ABS_PATH_MAX (3072), even from dom0.
  RawClient dom0(host.socket());
  std::string abs_long = "/x/" + std::string(3100, 'c');
  EXPECT_TRUE(dom0.write(abs_long, "v").is_error("EINVAL"));
  // Nothing of the refused requests was stored.
  EXPECT_TRUE(dom0.read(home + long_rel).is_error("EINVAL") ||
              dom0.read(home + long_rel).is_error("ENOENT"));
  Msg dir = dom0.directory(home + "d");
  EXPECT_EQ(nul_split(dir.payload), std::vector<std::string>{ok_rel.substr(2)});
  EXPECT_TRUE(dom0.read("/x").is_error("ENOENT"));
  EXPECT_TRUE(host.daemon().alive());
}

TEST(Security, xsa_324_oversize_watch_event_is_dropped_and_ring_lives) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  const std::string watched = "/local/domain/5";
  // path\0token\0 fills the 4096-byte payload exactly.
  std::string token(kPayloadMax - watched.size() - 2, 't');
  auto w = g.request(ty(MsgType::XS_WATCH), watched + '\0' + token + '\0');
  ASSERT_TRUE(w);
  EXPECT_EQ(w->hdr.type, ty(MsgType::XS_WATCH)) << error_of(*w);
  (void)g.events_before_barrier();  // the watch's first event
  // An event for a child would be longer than 4096 bytes: dropped.
  EXPECT_EQ(g.outcome(ty(MsgType::XS_WRITE),
                      watched + "/child" + '\0' + "v"),
            "XS_WRITE");
  EXPECT_TRUE(no_event_before_barrier(g));
  EXPECT_EQ(g.ring().error(), 0u);
  EXPECT_EQ(g.outcome(ty(MsgType::XS_READ), with_nul(watched + "/child")),
            "XS_READ");
  expect_others_served(host, 6);
}

TEST(Security, xsa_420_high_bit_header_values_are_handled_as_unsigned) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  // Unknown type with the top bit set: ENOSYS.
  EXPECT_EQ(g.outcome(0x80000001u, with_nul("/local/domain/5")), "ENOSYS");
  // A tx_id with the top bit set that names no transaction: ENOENT.
  EXPECT_EQ(g.outcome(ty(MsgType::XS_READ), with_nul("/local/domain/5"),
                      0x80000000u),
            "ENOENT");
  // req_id 0xffffffff is echoed.
  g.ring().send(ty(MsgType::XS_READ), 0xffffffffu, 0,
                with_nul("/local/domain/5"));
  auto m = g.await(0xffffffffu);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->hdr.type, ty(MsgType::XS_READ));
  // Indexes crossing 2^31 and 2^32 work like any others.
  for (std::uint32_t start : {0x7ffffff0u, 0xfffffff0u}) {
    ASSERT_TRUE(is_type_ok(host.introduce(6)));
    SimGuest h(host, 6);
    h.ring().set_all_indexes(start);
    for (int i = 0; i < 40; ++i)
      ASSERT_EQ(h.outcome(ty(MsgType::XS_WRITE),
                          "/local/domain/6/k" + std::to_string(i) + '\0' +
                              std::string(60, 'v')),
                "XS_WRITE")
          << std::hex << start << " request " << std::dec << i;
    EXPECT_EQ(h.ring().error(), 0u);
    host.destroy(6);
    RawClient dom0(host.socket());
    ASSERT_TRUE(eventually([&] {
      return dom0.request(ty(MsgType::XS_IS_DOMAIN_INTRODUCED), with_nul("6"))
                 .payload.substr(0, 1) == "F";
    }));
  }
  // A length with the top bit set is a protocol fault for that ring only.
  wire::Header hdr{ty(MsgType::XS_READ), 7, 0, 0x80000010u};
  char raw[kHeaderSize];
  wire::encode_header(hdr, raw);
  g.ring().send_bytes(std::string_view(raw, sizeof raw));
  EXPECT_EQ(wait_ring_error(g, milliseconds(3000)), wire::kErrorProto);
  expect_others_served(host, 8);
}

TEST(Security, xsa_481_path_local_domain_slash_is_einval_and_daemon_lives) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  const std::string bad = "/local/domain/";
  EXPECT_EQ(g.outcome(ty(MsgType::XS_READ), with_nul(bad)), "EINVAL");
  EXPECT_EQ(g.outcome(ty(MsgType::XS_WRITE), bad + '\0' + "v"), "EINVAL");
  EXPECT_EQ(g.outcome(ty(MsgType::XS_MKDIR), with_nul(bad)), "EINVAL");
  EXPECT_EQ(g.outcome(ty(MsgType::XS_RM), with_nul(bad)), "EINVAL");
  EXPECT_EQ(g.outcome(ty(MsgType::XS_DIRECTORY), with_nul(bad)), "EINVAL");
  EXPECT_EQ(g.outcome(ty(MsgType::XS_GET_PERMS), with_nul(bad)), "EINVAL");
  EXPECT_EQ(g.outcome(ty(MsgType::XS_SET_PERMS), bad + '\0' + "n5" + '\0'),
            "EINVAL");
  EXPECT_EQ(g.outcome(ty(MsgType::XS_WATCH), bad + '\0' + "t" + '\0'),
            "EINVAL");
  std::uint32_t tx = g.start_transaction();
  ASSERT_NE(tx, 0u);
  EXPECT_EQ(g.outcome(ty(MsgType::XS_WRITE), bad + '\0' + "v", tx), "EINVAL");
  EXPECT_EQ(g.outcome(ty(MsgType::XS_TRANSACTION_END), with_nul("F"), tx),
            "XS_TRANSACTION_END");
  RawClient dom0(host.socket());
  EXPECT_TRUE(dom0.read(bad).is_error("EINVAL"));
  EXPECT_TRUE(dom0.write(bad, "v").is_error("EINVAL"));
  EXPECT_EQ(g.ring().error(), 0u);
  expect_others_served(host, 6);
}

TEST(Security, xsa_484_reset_watches_inside_a_transaction_is_answered) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  ASSERT_EQ(g.outcome(ty(MsgType::XS_WATCH),
                      std::string("/local/domain/5/w\0tok\0", 22)),
            "XS_WATCH");
  std::uint32_t tx = g.start_transaction();
  ASSERT_NE(tx, 0u);
  ASSERT_EQ(g.outcome(ty(MsgType::XS_WRITE),
                      std::string("/local/domain/5/t\0v", 19), tx),
            "XS_WRITE");
  // RESET_WATCHES sent inside the transaction: answered, and (as
  // xenstore.txt says) it resets the caller's watches and transactions.
  EXPECT_EQ(g.outcome(ty(MsgType::XS_RESET_WATCHES), "", tx),
            "XS_RESET_WATCHES");
  EXPECT_TRUE(host.daemon().alive());
  // With a tx_id naming nothing: answered too, ENOENT as from C 4.17
  // (every request but WATCH and UNWATCH looks its tx_id up).
  EXPECT_EQ(g.outcome(ty(MsgType::XS_RESET_WATCHES), "", 0x12345u), "ENOENT");
  (void)g.events_before_barrier();  // the watch's first event, if sent
  // The transaction is gone, its write discarded; the watch is gone.
  EXPECT_EQ(g.outcome(ty(MsgType::XS_TRANSACTION_END), with_nul("T"), tx),
            "ENOENT");
  EXPECT_EQ(g.outcome(ty(MsgType::XS_READ), with_nul("/local/domain/5/t")),
            "ENOENT");
  EXPECT_EQ(g.outcome(ty(MsgType::XS_WRITE),
                      std::string("/local/domain/5/w\0v", 19)),
            "XS_WRITE");
  // The guest can open transactions again (none leaked).
  for (int i = 0; i < 10; ++i) EXPECT_NE(g.start_transaction(), 0u) << i;
  EXPECT_TRUE(no_event_before_barrier(g));
  expect_others_served(host, 6);
}

}  // namespace
}  // namespace cxs::test

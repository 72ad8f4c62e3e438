// The hard memory quota (XSA-326's "memory" vector): a domain's memory is
// the nodes it owns plus its watches, its open transactions' node copies
// and its queued output. Growth past the quota is ENOMEM and changes
// nothing; with output queued past it, the daemon stops reading the ring
// until the guest takes its replies. Each count quota that would stop the
// guest first is disabled (0) so the memory quota is what is tested.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "security_helpers.h"
#include "wire/header.h"
#include "wire/ring_page.h"

namespace cxs::test {
namespace {

using wire::MsgType;

constexpr const char* kMemory = "memory=20000";

std::string watch_payload(int i, std::size_t token_bytes) {
  return "/local/domain/5/w" + std::to_string(i) + '\0' +
         std::string(token_bytes, 't') + '\0';
}

// Writes `value_bytes`-byte nodes t0, t1... in the guest's home until one is
// refused; returns how many were written and the refusal.
std::pair<int, std::string> write_until_refused(SimGuest& g,
                                                std::size_t value_bytes,
                                                std::uint32_t tx = 0,
                                                const std::string& prefix = "t",
                                                int limit = 100) {
  for (int i = 0; i < limit; ++i) {
    std::string r = g.write("/local/domain/5/" + prefix + std::to_string(i),
                            std::string(value_bytes, 'v'), tx);
    if (r != "XS_WRITE") return {i, r};
  }
  return {limit, "none"};
}

TEST(Security, xsa_326_watches_count_against_the_memory_quota) {
  SimHost host({"-Q", kMemory, "-Q", "watches=0"});
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  int made = 0;
  std::string last;
  for (; made < 100; ++made) {
    last = g.outcome(MsgType::XS_WATCH, watch_payload(made, 1000));
    if (last != "XS_WATCH") break;
    g.drain();  // take the initial events: output is not what is tested
    while (g.next_event(milliseconds(0))) {
    }
  }
  // A watch is charged what it holds: its block (header, path and token)
  // and a trie node per path component (about 1.5 KB here), so about
  // 20000 / 1500 fit next to the home node.
  EXPECT_EQ(last, "ENOMEM");
  EXPECT_GE(made, 10);
  EXPECT_LE(made, 14);
  // The refused watch does not exist: unwatching it is ENOENT.
  EXPECT_EQ(g.outcome(MsgType::XS_UNWATCH, watch_payload(made, 1000)),
            "ENOENT");
  // Nor can a node grow into the memory the watches hold.
  EXPECT_EQ(g.write("/local/domain/5/big", std::string(1500, 'v')), "ENOMEM");
  // Freeing one watch makes room for one.
  EXPECT_EQ(g.outcome(MsgType::XS_UNWATCH, watch_payload(0, 1000)), "XS_UNWATCH");
  EXPECT_EQ(g.outcome(MsgType::XS_WATCH, watch_payload(made, 1000)), "XS_WATCH");
  EXPECT_TRUE(host.daemon().alive());
}

TEST(Security, xsa_326_transaction_copies_count_against_the_memory_quota) {
  SimHost host({"-Q", kMemory, "-Q", "nodes=0", "-Q", "transaction-nodes=0"});
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  RawClient dom0(host.socket());
  // One transaction alone: refused at about the quota, nothing committed.
  std::uint32_t tx = g.start_transaction();
  ASSERT_NE(tx, 0u);
  auto [alone, refusal] = write_until_refused(g, 1500, tx);
  // Each entry is charged its copy, its path and its table node.
  EXPECT_EQ(refusal, "ENOMEM");
  EXPECT_GE(alone, 8);
  EXPECT_LE(alone, 13);
  EXPECT_EQ(g.outcome(MsgType::XS_TRANSACTION_END, with_nul("F"), tx),
            "XS_TRANSACTION_END");
  EXPECT_TRUE(dom0.read("/local/domain/5/t0").is_error("ENOENT"));
  // Two transactions share the quota: what one holds, the other cannot use.
  std::uint32_t tx1 = g.start_transaction();
  std::uint32_t tx2 = g.start_transaction();
  ASSERT_NE(tx1, 0u);
  ASSERT_NE(tx2, 0u);
  int half = alone / 2;
  for (int i = 0; i < half; ++i)
    ASSERT_EQ(g.write("/local/domain/5/a" + std::to_string(i),
                      std::string(1500, 'v'), tx1),
              "XS_WRITE");
  auto [second, refused2] = write_until_refused(g, 1500, tx2, "b");
  EXPECT_EQ(refused2, "ENOMEM");
  EXPECT_LE(second, alone - half + 1);
  // Aborting frees the copies: plain writes fit again.
  g.outcome(MsgType::XS_TRANSACTION_END, with_nul("F"), tx1);
  g.outcome(MsgType::XS_TRANSACTION_END, with_nul("F"), tx2);
  auto [plain, refused3] = write_until_refused(g, 1500, 0, "c");
  EXPECT_EQ(refused3, "ENOMEM");
  EXPECT_GE(plain, alone - 1);
  EXPECT_TRUE(host.daemon().alive());
}

TEST(Security, xsa_326_queued_output_past_the_memory_quota_stops_reading) {
  SimHost host({"-Q", "memory=12000", "-Q", "outstanding=0"});
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  RawClient dom0(host.socket());
  // A 2000-byte value owned by dom0 (so it does not count for the guest),
  // at a long path so that few requests fit in the ring at once.
  std::string path = "/pub/" + std::string(180, 'p');
  ASSERT_TRUE(is_type_ok(dom0.write(path, std::string(2000, 'v'))));
  ASSERT_TRUE(is_type_ok(dom0.set_perms(path, {"n0", "r5"})));
  constexpr int kRequests = 200;
  for (int i = 0; i < kRequests; ++i)
    g.send(ty(MsgType::XS_READ), with_nul(path));
  for (int i = 0; i < 100; ++i) {
    g.ring().flush();
    std::this_thread::sleep_for(milliseconds(2));
  }
  std::size_t per_request = kHeaderSize + path.size() + 1;
  std::size_t per_reply = kHeaderSize + 2000;
  std::uint32_t taken = g.ring().req_cons() / per_request;
  // Replies queued up to the quota (12000 / 2016: 6, one more may cross
  // it), plus what was read ahead from the ring (1024 bytes of requests)
  // and what fits in rsp[] (1024 bytes). Without the memory gate the
  // daemon would take about 32 (its 64 KiB read pause).
  std::size_t bound =
      12000 / per_reply + 1 + wire::kRingBytes / per_request + 1 + 1;
  EXPECT_LE(taken, bound) << "requests taken while over the memory quota";
  // Queued replies are charged their buffer's block (2048 for a reply of
  // 2016 bytes, doubling as more are appended): one fewer than 12000 /
  // 2016 may fit.
  EXPECT_GE(taken, 5u);
  // Others are served meanwhile, and reading resumes as the guest reads.
  EXPECT_TRUE(is_type_ok(dom0.write("/dom0/ok", "yes")));
  for (std::uint32_t id = 1; id <= kRequests; ++id) {
    auto m = g.await(id);
    ASSERT_TRUE(m) << id;
    ASSERT_EQ(m->hdr.type, ty(MsgType::XS_READ)) << error_of(*m);
  }
}

}  // namespace
}  // namespace cxs::test

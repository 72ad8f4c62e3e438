// Sequences the differential tester found, cut down by its shrinker and
// kept as regressions: each must give the same answers on cxenstored and on
// the C xenstored 4.17, or only differences the allowed table accepts.
// Skipped where the reference cannot run. Paste a new case printed by
// differential_run here (the op text format is in op.h).
#include <gtest/gtest.h>

#include <string>

#include "runner.h"
#include "sim_host.h"
#include "wire/message_type.h"

namespace cxs::diff {
namespace {

const std::vector<std::string> kArgs = {"-E", "25", "-W", "6",
                                        "-t", "3",  "-A", "5"};

RunStats expect_same_as_c(const std::string& text) {
  if (test::refd_dir().empty()) {
    ADD_FAILURE() << "not reached: callers skip first";
    return {};
  }
  auto ops = ops_from_text(text);
  EXPECT_TRUE(ops.has_value()) << text;
  if (!ops) return {};
  RunResult r = run_ops(*ops, RunOptions{kArgs, false, false});
  for (const Mismatch& m : r.mismatches) ADD_FAILURE() << m.text();
  EXPECT_EQ(r.stats.ops + r.stats.skipped, ops->size());
  return r.stats;
}

#define SKIP_WITHOUT_REFERENCE()                                           \
  if (test::refd_dir().empty())                                            \
  GTEST_SKIP() << "the reference C xenstored 4.17 cannot run here (needs " \
                  "shared/tools/refd or $CXS_REFD_DIR, and xen-utils-4.17)"

// A printed case must read back as it was: the shrinker's reproductions
// are replayed from their text (a case with XS_INVALID once printed
// "INVALID", which did not parse).
TEST(DifferentialOpText, EveryTypeReadsBackAsPrinted) {
  std::vector<std::uint32_t> types;
  for (std::uint32_t t = 0; t < 40; ++t) types.push_back(t);
  types.push_back(static_cast<std::uint32_t>(wire::MsgType::XS_INVALID));
  for (std::uint32_t t : types) {
    Op op;
    op.actor = 7;
    op.type = t;
    op.payload = std::string("/t\0v\x01", 5);
    op.tx = 1;
    std::string text = to_text(op);
    auto back = from_text(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(back->type, t) << text;
    EXPECT_EQ(back->payload, op.payload) << text;
    EXPECT_EQ(to_text(*back), text);
  }
}

// Item 1: a missing node read in a transaction freezes its nearest
// existing ancestor.
TEST(DifferentialCase, MissingReadInATransactionFreezesTheAncestor) {
  SKIP_WITHOUT_REFERENCE();
  expect_same_as_c(R"ops(
A WRITE "/t/p\0old"
A TRANSACTION_START tx0 "\0"
A READ tx0 "/t/p/missing/x\0"
B WRITE "/t/p\0new"
A READ tx0 "/t/p\0"
A TRANSACTION_END tx0 "T\0"
)ops");
}

// Issue 19: two transactions creating different children of one node
// both commit here; C fails the second with EAGAIN. The run must see that
// difference (and accept it), or this case proves nothing.
TEST(DifferentialCase, DisjointCreationsInTransactionsBothCommit) {
  SKIP_WITHOUT_REFERENCE();
  RunStats stats = expect_same_as_c(R"ops(
A WRITE "/t/p\0"
A TRANSACTION_START tx0 "\0"
B TRANSACTION_START tx1 "\0"
A WRITE tx0 "/t/p/x\0one"
B WRITE tx1 "/t/p/y\0two"
A TRANSACTION_END tx0 "T\0"
B TRANSACTION_END tx1 "T\0"
)ops");
  EXPECT_EQ(stats.allowed["no-conflict-without-read"], 1u);
}

// Item 3: SET_PERMS ignores a last entry without its NUL.
TEST(DifferentialCase, SetPermsLastEntryWithoutNul) {
  SKIP_WITHOUT_REFERENCE();
  expect_same_as_c(R"ops(
A WRITE "/t/x\0v"
A SET_PERMS "/t/x\0n0\0r5"
A GET_PERMS "/t/x\0"
A SET_PERMS "/t/x\0r5"
A GET_PERMS "/t/x\0"
)ops");
}

// Item 5: one connection's watches fire in registration order.
TEST(DifferentialCase, WatchesFireInRegistrationOrder) {
  SKIP_WITHOUT_REFERENCE();
  expect_same_as_c(R"ops(
A WATCH "/local/domain\0W\0"
A WATCH "/local\0tok-a\0"
A MKDIR "/local/domain/6/b\0"
A RM "/local/domain/6/b\0"
)ops");
}

// Item 6: which error wins.
TEST(DifferentialCase, WhichErrorWins) {
  SKIP_WITHOUT_REFERENCE();
  expect_same_as_c(R"ops(
g5 SET_PERMS "/t/x\0x1\0x2\0x3\0x4\0x5\0x6\0"
g5 RM "/\0"
A SET_PERMS "\0n0\0"
A UNWATCH "/t/a\0b\0"
A UNWATCH "/t//a\0b\0"
A GET_PERMS "@other\0"
)ops");
}

// A transaction id that names nothing is ENOENT for every type but
// WATCH and UNWATCH.
TEST(DifferentialCase, StaleTransactionIdOnRequestsThatUseNone) {
  SKIP_WITHOUT_REFERENCE();
  expect_same_as_c(R"ops(
A GET_DOMAIN_PATH txbogus "5\0"
A IS_DOMAIN_INTRODUCED txbogus "5\0"
A RESET_WATCHES txbogus "\0"
A CONTROL txbogus "print\0x\0"
A WATCH txbogus "/t\0W\0"
g5 GET_DOMAIN_PATH txbogus "5\0"
)ops");
}

// Found by seeds 1 and 105: C never releases a domain that is a target (an
// allowed difference); the run must accept it and go on.
TEST(DifferentialCase, SelfTargetDomainDies) {
  SKIP_WITHOUT_REFERENCE();
  expect_same_as_c(R"ops(
A WATCH "@releaseDomain\0W\0"
A SET_TARGET "6\06\0"
host kill 6
A READ "/t\0"
)ops");
}

TEST(DifferentialCase, TargetDomainDies) {
  SKIP_WITHOUT_REFERENCE();
  expect_same_as_c(R"ops(
A SET_TARGET "7\05\0"
A WATCH "/local/domain\0tA\0"
host destroy 5
A DIRECTORY "/local/domain\0"
)ops");
}

// Found by seed 101 (long run): accepted differences, each documented.
TEST(DifferentialCase, DomainNodesGoingFireWatchesBelowHere) {
  SKIP_WITHOUT_REFERENCE();
  expect_same_as_c(R"ops(
A WATCH "/local/domain/7/missing/y\0x\0"
A TRANSACTION_START tx2 "\0"
A RELEASE tx2 "7\0"
B WATCH "/local/domain/6/data/k\0x\0"
host destroy 6
)ops");
}

TEST(DifferentialCase, GuestSetPermsOfASpecialNodeIsEacces) {
  SKIP_WITHOUT_REFERENCE();
  expect_same_as_c(R"ops(
g7 SET_PERMS "@introduceDomain\0r05\0n9\0"
g7 SET_PERMS "@releaseDomain\0r5\0n6\0"
)ops");
}

// Seed 210: a dead domain's nodes go in tree order, as in C.
TEST(DifferentialCase, DeadDomainsNodesGoInTreeOrder) {
  SKIP_WITHOUT_REFERENCE();
  expect_same_as_c(R"ops(
A SET_PERMS "/t/shared\0n05\0"
A WRITE "/t/p/q\0"
A TRANSACTION_START tx0 "\0"
A SET_PERMS tx0 "/t/p\0w5\0"
A TRANSACTION_END tx0 "T\0"
A WATCH "/t\0x\0"
host kill 5
)ops");
}

}  // namespace
}  // namespace cxs::diff

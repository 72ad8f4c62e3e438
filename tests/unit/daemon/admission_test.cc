// Admission (daemon/admission.h): the flow-control policy, on figures
// alone; the server's use of it is covered by the quota and XSA tests.
#include "daemon/admission.h"

#include <gtest/gtest.h>

namespace cxs::daemon {
namespace {

store::Quota small_quota() {
  store::Quota q;
  q.memory = 10000;
  q.outstanding = 3;
  return q;
}

ConnLoad guest(std::size_t used = 0) {
  ConnLoad load;
  load.used = used;
  return load;
}

TEST(Admission, PrivilegedIsPausedOnlyByUnsentOutput) {
  ConnLoad load;
  load.privileged = true;
  load.queued_messages = 1000;
  load.has_output = true;
  load.used = ~std::size_t{0};
  load.has_write_credit = false;
  EXPECT_TRUE(may_read_more(load, small_quota()));
  load.queued_bytes = kReadPauseBytes;
  EXPECT_FALSE(may_read_more(load, small_quota()));
}

TEST(Admission, GuestWaitsForItsOutstandingAnswers) {
  ConnLoad load = guest();
  load.queued_messages = 2;
  EXPECT_TRUE(may_read_more(load, small_quota()));
  load.queued_messages = 3;
  EXPECT_FALSE(may_read_more(load, small_quota()));
  store::Quota unlimited = small_quota();
  unlimited.outstanding = 0;
  EXPECT_TRUE(may_read_more(load, unlimited));
}

TEST(Admission, GuestOutOfWriteCreditIsNotRead) {
  ConnLoad load = guest();
  load.has_write_credit = false;
  EXPECT_FALSE(may_read_more(load, small_quota()));
}

TEST(Admission, GuestAtItsMemoryQuotaIsReadOnlyWithoutQueuedOutput) {
  ConnLoad load = guest(10000);
  EXPECT_FALSE(over_memory_with_output(load, small_quota()));
  EXPECT_TRUE(may_read_more(load, small_quota()));  // may free memory
  load.has_output = true;
  load.queued_messages = 1;
  EXPECT_TRUE(over_memory_with_output(load, small_quota()));
  EXPECT_FALSE(may_read_more(load, small_quota()));
  load.used = 9999;
  EXPECT_TRUE(may_read_more(load, small_quota()));
  store::Quota no_memory_quota = small_quota();
  no_memory_quota.memory = 0;
  load.used = 1'000'000;
  EXPECT_TRUE(may_read_more(load, no_memory_quota));
}

TEST(Admission, EventBoundIsWhatTheMemoryQuotaLeavesForOutput) {
  ConnLoad load = guest(6000);
  load.output_held = 1000;  // nodes, watches, transactions: 5000
  EXPECT_EQ(event_bound(load, small_quota()), 5000u);
  load.used = 11000;
  load.output_held = 500;  // 10500 besides output: nothing is left
  EXPECT_EQ(event_bound(load, small_quota()), 1u);  // 0 would be no bound
  load.used = 10500;
  load.output_held = 500;
  EXPECT_EQ(event_bound(load, small_quota()), 1u);
}

TEST(Admission, EventBoundOfPrivilegedOrUnlimitedIsTheQueueBound) {
  ConnLoad load = guest(1'000'000);
  store::Quota no_memory_quota = small_quota();
  no_memory_quota.memory = 0;
  EXPECT_EQ(event_bound(load, no_memory_quota), kPrivilegedQueueBound);
  load.privileged = true;
  EXPECT_EQ(event_bound(load, small_quota()), kPrivilegedQueueBound);
}

TEST(SoftMemoryNotice, CrossingIsReportedOnceUntilBackUnder) {
  SoftMemoryNotice notice;
  EXPECT_FALSE(notice.crossed(100, 200));
  EXPECT_TRUE(notice.crossed(201, 200));
  EXPECT_FALSE(notice.crossed(300, 200));
  EXPECT_FALSE(notice.crossed(150, 200));
  EXPECT_TRUE(notice.crossed(250, 200));
  EXPECT_FALSE(notice.crossed(1'000'000, 0));  // no soft quota
}

TEST(QuotaTable, DomainQuotaStartsFromTheDefaultsInForce) {
  QuotaTable table{store::Quota{}};
  ASSERT_TRUE(table.set(std::nullopt, "nodes", 7));
  ASSERT_TRUE(table.set(DomId{5}, "watches", 3));
  EXPECT_EQ(*table.get(DomId{5}, "nodes"), 7u);
  EXPECT_EQ(*table.get(DomId{5}, "watches"), 3u);
  EXPECT_EQ(table.of(DomId{6}).watches, store::Quota{}.watches);
  ASSERT_TRUE(table.set(std::nullopt, "nodes", 9));
  EXPECT_EQ(table.of(DomId{5}).nodes, 7u);  // its own, taken at the time
  EXPECT_EQ(table.of(DomId{6}).nodes, 9u);
}

TEST(QuotaTable, UnknownNameIsRefusedAndChangesNothing) {
  QuotaTable table{store::Quota{}};
  EXPECT_EQ(table.get(std::nullopt, "no-such").error(), XsErr::kEINVAL);
  EXPECT_EQ(table.set(DomId{5}, "no-such", 1).error(), XsErr::kEINVAL);
  EXPECT_TRUE(table.own().empty());
}

TEST(QuotaTable, ForgottenDomainStartsAfreshFromTheDefaults) {
  QuotaTable table{store::Quota{}};
  ASSERT_TRUE(table.set(DomId{5}, "nodes", 1));
  table.forget(DomId{5});
  EXPECT_EQ(table.of(DomId{5}).nodes, store::Quota{}.nodes);
  EXPECT_TRUE(table.own().empty());
}

TEST(QuotaTable, AliasNamesTheSameField) {
  QuotaTable table{store::Quota{}};
  ASSERT_TRUE(table.set(std::nullopt, "node-permissions", 4));
  EXPECT_EQ(*table.get(std::nullopt, "permissions"), 4u);
}

}  // namespace
}  // namespace cxs::daemon

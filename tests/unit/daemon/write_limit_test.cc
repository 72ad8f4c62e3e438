#include "daemon/write_limit.h"

#include <gtest/gtest.h>

namespace cxs::daemon {
namespace {

using Clock = WriteLimit::Clock;
using std::chrono::milliseconds;

TEST(WriteLimit, ABurstPassesThenTheDomainMustWait) {
  WriteLimit w;
  Clock::time_point t0 = Clock::now();
  int allowed = 0;
  while (w.has_credit(t0) && allowed < 100) {
    w.debit(t0);
    ++allowed;
  }
  // kBurst credits, and the last debit may take the credit just below 0.
  EXPECT_EQ(allowed, static_cast<int>(WriteLimit::kBurst) + 1);
  EXPECT_FALSE(w.has_credit(t0));
  // Credit returns at kRatePerSecond: 200/s is one change per 5 ms.
  EXPECT_TRUE(w.has_credit(t0 + milliseconds(10)));
}

TEST(WriteLimit, CreditNeverExceedsTheBurst) {
  WriteLimit w;
  Clock::time_point t0 = Clock::now();
  w.debit(t0);
  Clock::time_point later = t0 + std::chrono::hours(1);
  int allowed = 0;
  while (w.has_credit(later) && allowed < 100) {
    w.debit(later);
    ++allowed;
  }
  EXPECT_EQ(allowed, static_cast<int>(WriteLimit::kBurst) + 1);
}

}  // namespace
}  // namespace cxs::daemon

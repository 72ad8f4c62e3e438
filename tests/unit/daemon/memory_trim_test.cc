// MemoryTrim's policy: a trim after kThreshold is freed, at most once per
// kInterval, and one follow-up for what the end of the same flood frees.
#include "daemon/memory_trim.h"

#include <gtest/gtest.h>

namespace cxs::daemon {
namespace {

using Clock = MemoryTrim::Clock;

TEST(MemoryTrim, TheTailOfAFloodIsTrimmedToo) {
  MemoryTrim trim;
  Clock::time_point t0 = Clock::now();
  trim.freed(MemoryTrim::kThreshold / 2);
  EXPECT_FALSE(trim.pending());  // too little to walk the heap for
  trim.freed(MemoryTrim::kThreshold);
  EXPECT_TRUE(trim.pending());
  EXPECT_TRUE(trim.run(t0));
  // The flood's last piece, below the threshold: one more trim, once the
  // interval has passed.
  trim.freed(MemoryTrim::kThreshold / 4);
  EXPECT_TRUE(trim.pending());
  EXPECT_FALSE(trim.run(t0 + MemoryTrim::kInterval / 2));
  EXPECT_TRUE(trim.run(t0 + MemoryTrim::kInterval));
  // After the follow-up, small frees wait for the threshold again.
  trim.freed(MemoryTrim::kThreshold / 4);
  EXPECT_FALSE(trim.pending());
  EXPECT_FALSE(trim.run(t0 + 3 * MemoryTrim::kInterval));
}

}  // namespace
}  // namespace cxs::daemon

// The listener's pause at the descriptor limit: one warning per episode
// (and no more than one a minute), one line when accepting resumes with
// the count of failed attempts, and a retry time to wake up for.
#include "daemon/accept_pause.h"

#include <gtest/gtest.h>

namespace cxs::daemon {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = AcceptPause::Clock;

constexpr char kPath[] = "/run/xs/socket";
constexpr char kWhy[] = "Too many open files";

TEST(AcceptPause, AnEpisodeIsOneWarningThenOneLineWithTheCount) {
  AcceptPause p;
  Clock::time_point t0{};
  auto start = p.failed(kPath, kWhy, t0);
  ASSERT_TRUE(start);
  EXPECT_NE(start->find(kPath), std::string::npos) << *start;
  EXPECT_NE(start->find(kWhy), std::string::npos) << *start;
  EXPECT_TRUE(p.paused());
  EXPECT_EQ(p.retry_at(), t0 + AcceptPause::kRetry);
  for (int i = 1; i < 1000; ++i)
    EXPECT_FALSE(p.failed(kPath, kWhy, t0 + milliseconds(i)));
  EXPECT_EQ(p.failures(), 1000u);
  auto end = p.resumed(kPath, t0 + seconds(3));
  ASSERT_TRUE(end);
  EXPECT_NE(end->find("3.0 s"), std::string::npos) << *end;
  EXPECT_NE(end->find("1000 accept attempts failed"), std::string::npos)
      << *end;
  EXPECT_FALSE(p.paused());
  EXPECT_FALSE(p.resumed(kPath, t0 + seconds(4)));
}

// A client closing, one accepted, the limit again: episodes as frequent as
// connections churn must not become a log flood of their own.
TEST(AcceptPause, EpisodesWithinAMinuteOfTheLastReportAreCountedNotLogged) {
  AcceptPause p;
  Clock::time_point t{};
  ASSERT_TRUE(p.failed(kPath, kWhy, t));
  ASSERT_TRUE(p.resumed(kPath, t + milliseconds(10)));
  for (int i = 1; i <= 5; ++i) {
    t += seconds(1);
    EXPECT_FALSE(p.failed(kPath, kWhy, t));
    EXPECT_TRUE(p.paused());
    EXPECT_FALSE(p.resumed(kPath, t + milliseconds(10)));
  }
  auto later = p.failed(kPath, kWhy, t + AcceptPause::kReportEvery);
  ASSERT_TRUE(later);
  EXPECT_NE(later->find("5 more"), std::string::npos) << *later;
}

TEST(AcceptPause, EachFailureMovesTheRetryOn) {
  AcceptPause p;
  Clock::time_point t{};
  p.failed(kPath, kWhy, t);
  p.failed(kPath, kWhy, t + seconds(1));
  EXPECT_EQ(p.retry_at(), t + seconds(1) + AcceptPause::kRetry);
}

}  // namespace
}  // namespace cxs::daemon

// WriteLimit: the write-rate limit of an unprivileged domain (XSA-206). While
// any transaction is open, every change a guest makes costs one credit;
// credits come back at a steady rate up to a small burst. A guest out of
// credit is simply not read until it has some again, so a guest that floods
// writes cannot keep other domains' transactions failing with EAGAIN. It is
// flow control, never an error reply.
#pragma once

#include <chrono>

namespace cxs::daemon {

class WriteLimit {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr double kRatePerSecond = 200.0;  // sustained changes/s
  static constexpr double kBurst = 10.0;           // changes in a burst

  // One change was made.
  void debit(Clock::time_point now) noexcept {
    credit_ = credit_at(now) - 1.0;
    last_ = now;
  }
  // May the domain send more now?
  bool has_credit(Clock::time_point now) const noexcept {
    return credit_at(now) >= 0.0;
  }

 private:
  double credit_at(Clock::time_point now) const noexcept {
    if (last_ == Clock::time_point{}) return credit_;
    std::chrono::duration<double> dt = now - last_;
    double c = credit_ + dt.count() * kRatePerSecond;
    return c > kBurst ? kBurst : c;
  }

  double credit_ = kBurst;
  Clock::time_point last_{};
};

}  // namespace cxs::daemon

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
    refill(now);
    credit_ -= 1.0;
  }
  // May the domain send more now?
  bool has_credit(Clock::time_point now) noexcept {
    refill(now);
    return credit_ >= 0.0;
  }

 private:
  void refill(Clock::time_point now) noexcept {
    if (last_ != Clock::time_point{}) {
      std::chrono::duration<double> dt = now - last_;
      credit_ += dt.count() * kRatePerSecond;
      if (credit_ > kBurst) credit_ = kBurst;
    }
    last_ = now;
  }

  double credit_ = kBurst;
  Clock::time_point last_{};
};

}  // namespace cxs::daemon

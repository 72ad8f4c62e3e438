// AcceptPause: what the server does when accept() fails for want of a
// descriptor (or kernel memory). The listener stays readable while clients
// wait, so retrying on every readiness would spin at full CPU and log a line
// per turn. Instead the listener is taken out of the poll set ("paused")
// and accept() is tried again when a connection closes (a descriptor is
// free) or, failing that, kRetry later; the clients wait in the backlog
// meanwhile. Only state and log text live here; the server does the rest.
//
// Logging, one episode being the time from the first failure to the next
// successful accept():
//   12:00:00 warn  accept on PATH: Too many open files (fd limit 64): new
//                  connections wait until a descriptor frees
//   12:00:03 info  accepting on PATH again after 3.0 s (13 accept attempts
//                  failed)
// An episode starting within kReportEvery of the last reported one is not
// logged; the next reported start says how many went unreported.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cxs::daemon {

class AcceptPause {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr Clock::duration kRetry = std::chrono::milliseconds(250);
  static constexpr Clock::duration kReportEvery = std::chrono::seconds(60);

  // accept() failed with `why`; the listener is (to be) out of the poll
  // set until resumed(). Returns the warning to log, if any.
  std::optional<std::string> failed(std::string_view path, std::string_view why,
                                    Clock::time_point now);
  // accept() found the backlog empty again: poll the listener again.
  // Returns the line that ends a reported episode, if any.
  std::optional<std::string> resumed(std::string_view path,
                                     Clock::time_point now);

  bool paused() const noexcept { return paused_; }
  // When to try accept() again while paused.
  Clock::time_point retry_at() const noexcept { return retry_at_; }
  // Failed attempts in the episode under way (or the last one).
  std::uint64_t failures() const noexcept { return failures_; }

 private:
  bool paused_ = false;
  bool reported_ = false;  // this episode's start was logged
  Clock::time_point since_{};
  Clock::time_point retry_at_{};
  std::optional<Clock::time_point> last_report_;
  std::uint64_t failures_ = 0;
  std::uint64_t unreported_ = 0;  // episodes since the last report
};

}  // namespace cxs::daemon

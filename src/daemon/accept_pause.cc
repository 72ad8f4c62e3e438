#include "daemon/accept_pause.h"

#include <spdlog/fmt/fmt.h>

#include "daemon/process.h"

namespace cxs::daemon {

std::optional<std::string> AcceptPause::failed(std::string_view path,
                                               std::string_view why,
                                               Clock::time_point now) {
  retry_at_ = now + kRetry;
  if (paused_) {
    ++failures_;
    return std::nullopt;
  }
  paused_ = true;
  since_ = now;
  failures_ = 1;
  reported_ = !last_report_ || now - *last_report_ >= kReportEvery;
  if (!reported_) {
    ++unreported_;
    return std::nullopt;
  }
  last_report_ = now;
  std::string line = fmt::format(
      "accept on {}: {} (fd limit {}): new connections wait until a "
      "descriptor frees",
      path, why, fd_limit());
  if (unreported_ != 0)
    line += fmt::format(" ({} more such pauses since the last report)",
                        unreported_);
  unreported_ = 0;
  return line;
}

std::optional<std::string> AcceptPause::resumed(std::string_view path,
                                                Clock::time_point now) {
  if (!paused_) return std::nullopt;
  paused_ = false;
  if (!reported_) return std::nullopt;
  double secs = std::chrono::duration<double>(now - since_).count();
  return fmt::format(
      "accepting on {} again after {:.1f} s ({} accept attempts failed)", path,
      secs, failures_);
}

}  // namespace cxs::daemon

// Process-level chores of a daemon: logging set-up (stderr in the foreground,
// syslog when daemonised), the pid file, daemonising, and systemd's
// readiness notification.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cxenstored/unique_fd.h"

namespace cxs::daemon {

// spdlog default logger: stderr when foreground, syslog ("cxenstored",
// LOG_DAEMON) otherwise. level: trace|debug|info|warn|error.
void init_logging(bool foreground, const std::string& level);

// How a daemonised process tells the one the shell started how start-up
// ended: daemonise() keeps that process waiting on a pipe, and it exits 0
// on ready(), or 1 with the reason on its stderr on failed() (or if the
// daemon dies first). In the foreground it reports nothing: the daemon's
// own exit status and stderr say it.
class StartupReport {
 public:
  StartupReport() = default;
  explicit StartupReport(UniqueFd fd) noexcept : fd_(std::move(fd)) {}

  void ready() noexcept;
  // False if there is no one to tell (foreground, or reported already):
  // the caller then says it on stderr itself.
  bool failed(std::string_view why) noexcept;

 private:
  UniqueFd fd_;
};

// Double fork + setsid, stdin/stdout/stderr to /dev/null. Returns in the
// daemon; the calling process stays in here and exits with the daemon's
// report (see StartupReport). Throws on failure.
StartupReport daemonise();

// Raises the soft RLIMIT_NOFILE to the hard one (every client holds a
// descriptor); logs the figure. Never throws.
void raise_fd_limit() noexcept;
// The soft RLIMIT_NOFILE, for log lines (0 if unknown).
std::uint64_t fd_limit() noexcept;

// Writes "<pid>\n"; throws std::runtime_error on failure.
void write_pid_file(const std::string& path);

// Runs argv[0] (PATH searched) with stdin from /dev/null and stdout and
// stderr captured (the first `capture_max` bytes), waiting at most
// `timeout_ms`; a child still running then is killed. Never throws.
struct ChildResult {
  bool started = false;  // false: fork or exec failed (see output)
  bool timed_out = false;
  int exit_status = -1;  // when it exited normally
  int signal = 0;        // when a signal ended it
  std::string output;
  bool succeeded() const noexcept {
    return started && !timed_out && signal == 0 && exit_status == 0;
  }
  std::string describe() const;  // "exit status 3", "killed by signal 11"...
};
ChildResult run_child(const std::vector<std::string>& argv, int timeout_ms,
                      std::size_t capture_max = 64 * 1024) noexcept;

// FD_CLOEXEC off (the fd is handed to an exec'd daemon) or on again.
// Returns false (errno set) on failure.
bool set_inherited(int fd, bool inherited) noexcept;

// execvp(argv[0], argv) with no signal blocked (the mask is inherited);
// returns the errno only if the exec failed, with the mask as it was.
int exec_replace(const std::vector<std::string>& argv) noexcept;

// Sends READY=1 to $NOTIFY_SOCKET if set (abstract "@" names too). Returns
// false if the variable is set but the message could not be sent.
bool notify_ready();

}  // namespace cxs::daemon

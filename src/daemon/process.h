// Process-level chores of a daemon: logging set-up (stderr in the foreground,
// syslog when daemonised), the pid file, daemonising, and systemd's
// readiness notification.
#pragma once

#include <string>

namespace cxs::daemon {

// spdlog default logger: stderr when foreground, syslog ("cxenstored",
// LOG_DAEMON) otherwise. level: trace|debug|info|warn|error.
void init_logging(bool foreground, const std::string& level);

// Double fork + setsid, stdin/stdout/stderr to /dev/null. Throws on failure.
void daemonise();

// Writes "<pid>\n"; throws std::runtime_error on failure.
void write_pid_file(const std::string& path);

// Sends READY=1 to $NOTIFY_SOCKET if set (abstract "@" names too). Returns
// false if the variable is set but the message could not be sent.
bool notify_ready();

}  // namespace cxs::daemon

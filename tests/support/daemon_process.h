// DaemonProcess: starts the built cxenstored binary with --standalone (or,
// given SimXen, with --sim-xen on the same temporary directory) on a private
// socket in a fresh temporary directory, waits until it answers, and stops
// it (SIGTERM, then SIGKILL) when destroyed. Also runs the real xenstore
// clients against it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace cxs::test {

struct CommandResult {
  int status = -1;  // exit status, or -1 if it did not exit normally
  std::string out;  // stdout and stderr together
};

// Tag: run the daemon on the simulated hypervisor in dir() (ring-D files,
// the evtchn FIFO, the domains list; see tools/refd/README.md).
struct SimXen {};

class DaemonProcess {
 public:
  explicit DaemonProcess(std::vector<std::string> extra_args = {});
  explicit DaemonProcess(SimXen, std::vector<std::string> extra_args = {});
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  const std::string& socket_path() const noexcept { return socket_; }
  const std::string& dir() const noexcept { return dir_; }
  pid_t pid() const noexcept { return pid_; }
  bool alive() const;
  // SIGTERM and wait; returns the exit status (or -1).
  int terminate();
  // Daemon's stderr log so far.
  std::string log() const;
  // Resident set size of the daemon in KiB (from /proc).
  long rss_kib() const;
  // Peak resident set size so far in KiB (VmHWM), -1 if unknown.
  long peak_rss_kib() const;

  // Runs a shell command with XENSTORED_PATH pointing at this daemon.
  CommandResult run(const std::string& command) const;

 private:
  void start(bool sim_xen, const std::vector<std::string>& extra_args);

  std::string dir_;
  std::string socket_;
  pid_t pid_ = -1;
  // alive() reaps a daemon that exited on its own; terminate() must then
  // not signal the (possibly reused) pid again.
  mutable bool reaped_ = false;
  mutable int reaped_status_ = 0;
};

// The built daemon (set by CMake).
std::string daemon_binary();

}  // namespace cxs::test

// DaemonProcess: the one launcher of the tests and the benchmarks. Starts a
// xenstore daemon in its own directory (the socket, the log daemon.log and,
// on the simulated hypervisor, the ring pages and FIFOs live there), waits
// until it answers a request, and stops it when destroyed. Kinds: the built
// cxenstored (--standalone or --sim-xen), the reference C xenstored and
// oxenstored 4.17 under the refd LD_PRELOAD shim (shared/tools/refd), and
// the benchmarks' store-less echo server. Also reads the process's CPU
// time and RSS from /proc and runs the real xenstore clients against it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace cxs::harness {

// kind_name() names them in this order.
enum class DaemonKind { kCxs, kC, kEcho, kOx, kOxNoLog };

const char* kind_name(DaemonKind k);

struct CommandResult {
  int status = -1;  // exit status, or -1 if it did not exit normally
  std::string out;  // stdout and stderr together
};

// What to start and where; every member has a default.
struct DaemonOptions {
  DaemonKind kind = DaemonKind::kCxs;
  // cxenstored only: --sim-xen on dir() (rings usable), else --standalone.
  // The reference daemons always run on the shim's simulated hypervisor.
  bool sim_xen = false;
  // Created if absent and left in place (must be short: AF_UNIX paths);
  // empty: a fresh /tmp/cxs-test-XXXXXX, removed on destruction.
  std::string dir;
  // cxenstored or the echo server; empty: the built cxenstored.
  std::string binary;
  // The refd shim's directory for the reference kinds; empty: refd_dir().
  std::string refd;
  // Appended to the daemon's command line (not the echo server's).
  std::vector<std::string> args;
};

// cxenstored with `args`, on the simulated hypervisor or --standalone.
DaemonOptions cxs_options(bool sim_xen, std::vector<std::string> args);

// Tag: run cxenstored on the simulated hypervisor in dir() (ring-D files,
// the evtchn FIFO, the domains list; see tools/refd/README.md).
struct SimXen {};

class DaemonProcess {
 public:
  // Throws harness::Error when the daemon does not answer within 10 s.
  explicit DaemonProcess(const DaemonOptions& options);
  // cxenstored --standalone, or --sim-xen, in a fresh directory.
  explicit DaemonProcess(std::vector<std::string> extra_args = {})
      : DaemonProcess(cxs_options(false, std::move(extra_args))) {}
  explicit DaemonProcess(SimXen, std::vector<std::string> extra_args = {})
      : DaemonProcess(cxs_options(true, std::move(extra_args))) {}
  // Attaches to a daemon someone else started (for profiling runs): no
  // simulated rings, not stopped on destruction.
  DaemonProcess(const std::string& socket, pid_t pid);
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  DaemonKind kind() const noexcept { return kind_; }
  const std::string& socket_path() const noexcept { return socket_; }
  const std::string& dir() const noexcept { return dir_; }
  // The simulated hypervisor's directory; empty when rings are unavailable.
  const std::string& sim_dir() const noexcept { return sim_dir_; }
  // The daemon's pid (a live update keeps it).
  pid_t pid() const noexcept { return pid_; }
  // A real store behind it (the echo server has none).
  bool has_store() const noexcept { return kind_ != DaemonKind::kEcho; }
  // One of the 4.17 daemons run under refd (not our child).
  bool is_reference() const noexcept {
    return kind_ == DaemonKind::kC || kind_ == DaemonKind::kOx ||
           kind_ == DaemonKind::kOxNoLog;
  }

  bool alive() const;
  // Stops the daemon (SIGTERM, then SIGKILL); returns the exit status of a
  // daemon we started, -1 otherwise.
  int terminate();
  // The daemon's log (stdout and stderr) so far.
  std::string log() const;

  // Resident set size in KiB (VmRSS), -1 if unknown.
  long rss_kib() const;
  // Peak resident set size so far in KiB (VmHWM), -1 if unknown.
  long peak_rss_kib() const;
  // VmRSS in bytes; throws harness::Error when /proc has none.
  long rss_bytes() const;
  // CPU time of the process, in seconds: the scheduler's nanosecond count
  // (/proc/PID/task/*/schedstat), else utime + stime in clock ticks.
  double cpu_seconds() const;

  // Runs a shell command with XENSTORED_PATH pointing at this daemon.
  CommandResult run(const std::string& command) const;

 private:
  void start_child(const DaemonOptions& o);
  void start_reference(const DaemonOptions& o);
  void wait_ready();
  void stop_reference();
  double scheduled_ns() const;  // 0 when the kernel does not keep it
  double ticks_seconds() const;

  DaemonKind kind_ = DaemonKind::kCxs;
  std::string dir_;
  std::string socket_;
  std::string sim_dir_;
  std::string refd_;
  pid_t pid_ = -1;
  bool owned_ = true;      // ours to stop
  bool owns_dir_ = false;  // ours to remove
  // alive() reaps a daemon that exited on its own; terminate() must then
  // not signal the (possibly reused) pid again.
  mutable bool reaped_ = false;
  mutable int reaped_status_ = 0;
};

// The built daemon (set by CMake).
std::string daemon_binary();

// Where the reference daemons' shim lives: $CXS_REFD_DIR (or $CXS_REFD),
// else <source>/../shared/tools/refd. Empty when it (or the C daemon) is
// absent; the project never needs it to build or to pass.
std::string refd_dir();

}  // namespace cxs::harness

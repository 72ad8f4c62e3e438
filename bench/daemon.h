// Daemon: one daemon under test, started fresh in its own short directory
// (the socket and, for the simulated hypervisor, the ring pages and FIFOs
// live there) and stopped on destruction. Three kinds: cxenstored (run with
// --sim-xen so the ring workloads can use it too), the reference C
// xenstored 4.17 through tools/refd's start-peer.sh, and the bench's echo
// server, and oxenstored 4.17 through refd too (its access log on, as
// shipped, or off). Also reads the process's CPU time and RSS from /proc.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

namespace cxs::bench {

enum class DaemonKind { kCxs, kC, kEcho, kOx, kOxNoLog };

const char* kind_name(DaemonKind k);

struct DaemonPaths {
  std::string cxenstored;  // the cxenstored binary
  std::string echo;        // the echo server binary
  std::string refd;        // tools/refd directory; empty when absent
};

// Where the bench tools find the daemons: cxenstored and the echo server
// beside the tool's build directory, tools/refd from $CXS_REFD, else
// ../shared/tools/refd (from the working directory or from `source_dir`).
DaemonPaths default_paths(const std::string& source_dir);

// The body of main() for a bench that measures cxenstored and/or the C
// daemon: `run_one` for each kind `target` names ("cxs", "c", "ox",
// "ox-nolog", a comma-separated list of those, "both" = cxs,c or "all";
// the reference daemons skipped with a line when tools/refd is absent), in
// `workdir`, which is removed afterwards. Returns the exit status: the
// runs' statuses or'ed.
int run_targets(const std::string& target, const DaemonPaths& paths,
                const std::string& workdir,
                const std::function<int(DaemonKind)>& run_one);
// main() for such a bench: `body`'s status, or 2 with "name: message" on
// stderr when it throws.
int bench_main(const char* name, const std::function<int()>& body);
// The value of the option at argv[i] (argv[i + 1], i moved on to it);
// throws BenchError "<option> needs a value" when there is none.
std::string option_value(int argc, char** argv, int& i);
bool path_exists(const std::string& p);

class Daemon {
 public:
  // Starts the daemon in `dir` (created, must be short: AF_UNIX paths).
  // Throws BenchError when it does not come up.
  Daemon(DaemonKind kind, const DaemonPaths& paths, const std::string& dir);
  // Attaches to a daemon someone else started (for profiling runs): no
  // simulated rings, not stopped on destruction.
  Daemon(const std::string& socket, pid_t pid);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  DaemonKind kind() const noexcept { return kind_; }
  const std::string& socket() const noexcept { return socket_; }
  // The simulated hypervisor's directory; empty when rings are unavailable.
  const std::string& sim_dir() const noexcept { return sim_dir_; }
  pid_t pid() const noexcept { return pid_; }
  // A real store behind it (the echo server has none).
  bool has_store() const noexcept { return kind_ != DaemonKind::kEcho; }
  // One of the 4.17 daemons run under tools/refd.
  bool is_reference() const noexcept {
    return kind_ == DaemonKind::kC || kind_ == DaemonKind::kOx ||
           kind_ == DaemonKind::kOxNoLog;
  }

  // CPU time of the process, in seconds: the scheduler's nanosecond count
  // (/proc/PID/task/*/schedstat), else utime + stime in clock ticks.
  double cpu_seconds() const;
  // VmRSS in bytes.
  long rss_bytes() const;

 private:
  void wait_ready();
  double scheduled_ns() const;  // 0 when the kernel does not keep it
  double ticks_seconds() const;

  DaemonKind kind_;
  std::string dir_;
  std::string socket_;
  std::string sim_dir_;
  std::string stop_script_;
  pid_t pid_ = -1;
  bool owned_ = true;
};

}  // namespace cxs::bench

// The workloads of cxs-bench (issue #7) and what they report. Each runs
// against one freshly started DaemonProcess, bounded by a duration and an
// operation count, checks every reply it gets (a wrong one throws BenchError:
// that is the smoke test), and measures ops/s, latency percentiles and the
// daemon's CPU time per operation over the timed window only (set-up excluded).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench_main.h"

namespace cxs::bench {

struct Limits {
  double seconds = 2.0;             // timed window of each workload
  std::uint64_t max_ops = 5000000;  // ... or this many operations
  int scale_nodes = 100000;
  int guests = 100;
  bool smoke = false;
};

struct Result {
  std::string workload;
  std::uint64_t ops = 0;
  double seconds = 0;
  double p50_us = 0, p99_us = 0;
  double cpu_us_per_op = 0;
  // Workload-specific figure (EAGAIN %, bytes per node) and its label.
  double extra = 0;
  std::string extra_label;
  double ops_per_s() const { return seconds > 0 ? ops / seconds : 0; }
};

struct Workload {
  std::string name;
  std::string what;  // one line for --list and the docs
  bool needs_store;  // not for the echo server
  bool needs_rings;  // needs the simulated hypervisor
  std::function<Result(DaemonProcess&, const Limits&)> run;
};

const std::vector<Workload>& all_workloads();

// Measures a timed window: wall clock and the daemon's CPU time.
class Window {
 public:
  explicit Window(const DaemonProcess& d);
  // Fills ops, seconds, percentiles and CPU per op.
  void finish(Result& r, std::uint64_t ops, std::vector<double>& lat_us);

 private:
  const DaemonProcess& d_;
  double cpu0_;
  Clock::time_point t0_;
};

}  // namespace cxs::bench

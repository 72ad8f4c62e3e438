// Shared pieces of cxs-boot-storm (bench/boot_storm.cc): payload helpers,
// the simulated hypervisor's domain list, the counters and the first
// failure every thread of a run reports to. Nothing here owns a thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <initializer_list>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bench_main.h"
#include "ring_load.h"

namespace cxs::bench::storm {

inline constexpr std::uint32_t kPortBase = 100;  // domain D's port: 100+D
// How long any one reply may take (C at 1000 VMs is slow, not stuck).
inline constexpr auto kPatience = std::chrono::seconds(120);
extern const std::string kOk;  // "OK\0"

double us_between(Clock::time_point a, Clock::time_point b);
double percentile(std::vector<double> v, double p);
std::string dom_path(int d);
std::string uuid_of(int d);
// "n0\0r5\0" from {"n0", "r5"}.
std::string perms(std::initializer_list<std::string> ps);
// Splits a watch event's "path\0token\0".
std::pair<std::string, std::string> split_event(const std::string& payload);
// A DIRECTORY reply's names.
std::vector<std::string> split_dir(const std::string& payload);
// "/a/b/c" -> {"a", "b", "c"}.
std::vector<std::string> components(const std::string& path);
// DIR/ring-D created or zeroed.
void zero_ring(const std::string& dir, int d);

// What the simulated hypervisor says exists: DIR/domains, shared by the
// workers.
class DomainList {
 public:
  explicit DomainList(std::string dir) : file_(std::move(dir) + "/domains") {
    write();
  }
  void add(int d) {
    std::lock_guard<std::mutex> l(m_);
    live_.insert(d);
    write();
  }
  void remove(int d) {
    std::lock_guard<std::mutex> l(m_);
    live_.erase(d);
    write();
  }
  std::vector<int> snapshot() {
    std::lock_guard<std::mutex> l(m_);
    return {live_.begin(), live_.end()};
  }

 private:
  void write() {
    std::string s = "0";
    for (int d : live_) s += "," + std::to_string(d);
    write_file(file_, s);
  }
  std::string file_;
  std::mutex m_;
  std::set<int> live_;
};

// The first failure of any thread; the others stop at their next step.
struct Failure {
  std::mutex m;
  std::exception_ptr first;
  std::atomic<bool> failed{false};
  void set(std::exception_ptr e) {
    std::lock_guard<std::mutex> l(m);
    if (!first) first = std::move(e);
    failed = true;
  }
  void check() {
    if (failed) throw BenchError("another thread failed");
  }
};

struct Counters {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> guest_retries{0};    // EAGAIN in guests' txs
  std::atomic<std::uint64_t> backend_retries{0};  // ... in the backends'
  std::atomic<int> fe_connected{0};               // frontends at state 4
};

}  // namespace cxs::bench::storm

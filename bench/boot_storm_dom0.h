// dom0's side of cxs-boot-storm (see boot_storm.cc): the toolstack
// workers (one socket connection each, libxl's transactions) and the
// backend drivers with their hotplug scripts (one thread, one connection).
// Each owns its connection; the daemon and what Shared names must outlive
// them.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "bench_main.h"
#include "boot_storm_guests.h"
#include "boot_storm_util.h"

namespace cxs::bench::storm {

struct VmRecord {
  int retries = 0;  // EAGAIN at the toolstack's commits
  double start_us = 0;
};

struct Shared {
  const DaemonProcess& d;
  Counters& c;
  Failure& f;
  DomainList& domains;
  GuestDriver& guests;
  std::vector<std::atomic<bool>>& destroying;
  std::vector<VmRecord>& vms;  // index D
};

// dom0's backend drivers and hotplug scripts, on one thread (started by
// the constructor) that reacts to watch events only.
class Backends {
 public:
  Backends(const DaemonProcess& d, Counters& c, Failure& f,
           const std::vector<std::atomic<bool>>& destroying);
  ~Backends();  // stops the thread
  Backends(const Backends&) = delete;
  Backends& operator=(const Backends&) = delete;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One toolstack process: creates and destroys VMs on the calling thread.
class Worker {
 public:
  explicit Worker(Shared& s);  // connects and watches @releaseDomain
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Creates domain D and returns once its vif and vbd are Connected.
  void create(int d);
  void destroy(int d);
  // @releaseDomain events seen so far, after the watch's first.
  std::uint64_t releases();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cxs::bench::storm

// The guests of cxs-boot-storm: one thread that drives every guest's
// simulated ring (DIR/ring-D, kicks through DIR/evtchn, woken by
// DIR/notify) as a guest kernel's xenbus frontends would (see
// boot_storm.cc). The daemon, counters and failure slot must outlive it.
#pragma once

#include <memory>

#include "bench_main.h"
#include "boot_storm_util.h"

namespace cxs::bench::storm {

class GuestDriver {
 public:
  // Starts the thread.
  GuestDriver(const DaemonProcess& d, Counters& c, Failure& f);
  ~GuestDriver();  // stops it
  GuestDriver(const GuestDriver&) = delete;
  GuestDriver& operator=(const GuestDriver&) = delete;

  void stop();
  // Domain D runs now (its ring is introduced, its devices are written).
  void start(int d);
  // Domain D is being destroyed: its guest stops talking.
  void halt(int d);
  // Waits until the thread has taken every start and halt.
  void quiesce();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cxs::bench::storm

// Ring workloads: up to N simulated guests (domains 1..N) on the daemon's
// simulated hypervisor, each mapping DIR/ring-D and kicking through the FIFO
// DIR/evtchn (port 100+D), driven closed-loop from one thread: every active
// guest keeps one request outstanding. The daemon's notifications (FIFO
// DIR/notify) wake the driver; it then looks at every busy guest's rsp[], so
// a dropped notification costs at most a millisecond, never a hang.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "guest/guest_ring.h"
#include "workloads.h"

namespace cxs::bench {

// The FIFO DIR/NAME of the simulated hypervisor, created if missing, open
// read-write and non-blocking (never blocks, never sees EOF).
UniqueFd open_fifo(const std::string& path);
// Replaces a file's content atomically (write beside, rename).
void write_file(const std::string& path, const std::string& text);

// One simulated guest: domain `dom`'s ring page (DIR/ring-D, which must
// exist) mapped, and its side of the ring, kicking through `evtchn_fd`
// (port 100+D). The fd must outlive it.
class SimGuest {
 public:
  SimGuest(const std::string& dir, std::uint32_t dom, int evtchn_fd);
  ~SimGuest();
  SimGuest(const SimGuest&) = delete;
  SimGuest& operator=(const SimGuest&) = delete;

  guest::GuestRing& ring() { return *ring_; }
  std::uint32_t dom() const { return dom_; }
  std::string home() const { return "/local/domain/" + std::to_string(dom_); }

  // In-flight state of the closed loop.
  std::uint32_t next_id = 0;
  bool busy = false;
  Clock::time_point sent;
  std::uint64_t issued = 0;

 private:
  std::uint32_t dom_;
  void* addr_ = nullptr;
  std::unique_ptr<guest::GuestRing> ring_;
};

// The next message from the guest's ring (reply or event), waiting on the
// daemon's notifications (FIFO `notify_fd`) for up to `limit_s` seconds;
// throws BenchError on a broken ring or the timeout.
Message await_ring(SimGuest& g, int notify_fd, int limit_s);

enum class RingOp { kRead, kWrite };

// Introduces `guests` domains through the socket, then runs `op` from the
// first `active` of them. Writes go to 500 distinct nodes per guest, in turn,
// spread over 10 directories: the per-domain node quota (1000) forbids
// unbounded distinct nodes, and the node-size quota (2048 bytes, children's
// names included) fails a 500-child directory with ENOSPC in both daemons.
Result run_ring_workload(DaemonProcess& d, const Limits& lim, RingOp op,
                         int active);

// Introduces domains 1..guests through the socket (zeroed ring pages, homes
// owned by each domain), as a toolstack does.
void introduce_guests(const DaemonProcess& d, int guests);

// Guests 1..N (introduced already) that each set `watches` watches on
// `path` (tokens w0, w1...) through their own rings, take the replies and
// the first events, and then read nothing more: their rings fill and the
// daemon queues what follows. The ring pages stay mapped while this lives.
class StalledGuests {
 public:
  StalledGuests(const DaemonProcess& d, int guests, const std::string& path,
                int watches);
  ~StalledGuests();
  StalledGuests(const StalledGuests&) = delete;
  StalledGuests& operator=(const StalledGuests&) = delete;

 private:
  struct Rings;
  std::unique_ptr<Rings> rings_;
};

}  // namespace cxs::bench

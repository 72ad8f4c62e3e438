// Ring workloads: up to N simulated guests (domains 1..N) on the daemon's
// simulated hypervisor, each mapping DIR/ring-D and kicking through the FIFO
// DIR/evtchn (port 100+D), driven closed-loop from one thread: every active
// guest keeps one request outstanding. The daemon's notifications (FIFO
// DIR/notify) wake the driver; it then looks at every busy guest's rsp[], so
// a dropped notification costs at most a millisecond, never a hang.
#pragma once

#include <memory>
#include <string>

#include "workloads.h"

namespace cxs::bench {

enum class RingOp { kRead, kWrite };

// Introduces `guests` domains through the socket, then runs `op` from the
// first `active` of them. Writes go to 500 distinct nodes per guest, in turn,
// spread over 10 directories: the per-domain node quota (1000) forbids
// unbounded distinct nodes, and the node-size quota (2048 bytes, children's
// names included) fails a 500-child directory with ENOSPC in both daemons.
Result run_ring_workload(Daemon& d, const Limits& lim, RingOp op, int active);

// Introduces domains 1..guests through the socket (zeroed ring pages, homes
// owned by each domain), as a toolstack does.
void introduce_guests(const Daemon& d, int guests);

// Guests 1..N (introduced already) that each set `watches` watches on
// `path` (tokens w0, w1...) through their own rings, take the replies and
// the first events, and then read nothing more: their rings fill and the
// daemon queues what follows. The ring pages stay mapped while this lives.
class StalledGuests {
 public:
  StalledGuests(const Daemon& d, int guests, const std::string& path,
                int watches);
  ~StalledGuests();
  StalledGuests(const StalledGuests&) = delete;
  StalledGuests& operator=(const StalledGuests&) = delete;

 private:
  struct Rings;
  std::unique_ptr<Rings> rings_;
};

}  // namespace cxs::bench

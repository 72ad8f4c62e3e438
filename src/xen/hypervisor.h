// The hypervisor as the daemon needs it, behind small interfaces: an event
// channel device (one fd for epoll), ring mapping (a guest's grant page, or
// dom0's xsd_kva), and domain state for death detection. Two implementations:
// the real one over libxenevtchn/libxengnttab/libxenctrl (xen_backend.cc, the
// only file that includes libxen headers) and a simulated one over files and
// FIFOs in a directory (sim_backend.cc, for tests and demos without Xen).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cxenstored/ids.h"
#include "cxenstored/result.h"
#include "wire/ring_page.h"

namespace cxs::xen {

using Port = std::uint32_t;

class EventChannel {
 public:
  virtual ~EventChannel() = default;
  virtual int fd() const noexcept = 0;
  // Binds the daemon's end of a domain's channel; returns the local port.
  virtual Result<Port> bind_interdomain(DomId dom, Port remote) noexcept = 0;
  // VIRQ_DOM_EXC: "some domain changed state".
  virtual Result<Port> bind_dom_exc_virq() noexcept = 0;
  virtual void unbind(Port local) noexcept = 0;
  virtual void notify(Port local) noexcept = 0;
  // After fd() polls readable: the local ports that fired (each unmasked
  // again). Empty when nothing was pending.
  virtual std::vector<Port> take_pending() noexcept = 0;
};

// A mapped ring page; unmapped on destruction.
class MappedRing {
 public:
  virtual ~MappedRing() = default;
  virtual wire::RingPage* page() noexcept = 0;
};

class RingMapper {
 public:
  virtual ~RingMapper() = default;
  // Grant reference 1 (GNTTAB_RESERVED_XENSTORE) of `dom`; `gfn` is the
  // INTRODUCE argument, used where grant mapping is unavailable.
  virtual std::unique_ptr<MappedRing> map_domain(DomId dom,
                                                 std::uint64_t gfn) noexcept = 0;
  // dom0's own ring (/proc/xen/xsd_kva) and remote port (/proc/xen/xsd_port),
  // if this host provides them.
  virtual std::unique_ptr<MappedRing> map_dom0() noexcept = 0;
  virtual std::optional<Port> dom0_port() noexcept = 0;
};

struct DomainState {
  DomId dom;
  bool dying = false;     // being destroyed
  bool shutdown = false;  // shut down or crashed, not yet dying
};

class DomainInfo {
 public:
  virtual ~DomainInfo() = default;
  // The state of one domain; nullopt if it does not exist (any more).
  virtual std::optional<DomainState> query(DomId dom) noexcept = 0;
};

struct Hypervisor {
  std::unique_ptr<EventChannel> events;
  std::unique_ptr<RingMapper> rings;
  std::unique_ptr<DomainInfo> domains;
};

// Both throw std::runtime_error when the backend cannot start. After a live
// update, `inherited_evtchn_fd` is the event channel fd of the daemon this
// one replaced: its port bindings stay valid and are kept (the ports are in
// the migration stream); -1 opens a new one.
Hypervisor open_xen(int inherited_evtchn_fd = -1);
Hypervisor open_sim(const std::string& dir, int inherited_evtchn_fd = -1);
// True if this host looks like a Xen dom0 (/dev/xen/evtchn or xsd_kva).
bool xen_present() noexcept;

}  // namespace cxs::xen

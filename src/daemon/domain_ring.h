// DomainRing: the transport of a domain's ring connection. It owns the
// mapped ring page together with the ring protocol over it, so the page is
// mapped exactly as long as anything can reach it: the connection that
// owns this transport outlives its domain's record until the end of the
// loop turn (see Server::reap), and the page goes with the connection.
//
// A ring that could not be mapped (again, after a live update) gives an
// unserved connection: the domain stays known, so that its death is still
// reported (the C daemon's "ignored" connection), but nothing moves on it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "transport/ring/ring_transport.h"
#include "xen/hypervisor.h"

namespace cxs::daemon {

class DomainRing final : public transport::Transport {
 public:
  // `notify` kicks the guest's event channel.
  DomainRing(std::unique_ptr<xen::MappedRing> mapping,
             std::function<void()> notify) noexcept;

  transport::IoResult read(char* buf, std::size_t len) noexcept override;
  transport::IoResult write(const char* buf, std::size_t len) noexcept override;
  bool on_protocol_fault(transport::Fault f) noexcept override;
  void end_batch() noexcept override;
  const char* kind() const noexcept override;

  bool mapped() const noexcept { return ring_.has_value(); }
  // The guest asked for a reconnection (and the ring is mapped).
  bool reconnect_requested() const noexcept;
  // See transport::RingTransport::finish_reconnect.
  void finish_reconnect() noexcept;
  // What the page tells the guest the daemon offers. A guest can write any
  // bits there itself: what it may use is kept by Domains, never read back.
  void advertise_features(std::uint32_t features) noexcept;

 private:
  std::unique_ptr<xen::MappedRing> mapping_;
  std::optional<transport::RingTransport> ring_;  // over mapping_'s page
};

}  // namespace cxs::daemon

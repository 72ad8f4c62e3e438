// The shared-ring transport: a domain's requests arrive in req[] of its ring
// page and replies and events go out through rsp[]. The guest is untrusted:
// each index it writes is read once, then a barrier, then checked
// (prod - cons <= 1024, modulo 2^32) before any byte is touched. A broken
// index or an oversized request sets the page's error field (with the ERROR
// feature) and the ring is no longer served; the domain stays known until it
// dies. Notifications to the guest are batched: end_batch() kicks once per
// batch of progress.
#pragma once

#include <functional>

#include "transport/transport.h"
#include "wire/ring_page.h"

namespace cxs::transport {

class RingTransport final : public Transport {
 public:
  // `page` must outlive the transport; `notify` kicks the guest's channel.
  RingTransport(wire::RingPage* page, std::function<void()> notify) noexcept;

  IoResult read(char* buf, std::size_t len) noexcept override;
  IoResult write(const char* buf, std::size_t len) noexcept override;
  bool on_protocol_fault(Fault f) noexcept override;
  void end_batch() noexcept override;
  const char* kind() const noexcept override { return "ring"; }

  bool in_error() const noexcept { return broken_; }
  // The guest asked for a reconnection (connection field set to 1).
  bool reconnect_requested() const noexcept;
  // Completes a reconnection: indexes zeroed, error cleared, connection back
  // to 0, guest notified. The caller has dropped the connection's state.
  void finish_reconnect() noexcept;

  wire::RingPage* page() noexcept { return page_; }

 private:
  wire::RingPage* page_;
  std::function<void()> notify_;
  bool progressed_ = false;
  bool broken_ = false;
};

}  // namespace cxs::transport

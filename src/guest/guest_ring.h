// GuestRing: the guest's side of a xenstore ring page (what a guest kernel's
// xenbus driver does): it writes requests into req[] and bumps req_prod, and
// reads whole messages out of rsp[], advancing rsp_cons. Used by the
// cxs-guest tool and, through tests/fakes/fake_guest, by the ring tests.
// It borrows the page (any mapping) and must not outlive it. It also has raw
// helpers that break the protocol on purpose, for hostile-guest tests.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "wire/header.h"
#include "wire/ring_page.h"

namespace cxs::guest {

class GuestRing {
 public:
  // `kick` signals the daemon (the guest's event channel); it is called after
  // every call that moved an index.
  GuestRing(wire::RingPage* page, std::function<void()> kick);

  // --- the protocol, as a well-behaved guest speaks it ---

  // Queues a whole message and writes as much of the queue as fits now.
  // Returns true once everything queued has gone into the ring.
  bool send(std::uint32_t type, std::uint32_t req_id, std::uint32_t tx_id,
            std::string_view payload);
  // Queues raw bytes (a header with a lie in it, half a message...).
  bool send_bytes(std::string_view bytes);
  // Writes more of the queue as the daemon frees space; true when it is empty.
  bool flush();
  std::size_t unsent_bytes() const noexcept { return out_.size(); }

  // Takes whatever the daemon has produced and returns the next whole
  // message, if one is complete. nullopt also when the daemon's indexes are
  // broken (see rsp_broken()).
  std::optional<wire::Message> receive();
  // Bytes taken from rsp[] that do not form a whole message yet.
  std::size_t partial_bytes() const noexcept { return in_.size(); }
  bool rsp_broken() const noexcept { return rsp_broken_; }

  // Asks for a ring reconnection (connection = 1) and kicks; the daemon
  // answers by zeroing the indexes and setting connection back to 0.
  void request_reconnect();
  // Drops local partial state (after a reconnection).
  void reset_local() noexcept;

  // --- the raw view, for hostile tests ---

  std::uint32_t req_cons() const noexcept;
  std::uint32_t req_prod() const noexcept;
  std::uint32_t rsp_cons() const noexcept;
  std::uint32_t rsp_prod() const noexcept;
  std::uint32_t connection() const noexcept;
  std::uint32_t error() const noexcept;
  std::uint32_t server_features() const noexcept;

  void set_req_cons(std::uint32_t v) noexcept;
  void set_req_prod(std::uint32_t v) noexcept;
  void set_rsp_cons(std::uint32_t v) noexcept;
  void set_rsp_prod(std::uint32_t v) noexcept;
  // All four indexes at `v`: both queues empty, starting at that offset.
  void set_all_indexes(std::uint32_t v) noexcept;
  // Copies bytes into req[] at free-running index `idx` (wrapping), moving no
  // index.
  void write_raw(std::uint32_t idx, std::string_view bytes) noexcept;
  // Writes bytes at req_prod and bumps req_prod by their size, without
  // looking at free space or the queue (may overrun the daemon).
  void push_raw(std::string_view bytes) noexcept;

  void kick() const {
    if (kick_) kick_();
  }
  wire::RingPage* page() noexcept { return page_; }

 private:
  wire::RingPage* page_;
  std::function<void()> kick_;
  std::string out_;  // queued, not yet in req[]
  std::string in_;   // taken from rsp[], not yet a whole message
  bool rsp_broken_ = false;
};

}  // namespace cxs::guest

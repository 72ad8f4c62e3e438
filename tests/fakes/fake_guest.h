// FakeGuest: a guest domain in a test, driving the guest side of a ring page
// (any mapping of it) through guest::GuestRing, the same ring writer the
// cxs-guest tool uses. It numbers requests, counts its kicks and gives the
// raw GuestRing for hostile tests. The page must outlive the FakeGuest.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "guest/guest_ring.h"
#include "wire/message_type.h"

namespace cxs::test {

class FakeGuest {
 public:
  // `kick` is the guest's event channel towards the daemon (may be empty).
  explicit FakeGuest(wire::RingPage* page, std::function<void()> kick = {});

  // Sends one request; returns its req_id. What does not fit stays queued
  // until flush() (all_sent() tells).
  std::uint32_t send(wire::MsgType type, std::string_view payload,
                     std::uint32_t tx_id = 0);
  std::uint32_t send(std::uint32_t type, std::string_view payload,
                     std::uint32_t tx_id = 0);
  bool flush() { return ring_.flush(); }
  bool all_sent() const noexcept { return ring_.unsent_bytes() == 0; }

  // The next whole message from rsp[], if one is complete.
  std::optional<wire::Message> receive() { return ring_.receive(); }

  int kicks() const noexcept { return kicks_; }
  guest::GuestRing& raw() noexcept { return ring_; }

 private:
  std::function<void()> user_kick_;
  int kicks_ = 0;
  std::uint32_t next_req_ = 1;
  guest::GuestRing ring_;
};

}  // namespace cxs::test

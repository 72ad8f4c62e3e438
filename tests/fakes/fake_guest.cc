#include "fakes/fake_guest.h"

namespace cxs::test {

FakeGuest::FakeGuest(wire::RingPage* page, std::function<void()> kick)
    : user_kick_(std::move(kick)), ring_(page, [this] {
        ++kicks_;
        if (user_kick_) user_kick_();
      }) {}

std::uint32_t FakeGuest::send(wire::MsgType type, std::string_view payload,
                              std::uint32_t tx_id) {
  return send(static_cast<std::uint32_t>(type), payload, tx_id);
}

std::uint32_t FakeGuest::send(std::uint32_t type, std::string_view payload,
                              std::uint32_t tx_id) {
  std::uint32_t id = next_req_++;
  ring_.send(type, id, tx_id, payload);
  return id;
}

}  // namespace cxs::test

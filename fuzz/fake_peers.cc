#include "fake_peers.h"

#include <algorithm>
#include <cstring>

namespace cxs::fuzz {

using transport::Fault;
using transport::IoResult;
using wire::kRingBytes;

IoResult StreamTransport::read(char* buf, std::size_t len) noexcept {
  if (peer_.faulted) fuzz_failure("socket", "read after its fault");
  if (peer_.read_fault != Fault::kNone) {
    Fault f = peer_.read_fault;
    peer_.read_fault = Fault::kNone;
    return {0, f};
  }
  if (peer_.stalls > 0) {
    --peer_.stalls;
    return {};
  }
  std::size_t left = peer_.input.size() - peer_.input_pos;
  if (left == 0) return {0, peer_.hung_up ? Fault::kClosed : Fault::kNone};
  std::size_t n = std::min(left, len);
  if (peer_.chunk) n = std::min(n, peer_.chunk);
  std::memcpy(buf, peer_.input.data() + peer_.input_pos, n);
  peer_.input_pos += n;
  return {n, Fault::kNone};
}

IoResult StreamTransport::write(const char* buf, std::size_t len) noexcept {
  if (peer_.faulted) fuzz_failure("socket", "written after its fault");
  if (peer_.write_fault != Fault::kNone) {
    Fault f = peer_.write_fault;
    peer_.write_fault = Fault::kNone;
    return {0, f};
  }
  std::size_t n = std::min(len, peer_.room);
  peer_.room -= n;
  peer_.out->received(buf, n);
  return {n, Fault::kNone};
}

bool StreamTransport::on_protocol_fault(Fault) noexcept {
  peer_.faulted = true;
  return true;
}

RingGuest::RingGuest() noexcept { page.server_features = kServerFeatures; }

std::size_t RingGuest::push(std::size_t max) noexcept {
  std::uint32_t prod = page.req_prod;
  std::uint32_t used = prod - page.req_cons;
  if (used > kRingBytes) return 0;  // it broke them itself
  std::size_t n =
      std::min<std::size_t>({max, kRingBytes - used, input.size() - input_pos});
  for (std::size_t i = 0; i < n; ++i)
    page.req[(prod + i) & (kRingBytes - 1)] = input[input_pos + i];
  input_pos += n;
  page.req_prod = prod + static_cast<std::uint32_t>(n);
  return n;
}

std::size_t RingGuest::consume(std::size_t max) {
  std::uint32_t cons = page.rsp_cons;
  std::uint32_t avail = page.rsp_prod - cons;
  if (avail > kRingBytes) {
    confused = true;
    return 0;
  }
  std::size_t n = std::min<std::size_t>(max, avail);
  std::string got(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    got[i] = page.rsp[(cons + i) & (kRingBytes - 1)];
  if (!confused) out->received(got.data(), n);
  page.rsp_cons = cons + static_cast<std::uint32_t>(n);
  return n;
}

}  // namespace cxs::fuzz

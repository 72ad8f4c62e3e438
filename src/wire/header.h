// The 16-byte message header (struct xsd_sockmsg) in host byte order, as the
// protocol defines it (both ends share a host), and its (de)serialisation.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "cxenstored/limits.h"

namespace cxs::wire {

struct Header {
  std::uint32_t type = 0;
  std::uint32_t req_id = 0;
  std::uint32_t tx_id = 0;
  std::uint32_t len = 0;
};
static_assert(sizeof(Header) == kHeaderSize);

inline Header decode_header(const char* bytes) noexcept {
  Header h;
  std::memcpy(&h, bytes, sizeof h);
  return h;
}

inline void encode_header(const Header& h, char* out) noexcept {
  std::memcpy(out, &h, sizeof h);
}

// A whole message: header plus payload. The payload is binary-safe.
struct Message {
  Header hdr;
  std::string payload;
};

// A whole message whose payload is borrowed from the buffer it arrived in
// (no copy per request); valid as long as the lender says.
struct MessageView {
  Header hdr;
  std::string_view payload;

  Message owned() const { return Message{hdr, std::string(payload)}; }
};

// Header followed by payload, ready for a transport. Sets hdr.len.
std::string encode_message(std::uint32_t type, std::uint32_t req_id,
                           std::uint32_t tx_id, std::string_view payload);

}  // namespace cxs::wire

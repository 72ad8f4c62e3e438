#include "wire/header.h"

namespace cxs::wire {

std::string encode_message(std::uint32_t type, std::uint32_t req_id,
                           std::uint32_t tx_id, std::string_view payload) {
  Header h{type, req_id, tx_id, static_cast<std::uint32_t>(payload.size())};
  std::string out(kHeaderSize + payload.size(), '\0');
  encode_header(h, out.data());
  out.replace(kHeaderSize, payload.size(), payload);
  return out;
}

}  // namespace cxs::wire

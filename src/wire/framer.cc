#include "wire/framer.h"

#include <algorithm>

namespace cxs::wire {

std::size_t Framer::feed(const char* data, std::size_t len) noexcept {
  std::size_t used = 0;
  if (fault_ || complete_) return 0;

  if (have_ < kHeaderSize) {
    std::size_t n = std::min(len, kHeaderSize - have_);
    std::copy_n(data, n, hdr_bytes_ + have_);
    have_ += n;
    used += n;
    if (have_ < kHeaderSize) return used;
    hdr_ = decode_header(hdr_bytes_);
    if (hdr_.len > kPayloadMax) {
      fault_ = true;
      fault_len_ = hdr_.len;
      return used;
    }
    body_.clear();
    body_.reserve(hdr_.len);
  }

  std::size_t want = hdr_.len - body_.size();
  std::size_t n = std::min(len - used, want);
  body_.append(data + used, n);
  used += n;
  have_ += n;
  if (body_.size() == hdr_.len) complete_ = true;
  return used;
}

std::optional<Message> Framer::take() noexcept {
  if (!complete_) return std::nullopt;
  Message m{hdr_, std::move(body_)};
  body_ = std::string();
  have_ = 0;
  complete_ = false;
  return m;
}

void Framer::reset() noexcept {
  have_ = 0;
  body_.clear();
  complete_ = false;
  fault_ = false;
  fault_len_ = 0;
}

}  // namespace cxs::wire

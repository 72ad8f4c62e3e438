#include "wire/framer.h"

#include <algorithm>
#include <new>

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
    if (!accept(hdr_)) return used;
    body_.clear();
    try {
      body_.reserve(hdr_.len);  // the one allocation: append cannot throw
    } catch (const std::bad_alloc&) {
      fault_ = no_memory_ = true;
      return used;
    }
  }

  std::size_t want = hdr_.len - body_.size();
  std::size_t n = std::min(len - used, want);
  body_.append(data + used, n);
  used += n;
  have_ += n;
  if (body_.size() == hdr_.len) complete_ = true;
  return used;
}

bool Framer::accept(const Header& h) noexcept {
  if (h.len <= kPayloadMax) return true;
  fault_ = true;
  fault_len_ = h.len;
  return false;
}

std::optional<MessageView> Framer::gather(const char* data, std::size_t len,
                                          std::size_t& used) noexcept {
  used = feed(data, len);
  if (!complete_) return std::nullopt;
  gathered_ = std::move(*take());
  return MessageView{gathered_.hdr, gathered_.payload};
}

std::optional<Message> Framer::take() noexcept {
  if (!complete_) return std::nullopt;
  Message m{hdr_, std::move(body_)};
  body_ = std::string();
  have_ = 0;
  complete_ = false;
  return m;
}

std::string Framer::partial_bytes() const {
  std::string out(hdr_bytes_, std::min(have_, kHeaderSize));
  if (have_ >= kHeaderSize) out += body_;
  return out;
}

void Framer::reset() noexcept {
  have_ = 0;
  body_.clear();
  complete_ = false;
  fault_ = false;
  no_memory_ = false;
  fault_len_ = 0;
}

}  // namespace cxs::wire

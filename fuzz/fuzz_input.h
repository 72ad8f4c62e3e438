// A fuzz input read front to back: bytes, then zeros once it runs out, so
// that every step of a fuzzer decodes whatever the input's length. Borrows
// the input's bytes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cxs::fuzz {

class FuzzInput {
 public:
  FuzzInput(const std::uint8_t* data, std::size_t size) noexcept
      : data_(data), size_(size) {}
  bool done() const noexcept { return pos_ >= size_; }
  std::uint8_t byte() noexcept { return pos_ < size_ ? data_[pos_++] : 0; }
  std::uint16_t u16() noexcept {
    return static_cast<std::uint16_t>(byte() | byte() << 8);
  }
  std::uint32_t u32() noexcept {
    return static_cast<std::uint32_t>(u16()) | static_cast<std::uint32_t>(u16())
                                                   << 16;
  }
  // Up to `n` bytes, fewer at the end.
  std::string_view bytes(std::size_t n) noexcept {
    n = std::min(n, size_ - pos_);
    std::string_view out(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

}  // namespace cxs::fuzz

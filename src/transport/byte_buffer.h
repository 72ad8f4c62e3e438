// ByteBuffer: a growable run of bytes in a connection's output queue.
// Unlike std::string it hands out the room before the bytes are written, so
// a reply is encoded straight into place (header and payload after one
// capacity check) instead of being appended piece by piece, each append
// checking capacity and writing a terminator again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include "cxenstored/unaligned.h"

namespace cxs::transport {

// memcpy without the call for the short payloads most replies carry ("4",
// a domid, a path): overlapping loads from both ends cover 1-16 bytes.
inline void copy_bytes(char* to, const char* from, std::size_t n) noexcept {
  auto copy_ends = [&](auto word) {
    using W = decltype(word);
    W head = load_unaligned<W>(from);
    W tail = load_unaligned<W>(from + n - sizeof(W));
    store_unaligned(to, head);
    store_unaligned(to + n - sizeof(W), tail);
  };
  if (n > 16) {
    std::memcpy(to, from, n);
  } else if (n >= 8) {
    copy_ends(std::uint64_t{});
  } else if (n >= 4) {
    copy_ends(std::uint32_t{});
  } else if (n > 0) {
    to[0] = from[0];
    to[n / 2] = from[n / 2];
    to[n - 1] = from[n - 1];
  }
}

class ByteBuffer {
 public:
  ByteBuffer() noexcept = default;
  // Exactly `bytes`, in a block of their size: a queued watch event is
  // never appended to, and a 30-byte event in a 256-byte block (the
  // growth minimum) made the memory quota bound a tenth of what it held.
  explicit ByteBuffer(std::string_view bytes) {
    if (bytes.empty()) return;
    grow_exact(bytes.size());
    append(bytes);
  }
  ByteBuffer(ByteBuffer&& o) noexcept
      : data_(std::move(o.data_)), size_(o.size_), capacity_(o.capacity_) {
    o.size_ = o.capacity_ = 0;
  }
  ByteBuffer& operator=(ByteBuffer&& o) noexcept {
    data_ = std::move(o.data_);
    size_ = o.size_;
    capacity_ = o.capacity_;
    o.size_ = o.capacity_ = 0;
    return *this;
  }

  const char* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  std::string_view view() const noexcept { return {data_.get(), size_}; }
  void clear() noexcept { size_ = 0; }

  // Room for `n` more bytes at the end, which the caller then writes; valid
  // until the buffer next grows.
  char* extend(std::size_t n) {
    if (capacity_ - size_ < n) grow(size_ + n);
    char* at = data_.get() + size_;
    size_ += n;
    return at;
  }
  void append(std::string_view bytes) {
    if (!bytes.empty())
      copy_bytes(extend(bytes.size()), bytes.data(), bytes.size());
  }

 private:
  void grow(std::size_t needed);
  void grow_exact(std::size_t capacity);

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

}  // namespace cxs::transport

#include "transport/byte_buffer.h"

#include <algorithm>

namespace cxs::transport {

// Doubling keeps a batch of pipelined replies to a few reallocations; the
// first block is big enough for a typical reply and its header.
void ByteBuffer::grow(std::size_t needed) {
  constexpr std::size_t kFirst = 256;
  grow_exact(std::max({needed, capacity_ * 2, kFirst}));
}

void ByteBuffer::grow_exact(std::size_t capacity) {
  auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
  if (size_ > 0) std::memcpy(bigger.get(), data_.get(), size_);
  data_ = std::move(bigger);
  capacity_ = capacity;
}

}  // namespace cxs::transport

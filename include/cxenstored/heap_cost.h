// What a heap block really costs the process, for the memory quota: what a
// client makes the daemon hold must be charged at its allocation size, not
// at its payload size, or the quota does not bound RSS (a 30-byte watch
// event once held 440 bytes). The figures are glibc's (64-bit): a block
// carries an 8-byte size word and is rounded up to 16 bytes, 32 at least.
#pragma once

#include <cstddef>
#include <string>

namespace cxs {

// The bytes malloc(n) takes from the heap.
constexpr std::size_t heap_block_bytes(std::size_t n) noexcept {
  std::size_t with_header = (n + 8 + 15) & ~std::size_t{15};
  return with_header < 32 ? 32 : with_header;
}

// The heap a std::string of `capacity` holds beyond its own 32 bytes
// (none while it fits the 15 inline bytes; else capacity + NUL).
constexpr std::size_t string_heap_bytes(std::size_t capacity) noexcept {
  return capacity <= 15 ? 0 : heap_block_bytes(capacity + 1);
}
inline std::size_t string_heap_bytes(const std::string& s) noexcept {
  return string_heap_bytes(s.capacity());
}

// A hash table's element: its node (next pointer, the value, the cached
// hash) and its bucket pointer at a load factor of about 1.
constexpr std::size_t hash_entry_bytes(std::size_t value_bytes) noexcept {
  return heap_block_bytes(8 + value_bytes + 8) + 8;
}

static_assert(heap_block_bytes(1) == 32);
static_assert(heap_block_bytes(24) == 32);
static_assert(heap_block_bytes(25) == 48);
static_assert(heap_block_bytes(256) == 272);

}  // namespace cxs

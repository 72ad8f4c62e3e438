// Slab: the allocator behind the node table. Blocks of up to 1 KiB come in
// size classes 8 bytes apart, carved from 64 KiB pages; a freed block goes
// on its class's free list for the next node of that size. malloc would
// add an 8-byte header and round each node to 16 bytes (a typical node
// entry of 74 bytes costs 96 there, 80 here). Pages are kept until the
// store goes: the memory a store reached stays reserved for it, as with
// malloc's arenas. Larger blocks go to operator new. Not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <vector>

namespace cxs::store {

class Slab {
 public:
  Slab() = default;
  Slab(const Slab&) = delete;
  Slab& operator=(const Slab&) = delete;

  void* allocate(std::size_t bytes);
  // `bytes` must be what allocate() was given.
  void deallocate(void* block, std::size_t bytes) noexcept;

  std::size_t pages() const noexcept { return pages_.size(); }

 private:
  static constexpr std::size_t kGrain = 8;
  static constexpr std::size_t kMaxSmall = 1024;
  static constexpr std::size_t kPageBytes = 64 * 1024;

  static std::size_t class_of(std::size_t bytes) noexcept {
    return (bytes + kGrain - 1) / kGrain;
  }

  std::array<void*, kMaxSmall / kGrain + 1> free_{};  // per class, linked
  std::vector<std::unique_ptr<std::byte[]>> pages_;
  std::byte* bump_ = nullptr;  // the unused rest of the newest page
  std::size_t left_ = 0;
};

}  // namespace cxs::store

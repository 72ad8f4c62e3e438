#include "store/slab.h"

#include <cstring>
#include <new>

namespace cxs::store {

void* Slab::allocate(std::size_t bytes) {
  if (bytes == 0) bytes = 1;
  if (bytes > kMaxSmall) return ::operator new(bytes);
  std::size_t cls = class_of(bytes);
  if (void* block = free_[cls]) {
    std::memcpy(&free_[cls], block, sizeof(void*));  // next on the list
    return block;
  }
  std::size_t size = cls * kGrain;
  if (left_ < size) {
    pages_.push_back(std::make_unique<std::byte[]>(kPageBytes));
    bump_ = pages_.back().get();
    left_ = kPageBytes;
  }
  void* block = bump_;
  bump_ += size;
  left_ -= size;
  return block;
}

void Slab::deallocate(void* block, std::size_t bytes) noexcept {
  if (!block) return;
  if (bytes == 0) bytes = 1;
  if (bytes > kMaxSmall) {
    ::operator delete(block);
    return;
  }
  std::size_t cls = class_of(bytes);
  std::memcpy(block, &free_[cls], sizeof(void*));
  free_[cls] = block;
}

}  // namespace cxs::store

// Memory for the store's large arrays (node records, the index table),
// mapped 2 MiB-aligned and offered to the kernel for transparent huge
// pages. Why: the first touch of a 4 KiB page costs 10-20 us in the VMs
// these daemons run in (a fault, and the hypervisor's own work behind it),
// and a live update's restore of 100 000 nodes touches about 1300 pages of
// records and table at once; with huge pages that is a handful of faults.
// Where the kernel has no huge page to give (THP off, or memory too
// fragmented) the mapping simply gets 4 KiB pages, as malloc's would.
#pragma once

#include <cstddef>
#include <memory>
#include <new>

namespace cxs::store {

inline constexpr std::size_t kHugePage = std::size_t{2} << 20;

// `bytes` rounded up to whole huge pages, zeroed; throws std::bad_alloc.
void* map_huge(std::size_t bytes);
// What map_huge(bytes) returned, with the same `bytes`.
void unmap_huge(void* p, std::size_t bytes) noexcept;
// Gives the whole 4 KiB pages inside [p, p + bytes) back to the system
// (they read as zeros again); the mapping stays.
void release_pages(void* p, std::size_t bytes) noexcept;

// A std::allocator whose allocations of at least a huge page's half come
// from map_huge: the index table of a large tree.
template <typename T>
struct HugeAwareAllocator {
  using value_type = T;
  static constexpr std::size_t kMinBytes = kHugePage / 2;

  HugeAwareAllocator() = default;
  template <typename U>
  HugeAwareAllocator(const HugeAwareAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    std::size_t bytes = n * sizeof(T);
    if (bytes >= kMinBytes) return static_cast<T*>(map_huge(bytes));
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    std::size_t bytes = n * sizeof(T);
    if (bytes >= kMinBytes)
      unmap_huge(p, bytes);
    else
      std::allocator<T>().deallocate(p, n);
  }
  template <typename U>
  bool operator==(const HugeAwareAllocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace cxs::store

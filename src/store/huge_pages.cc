#include "store/huge_pages.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

namespace cxs::store {
namespace {

std::size_t round_up(std::size_t n, std::size_t to) noexcept {
  return (n + to - 1) / to * to;
}

}  // namespace

void* map_huge(std::size_t bytes) {
  std::size_t size = round_up(bytes, kHugePage);
  // One huge page more than needed, then the unaligned ends cut off: mmap
  // aligns to 4 KiB only.
  std::size_t span = size + kHugePage;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  auto start = reinterpret_cast<std::uintptr_t>(raw);
  std::uintptr_t aligned = round_up(start, kHugePage);
  if (aligned > start) ::munmap(raw, aligned - start);
  std::size_t tail = span - (aligned - start) - size;
  if (tail > 0) ::munmap(reinterpret_cast<void*>(aligned + size), tail);
  auto* p = reinterpret_cast<void*>(aligned);
  // Advice only: without THP the pages are ordinary ones.
  (void)::madvise(p, size, MADV_HUGEPAGE);
  return p;
}

void unmap_huge(void* p, std::size_t bytes) noexcept {
  if (p) ::munmap(p, round_up(bytes, kHugePage));
}

void release_pages(void* p, std::size_t bytes) noexcept {
  static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  auto begin = reinterpret_cast<std::uintptr_t>(p);
  std::uintptr_t first = round_up(begin, page);
  std::uintptr_t last = (begin + bytes) / page * page;
  if (last > first)
    (void)::madvise(reinterpret_cast<void*>(first), last - first,
                    MADV_DONTNEED);
}

}  // namespace cxs::store

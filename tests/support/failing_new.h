// A global operator new that fails on demand, for tests of what a failed
// allocation leaves behind. Include it in exactly one file of a test
// binary: it replaces operator new for the whole binary (passing through
// to malloc until a test arms it).
#pragma once

#include <cstdlib>
#include <new>

namespace cxs::test {
// Allocations left before one fails (-1: none fails).
inline long g_allocations_left = -1;
inline long g_allocations = 0;  // made while counting

// Arms the failure for a scope: the (n+1)th allocation made in it throws.
class FailAllocationAfter {
 public:
  explicit FailAllocationAfter(long n) noexcept {
    g_allocations = 0;
    g_allocations_left = n;
  }
  ~FailAllocationAfter() { g_allocations_left = -1; }
  FailAllocationAfter(const FailAllocationAfter&) = delete;
  FailAllocationAfter& operator=(const FailAllocationAfter&) = delete;
};
}  // namespace cxs::test

void* operator new(std::size_t n) {
  using cxs::test::g_allocations_left;
  if (g_allocations_left >= 0) {
    if (g_allocations_left == 0) throw std::bad_alloc();
    --g_allocations_left;
    ++cxs::test::g_allocations;
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// GCC sees free() paired with new and warns; here new is malloc.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

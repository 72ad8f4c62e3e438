// MemoryTrim: gives the heap a flood freed back to the system. A client
// that never reads can make the daemon queue tens of megabytes of small
// blocks; freeing them returns them to malloc, not to the kernel (glibc
// gives back only the top of the heap), so RSS stayed at its peak after the
// client left. malloc_trim(0) releases every free page, but walks the whole
// heap, so it runs only after a lot was freed, at most once per kInterval.
// Only the policy and the call live here; the server reports what it frees.
#pragma once

#include <chrono>
#include <cstddef>

namespace cxs::daemon {

class MemoryTrim {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kThreshold = std::size_t{4} << 20;
  static constexpr Clock::duration kInterval = std::chrono::seconds(1);

  // Heap blocks given back (what the memory quota had charged for them).
  void freed(std::size_t bytes) noexcept { freed_ += bytes; }
  // Enough freed to be worth a trim (the loop then wakes by kInterval):
  // kThreshold, or anything after a trim that kThreshold set off. A flood
  // ends in pieces (four guests die one by one); without the follow-up, a
  // trim after the third left the fourth's megabytes in the heap.
  bool pending() const noexcept {
    return freed_ >= kThreshold || (follow_up_ && freed_ > 0);
  }
  // Trims if pending and the last trim is kInterval old; true if it did.
  bool run(Clock::time_point now) noexcept;

 private:
  std::size_t freed_ = 0;
  bool follow_up_ = false;  // the last trim was set off by kThreshold
  Clock::time_point last_{};
};

}  // namespace cxs::daemon

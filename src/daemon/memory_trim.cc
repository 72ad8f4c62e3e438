#include "daemon/memory_trim.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

namespace cxs::daemon {

// Measured with bench/memory_bench (docs/performance.md): after a
// non-reading client's 64 MiB queue went, RSS stayed at its peak without
// this; one trim took it back to within a few megabytes of the store.
bool MemoryTrim::run(Clock::time_point now) noexcept {
  if (!pending() || now - last_ < kInterval) return false;
  auto start = Clock::now();
  ::malloc_trim(0);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() -
                                                                  start)
                .count();
  spdlog::debug("memory: {} KiB freed, trimmed the heap in {} us", freed_ >> 10,
                us);
  follow_up_ = freed_ >= kThreshold;
  freed_ = 0;
  last_ = now;
  return true;
}

}  // namespace cxs::daemon

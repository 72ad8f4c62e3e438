// Word loads and stores at any byte address (memcpy, which compilers turn
// into one move): the path checks, the index's name comparison and the
// reply buffer's short copies read bytes a word at a time.
#pragma once

#include <cstring>

namespace cxs {

template <typename Word>
Word load_unaligned(const void* p) noexcept {
  Word w;
  std::memcpy(&w, p, sizeof w);
  return w;
}

template <typename Word>
void store_unaligned(void* p, Word w) noexcept {
  std::memcpy(p, &w, sizeof w);
}

}  // namespace cxs

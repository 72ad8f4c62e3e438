// libFuzzer entry point (clang, cmake -DCXS_FUZZ=ON): see ring_page_fuzz.h.
#include <cstddef>
#include <cstdint>

#include "ring_page_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  (void)cxs::fuzz::run_ring_page_input(data, size);
  return 0;
}

// libFuzzer entry point (clang, cmake -DCXS_FUZZ=ON): see connection_fuzz.h.
#include <cstddef>
#include <cstdint>

#include "connection_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  (void)cxs::fuzz::run_connection_input(data, size);
  return 0;
}

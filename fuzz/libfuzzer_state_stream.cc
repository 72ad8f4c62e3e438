// libFuzzer entry point (clang, cmake -DCXS_FUZZ=ON): see state_stream_fuzz.h.
#include <cstddef>
#include <cstdint>

#include "state_stream_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  (void)cxs::fuzz::run_state_stream(data, size);
  return 0;
}

// Protocol limits from xs_wire.h, restated so that code outside src/xen/ need
// not include Xen headers (tests static_assert that the two agree).
#pragma once

#include <cstddef>

namespace cxs {

inline constexpr std::size_t kPayloadMax = 4096;    // XENSTORE_PAYLOAD_MAX
inline constexpr std::size_t kAbsPathMax = 3072;    // XENSTORE_ABS_PATH_MAX
inline constexpr std::size_t kRelPathMax = 2048;    // XENSTORE_REL_PATH_MAX
inline constexpr std::size_t kHeaderSize = 16;      // sizeof(xsd_sockmsg)
inline constexpr std::size_t kRingSize = 1024;      // XENSTORE_RING_SIZE

}  // namespace cxs

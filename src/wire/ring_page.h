// The shared ring page (struct xenstore_domain_interface of xs_wire.h),
// restated so that the ring code needs no Xen header; xen_backend.cc
// static_asserts that the layouts agree. A wire format like header.h, and
// here for the same reason: the daemon's side (transport's RingTransport),
// the guest's side (src/guest) and the code that maps the page (src/xen)
// all read it, and none of them may depend on another. The guest writes req[]
// and req_prod, reads rsp[] and writes rsp_cons; the daemon does the opposite.
// Indexes are free-running uint32 counters: masked by 1023 to address the
// arrays, wrapping at 2^32.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cxenstored/features.h"

namespace cxs::wire {

inline constexpr std::uint32_t kRingBytes = 1024;  // XENSTORE_RING_SIZE

struct RingPage {
  char req[kRingBytes];
  char rsp[kRingBytes];
  std::uint32_t req_cons;
  std::uint32_t req_prod;
  std::uint32_t rsp_cons;
  std::uint32_t rsp_prod;
  std::uint32_t server_features;
  std::uint32_t connection;
  std::uint32_t error;
};
static_assert(offsetof(RingPage, req_cons) == 2048);
static_assert(offsetof(RingPage, server_features) == 2064);
static_assert(offsetof(RingPage, error) == 2072);
static_assert(sizeof(RingPage) == 2076);

// server_features bits (xenstore-ring.txt).
using cxs::kFeatureError;
using cxs::kFeatureReconnection;
// connection field
inline constexpr std::uint32_t kConnected = 0;
inline constexpr std::uint32_t kReconnect = 1;
// error field
inline constexpr std::uint32_t kErrorNone = 0;
inline constexpr std::uint32_t kErrorComm = 1;
inline constexpr std::uint32_t kErrorRingIdx = 2;
inline constexpr std::uint32_t kErrorProto = 3;

}  // namespace cxs::wire

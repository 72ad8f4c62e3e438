// The feature bits a xenstore server advertises in a ring's server_features
// field (xenstore-ring.txt, xs_wire.h) and reports through GET_FEATURE.
#pragma once

#include <cstdint>

namespace cxs {

inline constexpr std::uint32_t kFeatureReconnection = 1;  // ring reset by the guest
inline constexpr std::uint32_t kFeatureError = 2;         // the error field
inline constexpr std::uint32_t kFeatureWatchDepth = 4;    // WATCH path|token|depth
// DOMID_ANY in permission lists (Xen 4.22). A domain without this bit
// cannot store DOMID_ANY entries: SET_PERMS drops them.
inline constexpr std::uint32_t kFeatureDomidAny = 8;

// Everything cxenstored offers; SET_FEATURE may narrow it per domain.
inline constexpr std::uint32_t kServerFeatures =
    kFeatureReconnection | kFeatureError | kFeatureWatchDepth |
    kFeatureDomidAny;

}  // namespace cxs

// One SipHash round (the ARX permutation of the four state words), shared
// by the keyed hashes that must resist chosen paths: the store's node index
// and the migration stream reader's path set. Each keeps its own key,
// variant and message loading.
#pragma once

#include <bit>
#include <cstdint>

namespace cxs {

struct SipState {
  std::uint64_t v0, v1, v2, v3;

  void round() noexcept {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }
};

}  // namespace cxs

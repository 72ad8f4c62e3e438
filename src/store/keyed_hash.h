// keyed_hash: SipHash with a key drawn at start-up, for tables whose keys a
// guest chooses (node paths). A fixed, public hash function lets a guest
// compute, offline, names that all land in one slot: with its 1000 nodes
// in one probe run, every lookup near that run would walk it. Under a
// secret key it cannot aim. SipHash-1-3 is the variant hash tables use
// (fewer rounds than the MAC's 2-4, still keyed).
#pragma once

#include <cstdint>
#include <string_view>

namespace cxs::store {

struct SipKey {
  std::uint64_t k0 = 0;
  std::uint64_t k1 = 0;
};

// SipHash-C-D of `data` under `key` (C compression, D finalisation rounds);
// built for 1-3 (the tables) and 2-4 (the published test vectors).
template <int C, int D>
std::uint64_t siphash(const SipKey& key, std::string_view data) noexcept;

// The process's key, from the kernel's random source, drawn once.
const SipKey& process_sip_key() noexcept;

inline std::uint64_t keyed_hash(std::string_view data) noexcept {
  return siphash<1, 3>(process_sip_key(), data);
}

}  // namespace cxs::store

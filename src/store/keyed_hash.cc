#include "store/keyed_hash.h"

#include <sys/auxv.h>
#include <sys/random.h>

#include <bit>
#include <cstring>

#include "cxenstored/sip_round.h"

namespace cxs::store {
namespace {

struct State : SipState {
  // Rounds unrolled: a loop around 14 instructions costs a quarter more.
  template <int Rounds>
  void rounds() noexcept {
#pragma GCC unroll 4
    for (int i = 0; i < Rounds; ++i) round();
  }
  template <int Rounds>
  void absorb(std::uint64_t m) noexcept {
    v3 ^= m;
    rounds<Rounds>();
    v0 ^= m;
  }
};

std::uint64_t load_le64(const unsigned char* p) noexcept {
  std::uint64_t m = 0;
  if constexpr (std::endian::native == std::endian::little) {
    std::memcpy(&m, p, 8);
  } else {
    for (int i = 7; i >= 0; --i) m = m << 8 | p[i];
  }
  return m;
}

// The last 0-7 bytes, little-endian (no variable-length memcpy call).
std::uint64_t load_tail(const unsigned char* p, std::size_t n) noexcept {
  std::uint64_t m = 0;
  for (std::size_t i = n; i-- > 0;) m = m << 8 | p[i];
  return m;
}

}  // namespace

template <int C, int D>
std::uint64_t siphash(const SipKey& key, std::string_view data) noexcept {
  State s{key.k0 ^ 0x736f6d6570736575ull, key.k1 ^ 0x646f72616e646f6dull,
          key.k0 ^ 0x6c7967656e657261ull, key.k1 ^ 0x7465646279746573ull};
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t whole = data.size() / 8 * 8;
  for (std::size_t i = 0; i < whole; i += 8) s.absorb<C>(load_le64(p + i));
  std::uint64_t last = static_cast<std::uint64_t>(data.size()) << 56;
  last |= load_tail(p + whole, data.size() - whole);
  s.absorb<C>(last);
  s.v2 ^= 0xff;
  s.rounds<D>();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

namespace {

SipKey draw_key() noexcept {
  SipKey key;
  unsigned char bytes[16];
  // Never block: xenstored starts early in boot, before the entropy pool may
  // be ready. Then the 16 random bytes the kernel gives every process at
  // exec (AT_RANDOM) serve.
  const void* source = bytes;
  if (getrandom(bytes, sizeof bytes, GRND_NONBLOCK) !=
      static_cast<ssize_t>(sizeof bytes))
    source = reinterpret_cast<const void*>(getauxval(AT_RANDOM));
  if (source) {
    std::memcpy(&key.k0, source, 8);
    std::memcpy(&key.k1, static_cast<const unsigned char*>(source) + 8, 8);
  }
  return key;
}

}  // namespace

template std::uint64_t siphash<1, 3>(const SipKey&, std::string_view) noexcept;
template std::uint64_t siphash<2, 4>(const SipKey&, std::string_view) noexcept;

const SipKey& process_sip_key() noexcept {
  static const SipKey key = draw_key();
  return key;
}

}  // namespace cxs::store

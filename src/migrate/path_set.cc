#include "migrate/path_set.h"

#include <sys/random.h>

#include <bit>
#include <cstring>

#include "cxenstored/sip_round.h"
#include "cxenstored/unaligned.h"

namespace cxs::migrate {
namespace {

struct Key {
  std::uint64_t k0;
  std::uint64_t k1;
};

const Key& process_key() noexcept {
  static const Key key = [] {
    Key k{0x736f6d6570736575ull, 0x646f72616e646f6dull};
    // Without the kernel's randomness the key is merely fixed: still a
    // correct set, only no longer hard to aim at.
    Key fresh;
    if (getrandom(&fresh, sizeof fresh, GRND_NONBLOCK) ==
        static_cast<ssize_t>(sizeof fresh))
      k = fresh;
    return k;
  }();
  return key;
}

// SipHash-1-3: one compression round per word, three finalisation rounds.
std::uint64_t sip13(std::string_view s) noexcept {
  const Key& key = process_key();
  SipState st{key.k0 ^ 0x736f6d6570736575ull, key.k1 ^ 0x646f72616e646f6dull,
              key.k0 ^ 0x6c7967656e657261ull, key.k1 ^ 0x7465646279746573ull};
  auto& [v0, v1, v2, v3] = st;
  const char* p = s.data();
  std::size_t n = s.size();
  for (; n >= 8; p += 8, n -= 8) {
    auto m = load_unaligned<std::uint64_t>(p);
    v3 ^= m;
    st.round();
    v0 ^= m;
  }
  std::uint64_t last = static_cast<std::uint64_t>(s.size()) << 56;
  if (n != 0) {
    std::uint64_t tail = 0;
    std::memcpy(&tail, p, n);
    last |= tail;
  }
  v3 ^= last;
  st.round();
  v0 ^= last;
  v2 ^= 0xff;
  st.round();
  st.round();
  st.round();
  return v0 ^ v1 ^ v2 ^ v3;
}

}  // namespace

void PathSet::reserve(std::size_t n) {
  paths_.reserve(n);
  std::size_t want = std::bit_ceil(std::max<std::size_t>(16, n * 2));
  if (want <= slots_.size()) return;
  slots_.assign(want, Slot{});
  for (std::size_t i = 0; i < paths_.size(); ++i) {
    std::uint64_t hash = sip13(paths_[i]);
    slots_[find(paths_[i], hash)] =
        Slot{static_cast<std::uint32_t>(i + 1), static_cast<std::uint32_t>(hash >> 32)};
  }
}

void PathSet::grow() { reserve(slots_.size()); }  // doubles: n * 2

// The slot holding `path`, or the empty slot where it would go.
std::size_t PathSet::find(std::string_view path,
                          std::uint64_t hash) const noexcept {
  std::size_t mask = slots_.size() - 1;
  auto tag = static_cast<std::uint32_t>(hash >> 32);
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.ref == 0) return i;
    if (s.tag == tag && paths_[s.ref - 1] == path) return i;
  }
}

std::uint64_t PathSet::hash(std::string_view path) const noexcept {
  std::uint64_t h = sip13(path);
  if (!slots_.empty()) __builtin_prefetch(&slots_[h & (slots_.size() - 1)]);
  return h;
}

bool PathSet::insert(std::string_view path, std::uint64_t hash) {
  if ((paths_.size() + 1) * 2 > slots_.size()) grow();
  std::size_t i = find(path, hash);
  if (slots_[i].ref != 0) return false;
  paths_.push_back(path);
  slots_[i] = Slot{static_cast<std::uint32_t>(paths_.size()),
                   static_cast<std::uint32_t>(hash >> 32)};
  return true;
}

bool PathSet::contains(std::string_view path) const noexcept {
  if (slots_.empty()) return false;
  return slots_[find(path, sip13(path))].ref != 0;
}

}  // namespace cxs::migrate

// Internal to src/migrate: native (little-endian) field access at any byte
// offset, and the 4-byte wire permission entries shared by NODE records
// and transaction entries. Callers check bounds before every get/put.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cxenstored/perms.h"
#include "cxenstored/unaligned.h"

namespace cxs::migrate::bytes {

inline std::uint16_t get16(const char* p) noexcept {
  return load_unaligned<std::uint16_t>(p);
}
inline std::uint32_t get32(const char* p) noexcept {
  return load_unaligned<std::uint32_t>(p);
}
inline std::uint64_t get64(const char* p) noexcept {
  return load_unaligned<std::uint64_t>(p);
}
inline void put16(char* p, std::uint16_t v) noexcept { store_unaligned(p, v); }
inline void put32(char* p, std::uint32_t v) noexcept { store_unaligned(p, v); }
inline void put64(char* p, std::uint64_t v) noexcept { store_unaligned(p, v); }

// True if `raw` is a whole number of valid entries (char n/r/w/b, flags
// within kPermFlagStale).
bool perms_raw_valid(std::string_view raw) noexcept;
// True if every entry can be written: domid <= 0xFFFF, bits within
// kPermBoth | kPermIgnored.
bool perms_encodable(const PermList& perms) noexcept;
// Writes perms.size() * 4 bytes at `p` (perms_encodable() first).
void put_perms(char* p, const PermList& perms) noexcept;

}  // namespace cxs::migrate::bytes

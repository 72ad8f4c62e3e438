#include "migrate/format.h"

#include <array>

#include "migrate/bytes.h"
#include "migrate/records.h"

namespace cxs::migrate {
namespace {

constexpr std::array<std::string_view, 9> kPublicNames = {
    "END",  "GLOBAL",       "CONNECTION", "WATCH",          "TRANSACTION",
    "NODE", "GLOBAL_QUOTA", "DOMAIN",     "WATCH_EXTENDED"};
constexpr std::array<std::string_view, 6> kCxsNames = {
    "CXS_DAEMON",      "CXS_CONNECTION",  "CXS_WATCH_DEPTH",
    "CXS_TRANSACTION", "CXS_GENERATIONS", "CXS_DOMAIN"};

// Wire perm chars indexed by kPermNone..kPermBoth.
constexpr std::array<char, 4> kPermChars = {'n', 'r', 'w', 'b'};

}  // namespace

std::string_view record_name(std::uint32_t type) noexcept {
  if (type < kPublicNames.size()) return kPublicNames[type];
  if (is_cxs_record(type)) return kCxsNames[type - kCxsFirst];
  return "unknown";
}

std::uint64_t CxsGenerationsRec::at(std::size_t i) const noexcept {
  return bytes::get64(raw.data() + i * 8);
}

namespace bytes {

bool perms_raw_valid(std::string_view raw) noexcept {
  if (raw.size() % kPermSize != 0) return false;
  for (std::size_t at = 0; at < raw.size(); at += kPermSize) {
    char c = raw[at];
    if (c != 'n' && c != 'r' && c != 'w' && c != 'b') return false;
    if ((static_cast<std::uint8_t>(raw[at + 1]) & ~kPermFlagStale) != 0)
      return false;
  }
  return true;
}

bool perms_encodable(const PermList& perms) noexcept {
  for (const Perm& p : perms) {
    if (p.dom.value > 0xFFFF || (p.bits & ~(kPermBoth | kPermIgnored)) != 0)
      return false;
  }
  return true;
}

void put_perms(char* out, const PermList& perms) noexcept {
  for (const Perm& p : perms) {
    out[0] = kPermChars[p.bits & kPermBoth];
    out[1] = static_cast<char>((p.bits & kPermIgnored) ? kPermFlagStale : 0);
    put16(out + 2, static_cast<std::uint16_t>(p.dom.value));
    out += kPermSize;
  }
}

}  // namespace bytes

bool decode_perms(std::string_view raw, PermList& out) {
  out.clear();
  if (!bytes::perms_raw_valid(raw)) return false;
  out.reserve(raw.size() / kPermSize);
  for (std::size_t at = 0; at < raw.size(); at += kPermSize) {
    std::uint8_t bits = kPermNone;
    switch (raw[at]) {
      case 'r': bits = kPermRead; break;
      case 'w': bits = kPermWrite; break;
      case 'b': bits = kPermBoth; break;
      default: break;  // 'n' (checked above)
    }
    if (static_cast<std::uint8_t>(raw[at + 1]) & kPermFlagStale)
      bits |= kPermIgnored;
    out.push_back(Perm{DomId{bytes::get16(raw.data() + at + 2)}, bits});
  }
  return true;
}

bool encode_perms(const PermList& perms, std::string& out) {
  if (!bytes::perms_encodable(perms)) return false;
  std::size_t at = out.size();
  out.resize(at + perms.size() * kPermSize);
  bytes::put_perms(out.data() + at, perms);
  return true;
}

}  // namespace cxs::migrate

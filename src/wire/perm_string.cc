#include "wire/perm_string.h"

#include <charconv>

namespace cxs::wire {
namespace {

std::optional<std::uint8_t> bits_from_letter(char c) noexcept {
  switch (c) {
    case 'n': return kPermNone;
    case 'r': return kPermRead;
    case 'w': return kPermWrite;
    case 'b': return kPermBoth;
    default: return std::nullopt;
  }
}

char letter_from_bits(std::uint8_t bits) noexcept {
  static constexpr char kLetters[] = {'n', 'r', 'w', 'b'};
  return kLetters[bits & kPermBoth];
}

}  // namespace

std::optional<Perm> parse_perm(std::string_view text) noexcept {
  if (text.size() < 2) return std::nullopt;
  auto bits = bits_from_letter(text[0]);
  if (!bits) return std::nullopt;
  std::uint32_t dom = 0;
  const char* first = text.data() + 1;
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, dom);
  if (ec != std::errc() || ptr != last || dom > 0xFFFF) return std::nullopt;
  return Perm{DomId{dom}, *bits};
}

std::optional<PermList> parse_perm_list(
    const std::vector<std::string_view>& entries) {
  if (entries.empty()) return std::nullopt;
  PermList out;
  out.reserve(entries.size());
  for (auto e : entries) {
    auto p = parse_perm(e);
    if (!p) return std::nullopt;
    out.push_back(*p);
  }
  return out;
}

std::string format_perm_list(const PermList& perms) {
  std::string out;
  for (const auto& p : perms) {
    out += letter_from_bits(p.bits);
    out += std::to_string(p.dom.value);
    out += '\0';
  }
  return out;
}

}  // namespace cxs::wire

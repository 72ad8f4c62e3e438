#include "xen/domain_list.h"

namespace cxs::xen {
namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// Digits at `p`; stops growing at a bound so that a long run cannot
// overflow (such a number is past every domid anyway).
std::uint32_t parse_num(std::string_view s, std::size_t& p) noexcept {
  std::uint32_t v = 0;
  while (p < s.size() && is_digit(s[p])) {
    if (v < 10'000'000) v = v * 10 + static_cast<std::uint32_t>(s[p] - '0');
    ++p;
  }
  return v;
}

}  // namespace

SimDomainList parse_domain_list(std::string_view s) {
  SimDomainList out;
  std::size_t p = 0;
  while (p < s.size()) {
    char c = s[p];
    if (c == ',' || c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      ++p;
      continue;
    }
    bool dying = false;
    if (c == '-') {
      dying = true;
      ++p;
    }
    if (p >= s.size() || !is_digit(s[p])) break;
    std::uint32_t lo = parse_num(s, p);
    std::uint32_t hi = lo;
    if (p < s.size() && s[p] == '-') {
      ++p;
      if (p >= s.size() || !is_digit(s[p])) break;
      hi = parse_num(s, p);
    }
    SimDomState state = dying ? SimDomState::kDying : SimDomState::kAlive;
    if (lo == hi) {
      out[lo] = state;
      continue;
    }
    // A reversed range lists nothing; a huge one is clipped.
    if (hi >= kMaxSimRange) hi = kMaxSimRange - 1;
    for (std::uint32_t d = lo; d <= hi; ++d) out[d] = state;
  }
  return out;
}

std::string format_domain_list(const SimDomainList& list) {
  std::string out;
  for (const auto& [dom, state] : list) {
    if (!out.empty()) out += ',';
    if (state == SimDomState::kDying) out += '-';
    out += std::to_string(dom);
  }
  return out;
}

}  // namespace cxs::xen

#include "wire/args.h"

#include <algorithm>

namespace cxs::wire {

std::vector<std::string_view> split_args(std::string_view payload) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (start < payload.size()) {
    std::size_t nul = payload.find('\0', start);
    if (nul == std::string_view::npos) {
      out.push_back(payload.substr(start));
      break;
    }
    out.push_back(payload.substr(start, nul - start));
    start = nul + 1;
  }
  return out;
}

std::string_view first_arg(std::string_view payload) noexcept {
  std::size_t nul = payload.find('\0');
  return nul == std::string_view::npos ? payload : payload.substr(0, nul);
}

bool split_first(std::string_view payload, std::string_view& first,
                 std::string_view& rest) noexcept {
  std::size_t nul = payload.find('\0');
  if (nul == std::string_view::npos) return false;
  first = payload.substr(0, nul);
  rest = payload.substr(nul + 1);
  return true;
}

std::size_t count_nuls(std::string_view payload) noexcept {
  return static_cast<std::size_t>(
      std::count(payload.begin(), payload.end(), '\0'));
}

}  // namespace cxs::wire

#include "store/path.h"

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "cxenstored/limits.h"
#include "cxenstored/unaligned.h"

namespace cxs::store {
namespace {

// The bytes a path may hold, as a table: every request's path goes through
// here, so the check is two cheap passes rather than one careful one.
constexpr std::array<unsigned char, 256> kNotInPath = [] {
  std::array<unsigned char, 256> t{};
  t.fill(1);
  for (int c = 'a'; c <= 'z'; ++c) t[c] = 0;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = 0;
  for (int c = '0'; c <= '9'; ++c) t[c] = 0;
  for (char c : {'-', '_', '@', '/'}) t[static_cast<unsigned char>(c)] = 0;
  return t;
}();

// Two '/' side by side anywhere in the 8 bytes of `w`. A byte equal to '/'
// becomes 0 after the xor; the exact zero-byte test (no carries between
// bytes) marks each such byte's top bit, and a mark next to a mark is "//".
bool has_adjacent_slashes(std::uint64_t w) noexcept {
  constexpr std::uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
  constexpr std::uint64_t kSlashes = 0x2f2f2f2f2f2f2f2fULL;
  std::uint64_t x = w ^ kSlashes;
  std::uint64_t marks = ~(((x & kLow7) + kLow7) | x | kLow7);
  return (marks & (marks >> 8)) != 0;
}

// Words overlapping by one byte, so every pair of neighbours shares a word.
bool has_empty_component(const unsigned char* p, std::size_t n) noexcept {
  if (n < 8) {
    for (std::size_t i = 0; i + 1 < n; ++i)
      if (p[i] == '/' && p[i + 1] == '/') return true;
    return false;
  }
  for (std::size_t i = 0; i + 8 < n; i += 7)
    if (has_adjacent_slashes(load_unaligned<std::uint64_t>(p + i))) return true;
  return has_adjacent_slashes(load_unaligned<std::uint64_t>(p + n - 8));
}

// Valid characters, no empty component ("//") and no trailing '/' (except
// the path "/" itself). The character pass has no dependency from one byte
// to the next, so four go at a time; measured 7.3 -> 3.0 ns for "/bench/r",
// 25 -> 15 ns for a 34-byte device path, against one pass that tracked the
// previous byte's class.
bool has_valid_shape(std::string_view path) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(path.data());
  std::size_t n = path.size();
  unsigned bad = 0;
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4)
    bad |= kNotInPath[p[i]] | kNotInPath[p[i + 1]] | kNotInPath[p[i + 2]] |
           kNotInPath[p[i + 3]];
  for (; i < n; ++i) bad |= kNotInPath[p[i]];
  if (bad != 0 || has_empty_component(p, n)) return false;
  return n <= 1 || p[n - 1] != '/';
}

// "/local/domain/<domid>" on the stack: a relative request joins it to its
// path without building a string for it first.
class HomeSpelling {
 public:
  explicit HomeSpelling(DomId dom) noexcept {
    std::memcpy(buf_, kDomains.data(), kDomains.size());
    end_ = std::to_chars(buf_ + kDomains.size(), buf_ + sizeof buf_,
                         dom.value).ptr;
  }
  std::string_view view() const noexcept {
    return {buf_, static_cast<std::size_t>(end_ - buf_)};
  }

 private:
  static constexpr std::string_view kDomains = "/local/domain/";
  char buf_[kDomains.size() + 10];  // a 32-bit domid has at most 10 digits
  char* end_;
};

}  // namespace

std::string home_path(DomId dom) {
  HomeSpelling home(dom);
  return std::string(home.view());
}

bool is_special(std::string_view path) noexcept {
  return !path.empty() && path[0] == '@';
}

bool is_node_path(std::string_view path) noexcept {
  if (!is_special(path)) return is_valid_absolute(path);
  return path.size() <= kAbsPathMax && has_valid_shape(path) &&
         path.find('/') == std::string_view::npos;
}

bool is_relative(std::string_view path) noexcept {
  return !path.empty() && path[0] != '/' && path[0] != '@';
}

bool is_valid_absolute(std::string_view path) noexcept {
  if (path.empty() || path[0] != '/') return false;
  if (path.size() > kAbsPathMax) return false;
  return has_valid_shape(path);
}

Result<CanonicalPath> canonicalise(std::string_view path, DomId home,
                                   PathKind kind) {
  if (path.empty()) return XsErr::kEINVAL;
  if (is_special(path)) {
    if (kind != PathKind::kNodeOrSpecial) return XsErr::kEINVAL;
    if (path.size() > kAbsPathMax || !has_valid_shape(path))
      return XsErr::kEINVAL;
    return CanonicalPath::borrowed(path);
  }
  if (path[0] == '/') {
    if (!is_valid_absolute(path)) return XsErr::kEINVAL;
    return CanonicalPath::borrowed(path);
  }
  CanonicalPath abs =
      CanonicalPath::joined(HomeSpelling(home).view(), path);
  if (!is_valid_absolute(abs)) return XsErr::kEINVAL;
  return abs;
}

CanonicalPath CanonicalPath::joined(std::string_view home,
                                    std::string_view rest) {
  CanonicalPath c;
  c.size_ = home.size() + 1 + rest.size();
  c.owned_ = std::make_unique_for_overwrite<char[]>(c.size_);
  char* out = c.owned_.get();
  std::memcpy(out, home.data(), home.size());
  out[home.size()] = '/';
  std::memcpy(out + home.size() + 1, rest.data(), rest.size());
  c.data_ = out;
  return c;
}

std::string_view parent_of(std::string_view path) noexcept {
  std::size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return path.substr(0, 0);
  if (slash == 0) return path.substr(0, 1);
  return path.substr(0, slash);
}

std::string_view basename_of(std::string_view path) noexcept {
  std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string join(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

bool is_same_or_below(std::string_view path,
                      std::string_view ancestor) noexcept {
  if (ancestor == "/") return !path.empty() && path[0] == '/';
  if (path.size() < ancestor.size()) return false;
  if (path.compare(0, ancestor.size(), ancestor) != 0) return false;
  return path.size() == ancestor.size() || path[ancestor.size()] == '/';
}

std::string_view below_domain_home(std::string_view path) noexcept {
  constexpr std::string_view kPrefix = "/local/domain/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return path;
  std::size_t slash = path.find('/', kPrefix.size());
  if (slash == std::string_view::npos) return path.substr(path.size());
  return path.substr(slash + 1);
}

std::size_t depth_of(std::string_view path) noexcept {
  if (path == "/" || path.empty()) return 0;
  std::size_t n = 0;
  for (char c : path)
    if (c == '/') ++n;
  return is_special(path) ? n + 1 : n;
}

}  // namespace cxs::store

#include "store/path.h"

#include <array>
#include <charconv>
#include <cstring>

#include "cxenstored/limits.h"

namespace cxs::store {
namespace {

// What each byte may be in a path, as a table: every request's path goes
// through here. A byte allowed between slashes is 0, so a byte's class can
// be compared with the previous byte's as it is, with no masking.
constexpr unsigned char kPlain = 0, kSlash = 2, kBad = 4;
constexpr std::array<unsigned char, 256> kPathClass = [] {
  std::array<unsigned char, 256> t{};
  t.fill(kBad);
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kPlain;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kPlain;
  for (int c = '0'; c <= '9'; ++c) t[c] = kPlain;
  for (char c : {'-', '_', '@'}) t[static_cast<unsigned char>(c)] = kPlain;
  t['/'] = kSlash;
  return t;
}();

// Valid characters, no empty component ("//") and no trailing '/' (except
// the path "/" itself), in one pass without a branch per byte: a bad byte,
// or a slash after a slash, leaves a bit in `wrong`. (After a bad byte the
// next test may set bits too; `wrong` is already non-zero then.)
bool has_valid_shape(std::string_view path) noexcept {
  unsigned wrong = 0;
  unsigned prev = kPlain;
  for (char ch : path) {
    unsigned k = kPathClass[static_cast<unsigned char>(ch)];
    wrong |= k & (kBad | prev);
    prev = k;
  }
  return wrong == 0 && (path.size() <= 1 || prev != kSlash);
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

// Path rules of the xenstore namespace: validation, canonicalisation of
// relative paths against a domain's home, and the parent/child relations the
// store and the watch index use. Paths are plain strings; a canonical path is
// absolute ("/..." with no "//" and no trailing "/" except the root) or
// special ("@introduceDomain", "@releaseDomain/5").
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "cxenstored/ids.h"
#include "cxenstored/result.h"

namespace cxs::store {

// "/local/domain/<domid>".
std::string home_path(DomId dom);

// Characters, "//", trailing "/" and length of an absolute path.
bool is_valid_absolute(std::string_view path) noexcept;

enum class PathKind { kNode, kNodeOrSpecial };

// A canonical path: the request's own bytes when they were canonical
// already (absolute or special paths: no copy per request), or the joined
// string it owns (relative paths). A borrowed one is valid as long as the
// request it came from.
class CanonicalPath {
 public:
  static CanonicalPath borrowed(std::string_view path) noexcept {
    CanonicalPath c;
    c.data_ = path.data();
    c.size_ = path.size();
    return c;
  }
  // `home` + "/" + `rest`, in one allocation.
  static CanonicalPath joined(std::string_view home, std::string_view rest);

  std::string_view view() const noexcept { return {data_, size_}; }
  operator std::string_view() const noexcept { return view(); }  // NOLINT
  std::string str() const { return std::string(view()); }
  std::size_t size() const noexcept { return size_; }
  bool operator==(std::string_view o) const noexcept { return view() == o; }

 private:
  // Three words, so that passing one along in a Result costs little.
  const char* data_ = "";
  std::size_t size_ = 0;
  std::unique_ptr<char[]> owned_;  // data_ points here when joined
};

// Absolute paths are checked as they are; relative ones are joined to the
// caller's home first. Special paths ("@...") are accepted only with
// kNodeOrSpecial. Anything else is EINVAL.
Result<CanonicalPath> canonicalise(std::string_view path, DomId home,
                                   PathKind kind = PathKind::kNode);

bool is_special(std::string_view path) noexcept;
// A path a node can have: canonical absolute, or a special node's name
// ("@releaseDomain"; "@releaseDomain/5" names an event, not a node).
bool is_node_path(std::string_view path) noexcept;
bool is_relative(std::string_view path) noexcept;

// "/a/b" -> "/a", "/a" -> "/", "/" -> "/". Absolute paths only.
std::string_view parent_of(std::string_view path) noexcept;
// "/a/b" -> "b", "/" -> "".
std::string_view basename_of(std::string_view path) noexcept;
// "/a" + "b" -> "/a/b", "/" + "b" -> "/b".
std::string join(std::string_view dir, std::string_view name);

// True if `path` is `ancestor` itself or lies below it ("/a/b" under "/a",
// not "/ab"); every absolute path is under "/".
bool is_same_or_below(std::string_view path, std::string_view ancestor) noexcept;

// The part of an absolute path below any domain's home: "/local/domain/5/a"
// -> "a"; paths elsewhere are returned whole. The path-max quota measures it.
std::string_view below_domain_home(std::string_view path) noexcept;

// Number of components: "/" -> 0, "/a/b" -> 2, "@releaseDomain/5" -> 2.
std::size_t depth_of(std::string_view path) noexcept;

}  // namespace cxs::store

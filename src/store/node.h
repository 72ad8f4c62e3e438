// One node of the store: a binary-safe value, its permission list, the
// generation count stamped on every change (transactions compare these), and
// its children's names in creation order.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include "cxenstored/perms.h"
#include "store/shared_perms.h"
#include "store/small_bytes.h"

namespace cxs::store {

// The names of a node's children in creation order, each followed by a NUL:
// exactly a DIRECTORY reply's payload, and its size is what the children
// cost in the node's record. One string instead of a string per child:
// about 35 bytes less per node at 100 000 nodes, and DIRECTORY copies it.
class ChildNames {
 public:
  ChildNames() = default;
  ChildNames(std::initializer_list<std::string_view> names) {
    for (auto n : names) add(n);
  }
  ChildNames(const ChildNames& o)
      : joined_(o.joined_ ? std::make_unique<std::string>(*o.joined_)
                          : nullptr) {}
  ChildNames(ChildNames&&) noexcept = default;
  ChildNames& operator=(const ChildNames& o) {
    if (this != &o) *this = ChildNames(o);
    return *this;
  }
  ChildNames& operator=(ChildNames&&) noexcept = default;

  const std::string& joined() const noexcept {
    return joined_ ? *joined_ : empty_string();
  }
  std::size_t bytes() const noexcept { return joined().size(); }
  bool empty() const noexcept { return joined().empty(); }

  // Strong: the room is made before the name goes in.
  void add(std::string_view name) {
    std::unique_ptr<std::string> fresh;
    std::string& all = joined_ ? *joined_
                               : *(fresh = std::make_unique<std::string>());
    all.reserve(all.size() + name.size() + 1);  // doubles: amortised O(1)
    all.append(name);
    all.push_back('\0');
    if (fresh) joined_ = std::move(fresh);
  }
  // Removes the first child called `name`; false if there is none.
  bool remove(std::string_view name);

  // Calls fn(std::string_view) for each name, in order.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    std::string_view all = joined();
    std::size_t start = 0;
    while (start < all.size()) {
      std::size_t end = all.find('\0', start);
      fn(all.substr(start, end - start));
      start = end + 1;
    }
  }

  bool operator==(const ChildNames& o) const { return joined() == o.joined(); }

 private:
  static const std::string& empty_string() {
    static const std::string* e = new std::string;
    return *e;
  }
  // Most nodes are leaves: they pay for a pointer, not for a string.
  std::unique_ptr<std::string> joined_;
};

struct Node {
  SmallBytes value;   // 15 bytes inline, longer on the heap
  SharedPerms perms;  // interned: most nodes share a few lists
  std::uint64_t generation = 0;  // never 0 once the node is in a tree
  ChildNames children;

  // What the children's names cost in the record (their NULs included).
  std::size_t children_bytes() const noexcept { return children.bytes(); }
  void add_child(std::string_view name) { children.add(name); }
  void remove_child(std::string_view name) { children.remove(name); }
};

inline bool ChildNames::remove(std::string_view name) {
  if (!joined_) return false;
  std::string& all = *joined_;
  std::size_t start = 0;
  while (start < all.size()) {
    std::size_t end = all.find('\0', start);
    if (std::string_view(all).substr(start, end - start) == name) {
      all.erase(start, end - start + 1);
      if (all.empty()) joined_.reset();
      return true;
    }
    start = end + 1;
  }
  return false;
}

// Generation 0 stands for "absent" in transaction bookkeeping.
inline constexpr std::uint64_t kAbsentGeneration = 0;

}  // namespace cxs::store

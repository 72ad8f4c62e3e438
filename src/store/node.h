// One node of the store: a binary-safe value, its permission list, the
// generation count stamped on every change (transactions compare these), and
// its children's names in creation order.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cxenstored/perms.h"

namespace cxs::store {

struct Node {
  std::string value;
  PermList perms;
  std::uint64_t generation = 0;  // never 0 once the node is in a tree
  std::vector<std::string> children;
  // Sum of the children's name lengths plus one each (their NULs in a
  // listing). Kept by add_child/remove_child and recomputed by Tree::put,
  // so that size checks never walk a large directory.
  std::size_t children_bytes = 0;

  void add_child(std::string_view name) {
    children.emplace_back(name);
    children_bytes += name.size() + 1;
  }
  void remove_child(std::string_view name) {
    for (auto it = children.begin(); it != children.end(); ++it) {
      if (*it != name) continue;
      children_bytes -= it->size() + 1;
      children.erase(it);
      return;
    }
  }
};

// Generation 0 stands for "absent" in transaction bookkeeping.
inline constexpr std::uint64_t kAbsentGeneration = 0;

}  // namespace cxs::store

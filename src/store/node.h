// One node of the store: a binary-safe value, its permission list, the
// generation count stamped on every change (transactions compare these), and
// its children's names in creation order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cxenstored/perms.h"

namespace cxs::store {

struct Node {
  std::string value;
  PermList perms;
  std::uint64_t generation = 0;  // never 0 once the node is in a tree
  std::vector<std::string> children;
};

// Generation 0 stands for "absent" in transaction bookkeeping.
inline constexpr std::uint64_t kAbsentGeneration = 0;

}  // namespace cxs::store

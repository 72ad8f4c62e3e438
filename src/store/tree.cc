#include "store/tree.h"

namespace cxs::store {

Tree::Tree() {
  const PermList dom0_only{Perm{DomId{0}, kPermNone}};
  put("/", Node{"", dom0_only, 0, {"tool"}});
  put("/tool", Node{"", dom0_only, 0, {"xenstored"}});
  put("/tool/xenstored", Node{"", dom0_only, 0, {}});
  put("@introduceDomain", Node{"", dom0_only, 0, {}});
  put("@releaseDomain", Node{"", dom0_only, 0, {}});
}

const Node* Tree::find(std::string_view path) const noexcept {
  auto it = nodes_.find(path);
  return it == nodes_.end() ? nullptr : &it->second;
}

Node* Tree::find(std::string_view path) noexcept {
  auto it = nodes_.find(path);
  return it == nodes_.end() ? nullptr : &it->second;
}

Node& Tree::put(std::string_view path, Node node) {
  node.generation = next_generation();
  auto it = nodes_.find(path);
  if (it != nodes_.end()) {
    it->second = std::move(node);
    return it->second;
  }
  return nodes_.emplace(std::string(path), std::move(node)).first->second;
}

void Tree::erase(std::string_view path) noexcept {
  auto it = nodes_.find(path);
  if (it != nodes_.end()) nodes_.erase(it);
}

}  // namespace cxs::store

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
  return nodes_.find(path);
}

const Node& Tree::put(std::string_view path, Node node) {
  node.generation = next_generation();
  auto [slot, created] = nodes_.emplace(path);
  if (!created) charge(path, *slot, -1);
  *slot = std::move(node);
  charge(path, *slot, +1);
  return *slot;
}

void Tree::erase(std::string_view path) noexcept {
  const Node* n = nodes_.find(path);
  if (!n) return;
  charge(path, *n, -1);
  nodes_.erase(path);
}

void Tree::charge(std::string_view path, const Node& n, int sign) noexcept {
  for (std::size_t i = 0; i < n.perms.size(); ++i) {
    DomId d = n.perms[i].dom;
    bool first_mention = true;
    for (std::size_t j = 0; j < i; ++j)
      if (n.perms[j].dom == d) first_mention = false;
    if (!first_mention) continue;
    if (sign > 0) {
      ++referenced_[d];
    } else if (--referenced_[d] == 0) {
      referenced_.erase(d);
    }
  }
  DomId owner = n.perms.empty() ? DomId{0} : n.perms.front().dom;
  Usage& u = usage_[owner];
  std::size_t bytes = node_bytes(path, n);
  if (sign > 0) {
    u.nodes += 1;
    u.bytes += bytes;
  } else {
    u.nodes -= 1;
    u.bytes -= bytes;
    if (u.nodes == 0) usage_.erase(owner);
  }
}

std::vector<DomId> Tree::referenced_domains() const {
  std::vector<DomId> out;
  out.reserve(referenced_.size());
  for (const auto& kv : referenced_) out.push_back(kv.first);
  return out;
}

Tree::Usage Tree::usage(DomId dom) const noexcept {
  auto it = usage_.find(dom);
  return it == usage_.end() ? Usage{} : it->second;
}

}  // namespace cxs::store

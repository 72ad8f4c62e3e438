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

NodeView Tree::put(std::string_view path, Node node) {
  auto [r, created] = nodes_.emplace(path);
  if (!r) return {};
  if (!created) charge(path, r, -1);
  store(*r, std::move(node));
  r->generation = next_generation();
  charge(path, r, +1);
  return r;
}

void Tree::erase(std::string_view path) noexcept {
  const NodeRecord* r = nodes_.find(path);
  if (!r) return;
  charge(path, r, -1);
  nodes_.erase(path);
}

Node Tree::take(NodeRecord& r) {
  return Node{SmallBytes(r.value()), std::move(r.perms), r.generation,
              std::move(r.children)};
}

void Tree::store(NodeRecord& r, Node&& n) {
  r.perms = std::move(n.perms);
  r.children = std::move(n.children);
  if (r.value() != n.value.view()) r.name_value.set_value(n.value.view());
}

void Tree::charge(std::string_view path, NodeView n, int sign) noexcept {
  const PermList& perms = n.perms().list();
  for (std::size_t i = 0; i < perms.size(); ++i) {
    DomId d = perms[i].dom;
    bool first_mention = true;
    for (std::size_t j = 0; j < i; ++j)
      if (perms[j].dom == d) first_mention = false;
    if (!first_mention) continue;
    if (sign > 0) {
      ++referenced_[d];
    } else if (--referenced_[d] == 0) {
      referenced_.erase(d);
    }
  }
  DomId owner = perms.empty() ? DomId{0} : perms.front().dom;
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

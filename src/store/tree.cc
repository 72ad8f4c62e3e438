#include "store/tree.h"

#include <algorithm>

#include "store/path.h"

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

void Tree::clear_for_restore() noexcept {
  nodes_.clear();
  usage_.clear();
  referenced_.clear();
  generation_ = 0;
}

NodeView Tree::restore_node(std::string_view path, std::string_view value,
                            SharedPerms perms, std::uint64_t generation) {
  if (!is_node_path(path)) return {};
  NodeRecord* r = nodes_.find(path);
  bool existing = r != nullptr;
  if (!existing) {
    NodeRecord* parent = nullptr;
    std::string_view parent_path;
    if (path != "/" && !is_special(path)) {
      parent_path = parent_of(path);
      parent = nodes_.find(parent_path);
      if (!parent) return {};
    }
    // The parent's record does not move when the index grows: the slab
    // keeps records in place.
    r = nodes_.emplace(path).first;
    try {
      r->name_value.set_value(value);
      if (parent) add_child(*parent, basename_of(path));
    } catch (...) {
      nodes_.erase(path);  // not charged yet
      throw;
    }
  }
  finish_restore(path, r, existing, value, std::move(perms), generation);
  return r;
}

std::uint32_t Tree::restore_child(std::uint32_t parent_id,
                                  std::string_view parent_path,
                                  std::string_view path,
                                  std::string_view value, SharedPerms perms,
                                  std::uint64_t generation) {
  // `path` is canonical (the stream's reader checked it; restore_node
  // checks it again, this hot path does not).
  if (path == "/" || is_special(path) || parent_of(path) != parent_path)
    return kNoRecord;
  std::string_view name = basename_of(path);
  NodeIndex::Emplaced e = nodes_.emplace_child(parent_id, path, name);
  if (e.created) {
    try {
      e.record->name_value.set_value(value);
      add_child(nodes_.record(parent_id), name);
    } catch (...) {
      nodes_.erase(path);  // not charged yet
      throw;
    }
  }
  finish_restore(path, e.record, !e.created, value, std::move(perms),
                 generation);
  return e.id;
}

void Tree::finish_restore(std::string_view path, NodeRecord* r, bool existing,
                          std::string_view value, SharedPerms perms,
                          std::uint64_t generation) {
  if (existing) {
    NameValue fresh(r->name(), value);  // may throw: nothing changed yet
    charge(path, r, -1);
    r->name_value = std::move(fresh);
  }
  r->perms = std::move(perms);
  r->generation = generation != kAbsentGeneration ? generation
                                                  : next_generation();
  generation_ = std::max(generation_, r->generation);
  charge(path, r, +1);
}

// The parent's record grows by the name and its NUL; its owner and its
// permissions are unchanged, so that is all its charge changes by (what
// charge(-1) and charge(+1) around the change would give, for one lookup).
void Tree::add_child(NodeRecord& parent, std::string_view name) {
  parent.children.add(name);  // may throw: nothing charged yet
  const PermList& perms = parent.perms.list();
  usage_[perms.empty() ? DomId{0} : perms.front().dom].bytes +=
      name.size() + 1;
}

std::vector<const NodeRecord*> Tree::special_records() const {
  std::vector<const NodeRecord*> out;
  nodes_.for_each_record([&](const NodeRecord& r) {
    if (r.parent == NodeRecord::kNoParent && r.name() != "/")
      out.push_back(&r);
  });
  std::sort(out.begin(), out.end(), [](const auto* a, const auto* b) {
    return a->name() < b->name();
  });
  return out;
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

Tree::Usage Tree::total_usage() const noexcept {
  Usage total;
  for (const auto& kv : usage_) {
    total.nodes += kv.second.nodes;
    total.bytes += kv.second.bytes;
  }
  return total;
}

}  // namespace cxs::store

#include "store/tree.h"

#include <algorithm>
#include <cassert>

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
  UndoLog log;
  begin(log, 1);
  NodeView v = put_logged(path, std::move(node), log);
  commit(log);
  return v;
}

void Tree::begin(UndoLog& log, std::size_t changes) {
  log.entries.reserve(log.entries.size() + changes);
  if (log.entries.empty()) log.generation = generation_;
}

NodeView Tree::put_logged(std::string_view path, Node node, UndoLog& log) {
  assert(log.entries.size() < log.entries.capacity());
  prepare_charge(node.perms);
  if (NodeRecord* r = nodes_.find(path)) {
    NameValue fresh(r->name(), node.value.view());  // may throw
    Undo& u = log.entries.emplace_back();
    u.record = r;
    u.path = path;
    u.has_value = u.has_children = true;
    u.generation = r->generation;
    charge(path, r, -1);
    u.name_value = std::move(r->name_value);
    u.perms = std::move(r->perms);
    u.children = std::move(r->children);
    r->name_value = std::move(fresh);
    r->perms = std::move(node.perms);
    r->children = std::move(node.children);
    r->generation = next_generation();
    charge(path, r, +1);
    return r;
  }
  NodeRecord* r = nodes_.emplace(path).first;  // may throw: nothing made
  if (!r) return {};
  try {
    r->name_value.set_value(node.value.view());
  } catch (...) {
    nodes_.erase(path);  // not charged yet
    throw;
  }
  Undo& u = log.entries.emplace_back();
  u.record = r;
  u.path = path;
  u.created = true;
  r->perms = std::move(node.perms);
  r->children = std::move(node.children);
  r->generation = next_generation();
  charge(path, r, +1);
  return r;
}

NodeView Tree::merge_logged(std::string_view path, const SmallBytes* value,
                            const SharedPerms* perms, UndoLog& log,
                            ChildNames* children) {
  assert(log.entries.size() < log.entries.capacity());
  NodeRecord* r = nodes_.find(path);
  if (!r) return {};
  if (perms) prepare_charge(*perms);
  std::optional<NameValue> fresh;
  if (value) fresh.emplace(r->name(), value->view());  // may throw
  Undo& u = log.entries.emplace_back();
  u.record = r;
  u.path = path;
  u.generation = r->generation;
  u.perms = r->perms;
  charge(path, r, -1);
  if (fresh) {
    u.has_value = true;
    u.name_value = std::move(r->name_value);
    r->name_value = std::move(*fresh);
  }
  if (children) {
    u.has_children = true;
    u.children = std::move(r->children);
    r->children = std::move(*children);
  }
  if (perms) r->perms = *perms;
  r->generation = next_generation();
  charge(path, r, +1);
  return r;
}

void Tree::rollback(UndoLog& log) noexcept {
  for (auto it = log.entries.rbegin(); it != log.entries.rend(); ++it) {
    Undo& u = *it;
    NodeRecord* r = u.record;
    SharedPerms now = r->perms;
    charge(u.path, r, -1);
    if (u.created) {
      nodes_.erase(u.path);
      prune(now);
      continue;
    }
    if (u.has_value) r->name_value = std::move(u.name_value);
    if (u.has_children) r->children = std::move(u.children);
    r->perms = std::move(u.perms);
    r->generation = u.generation;
    charge(u.path, r, +1);
    prune(now);
  }
  generation_ = log.generation;
  log.entries.clear();
}

void Tree::commit(UndoLog& log) noexcept {
  for (const Undo& u : log.entries)
    if (!u.created) prune(u.perms);
  log.entries.clear();
}

NodeView Tree::add_child(std::string_view path, std::string_view name) {
  NodeRecord* r = nodes_.find(path);
  if (!r) return {};
  add_child(*r, name);
  r->generation = next_generation();
  return r;
}

void Tree::remove_child(std::string_view path, std::string_view name) noexcept {
  NodeRecord* r = nodes_.find(path);
  if (!r) return;
  if (r->children.remove(name)) {
    const PermList& perms = r->perms.list();
    usage_.find(perms.empty() ? DomId{0} : perms.front().dom)->second.bytes -=
        name.size() + 1;
  }
  r->generation = next_generation();
}

void Tree::erase(std::string_view path) noexcept {
  const NodeRecord* r = nodes_.find(path);
  if (!r) return;
  SharedPerms perms = r->perms;
  charge(path, r, -1);
  nodes_.erase(path);
  prune(perms);
}

Node Tree::take(NodeRecord& r) {
  return Node{SmallBytes(r.value()), std::move(r.perms), r.generation,
              std::move(r.children)};
}

namespace {
DomId owner_of(const PermList& perms) noexcept {
  return perms.empty() ? DomId{0} : perms.front().dom;
}
// fn(DomId) once for each domain a list names.
template <typename Fn>
void for_each_named(const PermList& perms, Fn&& fn) {
  for (std::size_t i = 0; i < perms.size(); ++i) {
    bool first_mention = true;
    for (std::size_t j = 0; j < i; ++j)
      if (perms[j].dom == perms[i].dom) first_mention = false;
    if (first_mention) fn(perms[i].dom);
  }
}
}  // namespace

void Tree::prepare_charge(const SharedPerms& perms) {
  usage_.try_emplace(owner_of(perms.list()));
  for_each_named(perms.list(), [&](DomId d) { referenced_.try_emplace(d, 0); });
}

void Tree::charge(std::string_view path, NodeView n, int sign) noexcept {
  std::size_t bytes = node_bytes(path, n);
  if (sign < 0) {
    uncharge(n.perms(), bytes);
    return;
  }
  for_each_named(n.perms().list(),
                 [&](DomId d) { ++referenced_.find(d)->second; });
  Usage& u = usage_.find(owner_of(n.perms().list()))->second;
  u.nodes += 1;
  u.bytes += bytes;
}

void Tree::uncharge(const SharedPerms& perms, std::size_t bytes) noexcept {
  for_each_named(perms.list(),
                 [&](DomId d) { --referenced_.find(d)->second; });
  Usage& u = usage_.find(owner_of(perms.list()))->second;
  u.nodes -= 1;
  u.bytes -= bytes;
}

// Entries at zero go (the charges of a change are all made by now).
void Tree::prune(const SharedPerms& perms) noexcept {
  auto u = usage_.find(owner_of(perms.list()));
  if (u != usage_.end() && u->second.nodes == 0) usage_.erase(u);
  for_each_named(perms.list(), [&](DomId d) {
    auto it = referenced_.find(d);
    if (it != referenced_.end() && it->second == 0) referenced_.erase(it);
  });
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
                                  std::string_view path, std::uint32_t tag,
                                  std::string_view value, SharedPerms perms,
                                  std::uint64_t generation) {
  // `path` is canonical (the stream's reader checked it; restore_node
  // checks it again, this hot path does not).
  if (path == "/" || is_special(path) || parent_of(path) != parent_path)
    return kNoRecord;
  std::string_view name = basename_of(path);
  NodeIndex::Emplaced e = nodes_.emplace_child(parent_id, tag, name);
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
  SharedPerms old = r->perms;
  if (existing) {
    NameValue fresh(r->name(), value);  // may throw: nothing changed yet
    prepare_charge(perms);
    charge(path, r, -1);
    r->name_value = std::move(fresh);
  } else {
    try {
      prepare_charge(perms);
    } catch (...) {
      remove_from_parent(path, r);
      throw;
    }
  }
  r->perms = std::move(perms);
  r->generation = generation != kAbsentGeneration ? generation
                                                  : next_generation();
  generation_ = std::max(generation_, r->generation);
  charge(path, r, +1);
  if (existing) prune(old);
}

// The parent's record grows by the name and its NUL; its owner and its
// permissions are unchanged, so that is all its charge changes by (what
// charge(-1) and charge(+1) around the change would give, for one lookup).
void Tree::add_child(NodeRecord& parent, std::string_view name) {
  parent.children.add(name);  // may throw: nothing changed
  usage_.find(owner_of(parent.perms.list()))->second.bytes += name.size() + 1;
}

// A restored node whose charge could not be made leaves the tree again.
void Tree::remove_from_parent(std::string_view path, NodeRecord* r) noexcept {
  if (r->parent != NodeRecord::kNoParent) {
    NodeRecord& parent = nodes_.record(r->parent);
    if (parent.children.remove(basename_of(path)))
      usage_.find(owner_of(parent.perms.list()))->second.bytes -=
          basename_of(path).size() + 1;
  }
  nodes_.erase(path);
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
  for (const auto& kv : referenced_)
    if (kv.second != 0) out.push_back(kv.first);
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

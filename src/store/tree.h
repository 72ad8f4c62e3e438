// The committed node tree: every node by canonical path, the global
// generation counter, and what each domain's nodes cost (count and bytes,
// charged to the owner). Every change goes through put/edit/erase, so the
// accounting is exact whatever path a change takes (XSA-414/415/421/440 were
// all accounting missed on one path). Knows nothing of permissions or
// transactions; the Store keeps parent/child links consistent.
//
// All or nothing: every change here either completes or throws (only
// std::bad_alloc) with the tree as it was. Each makes the allocations it
// needs first (the node's value block, its record and index slot, the
// usage entries of its owner and of the domains its permissions name),
// then commits with moves and counts that cannot fail. A change of
// several nodes logs what each replaced (UndoLog) and puts it all back if
// a later one fails; a removal cannot fail, so it comes last.
// For live update the tree also exports itself (pre-order walk, special
// nodes, generation counter) and is rebuilt node by node (restore_node).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/node.h"
#include "store/node_index.h"
#include "store/node_record.h"

namespace cxs::store {

class Tree {
 public:
  // The fresh tree of the C daemon: "/", "/tool", "/tool/xenstored", plus the
  // special nodes "@introduceDomain" and "@releaseDomain" (permission holders,
  // not children of "/"). All owned by dom0 with no access for others.
  Tree();

  struct Usage {
    std::size_t nodes = 0;
    std::size_t bytes = 0;
  };

  NodeView find(std::string_view path) const noexcept {
    return nodes_.find(path);
  }

  // Inserts or replaces the node at `path`, stamping a new generation. A
  // new node's parent must be in the tree already (absent: nothing is
  // done and the view is empty).
  NodeView put(std::string_view path, Node node);
  // Changes a node in place (fn(Node&)), stamping a new generation; an
  // empty view if there is no such node. fn must change the Node or throw
  // with it unchanged, and must not change the children together with the
  // value or the permissions (a failure after fn puts the children back
  // as fn left them).
  template <typename Fn>
  NodeView edit(std::string_view path, Fn&& fn);
  // A child's name appended to (strong) or removed from (cannot fail) a
  // node's list, stamping a new generation; an empty view if there is no
  // such node. (Cheaper than edit: the value is not copied.)
  NodeView add_child(std::string_view path, std::string_view name);
  void remove_child(std::string_view path, std::string_view name) noexcept;
  // Removes one node; its children must be gone already.
  void erase(std::string_view path) noexcept;

  // --- Changes of several nodes --------------------------------------------
  // What the logged changes replaced, newest last, and the generation
  // counter before them. begin() makes room for `changes` entries, so
  // that logging cannot fail; the log must outlive the paths given.
  struct Undo {
    NodeRecord* record = nullptr;
    std::string_view path;
    bool created = false;      // rollback erases the node
    bool has_value = false;    // name_value holds the replaced one
    bool has_children = false;
    NameValue name_value;
    SharedPerms perms;
    ChildNames children;
    std::uint64_t generation = 0;
  };
  struct UndoLog {
    std::vector<Undo> entries;
    std::uint64_t generation = 0;
  };
  void begin(UndoLog& log, std::size_t changes);
  // put(), logged.
  NodeView put_logged(std::string_view path, Node node, UndoLog& log);
  // A node's value, permissions and/or child list replaced (null: kept;
  // the list is moved from), logged.
  NodeView merge_logged(std::string_view path, const SmallBytes* value,
                        const SharedPerms* perms, UndoLog& log,
                        ChildNames* children = nullptr);
  // Every logged change taken back, newest first; the log is empty after.
  void rollback(UndoLog& log) noexcept;
  // The logged changes kept; the log is empty after.
  void commit(UndoLog& log) noexcept;

  // What the nodes owned by `dom` cost (a usage entry at zero counts as
  // none: a change that failed may leave one).
  Usage usage(DomId dom) const noexcept;
  // What all nodes cost, summed over their owners.
  Usage total_usage() const noexcept;
  // Every domain some permission list names (owner or not), so that the
  // daemon can forget the ones that die before being introduced.
  std::vector<DomId> referenced_domains() const;
  // The size of a node's record as the node-size quota sees it: value,
  // permissions and children's names plus a fixed header (as C counts it).
  static std::size_t record_bytes(NodeView n) noexcept {
    return record_bytes(n.value().size(), n.perms().size(),
                        n.children_bytes());
  }
  static std::size_t record_bytes(std::size_t value_size, std::size_t perms,
                                  std::size_t children_bytes) noexcept {
    constexpr std::size_t kHeader = 24;  // as the C daemon's node header
    return kHeader + value_size + 8 * perms + children_bytes;
  }
  // What a node is charged for in memory: its record and its path.
  static std::size_t node_bytes(std::string_view path, NodeView n) noexcept {
    return record_bytes(n) + path.size();
  }

  // fn(std::string_view path, NodeView) for every node, in no order.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    nodes_.for_each([&](std::string_view path, const NodeRecord& r) {
      fn(path, NodeView(&r));
    });
  }
  // fn(NodeView, const auto& path) for every node, in no order, where
  // path() spells the node's path as a std::string: for walks that need
  // the path of only a few nodes (a domain's death at 100 000 nodes: 33 ms
  // spelling every path, 5 ms spelling only its own nodes' paths).
  template <typename Fn>
  void for_each_node(Fn&& fn) const {
    nodes_.for_each_record([&](const NodeRecord& r) {
      fn(NodeView(&r), [&] { return nodes_.path_of(r); });
    });
  }

  std::uint64_t next_generation() noexcept { return ++generation_; }
  std::size_t size() const noexcept { return nodes_.size(); }

  // --- Live update: export -------------------------------------------------
  // fn(std::string_view path, NodeView) for "/" and every node below it in
  // pre-order: a node before its children, children in their list's order
  // (what a stream is written in, so that its reader always has a node's
  // parent before the node). Iterative: paths may be 1500 levels deep. One
  // path buffer serves every node, so `path` is valid during its call only.
  // fn must not change the tree.
  template <typename Fn>
  void for_each_preorder(Fn&& fn) const;
  // fn(std::string_view path, NodeView) for the nodes that are not below
  // "/" ("@introduceDomain", "@releaseDomain"), by path. Scans the index:
  // about a millisecond at 100 000 nodes, once per export.
  template <typename Fn>
  void for_each_special(Fn&& fn) const {
    for (const NodeRecord* r : special_records()) fn(r->name(), NodeView(r));
  }
  // The counter the next stamp follows (>= every node's generation).
  std::uint64_t generation_counter() const noexcept { return generation_; }

  // --- Live update: restore ------------------------------------------------
  // Removes every node, "/" and the special nodes included, and resets the
  // accounting and the generation counter: an empty tree (not a usable one:
  // restore "/" and the special nodes before anything else uses it).
  void clear_for_restore() noexcept;
  // Room for `nodes` nodes, so that a restore does not grow the index step
  // by step.
  void reserve(std::size_t nodes) { nodes_.reserve(nodes); }
  // Inserts a node exactly as given. "/" and "@..." paths have no parent;
  // any other node's parent must be in the tree already, and the node's
  // name is appended to the parent's child list without stamping the
  // parent (its generation is restored as it was). An existing node keeps
  // its children and takes the value, permissions and generation given.
  // generation 0 stamps a fresh one (streams of the C daemon carry none).
  // An empty view, and nothing done, for a path that is not canonical or
  // whose parent is missing. Accounting is exact, as for put.
  NodeView restore_node(std::string_view path, std::string_view value,
                        SharedPerms perms, std::uint64_t generation);
  // restore_node for a node whose parent's id (and path) the caller knows,
  // and whose path is canonical (a stream's reader checked it):
  // a pre-order restore keeps the ids of the current node's ancestors, and
  // so looks up no parent (at 100 000 nodes, a quarter of the restore's
  // time). Returns the node's id (for its own children), kNoRecord if the
  // path is not canonical or not a child of `parent_path`.
  static constexpr std::uint32_t kNoRecord = NodeIndex::kNone;
  // `tag` is path_tag(path).
  std::uint32_t restore_child(std::uint32_t parent_id,
                              std::string_view parent_path,
                              std::string_view path, std::uint32_t tag,
                              std::string_view value, SharedPerms perms,
                              std::uint64_t generation);
  // A path's hash tag, and a hint to fetch its index slot ahead: a restore
  // hashes the next node while it inserts the current one (at 100 000
  // nodes the slot's cache miss was four fifths of an insertion).
  static std::uint32_t path_tag(std::string_view path) noexcept {
    return NodeIndex::tag_of(path);
  }
  void prefetch(std::uint32_t tag) const noexcept { nodes_.prefetch(tag); }
  // The id of a node's record (kNoRecord if absent), for restore_child.
  std::uint32_t id_of(std::string_view path) const noexcept {
    return nodes_.find_id(path);
  }
  // The counter to stamp from after a restore. It never goes below the
  // highest generation restored, so stamps stay unique; a stream from this
  // daemon gives its own counter, which is also above every generation its
  // open transactions recorded (a transaction that read a node since
  // removed must not see a new node take that node's generation).
  void set_generation_counter(std::uint64_t g) noexcept {
    if (g > generation_) generation_ = g;
  }

 private:
  // The usage and reference entries a node with `perms` is charged to,
  // made before a change (the only part of charging that allocates), so
  // that charge() cannot fail. Entries that fall to zero stay until
  // prune(): a change takes the old charge off before it adds the new.
  void prepare_charge(const SharedPerms& perms);
  void charge(std::string_view path, NodeView n, int sign) noexcept;
  void prune(const SharedPerms& perms) noexcept;
  // The end of both restores: value (of an existing node), permissions,
  // generation, charge.
  void finish_restore(std::string_view path, NodeRecord* r, bool existing,
                      std::string_view value, SharedPerms perms,
                      std::uint64_t generation);
  // parent.children.add(name), with the parent's charge kept exact.
  void add_child(NodeRecord& parent, std::string_view name);
  void remove_from_parent(std::string_view path, NodeRecord* r) noexcept;
  std::vector<const NodeRecord*> special_records() const;
  // The record's fields as a Node to change (the child list is moved, not
  // copied: a parent of 1000 children costs no more to edit). Strong: the
  // value is copied before anything is moved.
  static Node take(NodeRecord& r);
  // charge(-1) of a node whose fields have been moved out already.
  void uncharge(const SharedPerms& perms, std::size_t bytes) noexcept;

  NodeIndex nodes_;
  std::unordered_map<DomId, Usage> usage_;
  std::unordered_map<DomId, std::size_t> referenced_;  // nodes naming a domain
  std::uint64_t generation_ = 0;
};

template <typename Fn>
NodeView Tree::edit(std::string_view path, Fn&& fn) {
  NodeRecord* r = nodes_.find(path);
  if (!r) return {};
  SharedPerms old_perms = r->perms;
  std::size_t old_bytes = node_bytes(path, r);
  Node n = take(*r);  // may throw: nothing moved yet
  std::optional<NameValue> fresh;
  try {
    fn(n);
    prepare_charge(n.perms);
    if (n.value.view() != r->value()) fresh.emplace(r->name(), n.value.view());
  } catch (...) {
    r->perms = std::move(old_perms);
    r->children = std::move(n.children);
    throw;
  }
  uncharge(old_perms, old_bytes);
  if (fresh) r->name_value = std::move(*fresh);
  r->perms = std::move(n.perms);
  r->children = std::move(n.children);
  r->generation = next_generation();
  charge(path, r, +1);
  prune(old_perms);
  return r;
}

template <typename Fn>
void Tree::for_each_preorder(Fn&& fn) const {
  std::uint32_t root = nodes_.find_id("/");
  if (root == NodeIndex::kNone) return;
  std::string path("/");
  const NodeRecord* r = &nodes_.record(root);
  fn(std::string_view(path), NodeView(r));
  // The tag of the first name in `names` (children of `parent`), its index
  // slot prefetched: the probe comes one visit later, the slot in cache.
  std::string ahead;
  auto look_ahead = [&](std::string_view parent, std::string_view names) {
    if (names.empty()) return std::uint32_t{0};
    ahead.assign(parent);
    if (parent.size() > 1) ahead += '/';
    ahead.append(names.substr(0, names.find('\0')));
    std::uint32_t tag = NodeIndex::tag_of(ahead);
    nodes_.prefetch(tag);
    return tag;
  };
  // A frame per node on the way down: its record id, the names of its
  // children not yet visited, the length of its own path, and the tag of
  // the next child.
  struct Frame {
    std::uint32_t id;
    std::string_view rest;
    std::size_t path_len;
    std::uint32_t next_tag;
  };
  std::vector<Frame> stack;
  if (!r->children.empty()) {
    std::string_view names = r->children.joined();
    stack.push_back({root, names, 1, look_ahead(path, names)});
  }
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.rest.empty()) {
      stack.pop_back();
      continue;
    }
    std::size_t end = f.rest.find('\0');
    std::string_view name = f.rest.substr(0, end);
    f.rest.remove_prefix(end + 1);
    std::uint32_t tag = f.next_tag;
    path.resize(f.path_len);
    f.next_tag = look_ahead(path, f.rest);
    if (f.path_len > 1) path += '/';
    path += name;
    std::uint32_t id = nodes_.find_child(f.id, tag, name);
    if (id == NodeIndex::kNone) continue;  // the Store keeps lists in step
    r = &nodes_.record(id);
    fn(std::string_view(path), NodeView(r));
    if (!r->children.empty()) {
      std::string_view names = r->children.joined();
      stack.push_back({id, names, path.size(), look_ahead(path, names)});
    }
  }
}

}  // namespace cxs::store

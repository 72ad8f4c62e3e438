// The committed node tree: every node by canonical path, the global
// generation counter, and what each domain's nodes cost (count and bytes,
// charged to the owner). Every change goes through put/edit/erase, so the
// accounting is exact whatever path a change takes (XSA-414/415/421/440 were
// all accounting missed on one path). Knows nothing of permissions or
// transactions; the Store keeps parent/child links consistent.
#pragma once

#include <cstdint>
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
  // empty view if there is no such node.
  template <typename Fn>
  NodeView edit(std::string_view path, Fn&& fn);
  // Removes one node; its children must be gone already.
  void erase(std::string_view path) noexcept;

  // What the nodes owned by `dom` cost.
  Usage usage(DomId dom) const noexcept;
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

 private:
  void charge(std::string_view path, NodeView n, int sign) noexcept;
  // The record's fields as a Node to change, and back (the child list is
  // moved, not copied: a parent of 1000 children costs no more to edit).
  static Node take(NodeRecord& r);
  static void store(NodeRecord& r, Node&& n);

  NodeIndex nodes_;
  std::unordered_map<DomId, Usage> usage_;
  std::unordered_map<DomId, std::size_t> referenced_;  // nodes naming a domain
  std::uint64_t generation_ = 0;
};

template <typename Fn>
NodeView Tree::edit(std::string_view path, Fn&& fn) {
  NodeRecord* r = nodes_.find(path);
  if (!r) return {};
  charge(path, r, -1);
  Node n = take(*r);
  fn(n);
  store(*r, std::move(n));
  r->generation = next_generation();
  charge(path, r, +1);
  return r;
}

}  // namespace cxs::store

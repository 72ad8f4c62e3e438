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

  const Node* find(std::string_view path) const noexcept;

  // Inserts or replaces the node at `path`, stamping a new generation.
  const Node& put(std::string_view path, Node node);
  // Changes a node in place (fn(Node&)), stamping a new generation;
  // nullptr if there is no such node.
  template <typename Fn>
  const Node* edit(std::string_view path, Fn&& fn);
  void erase(std::string_view path) noexcept;

  // What the nodes owned by `dom` cost.
  Usage usage(DomId dom) const noexcept;
  // Every domain some permission list names (owner or not), so that the
  // daemon can forget the ones that die before being introduced.
  std::vector<DomId> referenced_domains() const;
  // The size of a node's record as the node-size quota sees it: value,
  // permissions and children's names plus a fixed header (as C counts it).
  static std::size_t record_bytes(const Node& n) noexcept {
    return record_bytes(n.value.size(), n.perms.size(), n.children_bytes());
  }
  static std::size_t record_bytes(std::size_t value_size, std::size_t perms,
                                  std::size_t children_bytes) noexcept {
    constexpr std::size_t kHeader = 24;  // as the C daemon's node header
    return kHeader + value_size + 8 * perms + children_bytes;
  }
  // What a node is charged for in memory: its record and its path.
  static std::size_t node_bytes(std::string_view path, const Node& n) noexcept {
    return record_bytes(n) + path.size();
  }

  // fn(std::string_view path, const Node&) for every node, in no order.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    nodes_.for_each(std::forward<Fn>(fn));
  }

  std::uint64_t next_generation() noexcept { return ++generation_; }
  std::size_t size() const noexcept { return nodes_.size(); }

 private:
  void charge(std::string_view path, const Node& n, int sign) noexcept;

  NodeIndex nodes_;
  std::unordered_map<DomId, Usage> usage_;
  std::unordered_map<DomId, std::size_t> referenced_;  // nodes naming a domain
  std::uint64_t generation_ = 0;
};

template <typename Fn>
const Node* Tree::edit(std::string_view path, Fn&& fn) {
  Node* n = nodes_.find(path);
  if (!n) return nullptr;
  charge(path, *n, -1);
  fn(*n);
  n->generation = next_generation();
  charge(path, *n, +1);
  return n;
}

}  // namespace cxs::store

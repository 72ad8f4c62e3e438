// NodeIndex: the tree's nodes by canonical path, in one open-addressing
// table. Each node lives in a single allocation together with its path
// (no std::string key with a heap block of its own, no hash-map node):
// about 60 bytes less per node than std::unordered_map<std::string, Node>.
// Linear probing; each slot keeps 32 bits of the path's hash, so a probe
// rarely touches a node that is not the one sought; removal shifts the
// following entries back (no tombstones). Pointers to nodes stay valid
// until that node is erased (the table moves pointers, never nodes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "store/node.h"

namespace cxs::store {

class NodeIndex {
 public:
  NodeIndex() = default;
  ~NodeIndex();
  NodeIndex(const NodeIndex&) = delete;
  NodeIndex& operator=(const NodeIndex&) = delete;

  Node* find(std::string_view path) const noexcept;
  // The node at `path`, created empty if absent (second: created).
  std::pair<Node*, bool> emplace(std::string_view path);
  // false if there was no such node.
  bool erase(std::string_view path) noexcept;

  std::size_t size() const noexcept { return size_; }

  // fn(std::string_view path, const Node&) for every node, in no order.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const Entry* e : slots_)
      if (e) fn(e->path(), e->node);
  }

 private:
  struct Entry {
    Node node;
    std::uint32_t hash = 0;  // low half of the path's hash: the home slot
    std::uint32_t len = 0;
    // The path's bytes follow the entry in the same allocation.
    std::string_view path() const noexcept {
      return {reinterpret_cast<const char*>(this + 1), len};
    }
  };

  static std::uint64_t hash_of(std::string_view path) noexcept;
  static Entry* make_entry(std::string_view path, std::uint32_t hash);
  static void free_entry(Entry* e) noexcept;
  // The slot holding `path`, or the empty slot where it would go.
  std::size_t probe(std::string_view path, std::uint64_t h) const noexcept;
  void grow();
  std::size_t mask() const noexcept { return slots_.size() - 1; }

  std::vector<Entry*> slots_;       // nullptr: empty
  std::vector<std::uint32_t> tags_;  // high half of the slot's path hash
  std::size_t size_ = 0;
};

}  // namespace cxs::store

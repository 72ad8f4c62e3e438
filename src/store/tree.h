// The committed node tree: every node by canonical path, plus the global
// generation counter. Knows nothing of permissions or transactions; the
// Store keeps parent/child links consistent when it inserts and erases.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/node.h"

namespace cxs::store {

class Tree {
 public:
  // The fresh tree of the C daemon: "/", "/tool", "/tool/xenstored", plus the
  // special nodes "@introduceDomain" and "@releaseDomain" (permission holders,
  // not children of "/"). All owned by dom0 with no access for others.
  Tree();

  const Node* find(std::string_view path) const noexcept;
  Node* find(std::string_view path) noexcept;

  // Inserts or replaces the node at `path`, stamping a new generation.
  Node& put(std::string_view path, Node node);
  void erase(std::string_view path) noexcept;

  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const auto& [path, node] : nodes_) fn(path, node);
  }

  std::uint64_t next_generation() noexcept { return ++generation_; }
  std::size_t size() const noexcept { return nodes_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, Node, Hash, std::equal_to<>> nodes_;
  std::uint64_t generation_ = 0;
};

}  // namespace cxs::store

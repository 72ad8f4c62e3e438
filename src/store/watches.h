// The registry of watches and the path index that matches events to them.
// Watches live in a trie keyed by path component, so matching an event costs
// the depth of its path plus the watches that match (plus, for a recursive
// event, the part of the trie below the path), never the number of watches
// or connections. Special paths ("@releaseDomain/5") have a trie of their own.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cxenstored/ids.h"
#include "cxenstored/result.h"
#include "store/event.h"

namespace cxs::store {

struct Watch {
  ConnId conn;
  std::string path;   // canonical: absolute or special
  std::string token;
  // Relative watches get relative event paths: this many leading characters
  // ("/local/domain/5/") are cut from the event path. 0 for absolute ones.
  std::size_t strip = 0;
  int depth = -1;     // levels below `path` that match; -1 = unlimited
};

class WatchIndex {
 public:
  WatchIndex();
  ~WatchIndex();
  WatchIndex(const WatchIndex&) = delete;
  WatchIndex& operator=(const WatchIndex&) = delete;

  // EEXIST if the connection already watches this path with this token.
  Status add(Watch w);
  // ENOENT if there is no such watch.
  Status remove(ConnId conn, std::string_view path, std::string_view token);
  void remove_all(ConnId conn);
  std::size_t count(ConnId conn) const noexcept;
  // Memory the connection's watches are charged for (memory quota).
  std::size_t bytes(ConnId conn) const noexcept;
  std::size_t total() const noexcept { return watches_.size(); }

  // Calls fn(watch, event_path) for each watch the event fires: those on
  // the event's path and its ancestors, then (recursive events) those below
  // it; each group in registration order (C 4.17's order). The order
  // depends on nothing else, so it survives a live update that adds the
  // watches back in registration order.
  template <typename Fn>
  void match(const Event& ev, Fn&& fn) const;

  // fn(const Watch&) for every watch, in registration order: adding them to
  // a fresh index in this order (live update) restores the order in which
  // they fire.
  template <typename Fn>
  void for_each(Fn&& fn) const;
  // fn(const Watch&) for the watches of one connection, in registration
  // order.
  template <typename Fn>
  void for_each_of(ConnId conn, Fn&& fn) const {
    auto it = by_conn_.find(conn);
    if (it == by_conn_.end()) return;
    for (WatchId id : it->second) fn(watches_.at(id));
  }

 private:
  friend std::size_t watch_bytes(std::string_view path,
                                 std::string_view token) noexcept;
  struct TrieNode;
  using WatchId = std::uint64_t;

  TrieNode* find_node(std::string_view path) const noexcept;
  TrieNode& make_node(std::string_view path);
  void prune(TrieNode* node) noexcept;
  void collect_on_path(std::string_view path,
                       std::vector<const Watch*>& out) const;
  // The watches below `node`, in registration order.
  void collect_below(const TrieNode* node,
                     std::vector<const Watch*>& out) const;

  // Ids grow with each add: their order is registration order.
  std::unique_ptr<TrieNode> root_;     // "/"
  std::unique_ptr<TrieNode> special_;  // above "@..." first components
  std::unordered_map<WatchId, Watch> watches_;
  std::unordered_map<ConnId, std::vector<WatchId>> by_conn_;
  // Running sum of watch_bytes() per connection: the memory quota asks on
  // every request of an unprivileged domain.
  std::unordered_map<ConnId, std::size_t> bytes_by_conn_;
  WatchId next_id_ = 1;
};

// What one watch costs against the memory quota: what it makes the index
// hold, at allocation sizes. Its record in the table (path, token, the
// connection's and the trie node's id lists) and, for each component of
// its path, a trie node with its entry in the parent's table: an upper
// bound, since watches on nearby paths share their trie nodes, but a watch
// on a new 1500-level path does make 1500 of them (about 300 KB, where the
// path and token alone were 3 KB).
std::size_t watch_bytes(std::string_view path, std::string_view token) noexcept;
inline std::size_t watch_bytes(const Watch& w) noexcept {
  return watch_bytes(w.path, w.token);
}

// Would a watch with `depth` on `watch_path` see an event `levels` below it?
inline bool within_depth(int depth, std::size_t levels) noexcept {
  return depth < 0 || levels <= static_cast<std::size_t>(depth);
}

}  // namespace cxs::store

#include "store/watches_inl.h"

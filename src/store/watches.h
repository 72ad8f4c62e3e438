// The registry of watches and the path index that matches events to them.
// Watches live in a trie keyed by path component, so matching an event costs
// the depth of its path plus the watches that match (plus, for a recursive
// event, the part of the trie below the path), never the number of watches
// or connections. Special paths ("@releaseDomain/5") have a trie of their own.
// A watch is one heap block (its links, path and token); a trie node is one
// block with its name, found through one open-addressing table of
// (parent, name) edges (docs/design.md, "Watches").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cxenstored/ids.h"
#include "cxenstored/result.h"
#include "store/event.h"

namespace cxs::store {

// A watch as a client asks for it (WATCH, a live update's restore).
struct Watch {
  ConnId conn;
  std::string path;   // canonical: absolute or special
  std::string token;
  // Relative watches get relative event paths: this many leading characters
  // ("/local/domain/5/") are cut from the event path. 0 for absolute ones.
  std::size_t strip = 0;
  int depth = -1;     // levels below `path` that match; -1 = unlimited
};

class WatchIndex;
struct WatchTrieNode;  // watches.cc

// A registered watch: one block, this header then the path's and the
// token's bytes. Linked into its connection's list and its trie node's list,
// both in registration order.
class WatchRecord {
 public:
  ConnId conn() const noexcept { return conn_; }
  std::string_view path() const noexcept {
    return {reinterpret_cast<const char*>(this + 1), path_len_};
  }
  std::string_view token() const noexcept {
    return {reinterpret_cast<const char*>(this + 1) + path_len_, token_len_};
  }
  std::size_t strip() const noexcept { return strip_; }
  int depth() const noexcept { return depth_; }
  // Registration order: larger is later.
  std::uint64_t seq() const noexcept { return seq_; }
  Watch to_watch() const {
    return Watch{conn_, std::string(path()), std::string(token()), strip_,
                 depth_};
  }

 private:
  friend class WatchIndex;
  WatchRecord* conn_prev_ = nullptr;
  WatchRecord* conn_next_ = nullptr;
  WatchRecord* node_next_ = nullptr;
  WatchTrieNode* node_ = nullptr;
  std::uint64_t seq_ = 0;
  ConnId conn_;
  std::int32_t depth_ = -1;
  // Paths, tokens and the prefix cut fit 16 bits: a request is at most
  // 4096 bytes.
  std::uint16_t path_len_ = 0;
  std::uint16_t token_len_ = 0;
  std::uint16_t strip_ = 0;
};

class WatchIndex {
 public:
  WatchIndex();
  ~WatchIndex();
  WatchIndex(const WatchIndex&) = delete;
  WatchIndex& operator=(const WatchIndex&) = delete;

  // EEXIST if the connection already watches this path with this token.
  // EINVAL for a path, token or strip past 16 bits (no request carries one).
  Status add(const Watch& w);
  // ENOENT if there is no such watch.
  Status remove(ConnId conn, std::string_view path, std::string_view token);
  void remove_all(ConnId conn) noexcept;
  std::size_t count(ConnId conn) const noexcept;
  // Memory the connection's watches are charged for (memory quota).
  std::size_t bytes(ConnId conn) const noexcept;
  std::size_t total() const noexcept { return total_; }

  // Calls fn(watch, event_path) for each watch the event fires: those on
  // the event's path and its ancestors, then (recursive events) those below
  // it; each group in registration order (C 4.17's order). The order
  // depends on nothing else, so it survives a live update that adds the
  // watches back in registration order.
  template <typename Fn>
  void match(const Event& ev, Fn&& fn) const;

  // fn(const WatchRecord&) for every watch, in registration order: adding
  // them to a fresh index in this order (live update) restores the order in
  // which they fire.
  template <typename Fn>
  void for_each(Fn&& fn) const;
  // fn(const WatchRecord&) for the watches of one connection, in
  // registration order.
  template <typename Fn>
  void for_each_of(ConnId conn, Fn&& fn) const {
    auto it = by_conn_.find(conn);
    if (it == by_conn_.end()) return;
    for (const WatchRecord* r = it->second.head; r; r = r->conn_next_) fn(*r);
  }

  // Trie nodes held now (for tests).
  std::size_t trie_nodes() const noexcept { return edges_used_; }

 private:
  friend std::size_t watch_bytes(std::string_view path,
                                 std::string_view token) noexcept;
  using TrieNode = WatchTrieNode;
  struct ConnWatches {
    WatchRecord* head = nullptr;
    WatchRecord* tail = nullptr;
    std::size_t count = 0;
    // Running sum of watch_bytes(): the memory quota asks on every request
    // of an unprivileged domain.
    std::size_t bytes = 0;
  };

  TrieNode* find_node(std::string_view path) const noexcept;
  TrieNode* find_child(const TrieNode* parent,
                       std::string_view name) const noexcept;
  TrieNode& make_node(std::string_view path);
  void prune(TrieNode* node) noexcept;
  void unlink_from_node(WatchRecord* r) noexcept;
  void free_record(WatchRecord* r) noexcept;
  void collect_on_path(std::string_view path,
                       std::vector<const WatchRecord*>& out) const;
  // The watches below `node`, in registration order.
  void collect_below(const TrieNode* node,
                     std::vector<const WatchRecord*>& out) const;

  // The edge table: every trie node but the two roots, at the slot its
  // (parent, name) hashes to, linear probing, at most 3/4 full.
  std::size_t slot_of(const TrieNode* parent,
                      std::string_view name) const noexcept;
  void insert_edge(TrieNode* node) noexcept;
  void erase_edge(TrieNode* node) noexcept;
  void grow();  // doubles the table; before an insertion that would fill it

  TrieNode* root_ = nullptr;     // "/"
  TrieNode* special_ = nullptr;  // above "@..." first components
  std::vector<TrieNode*> edges_;
  std::size_t edges_used_ = 0;
  std::unordered_map<ConnId, ConnWatches> by_conn_;
  std::size_t total_ = 0;
  std::uint64_t next_seq_ = 1;
};

// What one watch costs against the memory quota: what it makes the index
// hold, at allocation sizes. Its block (header, path and token) and, for
// each component of its path, a trie node block with its name and its share
// of the edge table: an upper bound, since watches on nearby paths share
// their trie nodes, but a watch on a new 1500-level path does make 1500 of
// them (about 120 KB, where the path and token alone were 3 KB).
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

#include "store/watches.h"

#include <cstring>
#include <new>

#include "cxenstored/heap_cost.h"
#include "store/keyed_hash.h"

namespace cxs::store {

// One block: these links, then the component's name. Its children are a
// doubly linked list (a walk below a removed subtree needs them, an unwatch
// unlinks in constant time); finding a child by name goes through the
// index's edge table.
struct WatchTrieNode {
  WatchTrieNode* parent = nullptr;
  WatchTrieNode* first_child = nullptr;
  WatchTrieNode* prev_sibling = nullptr;
  WatchTrieNode* next_sibling = nullptr;
  WatchRecord* first_watch = nullptr;  // in registration order
  std::uint16_t name_len = 0;          // a component is at most 3072 bytes

  std::string_view name() const noexcept {
    return {reinterpret_cast<const char*>(this + 1), name_len};
  }
};

namespace {

using TrieNode = WatchTrieNode;

// Components of a canonical path: "/a/b" -> a, b; "@x/5" -> @x, 5.
template <typename Fn>
void for_each_component(std::string_view path, Fn&& fn) {
  std::size_t start = path.empty() || path[0] != '/' ? 0 : 1;
  while (start < path.size()) {
    std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (!fn(path.substr(start, slash - start))) return;
    start = slash + 1;
  }
}

// Throws std::bad_alloc (the caller undoes what it made before).
TrieNode* new_node(TrieNode* parent, std::string_view name) {
  void* mem = ::operator new(sizeof(TrieNode) + name.size());
  auto* n = new (mem) TrieNode();
  n->parent = parent;
  n->name_len = static_cast<std::uint16_t>(name.size());
  if (!name.empty())
    std::memcpy(reinterpret_cast<char*>(n + 1), name.data(), name.size());
  return n;
}

void delete_node(TrieNode* n) noexcept {
  n->~TrieNode();
  ::operator delete(n);
}

// Guest-chosen names: the keyed hash, so that no one can aim names at one
// probe run; the parent's address mixed in after it.
std::uint64_t edge_hash(const TrieNode* parent,
                        std::string_view name) noexcept {
  std::uint64_t h =
      keyed_hash(name) ^
      (reinterpret_cast<std::uintptr_t>(parent) * 0x9E3779B97F4A7C15ull);
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 29);
}

// 8-byte slots in a table kept between 3/8 and 3/4 full: about two slots
// per node over the table's doublings (at most 2.7).
constexpr std::size_t kEdgeSlotBytes = 2 * sizeof(TrieNode*);

}  // namespace

std::size_t watch_bytes(std::string_view path,
                        std::string_view token) noexcept {
  std::size_t bytes =
      heap_block_bytes(sizeof(WatchRecord) + path.size() + token.size());
  for_each_component(path, [&](std::string_view c) {
    bytes += heap_block_bytes(sizeof(TrieNode) + c.size()) + kEdgeSlotBytes;
    return true;
  });
  return bytes;
}

WatchIndex::WatchIndex() {
  root_ = new_node(nullptr, {});
  try {
    special_ = new_node(nullptr, {});
  } catch (...) {
    delete_node(root_);
    throw;
  }
}

WatchIndex::~WatchIndex() {
  for (auto& kv : by_conn_) {
    for (WatchRecord* r = kv.second.head; r;) {
      WatchRecord* next = r->conn_next_;
      free_record(r);
      r = next;
    }
  }
  for (TrieNode* n : edges_)
    if (n) delete_node(n);
  delete_node(root_);
  delete_node(special_);
}

// --- the edge table ----------------------------------------------------------

std::size_t WatchIndex::slot_of(const TrieNode* parent,
                                std::string_view name) const noexcept {
  return edge_hash(parent, name) & (edges_.size() - 1);
}

WatchIndex::TrieNode* WatchIndex::find_child(
    const TrieNode* parent, std::string_view name) const noexcept {
  if (edges_.empty() || !parent->first_child) return nullptr;
  const std::size_t mask = edges_.size() - 1;
  for (std::size_t i = slot_of(parent, name);; i = (i + 1) & mask) {
    TrieNode* n = edges_[i];
    if (!n) return nullptr;
    if (n->parent == parent && n->name() == name) return n;
  }
}

void WatchIndex::grow() {
  std::vector<TrieNode*> bigger(edges_.empty() ? 16 : 2 * edges_.size(),
                                nullptr);
  std::swap(edges_, bigger);
  const std::size_t mask = edges_.size() - 1;
  for (TrieNode* n : bigger) {
    if (!n) continue;
    std::size_t i = slot_of(n->parent, n->name());
    while (edges_[i]) i = (i + 1) & mask;
    edges_[i] = n;
  }
}

void WatchIndex::insert_edge(TrieNode* node) noexcept {
  const std::size_t mask = edges_.size() - 1;
  std::size_t i = slot_of(node->parent, node->name());
  while (edges_[i]) i = (i + 1) & mask;
  edges_[i] = node;
  ++edges_used_;
}

// Backward-shift deletion: the entries after the hole that may move into
// it do, so lookups never need tombstones.
void WatchIndex::erase_edge(TrieNode* node) noexcept {
  const std::size_t mask = edges_.size() - 1;
  std::size_t hole = slot_of(node->parent, node->name());
  while (edges_[hole] != node) hole = (hole + 1) & mask;
  for (std::size_t j = (hole + 1) & mask; edges_[j]; j = (j + 1) & mask) {
    TrieNode* n = edges_[j];
    std::size_t home = slot_of(n->parent, n->name());
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      edges_[hole] = n;
      hole = j;
    }
  }
  edges_[hole] = nullptr;
  --edges_used_;
}

// --- the trie ----------------------------------------------------------------

WatchIndex::TrieNode* WatchIndex::find_node(
    std::string_view path) const noexcept {
  TrieNode* n = is_special(path) ? special_ : root_;
  for_each_component(path, [&](std::string_view c) {
    n = find_child(n, c);
    return n != nullptr;
  });
  return n;
}

WatchIndex::TrieNode& WatchIndex::make_node(std::string_view path) {
  TrieNode* n = is_special(path) ? special_ : root_;
  try {
    for_each_component(path, [&](std::string_view c) {
      TrieNode* kid = find_child(n, c);
      if (!kid) {
        if ((edges_used_ + 1) * 4 > edges_.size() * 3) grow();
        kid = new_node(n, c);
        insert_edge(kid);
        kid->next_sibling = n->first_child;
        if (n->first_child) n->first_child->prev_sibling = kid;
        n->first_child = kid;
      }
      n = kid;
      return true;
    });
  } catch (...) {
    prune(n);  // the nodes made for this path so far
    throw;
  }
  return *n;
}

// Drops trie nodes that no longer hold watches or children.
void WatchIndex::prune(TrieNode* node) noexcept {
  while (node->parent && !node->first_watch && !node->first_child) {
    TrieNode* parent = node->parent;
    erase_edge(node);
    if (node->prev_sibling)
      node->prev_sibling->next_sibling = node->next_sibling;
    else
      parent->first_child = node->next_sibling;
    if (node->next_sibling)
      node->next_sibling->prev_sibling = node->prev_sibling;
    delete_node(node);
    node = parent;
  }
}

// --- watches -----------------------------------------------------------------

void WatchIndex::free_record(WatchRecord* r) noexcept {
  r->~WatchRecord();
  ::operator delete(r);
}

void WatchIndex::unlink_from_node(WatchRecord* r) noexcept {
  WatchRecord** link = &r->node_->first_watch;
  while (*link != r) link = &(*link)->node_next_;
  *link = r->node_next_;
}

Status WatchIndex::add(const Watch& w) {
  if (w.path.size() > 0xFFFF || w.token.size() > 0xFFFF || w.strip > 0xFFFF)
    return XsErr::kEINVAL;
  WatchRecord* tail = nullptr;  // the node's last watch: this one goes after
  if (TrieNode* n = find_node(w.path)) {
    for (WatchRecord* r = n->first_watch; r; r = r->node_next_) {
      if (r->conn_ == w.conn && r->token() == w.token) return XsErr::kEEXIST;
      tail = r;
    }
  }
  // All or nothing: every block first (a failure takes back the trie nodes
  // made for it), then links that cannot fail.
  std::size_t bytes = watch_bytes(w);
  TrieNode& node = make_node(w.path);
  void* mem = nullptr;
  ConnWatches* mine = nullptr;
  try {
    mem = ::operator new(sizeof(WatchRecord) + w.path.size() + w.token.size());
    mine = &by_conn_[w.conn];
  } catch (...) {
    ::operator delete(mem);
    prune(&node);
    throw;
  }
  auto* r = new (mem) WatchRecord();
  r->node_ = &node;
  r->seq_ = next_seq_++;
  r->conn_ = w.conn;
  r->depth_ = w.depth;
  r->path_len_ = static_cast<std::uint16_t>(w.path.size());
  r->token_len_ = static_cast<std::uint16_t>(w.token.size());
  r->strip_ = static_cast<std::uint16_t>(w.strip);
  char* text = reinterpret_cast<char*>(r + 1);
  // Lengths, not NULs, delimit the path and the token in the block.
  if (!w.path.empty()) {
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result)
    std::memcpy(text, w.path.data(), w.path.size());
  }
  if (!w.token.empty()) {
    // NOLINTNEXTLINE(bugprone-not-null-terminated-result)
    std::memcpy(text + w.path.size(), w.token.data(), w.token.size());
  }
  (tail ? tail->node_next_ : node.first_watch) = r;
  r->conn_prev_ = mine->tail;
  (mine->tail ? mine->tail->conn_next_ : mine->head) = r;
  mine->tail = r;
  ++mine->count;
  mine->bytes += bytes;
  ++total_;
  return {};
}

Status WatchIndex::remove(ConnId conn, std::string_view path,
                          std::string_view token) {
  TrieNode* n = find_node(path);
  if (!n) return XsErr::kENOENT;
  WatchRecord* r = n->first_watch;
  while (r && !(r->conn_ == conn && r->token() == token)) r = r->node_next_;
  if (!r) return XsErr::kENOENT;
  unlink_from_node(r);
  auto it = by_conn_.find(conn);
  ConnWatches& mine = it->second;
  (r->conn_prev_ ? r->conn_prev_->conn_next_ : mine.head) = r->conn_next_;
  (r->conn_next_ ? r->conn_next_->conn_prev_ : mine.tail) = r->conn_prev_;
  mine.bytes -= watch_bytes(r->path(), r->token());
  if (--mine.count == 0) by_conn_.erase(it);
  free_record(r);
  --total_;
  prune(n);
  return {};
}

void WatchIndex::remove_all(ConnId conn) noexcept {
  auto it = by_conn_.find(conn);
  if (it == by_conn_.end()) return;
  WatchRecord* r = it->second.head;
  by_conn_.erase(it);
  while (r) {
    WatchRecord* next = r->conn_next_;
    TrieNode* n = r->node_;
    unlink_from_node(r);
    free_record(r);
    --total_;
    prune(n);
    r = next;
  }
}

std::size_t WatchIndex::count(ConnId conn) const noexcept {
  auto it = by_conn_.find(conn);
  return it == by_conn_.end() ? 0 : it->second.count;
}

std::size_t WatchIndex::bytes(ConnId conn) const noexcept {
  auto it = by_conn_.find(conn);
  return it == by_conn_.end() ? 0 : it->second.bytes;
}

// --- matching ----------------------------------------------------------------

namespace {
void sort_by_registration(std::vector<const WatchRecord*>& v) {
  std::sort(v.begin(), v.end(), [](const WatchRecord* a, const WatchRecord* b) {
    return a->seq() < b->seq();
  });
}
}  // namespace

// In registration order whatever the depth, as C 4.17 fires one
// connection's watches (it walks the connection's list of them): a client
// that registered /local/domain before /local hears of a change under both
// in that order.
void WatchIndex::collect_on_path(std::string_view path,
                                 std::vector<const WatchRecord*>& out) const {
  const TrieNode* n = is_special(path) ? special_ : root_;
  auto take = [&](const TrieNode* t) {
    for (const WatchRecord* r = t->first_watch; r; r = r->node_next_)
      out.push_back(r);
  };
  if (!is_special(path)) take(n);
  // Nothing watched below this point: the walk ends at once.
  for_each_component(path, [&](std::string_view c) {
    n = find_child(n, c);
    if (!n) return false;
    take(n);
    return true;
  });
  sort_by_registration(out);
}

// Iterative walk: watch trees can be as deep as paths are long. The
// children's order is not registration order: the watches are sorted.
void WatchIndex::collect_below(const TrieNode* top,
                               std::vector<const WatchRecord*>& out) const {
  std::vector<const TrieNode*> stack;
  for (const TrieNode* k = top->first_child; k; k = k->next_sibling)
    stack.push_back(k);
  while (!stack.empty()) {
    const TrieNode* n = stack.back();
    stack.pop_back();
    for (const WatchRecord* r = n->first_watch; r; r = r->node_next_)
      out.push_back(r);
    for (const TrieNode* k = n->first_child; k; k = k->next_sibling)
      stack.push_back(k);
  }
  sort_by_registration(out);
}

}  // namespace cxs::store

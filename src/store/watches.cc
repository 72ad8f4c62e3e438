#include "store/watches.h"

#include <algorithm>

#include "cxenstored/heap_cost.h"

namespace cxs::store {

namespace {
// Looks a component up by string_view: matching an event must not build a
// std::string per path component.
struct ComponentHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};
}  // namespace

struct WatchIndex::TrieNode {
  TrieNode* parent = nullptr;
  std::string name;
  std::unordered_map<std::string, std::unique_ptr<TrieNode>, ComponentHash,
                     std::equal_to<>>
      kids;
  std::vector<WatchId> watches;
};

namespace {

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

}  // namespace

std::size_t watch_bytes(std::string_view path,
                        std::string_view token) noexcept {
  // The table's node (id and Watch), two ids in vectors that double.
  constexpr std::size_t kRecord =
      hash_entry_bytes(sizeof(std::uint64_t) + sizeof(Watch)) + 2 * 16;
  // A trie node and its entry (name and pointer) in its parent's table.
  constexpr std::size_t kTrieNode =
      heap_block_bytes(sizeof(WatchIndex::TrieNode)) +
      hash_entry_bytes(sizeof(std::string) + sizeof(void*));
  std::size_t bytes = kRecord + string_heap_bytes(path.size()) +
                      string_heap_bytes(token.size());
  for_each_component(path, [&](std::string_view c) {
    bytes += kTrieNode + 2 * string_heap_bytes(c.size());  // key and name
    return true;
  });
  return bytes;
}

WatchIndex::WatchIndex()
    : root_(std::make_unique<TrieNode>()),
      special_(std::make_unique<TrieNode>()) {}

WatchIndex::~WatchIndex() = default;

WatchIndex::TrieNode* WatchIndex::find_node(
    std::string_view path) const noexcept {
  TrieNode* n = is_special(path) ? special_.get() : root_.get();
  for_each_component(path, [&n](std::string_view c) {
    auto it = n->kids.find(c);
    n = it == n->kids.end() ? nullptr : it->second.get();
    return n != nullptr;
  });
  return n;
}

WatchIndex::TrieNode& WatchIndex::make_node(std::string_view path) {
  TrieNode* n = is_special(path) ? special_.get() : root_.get();
  for_each_component(path, [&](std::string_view c) {
    auto it = n->kids.find(c);
    if (it == n->kids.end()) {
      try {
        auto kid = std::make_unique<TrieNode>();
        kid->parent = n;
        kid->name = std::string(c);
        it = n->kids.emplace(std::string(c), std::move(kid)).first;
      } catch (...) {
        prune(n);  // the nodes made for this path so far
        throw;
      }
    }
    n = it->second.get();
    return true;
  });
  return *n;
}

// Drops trie nodes that no longer hold watches or children.
void WatchIndex::prune(TrieNode* node) noexcept {
  while (node->parent && node->watches.empty() && node->kids.empty()) {
    TrieNode* parent = node->parent;
    parent->kids.erase(node->name);
    node = parent;
  }
}

Status WatchIndex::add(Watch w) {
  if (TrieNode* n = find_node(w.path)) {
    for (WatchId id : n->watches) {
      const Watch& other = watches_.at(id);
      if (other.conn == w.conn && other.token == w.token) return XsErr::kEEXIST;
    }
  }
  // All or nothing: the room in every table first (a failure takes back
  // the trie nodes and entries made for it), then pushes that cannot fail.
  ConnId conn = w.conn;
  std::size_t bytes = watch_bytes(w);
  TrieNode& node = make_node(w.path);
  WatchId id = next_id_;
  try {
    node.watches.reserve(node.watches.size() + 1);
    std::vector<WatchId>& mine = by_conn_[conn];
    mine.reserve(mine.size() + 1);
    bytes_by_conn_.try_emplace(conn, 0);
    watches_.emplace(id, std::move(w));
  } catch (...) {
    if (auto it = by_conn_.find(conn);
        it != by_conn_.end() && it->second.empty())
      by_conn_.erase(it);
    if (auto it = bytes_by_conn_.find(conn);
        it != bytes_by_conn_.end() && it->second == 0)
      bytes_by_conn_.erase(it);
    prune(&node);
    throw;
  }
  ++next_id_;
  node.watches.push_back(id);
  by_conn_[conn].push_back(id);
  bytes_by_conn_[conn] += bytes;
  return {};
}

Status WatchIndex::remove(ConnId conn, std::string_view path,
                          std::string_view token) {
  TrieNode* n = find_node(path);
  if (!n) return XsErr::kENOENT;
  auto it = std::find_if(n->watches.begin(), n->watches.end(), [&](WatchId id) {
    const Watch& w = watches_.at(id);
    return w.conn == conn && w.token == token;
  });
  if (it == n->watches.end()) return XsErr::kENOENT;
  WatchId id = *it;
  n->watches.erase(it);
  auto& mine = by_conn_[conn];
  mine.erase(std::find(mine.begin(), mine.end(), id));
  if (mine.empty()) by_conn_.erase(conn);
  std::size_t& bytes = bytes_by_conn_[conn];
  bytes -= watch_bytes(watches_.at(id));
  if (bytes == 0) bytes_by_conn_.erase(conn);
  watches_.erase(id);
  prune(n);
  return {};
}

void WatchIndex::remove_all(ConnId conn) {
  auto it = by_conn_.find(conn);
  if (it == by_conn_.end()) return;
  std::vector<WatchId> ids = std::move(it->second);
  by_conn_.erase(it);
  bytes_by_conn_.erase(conn);
  for (WatchId id : ids) {
    const Watch& w = watches_.at(id);
    TrieNode* n = find_node(w.path);
    if (n) {
      n->watches.erase(std::find(n->watches.begin(), n->watches.end(), id));
      watches_.erase(id);
      prune(n);
    } else {
      watches_.erase(id);
    }
  }
}

std::size_t WatchIndex::count(ConnId conn) const noexcept {
  auto it = by_conn_.find(conn);
  return it == by_conn_.end() ? 0 : it->second.size();
}

std::size_t WatchIndex::bytes(ConnId conn) const noexcept {
  auto it = bytes_by_conn_.find(conn);
  return it == bytes_by_conn_.end() ? 0 : it->second;
}

// In registration order whatever the depth, as C 4.17 fires one
// connection's watches (it walks the connection's list of them): a client
// that registered /local/domain before /local hears of a change under both
// in that order.
void WatchIndex::collect_on_path(std::string_view path,
                                 std::vector<const Watch*>& out) const {
  const TrieNode* n = is_special(path) ? special_.get() : root_.get();
  std::vector<WatchId> ids;
  auto take = [&](const TrieNode* t) {
    ids.insert(ids.end(), t->watches.begin(), t->watches.end());
  };
  if (!is_special(path)) take(n);
  // Nothing watched below this point: the walk ends at once.
  for_each_component(path, [&](std::string_view c) {
    if (n->kids.empty()) return false;
    auto it = n->kids.find(c);
    if (it == n->kids.end()) return false;
    n = it->second.get();
    take(n);
    return true;
  });
  std::sort(ids.begin(), ids.end());
  for (WatchId id : ids) out.push_back(&watches_.at(id));
}

// Iterative walk: watch trees can be as deep as paths are long. The trie's
// children are in hash order, which a live update does not reproduce: the
// ids are sorted, so that the order is registration order.
void WatchIndex::collect_below(const TrieNode* top,
                               std::vector<const Watch*>& out) const {
  std::vector<WatchId> ids;
  std::vector<const TrieNode*> stack;
  for (const auto& kv : top->kids) stack.push_back(kv.second.get());
  while (!stack.empty()) {
    const TrieNode* n = stack.back();
    stack.pop_back();
    ids.insert(ids.end(), n->watches.begin(), n->watches.end());
    for (const auto& kv : n->kids) stack.push_back(kv.second.get());
  }
  std::sort(ids.begin(), ids.end());
  for (WatchId id : ids) out.push_back(&watches_.at(id));
}

}  // namespace cxs::store

#include "store/transaction.h"

#include <algorithm>
#include <vector>

#include "store/path.h"

namespace cxs::store {

// --- ChildDelta
// ----------------------------------------------------------------

Transaction::ChildDelta::ChildDelta(const ChildDelta& o)
    : ops_(o.ops_ ? std::make_unique<std::string>(*o.ops_) : nullptr) {}

Transaction::ChildDelta& Transaction::ChildDelta::operator=(
    const ChildDelta& o) {
  if (this != &o) *this = ChildDelta(o);
  return *this;
}

namespace {
// Calls fn(char op, std::string_view name) for each "+name\0" / "-name\0".
template <typename Fn>
void for_each_op(std::string_view ops, Fn&& fn) {
  std::size_t start = 0;
  while (start < ops.size()) {
    std::size_t end = ops.find('\0', start);
    fn(ops[start], ops.substr(start + 1, end - start - 1));
    start = end + 1;
  }
}
}  // namespace

// Strong: the room is made before anything goes in.
void Transaction::ChildDelta::append(char op, std::string_view name) {
  std::unique_ptr<std::string> fresh;
  std::string& ops = ops_ ? *ops_ : *(fresh = std::make_unique<std::string>());
  ops.reserve(ops.size() + name.size() + 2);
  ops.push_back(op);
  ops.append(name);
  ops.push_back('\0');
  if (fresh) ops_ = std::move(fresh);
}

void Transaction::ChildDelta::add(std::string_view name) { append('+', name); }

void Transaction::ChildDelta::remove(std::string_view name) {
  if (ops_) {
    // A name added by this transaction and removed again: as if never
    // added (the committed list never had it: its entry was read absent).
    std::string added = "+" + std::string(name) + '\0';
    for (std::size_t at = 0; (at = ops_->find(added, at)) != std::string::npos;
         at += added.size()) {
      if (at == 0 || (*ops_)[at - 1] == '\0') {
        ops_->erase(at, added.size());
        if (ops_->empty()) ops_.reset();
        return;
      }
    }
  }
  append('-', name);
}

bool Transaction::ChildDelta::assign(std::string_view ops) {
  if (!ops.empty() && ops.back() != '\0') return false;
  bool ok = true;
  for_each_op(ops, [&](char op, std::string_view name) {
    ok = ok && (op == '+' || op == '-') && !name.empty() &&
         name.find('/') == std::string_view::npos &&
         is_valid_absolute("/" + std::string(name));
  });
  if (!ok) return false;
  ops_ = ops.empty() ? nullptr : std::make_unique<std::string>(ops);
  return true;
}

void Transaction::ChildDelta::apply(ChildNames& list) const {
  if (!ops_) return;
  ChildNames out(list);  // may throw: `list` untouched
  for_each_op(*ops_, [&](char op, std::string_view name) {
    if (op == '-') {
      out.remove(name);
      return;
    }
    bool there = false;
    out.for_each([&](std::string_view n) { there = there || n == name; });
    if (!there) out.add(name);
  });
  list = std::move(out);
}

std::size_t Transaction::ChildDelta::heap_bytes() const noexcept {
  return ops_ ? heap_block_bytes(sizeof(std::string)) +
                    string_heap_bytes(ops_->capacity())
              : 0;
}

// --- Transaction
// ---------------------------------------------------------------

Result<Transaction::Entry*> Transaction::entry(const Tree& tree,
                                               std::string_view path) {
  auto it = entries_.find(path);
  if (it != entries_.end()) return &it->second;
  if (max_entries_ != 0 && entries_.size() >= max_entries_)
    return XsErr::kENOSPC;
  Entry e;
  if (NodeView n = tree.find(path)) e.base_generation = n.generation();
  Entry* made =
      &entries_.emplace(std::string(path), std::move(e)).first->second;
  held_bytes_ += entry_bytes(path);
  return made;
}

const Transaction::Entry* Transaction::find_entry(
    std::string_view path) const noexcept {
  auto it = entries_.find(path);
  return it == entries_.end() ? nullptr : &it->second;
}

namespace {
bool owned_by(NodeView n, DomId dom) {
  return n && !n.perms().empty() && n.perms().front().dom == dom;
}
}  // namespace

Tree::Usage Transaction::usage_after_commit(const Tree& tree,
                                            DomId dom) const {
  Tree::Usage u = tree.usage(dom);
  for (const auto& [path, e] : entries_) {
    if (e.written == 0) continue;
    NodeView before = tree.find(path);
    NodeView after = e.copy ? NodeView(*e.copy) : NodeView();
    if (owned_by(before, dom)) {
      u.nodes -= 1;
      u.bytes -= Tree::node_bytes(path, before);
    }
    if (owned_by(after, dom)) {
      u.nodes += 1;
      u.bytes += Tree::node_bytes(path, after);
    }
  }
  return u;
}

std::size_t Transaction::recount_held_bytes() const noexcept {
  std::size_t bytes = 0;
  for (const auto& [path, e] : entries_)
    bytes += entry_bytes(path) + copy_bytes(path, e);
  for (const Event& ev : events_) bytes += event_bytes(ev.path);
  return bytes;
}

void Transaction::record_event(Event ev) {
  auto it = event_index_.find(ev.path);
  if (it == event_index_.end()) {
    std::size_t bytes = event_bytes(ev.path);
    if (events_.size() == events_.capacity())  // both inserts or neither
      events_.reserve(std::max<std::size_t>(8, 2 * events_.size()));
    event_index_.emplace(ev.path, events_.size());
    events_.push_back(std::move(ev));
    held_bytes_ += bytes;
    return;
  }
  Event& first = events_[it->second];
  first.recursive = first.recursive || ev.recursive;
  first.exact = first.exact && ev.exact;
  if (first.old_perms.empty()) first.old_perms = std::move(ev.old_perms);
  first.perms = std::move(ev.perms);
}

Transaction::Savepoint Transaction::save(
    const std::vector<std::string_view>& paths) const {
  Savepoint sp;
  sp.entries.reserve(paths.size());
  for (std::string_view p : paths) {
    const Entry* e = find_entry(p);
    sp.entries.emplace_back(std::string(p),
                            e ? std::optional<Entry>(*e) : std::nullopt);
    if (auto ev = event_index_.find(p); ev != event_index_.end())
      sp.events.emplace_back(ev->second, events_[ev->second]);
  }
  sp.event_count = events_.size();
  sp.held_bytes = held_bytes_;
  return sp;
}

void Transaction::restore(Savepoint& sp) noexcept {
  for (auto& [path, saved] : sp.entries) {
    auto it = entries_.find(path);
    if (!saved) {
      if (it != entries_.end()) entries_.erase(it);
    } else if (it != entries_.end()) {
      it->second = std::move(*saved);
    }
  }
  while (events_.size() > sp.event_count) {
    event_index_.erase(events_.back().path);
    events_.pop_back();
  }
  for (auto& [index, ev] : sp.events) events_[index] = std::move(ev);
  held_bytes_ = sp.held_bytes;
}

Status Transaction::restore_entry(std::string path, Entry e) {
  if (!is_node_path(path) || (e.copy && !e.has_copy)) return XsErr::kEINVAL;
  // A delta is made only on a node's copy, by a change of its children.
  if (!e.children.empty() && (!e.copy || !(e.written & kChildren)))
    return XsErr::kEINVAL;
  if (entries_.count(path)) return XsErr::kEEXIST;
  std::size_t bytes = entry_bytes(path) + copy_bytes(path, e);
  entries_.emplace(std::move(path), std::move(e));
  held_bytes_ += bytes;
  return {};
}

Status Transaction::validate(const Tree& tree,
                             const WriteCheck& may_write) const {
  for (const auto& [path, e] : entries_) {
    NodeView now = tree.find(path);
    if (e.check_generation) {
      std::uint64_t gen = now ? now.generation() : kAbsentGeneration;
      if (gen != e.base_generation) return XsErr::kEAGAIN;
      continue;
    }
    // The rest are of nodes that existed when first touched.
    if ((e.check_perms || e.written != 0) && !now) return XsErr::kEAGAIN;
    // Looked-at permissions the transaction has not replaced since (a
    // replacement makes the entry checked by generation).
    if (e.check_perms && e.copy && !(now.perms() == e.copy->perms))
      return XsErr::kEAGAIN;
    // What the writes needed, as WRITE and SET_PERMS ask it.
    std::uint8_t wanted = 0;
    if (e.written & kValue) wanted |= kPermWrite;
    if (e.written & kPerms) wanted |= kPermWrite | kPermOwner;
    if (wanted && !may_write(now, wanted)) return XsErr::kEAGAIN;
  }
  return {};
}

void Transaction::apply(Tree& tree, EventSink& sink) {
  // Changes first, shallowest first (the tree wants a parent before its
  // children), each logged; removals last, deepest first, since they
  // cannot fail. A failure on the way takes the logged changes back.
  std::vector<std::pair<const std::string*, Entry*>> order;
  for (auto& [path, e] : entries_)
    if (e.written != 0) order.emplace_back(&path, &e);
  auto depth = [](const std::string* p) {
    return std::count(p->begin(), p->end(), '/');
  };
  // Ties go by path: the generations stamped follow this order, and must
  // not depend on the hash table's (which differs after a live update
  // rebuilt the entries).
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    bool a_rm = !a.second->copy, b_rm = !b.second->copy;
    if (a_rm != b_rm) return b_rm;
    auto da = depth(a.first), db = depth(b.first);
    if (da != db) return a_rm ? da > db : da < db;
    return *a.first < *b.first;
  });
  sink.reserve(sink.size() + events_.size());
  Tree::UndoLog log;
  tree.begin(log, order.size());
  try {
    for (const auto& [path, e] : order) {
      if (!e->copy) break;  // the removals
      NodeView now = tree.find(*path);
      if (e->check_generation || !now) {
        tree.put_logged(*path, std::move(*e->copy), log);
        continue;
      }
      // Not read: only what was written goes onto the committed node.
      std::optional<ChildNames> children;
      if (!e->children.empty()) {
        children.emplace(now.children());
        e->children.apply(*children);
      }
      tree.merge_logged(*path,
                        (e->written & kValue) ? &e->copy->value : nullptr,
                        (e->written & kPerms) ? &e->copy->perms : nullptr, log,
                        children ? &*children : nullptr);
    }
  } catch (...) {
    tree.rollback(log);
    throw;
  }
  tree.commit(log);
  for (const auto& [path, e] : order)
    if (!e->copy) tree.erase(*path);
  entries_.clear();
  held_bytes_ = 0;
  for (auto& ev : events_) sink.push_back(std::move(ev));
  events_.clear();
  event_index_.clear();
}

}  // namespace cxs::store

// Design note: transactions
// =========================
// A transaction is an overlay on the committed tree. Its first access to a
// node decides how the node is checked at commit:
//   - first access a read (READ, DIRECTORY, GET_PERMS, a lookup that found the
//     node absent, or a change to the node's child list, which depends on the
//     list read): the node is copied (later reads in the transaction see this
//     snapshot, not later commits), the generation seen is recorded, and the
//     commit fails
//     with EAGAIN unless the committed node still has that generation (or is
//     still absent);
//   - first access a write (WRITE or SET_PERMS of an existing node): nothing
//     read, nothing to conflict with. At commit only the fields written
//     (value, permissions) are copied onto the committed node, so a
//     concurrent change of its children or of its other field survives. The
//     node must still exist and the caller must still be allowed to write it;
//     otherwise EAGAIN, and the retry gets the real answer. A later read of
//     that node (READ, DIRECTORY, GET_PERMS) sees the snapshot, so from then
//     on it is checked like a read: its generation at the first access.
// Commit checks every entry first, then applies them all: all or nothing.
// Events are recorded in the transaction and emitted only by the commit.
//
// Worked examples (g(X) = generation of X in the committed tree):
// 1. Disjoint writers: T1 writes /a, T2 writes /b (both existing). Neither
//    read anything; both commit.
// 2. Read then foreign write: T1 reads /a (g=5); a client writes /a (g=9);
//    T1 writes /b; commit: recorded 5 != 9 -> EAGAIN.
// 3. Write-only overlap: T1 and T2 both write existing /a without reading
//    it; both commit, the last commit's value wins.
// 4. Delete and re-create: T1 reads /a (g=5); a client removes /a and writes
//    it again (g=12); T1 commit: 5 != 12 -> EAGAIN, although /a exists.
// 5. Absent then created: T1 reads missing /m (recorded absent); a client
//    creates /m; T1 commit -> EAGAIN.
// 6. New children under one parent: T1 creates /p/x, T2 creates /p/y. Both
//    change /p's child list, so both recorded g(/p); the first commit moves
//    g(/p), the second gets EAGAIN (as in the C daemon).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cxenstored/heap_cost.h"
#include "cxenstored/ids.h"
#include "cxenstored/result.h"
#include "store/event.h"
#include "store/node.h"
#include "store/tree.h"

namespace cxs::store {

class Transaction {
 public:
  enum Field : std::uint8_t {
    kValue = 1,
    kPerms = 2,
    kChildren = 4,
  };

  struct Entry {
    // The transaction's own copy, taken at its first access (nullopt: the
    // node was absent then, or the transaction removed it).
    std::optional<Node> copy;
    bool has_copy = false;
    bool check_generation = false;  // first access was a read
    std::uint64_t base_generation = kAbsentGeneration;  // g(X) at first access
    std::uint8_t written = 0;  // Field bits
  };

  Transaction(TxId id, ConnId owner, std::size_t max_entries)
      : id_(id), owner_(owner), max_entries_(max_entries) {}

  TxId id() const noexcept { return id_; }
  ConnId owner() const noexcept { return owner_; }
  std::size_t max_entries() const noexcept { return max_entries_; }

  // Entry bookkeeping for View. Returns ENOSPC past the node limit
  // (0 = unlimited).
  Result<Entry*> entry(const Tree& tree, std::string_view path);
  const Entry* find_entry(std::string_view path) const noexcept;
  std::size_t entry_count() const noexcept { return entries_.size(); }
  bool has_room_for(std::size_t fresh) const noexcept {
    return max_entries_ == 0 || entries_.size() + fresh <= max_entries_;
  }

  // One event per changed path, in order of first change (as C): a later
  // event for the same path widens the earlier one. Strong.
  void record_event(Event ev);

  // What a request is about to change, saved so that a failure half way
  // puts the transaction back as it was (all or nothing, see tree.h): the
  // entries of the paths it touches (or their absence), the events
  // recorded for them, and the counts.
  struct Savepoint {
    std::vector<std::pair<std::string, std::optional<Entry>>> entries;
    std::vector<std::pair<std::size_t, Event>> events;
    std::size_t event_count = 0;
    std::size_t held_bytes = 0;
  };
  // May throw (allocation): nothing changed then.
  Savepoint save(const std::vector<std::string_view>& paths) const;
  void restore(Savepoint& sp) noexcept;

  // Bytes this transaction holds: every entry (its table node and path,
  // also for a node only read), the node copies, the events recorded. Kept
  // up to date as View changes them (it is asked on every request of an
  // unprivileged domain, so it must not walk the entries).
  std::size_t held_bytes() const noexcept { return held_bytes_; }
  // The same, counted from the entries (tests check the two agree).
  std::size_t recount_held_bytes() const noexcept;
  // View reports each change of an entry's copy: its bytes before and after.
  void copy_changed(std::size_t before, std::size_t after) noexcept {
    held_bytes_ = held_bytes_ + after - before;
  }
  static std::size_t copy_bytes(std::string_view path, const Entry& e) noexcept {
    return e.copy ? Tree::node_bytes(path, *e.copy) : 0;
  }
  // An entry's own cost, copy aside: its table node and its path's block.
  static std::size_t entry_bytes(std::string_view path) noexcept {
    return hash_entry_bytes(sizeof(std::string) + sizeof(Entry)) +
           string_heap_bytes(path.size());
  }
  // A recorded event's: its slot in the list (which doubles), its index
  // entry, and its path twice (the event's and the index key).
  static std::size_t event_bytes(std::string_view path) noexcept {
    return 2 * sizeof(Event) +
           hash_entry_bytes(sizeof(std::string) + sizeof(std::size_t)) +
           2 * string_heap_bytes(path.size());
  }

  // What `dom` would own (count and bytes) if this committed now.
  Tree::Usage usage_after_commit(const Tree& tree, DomId dom) const;

  // Checks every entry against the tree; may the caller still write `path`?
  using WriteCheck = std::function<bool(NodeView)>;
  Status validate(const Tree& tree, const WriteCheck& may_write) const;
  // Applies a validated transaction and hands its events to `sink`: all
  // or nothing (a failed allocation leaves the tree as it was, and the
  // transaction's copies may then be gone: it ends either way).
  void apply(Tree& tree, EventSink& sink);

  // --- Live update ---------------------------------------------------------
  // fn(std::string_view path, const Entry&) for every entry, by path. No
  // behaviour depends on the order entries were made in: validate() gives
  // EAGAIN if any entry fails, whichever is checked first, and apply()
  // orders its changes by (removal, depth, path). So sorting here costs
  // the export alone, where an insertion-order list would cost every
  // request that touches a new node.
  template <typename Fn>
  void for_each_entry(Fn&& fn) const;
  // The events recorded so far, in order of first change.
  const EventSink& events() const noexcept { return events_; }
  // Adds an entry exactly as exported (held bytes kept exact). EEXIST if
  // the path has one already; EINVAL for a path no node can have or an
  // entry no request could have made (a copy not marked as taken). The
  // node limit is not applied: the transaction had these entries already,
  // and it still refuses new ones past it.
  Status restore_entry(std::string path, Entry e);
  // Appends an exported event: record_event, which indexes it so that a
  // later change of the same path widens it.
  void restore_event(Event ev) { record_event(std::move(ev)); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  TxId id_;
  ConnId owner_;
  std::size_t max_entries_;
  std::size_t held_bytes_ = 0;
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
  EventSink events_;
  std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>>
      event_index_;
};

template <typename Fn>
void Transaction::for_each_entry(Fn&& fn) const {
  std::vector<const std::pair<const std::string, Entry>*> sorted;
  sorted.reserve(entries_.size());
  for (const auto& kv : entries_) sorted.push_back(&kv);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  for (const auto* kv : sorted) fn(std::string_view(kv->first), kv->second);
}

}  // namespace cxs::store

// Design note: transactions
// =========================
// A transaction is an overlay on the committed tree. What it looked at in
// each node decides how that node is checked at commit; the commit fails
// with EAGAIN when a check fails, else it applies every change at once.
// Validation at commit time makes a committed transaction equivalent to
// running alone at that instant (tests/unit/store/serial_model_test.cc
// checks this against random interleavings).
//   - Read (READ, DIRECTORY, DIRECTORY_PART, GET_PERMS, a lookup that found
//     the node absent): the node is copied at the first access (later
//     reads see this snapshot, not later commits) and its generation
//     recorded; the commit needs the committed node still at that
//     generation (or still absent).
//   - Looked at, not read: the nearest existing ancestor of a node that a
//     read, RM or SET_PERMS found missing (its permissions chose ENOENT or
//     EACCES), and the node a creation hangs new nodes on (its permissions
//     allowed the creation and are copied to them). Copied like a read,
//     but the commit needs only the node to exist with the same
//     permissions: its value and children may have changed meanwhile.
//   - Written (WRITE or SET_PERMS of an existing node) without a read:
//     nothing read, nothing to conflict with. The commit needs the node to
//     exist and the caller to be allowed to write it, and copies only the
//     fields written (value, permissions) onto the committed node.
//   - Children added or removed without a listing (a creation or removal
//     below the node): kept as a list of names added and removed
//     (ChildDelta), replayed at commit on the committed child list, so
//     that others' additions and removals of other children survive. The
//     node must still exist. Conflicts on the children themselves come
//     from their own entries: a created child was read absent (another
//     creator of the same name makes the commit EAGAIN), a removed one was
//     read (any change below it does too).
// A later read of a node first only written or looked at sees the
// transaction's snapshot, and from then on the node is checked as read
// (generation at the first access). Events are recorded in the
// transaction and emitted only by the commit.
//
// Why children are merged (issue 19): in a boot storm several toolstack
// processes create domains at once, each transaction adding its own child
// to /local/domain, /vm and /libxl. Checked as reads of those lists (as
// the C daemon does), all but one fail and retry, about five times per VM
// at eight workers. oxenstored merges such transactions the same way.
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
// 6. New children under one parent: T1 creates /p/x, T2 creates /p/y. Each
//    looked at /p (its permissions) and added one name; both commit and /p
//    lists x then y. Had T2 created /p/x too, its /p/x read absent would
//    now be present: EAGAIN. Had T2 listed /p first, EAGAIN as well.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
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

  // The names a transaction added to (+) and removed from (-) a node's
  // child list, in order ("+a\0-b\0"), replayed at commit onto the
  // committed list (see the design note).
  class ChildDelta {
   public:
    ChildDelta() = default;
    ChildDelta(const ChildDelta& o);
    ChildDelta(ChildDelta&&) noexcept = default;
    ChildDelta& operator=(const ChildDelta& o);
    ChildDelta& operator=(ChildDelta&&) noexcept = default;

    // Strong.
    void add(std::string_view name);
    // Takes back an earlier add of `name`, else records a removal. Strong.
    void remove(std::string_view name);
    bool empty() const noexcept { return !ops_ || ops_->empty(); }
    // "+a\0-b\0" (empty if nothing changed): the live-update form.
    std::string_view ops() const noexcept {
      return ops_ ? std::string_view(*ops_) : std::string_view();
    }
    // From ops() as exported; false (and nothing set) unless well formed.
    bool assign(std::string_view ops);
    // `list` with the removals and additions made (names already gone
    // or already there are left as they are). Strong.
    void apply(ChildNames& list) const;
    // The heap it holds.
    std::size_t heap_bytes() const noexcept;

   private:
    void append(char op, std::string_view name);
    std::unique_ptr<std::string> ops_;  // most entries have none
  };

  struct Entry {
    // The transaction's own copy, taken at its first access (nullopt: the
    // node was absent then, or the transaction removed it).
    std::optional<Node> copy;
    bool has_copy = false;
    bool check_generation = false;  // read: unchanged since first access
    bool check_perms = false;       // looked at: exists, same permissions
    std::uint64_t base_generation = kAbsentGeneration;  // g(X) at first access
    std::uint8_t written = 0;  // Field bits
    ChildDelta children;       // with kChildren written and no read
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
    return (e.copy ? Tree::node_bytes(path, *e.copy) : 0) +
           e.children.heap_bytes();
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

  // Checks every entry against the tree. WriteCheck: has the caller still
  // the `wanted` access (permission bits) to the node?
  using WriteCheck = std::function<bool(NodeView, std::uint8_t wanted)>;
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

// NodeIndex: the committed tree's node records by canonical path. Records
// live in a RecordSlab and keep only their own name and their parent's id;
// an open-addressing table of (record id, 32 bits of the path's hash)
// finds them. A lookup hashes the whole path, and a candidate whose hash
// bits match is confirmed by comparing the path's components from the end
// with the record's name and its parents' names. 8 bytes of table per slot
// (at most 80 % full) and a 40-byte record per node, where a full path per
// node and a pointer table cost twice that. Removal shifts later entries back
// (no tombstones). A record pointer stays valid until that node is erased.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/huge_pages.h"
#include "store/node_record.h"
#include "store/record_slab.h"

namespace cxs::store {

class NodeIndex {
 public:
  NodeIndex() = default;
  NodeIndex(const NodeIndex&) = delete;
  NodeIndex& operator=(const NodeIndex&) = delete;

  NodeRecord* find(std::string_view path) const noexcept;
  // The record at `path`, created empty if absent (second: created). A path
  // below "/" needs its parent in the index first: without it, nullptr.
  std::pair<NodeRecord*, bool> emplace(std::string_view path);
  // emplace() for a path whose parent's record id is known (a restore in
  // pre-order keeps its ancestors' ids): one probe instead of two, and the
  // candidate confirmed by parent id and name. `name` is the path's last
  // component.
  struct Emplaced {
    NodeRecord* record;
    std::uint32_t id;
    bool created;
  };
  Emplaced emplace_child(std::uint32_t parent, std::string_view path,
                         std::string_view name) {
    return emplace_child(parent, tag_of(path), name);
  }
  // The same with the path's tag (tag_of) computed beforehand, as for
  // find_child: a restore prefetches the next node's slot.
  Emplaced emplace_child(std::uint32_t parent, std::uint32_t tag,
                         std::string_view name);
  // Removes one record; its children must be gone already (the store
  // removes deepest first). false if there was no such node.
  bool erase(std::string_view path) noexcept;
  // Removes every record ("/" and the special nodes too). The table keeps
  // its size: a restore refills it with as many nodes as before.
  void clear() noexcept;
  // Room for `nodes` nodes without growing the table on the way, and their
  // records in one huge-page mapping (a live update's restore knows how
  // many come).
  void reserve(std::size_t nodes);

  // For walks down the tree (a live update's export): records by id, and a
  // child found from its parent's id. A candidate is confirmed by its
  // parent id and its name, not by walking up to the root: at 100 000
  // nodes, a pre-order walk takes 5 ms instead of 9 with find().
  static constexpr std::uint32_t kNone = RecordSlab::kNone;
  std::uint32_t find_id(std::string_view path) const noexcept;
  // `path` is the child's full path (the hash is of it), `name` its last
  // component.
  std::uint32_t find_child(std::uint32_t parent, std::string_view path,
                           std::string_view name) const noexcept {
    return find_child(parent, tag_of(path), name);
  }
  // The same with the path's tag computed beforehand: a walk hashes the
  // next sibling and prefetches its slot while it visits the current one
  // (at 100 000 nodes the table is a megabyte, and each probe a cache miss:
  // two thirds of a pre-order walk's time before).
  std::uint32_t find_child(std::uint32_t parent, std::uint32_t tag,
                           std::string_view name) const noexcept;
  static std::uint32_t tag_of(std::string_view path) noexcept;
  void prefetch(std::uint32_t tag) const noexcept {
    if (!slots_.empty()) __builtin_prefetch(&slots_[tag & mask()]);
  }
  const NodeRecord& record(std::uint32_t id) const noexcept {
    return *records_.get(id);
  }
  NodeRecord& record(std::uint32_t id) noexcept { return *records_.get(id); }

  std::size_t size() const noexcept { return size_; }
  std::string path_of(const NodeRecord& r) const;
  // Memory held: records' chunks and the table (for memreport and tests).
  std::size_t chunks_held() const noexcept { return records_.chunks_held(); }
  std::size_t table_slots() const noexcept { return slots_.size(); }

  // fn(const NodeRecord&) for every node, in no order; path_of() spells a
  // record's path when the caller needs it (building every path would cost
  // a walk up each node's parents).
  template <typename Fn>
  void for_each_record(Fn&& fn) const {
    for (const Slot& s : slots_)
      if (s.id != kEmpty) fn(*records_.get(s.id));
  }
  // fn(std::string_view path, const NodeRecord&) for every node, in no order.
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for_each_record([&](const NodeRecord& r) {
      fn(std::string_view(path_of(r)), r);
    });
  }

 private:
  static constexpr std::uint32_t kEmpty = RecordSlab::kNone;
  struct Slot {
    std::uint32_t id = kEmpty;
    std::uint32_t tag = 0;  // the path's hash, folded; its low bits: home
  };

  // Does the record (with its parents) spell `path`?
  bool spells(const NodeRecord& r, std::string_view path) const noexcept;
  // The slot holding `path`, or the empty slot where it would go.
  std::size_t probe(std::string_view path, std::uint32_t tag) const noexcept;
  void grow();
  void rehash(std::size_t slots);
  std::size_t mask() const noexcept { return slots_.size() - 1; }

  RecordSlab records_;
  std::uint32_t root_id_ = NodeRecord::kNoParent;  // the record of "/"
  // A large tree's table lies in huge pages (huge_pages.h).
  using Table = std::vector<Slot, HugeAwareAllocator<Slot>>;
  Table slots_;
  std::size_t size_ = 0;
};

}  // namespace cxs::store

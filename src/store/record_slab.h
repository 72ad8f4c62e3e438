// RecordSlab: the committed tree's node records, 40 bytes each, in chunks of
// 4096, named by 32-bit ids (chunk number and index) that stay valid while
// the record lives. One size for every node, so a freed record serves the
// next node whatever its path or value: a guest that cycles its nodes
// through different sizes cannot make the daemon hoard memory per size (the
// problem of the size-class slab reverted earlier). Allocation prefers the
// lowest chunk with room, so churn drains the high chunks, and a chunk whose
// records are all freed goes back to the system (one empty chunk is kept,
// so a node created and removed at a chunk boundary does not map and unmap
// 160 KB each time). Records are constructed only when allocated: a chunk's
// untouched tail costs no resident memory. A restore that knows how many
// records come (reserve) takes its chunks from one mapping offered for huge
// pages (huge_pages.h); such a chunk's pages are given back when it is
// dropped, and the mapping when its last chunk is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "store/node_record.h"

namespace cxs::store {

class RecordSlab {
 public:
  static constexpr unsigned kChunkBits = 12;
  static constexpr std::uint32_t kChunkRecords = 1u << kChunkBits;
  static constexpr std::uint32_t kNone = 0xFFFFFFFF;

  RecordSlab() = default;
  ~RecordSlab();
  RecordSlab(const RecordSlab&) = delete;
  RecordSlab& operator=(const RecordSlab&) = delete;

  // Room for `records` more records in chunks that share one huge-page
  // mapping (when that is at least a few chunks' worth).
  void reserve(std::size_t records);
  // A new default-constructed record.
  std::uint32_t allocate();
  // Destroys the record; its id may be handed out again.
  void release(std::uint32_t id) noexcept;

  NodeRecord* get(std::uint32_t id) const noexcept {
    return chunks_[id >> kChunkBits]->record(id & (kChunkRecords - 1));
  }

  std::size_t live() const noexcept { return live_; }
  // Chunks currently held (each kChunkRecords records' worth of memory).
  std::size_t chunks_held() const noexcept { return held_; }
  // Huge-page mappings still held (for tests).
  std::size_t regions_held() const noexcept;

 private:
  static constexpr std::uint32_t kNoRegion = 0xFFFFFFFF;
  struct Chunk {
    std::uint32_t free_head = kNone;  // a freed index, its successor inside
    std::uint32_t live = 0;
    std::uint32_t untouched = 0;      // indexes from here on never used
    std::uint32_t region = kNoRegion;  // where its memory came from
    alignas(NodeRecord) unsigned char storage[kChunkRecords *
                                              sizeof(NodeRecord)];

    NodeRecord* record(std::uint32_t i) noexcept {
      return reinterpret_cast<NodeRecord*>(storage + i * sizeof(NodeRecord));
    }
    bool full() const noexcept {
      return free_head == kNone && untouched == kChunkRecords;
    }
  };

  // Chunks made by reserve(): carved in order from one mapping.
  struct Region {
    unsigned char* base = nullptr;  // nullptr: unmapped
    std::size_t bytes = 0;
    std::uint32_t capacity = 0;  // chunks that fit
    std::uint32_t made = 0;      // chunks carved so far
    std::uint32_t live = 0;      // of those, not yet dropped
  };

  std::uint32_t new_chunk();
  Chunk* chunk_memory();
  void free_chunk(Chunk* chunk) noexcept;
  void drop_chunk(std::uint32_t c) noexcept;
  // The lowest chunk with room, or kNone.
  std::uint32_t lowest_open() const noexcept;
  void set_open(std::uint32_t c, bool open) noexcept {
    std::uint64_t bit = std::uint64_t{1} << (c % 64);
    if (open)
      open_[c / 64] |= bit;
    else
      open_[c / 64] &= ~bit;
  }

  std::vector<Chunk*> chunks_;  // owned; nullptr: given back
  std::vector<Region> regions_;
  std::vector<std::uint32_t> vacant_;           // numbers of given-back chunks
  std::vector<std::uint64_t> open_;             // bit per chunk with room
  std::uint32_t empty_kept_ = kNone;            // the one empty chunk kept
  std::size_t live_ = 0;
  std::size_t held_ = 0;
};

}  // namespace cxs::store

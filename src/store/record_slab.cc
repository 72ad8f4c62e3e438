#include "store/record_slab.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

#include "store/huge_pages.h"

namespace cxs::store {

RecordSlab::~RecordSlab() {
  // Records still alive hold heap blocks (long values, child lists, perms
  // references): destroy them. The owner's index knows which ids are live,
  // but the slab can find them too: an index below `untouched` that is not
  // on the free list.
  for (Chunk* chunk : chunks_) {
    if (!chunk) continue;
    std::vector<bool> is_free(chunk->untouched, false);
    for (std::uint32_t i = chunk->free_head; i != kNone;) {
      is_free[i] = true;
      std::memcpy(&i, chunk->record(i), sizeof i);
    }
    for (std::uint32_t i = 0; i < chunk->untouched; ++i)
      if (!is_free[i]) chunk->record(i)->~NodeRecord();
    free_chunk(chunk);
  }
  for (Region& r : regions_) unmap_huge(r.base, r.bytes);
}

void RecordSlab::reserve(std::size_t records) {
  // Below this, a chunk or two from the heap cost less than a 2 MB mapping.
  constexpr std::size_t kMinRegionChunks = 4;
  std::size_t chunks = (records + kChunkRecords - 1) / kChunkRecords;
  if (chunks < kMinRegionChunks) return;
  regions_.reserve(regions_.size() + 1);  // so that push_back cannot fail
  Region r;
  // The whole mapping is used: its rounding up holds more chunks.
  r.bytes = (chunks * sizeof(Chunk) + kHugePage - 1) / kHugePage * kHugePage;
  r.base = static_cast<unsigned char*>(map_huge(r.bytes));
  r.capacity = static_cast<std::uint32_t>(r.bytes / sizeof(Chunk));
  regions_.push_back(r);
}

std::size_t RecordSlab::regions_held() const noexcept {
  std::size_t n = 0;
  for (const Region& r : regions_) n += r.base != nullptr;
  return n;
}

// A reserved region's next chunk, else one from the heap.
RecordSlab::Chunk* RecordSlab::chunk_memory() {
  for (std::uint32_t i = 0; i < regions_.size(); ++i) {
    Region& r = regions_[i];
    if (!r.base || r.made == r.capacity) continue;
    auto* chunk = new (r.base + std::size_t{r.made} * sizeof(Chunk)) Chunk;
    ++r.made;
    ++r.live;
    chunk->region = i;
    return chunk;
  }
  return new Chunk;
}

void RecordSlab::free_chunk(Chunk* chunk) noexcept {
  if (chunk->region == kNoRegion) {
    delete chunk;
    return;
  }
  Region& r = regions_[chunk->region];
  release_pages(chunk, sizeof(Chunk));
  if (--r.live == 0 && r.made == r.capacity) {
    unmap_huge(r.base, r.bytes);
    r.base = nullptr;
  }
}

std::uint32_t RecordSlab::new_chunk() {
  Chunk* chunk = chunk_memory();
  chunk->free_head = kNone;
  chunk->live = 0;
  chunk->untouched = 0;
  std::uint32_t c;
  if (!vacant_.empty()) {
    c = vacant_.back();
    vacant_.pop_back();
    chunks_[c] = chunk;
  } else {
    c = static_cast<std::uint32_t>(chunks_.size());
    try {
      chunks_.push_back(chunk);
    } catch (...) {
      free_chunk(chunk);
      throw;
    }
    // Reserved here so that release, which may give chunks back, never
    // allocates.
    vacant_.reserve(chunks_.size());
    open_.resize((chunks_.size() + 63) / 64, 0);
  }
  ++held_;
  set_open(c, true);
  return c;
}

std::uint32_t RecordSlab::allocate() {
  std::uint32_t c = lowest_open();
  if (c == kNone) c = new_chunk();
  Chunk& chunk = *chunks_[c];
  std::uint32_t i;
  if (chunk.free_head != kNone) {
    i = chunk.free_head;
    std::memcpy(&chunk.free_head, chunk.record(i), sizeof chunk.free_head);
  } else {
    i = chunk.untouched++;
  }
  new (chunk.record(i)) NodeRecord();
  if (c == empty_kept_) empty_kept_ = kNone;
  ++chunk.live;
  ++live_;
  if (chunk.full()) set_open(c, false);
  return c << kChunkBits | i;
}

std::uint32_t RecordSlab::lowest_open() const noexcept {
  for (std::size_t w = 0; w < open_.size(); ++w)
    if (open_[w])
      return static_cast<std::uint32_t>(w * 64 + std::countr_zero(open_[w]));
  return kNone;
}

void RecordSlab::release(std::uint32_t id) noexcept {
  std::uint32_t c = id >> kChunkBits;
  std::uint32_t i = id & (kChunkRecords - 1);
  Chunk& chunk = *chunks_[c];
  NodeRecord* r = chunk.record(i);
  r->~NodeRecord();
  std::memcpy(static_cast<void*>(r), &chunk.free_head, sizeof chunk.free_head);
  chunk.free_head = i;
  --chunk.live;
  --live_;
  set_open(c, true);
  if (chunk.live != 0) return;
  if (empty_kept_ == kNone) {
    empty_kept_ = c;
    return;
  }
  // Two empty chunks: keep the lower, where allocation looks first.
  std::uint32_t higher = std::max(c, empty_kept_);
  empty_kept_ = std::min(c, empty_kept_);
  drop_chunk(higher);
}

void RecordSlab::drop_chunk(std::uint32_t c) noexcept {
  set_open(c, false);
  free_chunk(chunks_[c]);
  chunks_[c] = nullptr;
  vacant_.push_back(c);
  --held_;
}

}  // namespace cxs::store

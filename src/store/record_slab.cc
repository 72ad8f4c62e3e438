#include "store/record_slab.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>

namespace cxs::store {

RecordSlab::~RecordSlab() {
  // Records still alive hold heap blocks (long values, child lists, perms
  // references): destroy them. The owner's index knows which ids are live,
  // but the slab can find them too: an index below `untouched` that is not
  // on the free list.
  for (auto& chunk : chunks_) {
    if (!chunk) continue;
    std::vector<bool> is_free(chunk->untouched, false);
    for (std::uint32_t i = chunk->free_head; i != kNone;) {
      is_free[i] = true;
      std::memcpy(&i, chunk->record(i), sizeof i);
    }
    for (std::uint32_t i = 0; i < chunk->untouched; ++i)
      if (!is_free[i]) chunk->record(i)->~NodeRecord();
  }
}

std::uint32_t RecordSlab::new_chunk() {
  auto chunk = std::make_unique_for_overwrite<Chunk>();
  chunk->free_head = kNone;
  chunk->live = 0;
  chunk->untouched = 0;
  std::uint32_t c;
  if (!vacant_.empty()) {
    c = vacant_.back();
    vacant_.pop_back();
    chunks_[c] = std::move(chunk);
  } else {
    c = static_cast<std::uint32_t>(chunks_.size());
    chunks_.push_back(std::move(chunk));
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
  chunks_[c].reset();
  vacant_.push_back(c);
  --held_;
}

}  // namespace cxs::store

#include "store/node_index.h"

#include <cstring>
#include <functional>
#include <new>

namespace cxs::store {
namespace {
constexpr std::size_t kInitialSlots = 64;
// Grow past 80% full: linear probing stays short, and 100 000 nodes fit
// 131 072 slots.
constexpr std::size_t kMaxLoadPercent = 80;
}  // namespace

NodeIndex::~NodeIndex() {
  for (Entry* e : slots_)
    if (e) free_entry(e);
}

std::uint64_t NodeIndex::hash_of(std::string_view path) noexcept {
  return std::hash<std::string_view>{}(path);
}

NodeIndex::Entry* NodeIndex::make_entry(std::string_view path,
                                        std::uint32_t hash) {
  void* mem = ::operator new(sizeof(Entry) + path.size());
  Entry* e = new (mem) Entry{};
  e->hash = hash;
  e->len = static_cast<std::uint32_t>(path.size());
  std::memcpy(reinterpret_cast<char*>(e + 1), path.data(), path.size());
  return e;
}

void NodeIndex::free_entry(Entry* e) noexcept {
  e->~Entry();
  ::operator delete(e);
}

std::size_t NodeIndex::probe(std::string_view path,
                             std::uint64_t h) const noexcept {
  auto tag = static_cast<std::uint32_t>(h >> 32);
  std::size_t i = h & mask();
  while (const Entry* e = slots_[i]) {
    if (tags_[i] == tag && e->path() == path) return i;
    i = (i + 1) & mask();
  }
  return i;
}

Node* NodeIndex::find(std::string_view path) const noexcept {
  if (size_ == 0) return nullptr;
  Entry* e = slots_[probe(path, hash_of(path))];
  return e ? &e->node : nullptr;
}

std::pair<Node*, bool> NodeIndex::emplace(std::string_view path) {
  if ((size_ + 1) * 100 > slots_.size() * kMaxLoadPercent) grow();
  std::uint64_t h = hash_of(path);
  std::size_t i = probe(path, h);
  if (slots_[i]) return {&slots_[i]->node, false};
  slots_[i] = make_entry(path, static_cast<std::uint32_t>(h));
  tags_[i] = static_cast<std::uint32_t>(h >> 32);
  ++size_;
  return {&slots_[i]->node, true};
}

bool NodeIndex::erase(std::string_view path) noexcept {
  if (size_ == 0) return false;
  std::size_t i = probe(path, hash_of(path));
  if (!slots_[i]) return false;
  free_entry(slots_[i]);
  slots_[i] = nullptr;
  --size_;
  // Backward shift: pull later entries of the run into the hole unless
  // that would move one before its home slot.
  std::size_t hole = i;
  for (std::size_t j = (i + 1) & mask(); slots_[j]; j = (j + 1) & mask()) {
    std::size_t home = slots_[j]->hash & mask();
    bool home_after_hole = ((j - home) & mask()) < ((j - hole) & mask());
    if (home_after_hole) continue;
    slots_[hole] = slots_[j];
    tags_[hole] = tags_[j];
    slots_[j] = nullptr;
    hole = j;
  }
  return true;
}

void NodeIndex::grow() {
  std::size_t n = slots_.empty() ? kInitialSlots : slots_.size() * 2;
  std::vector<Entry*> old;
  old.swap(slots_);
  slots_.assign(n, nullptr);
  std::vector<std::uint32_t> old_tags;
  old_tags.swap(tags_);
  tags_.assign(n, 0);
  for (std::size_t k = 0; k < old.size(); ++k) {
    Entry* e = old[k];
    if (!e) continue;
    std::size_t i = e->hash & mask();
    while (slots_[i]) i = (i + 1) & mask();
    slots_[i] = e;
    tags_[i] = old_tags[k];
  }
}

}  // namespace cxs::store

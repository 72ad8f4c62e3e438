#include "store/node_index.h"

#include <cstring>

#include "cxenstored/unaligned.h"
#include "store/keyed_hash.h"
#include "store/path.h"

namespace cxs::store {
namespace {
constexpr std::size_t kInitialSlots = 64;
// Grow past 80% full: linear probing stays short, and 100 000 nodes fit
// 131 072 slots.
constexpr std::size_t kMaxLoadPercent = 80;

// Names are short as a rule: two overlapping loads from each side compare
// them for less than a memcmp call costs.
[[gnu::always_inline]] inline bool same_bytes(const char* a, const char* b,
                                              std::size_t n) noexcept {
  if (n > 16) return std::memcmp(a, b, n) == 0;
  if (n >= 8)
    return load_unaligned<std::uint64_t>(a) == load_unaligned<std::uint64_t>(b) &&
           load_unaligned<std::uint64_t>(a + n - 8) == load_unaligned<std::uint64_t>(b + n - 8);
  if (n >= 4)
    return load_unaligned<std::uint32_t>(a) == load_unaligned<std::uint32_t>(b) &&
           load_unaligned<std::uint32_t>(a + n - 4) == load_unaligned<std::uint32_t>(b + n - 4);
  if (n == 0) return true;
  return a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1];
}

// "/" and the special nodes ("@introduceDomain") have no parent record.
bool has_parent(std::string_view path) noexcept {
  return path.size() > 1 && path.front() == '/';
}
}  // namespace

std::uint32_t NodeIndex::tag_of(std::string_view path) noexcept {
  std::uint64_t h = keyed_hash(path);
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

bool NodeIndex::spells(const NodeRecord& rec, std::string_view path) const
    noexcept {
  // Consumes `path` from its end, one "/name" per record up the chain. A
  // child of the root must have consumed all of it: the root's record is
  // not fetched (every path below "/" ends its walk there).
  const char* begin = path.data();
  const char* end = begin + path.size();
  const NodeRecord* r = &rec;
  while (r->parent != NodeRecord::kNoParent) {
    std::string_view name = r->name();
    if (static_cast<std::size_t>(end - begin) < name.size() + 1) return false;
    const char* at = end - name.size();
    if (at[-1] != '/' || !same_bytes(at, name.data(), name.size()))
      return false;
    end = at - 1;
    if (r->parent == root_id_) return end == begin;
    r = records_.get(r->parent);
  }
  // "/" itself, or a special node ("@introduceDomain").
  std::string_view top = r->name();
  return static_cast<std::size_t>(end - begin) == top.size() &&
         same_bytes(begin, top.data(), top.size());
}

std::size_t NodeIndex::probe(std::string_view path,
                             std::uint32_t tag) const noexcept {
  std::size_t i = tag & mask();
  for (;; i = (i + 1) & mask()) {
    const Slot& s = slots_[i];
    if (s.id == kEmpty) return i;
    if (s.tag == tag && spells(*records_.get(s.id), path)) return i;
  }
}

NodeRecord* NodeIndex::find(std::string_view path) const noexcept {
  if (size_ == 0) return nullptr;
  const Slot& s = slots_[probe(path, tag_of(path))];
  return s.id == kEmpty ? nullptr : records_.get(s.id);
}

std::uint32_t NodeIndex::find_id(std::string_view path) const noexcept {
  if (size_ == 0) return kNone;
  return slots_[probe(path, tag_of(path))].id;
}

std::uint32_t NodeIndex::find_child(std::uint32_t parent, std::uint32_t tag,
                                    std::string_view name) const noexcept {
  if (size_ == 0) return kNone;
  for (std::size_t i = tag & mask();; i = (i + 1) & mask()) {
    const Slot& s = slots_[i];
    if (s.id == kEmpty) return kNone;
    if (s.tag != tag) continue;
    const NodeRecord& r = *records_.get(s.id);
    if (r.parent == parent && r.name().size() == name.size() &&
        same_bytes(r.name().data(), name.data(), name.size()))
      return s.id;
  }
}

std::pair<NodeRecord*, bool> NodeIndex::emplace(std::string_view path) {
  if ((size_ + 1) * 100 > slots_.size() * kMaxLoadPercent) grow();
  std::uint32_t tag = tag_of(path);
  std::size_t i = probe(path, tag);
  if (slots_[i].id != kEmpty) return {records_.get(slots_[i].id), false};

  std::uint32_t parent = NodeRecord::kNoParent;
  std::string_view name = path;
  if (has_parent(path)) {
    std::string_view up = parent_of(path);
    std::size_t pi = probe(up, tag_of(up));
    if (slots_[pi].id == kEmpty) return {nullptr, false};
    parent = slots_[pi].id;
    name = basename_of(path);
  }
  NameValue name_value(name, {});  // may throw: before the record is taken
  std::uint32_t id = records_.allocate();
  if (path == "/") root_id_ = id;
  NodeRecord* r = records_.get(id);
  r->parent = parent;
  r->name_value = std::move(name_value);
  slots_[i] = Slot{id, tag};
  ++size_;
  return {r, true};
}

NodeIndex::Emplaced NodeIndex::emplace_child(std::uint32_t parent,
                                             std::uint32_t tag,
                                             std::string_view name) {
  if ((size_ + 1) * 100 > slots_.size() * kMaxLoadPercent) grow();
  std::size_t i = tag & mask();
  for (;; i = (i + 1) & mask()) {
    const Slot& s = slots_[i];
    if (s.id == kEmpty) break;
    if (s.tag != tag) continue;
    NodeRecord* r = records_.get(s.id);
    if (r->parent == parent && r->name().size() == name.size() &&
        same_bytes(r->name().data(), name.data(), name.size()))
      return {r, s.id, false};
  }
  NameValue name_value(name, {});  // may throw: before the record is taken
  std::uint32_t id = records_.allocate();
  NodeRecord* r = records_.get(id);
  r->parent = parent;
  r->name_value = std::move(name_value);
  slots_[i] = Slot{id, tag};
  ++size_;
  return {r, id, true};
}

bool NodeIndex::erase(std::string_view path) noexcept {
  if (size_ == 0) return false;
  std::size_t i = probe(path, tag_of(path));
  if (slots_[i].id == kEmpty) return false;
  if (slots_[i].id == root_id_) root_id_ = NodeRecord::kNoParent;
  records_.release(slots_[i].id);
  slots_[i] = Slot{};
  --size_;
  // Backward shift: pull later entries of the run into the hole unless
  // that would move one before its home slot.
  std::size_t hole = i;
  for (std::size_t j = (i + 1) & mask(); slots_[j].id != kEmpty;
       j = (j + 1) & mask()) {
    std::size_t home = slots_[j].tag & mask();
    bool home_after_hole = ((j - home) & mask()) < ((j - hole) & mask());
    if (home_after_hole) continue;
    slots_[hole] = slots_[j];
    slots_[j] = Slot{};
    hole = j;
  }
  return true;
}

void NodeIndex::clear() noexcept {
  for (Slot& s : slots_) {
    if (s.id != kEmpty) records_.release(s.id);
    s = Slot{};
  }
  size_ = 0;
  root_id_ = NodeRecord::kNoParent;
}

std::string NodeIndex::path_of(const NodeRecord& rec) const {
  std::vector<std::string_view> names;  // deepest first
  const NodeRecord* r = &rec;
  while (r->parent != NodeRecord::kNoParent) {
    names.push_back(r->name());
    r = records_.get(r->parent);
  }
  std::string out(r->name());
  for (auto it = names.rbegin(); it != names.rend(); ++it) {
    if (out.size() > 1) out += '/';
    out += *it;
  }
  return out;
}

void NodeIndex::reserve(std::size_t nodes) {
  std::size_t n = slots_.empty() ? kInitialSlots : slots_.size();
  while (nodes * 100 > n * kMaxLoadPercent) n *= 2;
  if (n > slots_.size()) rehash(n);
  if (nodes > size_) records_.reserve(nodes - size_);
}

void NodeIndex::grow() {
  rehash(slots_.empty() ? kInitialSlots : slots_.size() * 2);
}

void NodeIndex::rehash(std::size_t n) {
  Table old(n);
  old.swap(slots_);
  for (const Slot& s : old) {
    if (s.id == kEmpty) continue;
    std::size_t i = s.tag & mask();
    while (slots_[i].id != kEmpty) i = (i + 1) & mask();
    slots_[i] = s;
  }
}

}  // namespace cxs::store

#include "store/shared_perms.h"

#include <deque>
#include <unordered_map>
#include <vector>

namespace cxs::store {

struct SharedPerms::Entry {
  PermList list;
  std::size_t refs = 0;
};

namespace {

struct ListHash {
  std::size_t operator()(const PermList& l) const noexcept {
    std::size_t h = l.size();
    for (const Perm& p : l)
      h = h * 1000003u ^ (static_cast<std::size_t>(p.dom.value) << 2 | p.bits);
    return h;
  }
};

// Lists by content (to intern) and by id (to use). Id 0 is the empty list,
// whose entry stays empty; ids of released lists are reused. A deque, so
// that interning a new list never moves the lists callers are looking at.
struct Pool {
  std::unordered_map<PermList, std::uint32_t, ListHash> ids;
  std::deque<SharedPerms::Entry> entries{SharedPerms::Entry{}};
  std::vector<std::uint32_t> free_ids;
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: nodes may outlive statics
  return *p;
}

std::uint32_t acquire(const PermList& list) {
  if (list.empty()) return 0;
  Pool& p = pool();
  if (auto it = p.ids.find(list); it != p.ids.end()) {
    ++p.entries[it->second].refs;
    return it->second;
  }
  // A new list: both tables get it, or neither (allocation failure).
  SharedPerms::Entry entry{list, 1};
  bool reuse = !p.free_ids.empty();
  auto id = reuse ? p.free_ids.back()
                  : static_cast<std::uint32_t>(p.entries.size());
  // release() (noexcept) pushes the id back here: room for every id now.
  if (p.free_ids.capacity() < p.entries.size() + 1)
    p.free_ids.reserve(2 * (p.entries.size() + 1));
  if (!reuse) p.entries.emplace_back();
  try {
    p.ids.emplace(list, id);
  } catch (...) {
    if (!reuse) p.entries.pop_back();
    throw;
  }
  if (reuse) p.free_ids.pop_back();
  p.entries[id] = std::move(entry);
  return id;
}

}  // namespace

SharedPerms::SharedPerms(const PermList& list) : id_(acquire(list)) {}

SharedPerms::SharedPerms(const SharedPerms& other) noexcept : id_(other.id_) {
  if (id_ != kEmpty) ++pool().entries[id_].refs;
}

SharedPerms& SharedPerms::operator=(const SharedPerms& other) noexcept {
  std::uint32_t id = other.id_;  // before release(): `other` may be *this
  if (id != kEmpty) ++pool().entries[id].refs;
  release();
  id_ = id;
  return *this;
}

SharedPerms& SharedPerms::operator=(SharedPerms&& other) noexcept {
  if (this != &other) {
    release();
    id_ = other.id_;
    other.id_ = kEmpty;
  }
  return *this;
}

SharedPerms& SharedPerms::operator=(const PermList& list) {
  std::uint32_t id = acquire(list);
  release();
  id_ = id;
  return *this;
}

SharedPerms::~SharedPerms() { release(); }

const PermList& SharedPerms::list() const noexcept {
  return pool().entries[id_].list;  // entry 0 holds the empty list
}

void SharedPerms::release() noexcept {
  if (id_ == kEmpty) return;
  Pool& p = pool();
  Entry& e = p.entries[id_];
  if (--e.refs == 0) {
    p.ids.erase(e.list);
    e.list = PermList{};
    p.free_ids.push_back(id_);
  }
  id_ = kEmpty;
}

std::size_t SharedPerms::pool_size() noexcept { return pool().ids.size(); }

}  // namespace cxs::store

#include "store/shared_perms.h"

#include <unordered_map>

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

using Pool = std::unordered_map<PermList, SharedPerms::Entry*, ListHash>;

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: nodes may outlive statics
  return *p;
}

const PermList& empty_list() {
  static const PermList* e = new PermList;
  return *e;
}

SharedPerms::Entry* acquire(const PermList& list) {
  if (list.empty()) return nullptr;
  auto [it, fresh] = pool().try_emplace(list, nullptr);
  if (fresh) it->second = new SharedPerms::Entry{list, 0};
  ++it->second->refs;
  return it->second;
}

}  // namespace

SharedPerms::SharedPerms(const PermList& list) : entry_(acquire(list)) {}

SharedPerms::SharedPerms(const SharedPerms& other) noexcept
    : entry_(other.entry_) {
  if (entry_) ++entry_->refs;
}

SharedPerms& SharedPerms::operator=(const SharedPerms& other) noexcept {
  Entry* e = other.entry_;  // before release(): `other` may be *this
  if (e) ++e->refs;
  release();
  entry_ = e;
  return *this;
}

SharedPerms& SharedPerms::operator=(SharedPerms&& other) noexcept {
  if (this != &other) {
    release();
    entry_ = other.entry_;
    other.entry_ = nullptr;
  }
  return *this;
}

SharedPerms& SharedPerms::operator=(const PermList& list) {
  Entry* e = acquire(list);
  release();
  entry_ = e;
  return *this;
}

SharedPerms::~SharedPerms() { release(); }

const PermList& SharedPerms::list() const noexcept {
  return entry_ ? entry_->list : empty_list();
}

void SharedPerms::release() noexcept {
  if (!entry_) return;
  if (--entry_->refs == 0) {
    pool().erase(entry_->list);
    delete entry_;
  }
  entry_ = nullptr;
}

std::size_t SharedPerms::pool_size() noexcept { return pool().size(); }

}  // namespace cxs::store

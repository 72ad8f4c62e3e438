// SharedPerms: a node's permission list, interned. A store holds a handful
// of distinct lists (the toolstack gives every device node of a guest the
// same one), so a node keeps the 32-bit id of a shared, reference-counted
// copy instead of a vector of its own: 4 bytes instead of 24 plus a heap
// block (the compact tree's node record has room for no more).
// A list is immutable once interned; assigning a new list re-interns.
// The pool is process-wide and not thread-safe: the daemon is
// single-threaded.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cxenstored/perms.h"
#include "store/permissions.h"

namespace cxs::store {

class SharedPerms {
 public:
  SharedPerms() noexcept = default;  // the empty list
  SharedPerms(const PermList& list);  // NOLINT: a list converts implicitly
  SharedPerms(const SharedPerms& other) noexcept;
  SharedPerms(SharedPerms&& other) noexcept : id_(other.id_) {
    other.id_ = kEmpty;
  }
  SharedPerms& operator=(const SharedPerms& other) noexcept;
  SharedPerms& operator=(SharedPerms&& other) noexcept;
  SharedPerms& operator=(const PermList& list);
  ~SharedPerms();

  const PermList& list() const noexcept;
  operator const PermList&() const noexcept { return list(); }  // NOLINT

  std::size_t size() const noexcept { return list().size(); }
  bool empty() const noexcept { return list().empty(); }
  const Perm& front() const noexcept { return list().front(); }
  const Perm& operator[](std::size_t i) const noexcept { return list()[i]; }
  auto begin() const noexcept { return list().begin(); }
  auto end() const noexcept { return list().end(); }

  bool operator==(const SharedPerms& o) const noexcept {
    return id_ == o.id_ || list() == o.list();
  }

  // Distinct lists interned now (for tests and memreport).
  static std::size_t pool_size() noexcept;

  struct Entry;

 private:
  static constexpr std::uint32_t kEmpty = 0;  // the empty list's id
  void release() noexcept;
  std::uint32_t id_ = kEmpty;
};
static_assert(sizeof(SharedPerms) == 4);

// A node's interned list checked without fetching it for a privileged
// caller, who may do anything (every request from dom0 asks).
inline bool may(const Caller& caller, const SharedPerms& perms,
                std::uint8_t wanted) noexcept {
  return caller.privileged || may(caller, perms.list(), wanted);
}

}  // namespace cxs::store

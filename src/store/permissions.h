// Who may do what to a node. The first entry of a permission list names the
// owner, who has full access; other domains get the bits of the first later
// entry naming them (or DOMID_ANY, which names every domain; entries marked
// kPermIgnored are skipped), else the owner entry's bits as the default. A
// DOMID_ANY owner gives everyone full access (as Xen 4.22; only a
// privileged caller can set an owner).
// Privileged callers (dom0's socket, --priv-domid) bypass every check; a
// domain with a target (SET_TARGET) also acts with the target's rights.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "cxenstored/ids.h"
#include "cxenstored/perms.h"

namespace cxs::store {

struct Quota;

struct Caller {
  DomId dom{0};
  bool privileged = false;
  std::optional<DomId> target{};
  // The quotas this caller is held to; nullptr for privileged callers.
  const Quota* quota = nullptr;
  // Memory the caller's domain holds outside the committed tree (its
  // watches, its open transactions' node copies, its queued output), as the
  // daemon counted it before this request; the memory quota covers it too.
  std::size_t held_bytes = 0;
};

inline constexpr std::uint8_t kPermOwner = 4;  // on top of kPermRead/Write

// kPermRead | kPermWrite | kPermOwner bits the caller holds on a node.
std::uint8_t access_for(const Caller& caller, const PermList& perms) noexcept;

inline bool may(const Caller& caller, const PermList& perms,
                std::uint8_t wanted) noexcept {
  return (access_for(caller, perms) & wanted) == wanted;
}

}  // namespace cxs::store

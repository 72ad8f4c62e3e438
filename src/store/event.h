// A watch event as the store produces it: which path changed, whether watches
// below it fire too (the top of a removed subtree), and the permissions
// that decide who may see it. Matching against watches happens elsewhere.
#pragma once

#include <string>
#include <vector>

#include "cxenstored/perms.h"
#include "store/permissions.h"
#include "store/shared_perms.h"

namespace cxs::store {

struct Event {
  std::string path;
  // false: watches on `path` and its ancestors fire. true: watches below
  // `path` fire as well, each with its own watch path as the event path.
  bool recursive = false;
  // Readers allowed by these lists see the event (a permission change passes
  // both the old and the new list).
  SharedPerms perms;
  SharedPerms old_perms;
  // Only watches on exactly `path` fire (a node removed below the top of
  // a removed subtree: watches above it hear of the top instead).
  bool exact = false;
};

using EventSink = std::vector<Event>;

// Whether `caller` may see `ev`: it may read the node as it is, or as it
// was before a permission change.
inline bool may_see(const Caller& caller, const Event& ev) noexcept {
  if (may(caller, ev.perms, kPermRead)) return true;
  return !ev.old_perms.empty() && may(caller, ev.old_perms, kPermRead);
}

}  // namespace cxs::store

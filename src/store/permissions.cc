#include "store/permissions.h"

namespace cxs::store {
namespace {

constexpr std::uint8_t kFull = kPermRead | kPermWrite | kPermOwner;

// An entry applies to the caller if it names the caller, the caller's
// target, or DOMID_ANY (Xen 4.22: every domain).
bool applies_to(const Caller& caller, DomId dom) noexcept {
  return dom == caller.dom || (caller.target && dom == *caller.target) ||
         dom.value == kDomidAny;
}

}  // namespace

std::uint8_t access_for(const Caller& caller, const PermList& perms) noexcept {
  if (caller.privileged) return kFull;
  if (perms.empty()) return kPermNone;
  if (applies_to(caller, perms.front().dom)) return kFull;
  // The first entry that applies wins, in list order (as C 4.22).
  for (std::size_t i = 1; i < perms.size(); ++i)
    if (!(perms[i].bits & kPermIgnored) && applies_to(caller, perms[i].dom))
      return perms[i].bits & kPermBoth;
  return perms.front().bits & kPermBoth;
}

}  // namespace cxs::store

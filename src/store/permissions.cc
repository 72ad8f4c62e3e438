#include "store/permissions.h"

namespace cxs::store {
namespace {

constexpr std::uint8_t kFull = kPermRead | kPermWrite | kPermOwner;

bool is_caller(const Caller& caller, DomId dom) noexcept {
  return dom == caller.dom || (caller.target && dom == *caller.target);
}

}  // namespace

std::uint8_t access_for(const Caller& caller, const PermList& perms) noexcept {
  if (caller.privileged) return kFull;
  if (perms.empty()) return kPermNone;
  if (is_caller(caller, perms.front().dom)) return kFull;
  for (std::size_t i = 1; i < perms.size(); ++i)
    if (is_caller(caller, perms[i].dom)) return perms[i].bits & kPermBoth;
  // DOMID_ANY (Xen 4.22) stands for every domain without an entry of its own.
  for (std::size_t i = 1; i < perms.size(); ++i)
    if (perms[i].dom.value == kDomidAny) return perms[i].bits & kPermBoth;
  return perms.front().bits & kPermBoth;
}

}  // namespace cxs::store

#include "fuzz_hooks.h"

#include "cxenstored/features.h"

namespace cxs::fuzz {

bool FuzzHooks::is_domain_introduced(DomId d) const noexcept {
  return d.value == 0 || d.value == 5 || d.value == 6;
}
bool FuzzHooks::domain_exists(DomId d) const noexcept {
  return is_domain_introduced(d);
}
Status FuzzHooks::introduce(DomId, std::uint64_t, std::uint32_t,
                            store::EventSink&) noexcept {
  return {};
}
Status FuzzHooks::release(DomId, store::EventSink&) noexcept { return {}; }
Status FuzzHooks::resume(DomId) noexcept { return {}; }
Status FuzzHooks::set_target(DomId, DomId) noexcept { return {}; }
Result<std::size_t> FuzzHooks::get_quota(std::optional<DomId>,
                                         std::string_view) noexcept {
  return std::size_t{1};
}
Status FuzzHooks::set_quota(std::optional<DomId>, std::string_view,
                            std::size_t) noexcept {
  return {};
}
Result<std::uint32_t> FuzzHooks::get_feature(std::optional<DomId>) noexcept {
  return kServerFeatures;
}
Status FuzzHooks::set_feature(DomId, std::uint32_t) noexcept { return {}; }
Result<std::string> FuzzHooks::control(
    const ops::Session&, const std::vector<std::string_view>& args) noexcept {
  try {
    if (!args.empty() && args[0] == "big") return std::string(5000, 'b');
    return std::string("ok");
  } catch (...) {
    return XsErr::kENOMEM;
  }
}

store::Quota guest_quota() {
  store::Quota q;
  q.nodes = 20;
  q.node_size = 300;
  q.watches = 5;
  q.transactions = 3;
  q.node_permissions = 3;
  q.path_max = 100;
  q.transaction_nodes = 10;
  q.memory = 6000;
  return q;
}

void make_guest_home(store::Store& st) {
  store::EventSink ev;
  store::Caller root{DomId{0}, true, std::nullopt};
  (void)st.mkdir(root, nullptr, "/local/domain/5", ev);
  (void)st.set_perms(root, nullptr, "/local/domain/5",
                     PermList{Perm{DomId{5}, kPermNone}}, ev);
}

}  // namespace cxs::fuzz

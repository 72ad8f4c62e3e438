// What the fuzzers share about the world they play in: daemon hooks under
// which the three domains they use (dom0, dom5, dom6) exist and every domain
// operation succeeds, and the small quotas their guests run under, so that
// an input reaches the refusal paths quickly. Stateless: one per run.
#pragma once

#include "ops/context.h"
#include "store/quota.h"

namespace cxs::fuzz {

class FuzzHooks final : public ops::DaemonHooks {
 public:
  bool is_domain_introduced(DomId d) const noexcept override;
  bool domain_exists(DomId d) const noexcept override;
  Status introduce(DomId, std::uint64_t, std::uint32_t,
                   store::EventSink&) noexcept override;
  Status release(DomId, store::EventSink&) noexcept override;
  Status resume(DomId) noexcept override;
  Status set_target(DomId, DomId) noexcept override;
  Result<std::size_t> get_quota(std::optional<DomId>,
                                std::string_view) noexcept override;
  Status set_quota(std::optional<DomId>, std::string_view,
                   std::size_t) noexcept override;
  Result<std::uint32_t> get_feature(std::optional<DomId>) noexcept override;
  Status set_feature(DomId, std::uint32_t) noexcept override;
  // "ok"; CONTROL "big" answers 5000 bytes, past the payload limit, so that
  // a reply's E2BIG path is one request away.
  Result<std::string> control(
      const ops::Session&,
      const std::vector<std::string_view>& args) noexcept override;
};

// The guests' quotas: a few nodes, watches and transactions each.
store::Quota guest_quota();

// dom5's home (/local/domain/5, owned by dom5), as a toolstack makes it.
void make_guest_home(store::Store& st);

}  // namespace cxs::fuzz

#include "store/quota.h"

namespace cxs::store {

Quota::Quota() noexcept {
  for (const QuotaSpec& q : kQuotas) this->*q.field = q.default_value;
}

const QuotaSpec* find_quota(std::string_view name) noexcept {
  for (const QuotaSpec& q : kQuotas)
    if (q.named(name)) return &q;
  return nullptr;
}

const QuotaSpec* find_stream_quota(std::string_view name) noexcept {
  for (const QuotaSpec& q : kQuotas)
    if (q.stream == name) return &q;
  return nullptr;
}

std::size_t* Quota::field(std::string_view name) noexcept {
  const QuotaSpec* q = find_quota(name);
  return q && q->hard ? &(this->*q->field) : nullptr;
}

const std::size_t* Quota::field(std::string_view name) const noexcept {
  return const_cast<Quota*>(this)->field(name);
}

}  // namespace cxs::store

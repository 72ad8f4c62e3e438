#include "daemon/admission.h"

namespace cxs::daemon {

Result<std::size_t> QuotaTable::get(std::optional<DomId> dom,
                                    std::string_view name) const noexcept {
  const store::Quota& q = dom ? of(*dom) : defaults_;
  const std::size_t* field = q.field(name);
  if (!field) return XsErr::kEINVAL;
  return *field;
}

Status QuotaTable::set(std::optional<DomId> dom, std::string_view name,
                       std::size_t value) {
  if (!store::find_quota(name)) return XsErr::kEINVAL;
  store::Quota& q =
      dom ? own_.try_emplace(*dom, defaults_).first->second : defaults_;
  *q.field(name) = value;
  return {};
}

std::size_t charged_to(const transport::Connection& c, const store::Store& st,
                       const store::WatchIndex& watches) noexcept {
  ConnId id = c.id();
  return watches.bytes(id) + st.transaction_bytes(id) + c.held_bytes();
}

ConnLoad memory_load(const transport::Connection& c,
                     const store::Caller& caller, const store::Store& st,
                     const store::WatchIndex& watches) noexcept {
  ConnLoad load;
  load.privileged = caller.privileged;
  load.queued_bytes = c.queued_bytes();
  if (load.privileged) return load;
  load.queued_messages = c.queued_messages();
  load.has_output = c.has_output();
  load.output_held = c.held_bytes();
  load.held = charged_to(c, st, watches);
  load.used = st.tree().usage(caller.dom).bytes + load.held;
  return load;
}

bool may_read_more(const ConnLoad& load, const store::Quota& q) noexcept {
  if (load.queued_bytes >= kReadPauseBytes) return false;
  if (load.privileged) return true;
  if (!load.has_write_credit || over_memory_with_output(load, q)) return false;
  return q.outstanding == 0 || load.queued_messages < q.outstanding;
}

bool over_memory_with_output(const ConnLoad& load,
                             const store::Quota& q) noexcept {
  return !load.privileged && q.memory != 0 && load.has_output &&
         load.used >= q.memory;
}

std::size_t event_bound(const ConnLoad& load, const store::Quota& q) noexcept {
  if (load.privileged || q.memory == 0) return kPrivilegedQueueBound;
  std::size_t other = load.used - load.output_held;
  // Connection::queue_event reads 0 as "no bound": 1 refuses every event.
  return other >= q.memory ? 1 : q.memory - other;
}

}  // namespace cxs::daemon

// The dispatch table: one row per message type. dispatch() applies the
// checks every request goes through, in order: unknown type -> ENOSYS,
// privileged-only type from an unprivileged caller -> EACCES, tx_id lookup
// -> ENOENT; then it runs the handler. Out-of-memory while handling is
// answered ENOMEM (store changes are all-or-nothing, so nothing is half-done).
#pragma once

#include "ops/context.h"
#include "ops/handlers.h"

namespace cxs::ops {

Result<Reply> dispatch(Ctx& ctx, const Request& req) noexcept;

// Does a request of this type change the store (WRITE, MKDIR, RM,
// SET_PERMS, TRANSACTION_END)? Unknown types do not.
bool changes_store(std::uint32_t type) noexcept;

}  // namespace cxs::ops

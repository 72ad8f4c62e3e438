// Handlers for TRANSACTION_START and TRANSACTION_END.
#include "ops/handlers.h"

#include <new>

namespace cxs::ops {

Result<Reply> do_transaction_start(Ctx& ctx, const Request& req) {
  // A tx_id naming a live transaction of ours: no nesting (EBUSY, as C).
  if (ctx.tx) return XsErr::kEBUSY;
  std::string_view arg;
  if (!one_arg(req.payload, arg) && !req.payload.empty()) return XsErr::kEINVAL;
  bool limited = !ctx.privileged();
  if (limited && ctx.limits.transactions != 0 &&
      ctx.store.transaction_count(ctx.session.conn) >= ctx.limits.transactions)
    return XsErr::kENOSPC;
  auto id = ctx.store.start_transaction(
      ctx.session.conn, limited ? ctx.limits.transaction_nodes : 0);
  if (!id) return id.error();
  try {
    std::string out = std::to_string(id->value);
    out += '\0';
    return Reply{std::move(out)};
  } catch (const std::bad_alloc&) {
    // No reply, no transaction (a failed request changes nothing).
    ctx.store.drop_transaction(ctx.session.conn, *id);
    throw;
  }
}

// "T\0" commits, "F\0" aborts.
Result<Reply> do_transaction_end(Ctx& ctx, const Request& req) {
  std::string_view arg;
  if (!one_arg(req.payload, arg) || (arg != "T" && arg != "F"))
    return XsErr::kEINVAL;
  if (!ctx.tx) return XsErr::kENOENT;
  TxId id = ctx.tx->id();
  ctx.tx = nullptr;
  CXS_TRY(ctx.store.end_transaction(ctx.caller(), ctx.session.conn, id,
                                    arg == "T", ctx.events));
  return ok_reply();
}

}  // namespace cxs::ops

// CONTROL (formerly DEBUG): the command set is implementation-defined; the
// daemon answers it through DaemonHooks.
#include "ops/handlers.h"
#include "wire/args.h"

namespace cxs::ops {

Result<Reply> do_control(Ctx& ctx, const Request& req) {
  auto args = wire::split_args(req.payload);
  if (args.empty()) return XsErr::kEINVAL;
  if (!ctx.daemon) return XsErr::kEINVAL;
  auto out = ctx.daemon->control(ctx.session, args);
  if (!out) return out.error();
  return Reply{std::move(*out)};
}

}  // namespace cxs::ops

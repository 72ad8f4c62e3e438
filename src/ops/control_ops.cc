// CONTROL (formerly DEBUG): the command set is implementation-defined; the
// daemon answers it through DaemonHooks.
#include "ops/handlers.h"
#include "wire/args.h"

namespace cxs::ops {

// Only NUL-terminated strings are arguments, as C 4.17 counts them:
// "check" without its NUL is no command (EINVAL).
Result<Reply> do_control(Ctx& ctx, const Request& req) {
  auto args = wire::split_args(req.payload);
  if (!args.empty() && wire::count_nuls(req.payload) < args.size())
    args.pop_back();
  if (args.empty()) return XsErr::kEINVAL;
  if (!ctx.daemon) return XsErr::kEINVAL;
  auto out = ctx.daemon->control(ctx.session, args);
  if (!out) return out.error();
  return Reply{std::move(*out)};
}

}  // namespace cxs::ops

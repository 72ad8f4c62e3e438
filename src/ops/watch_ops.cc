// Handlers for WATCH, UNWATCH and RESET_WATCHES.
#include "ops/handlers.h"
#include "store/path.h"
#include "wire/args.h"

namespace cxs::ops {
namespace {

struct WatchArgs {
  std::string path;     // canonical
  std::string_view given;
  std::string_view token;
  std::size_t strip = 0;
};

Result<WatchArgs> parse_watch_args(Ctx& ctx,
                                   const std::vector<std::string_view>& args) {
  WatchArgs out;
  out.given = args[0];
  out.token = args[1];
  auto path = canonical_path(ctx, args[0], store::PathKind::kNodeOrSpecial);
  if (!path) return path.error();
  out.path = std::move(*path);
  if (store::is_relative(args[0])) out.strip = out.path.size() - args[0].size();
  return out;
}

}  // namespace

// WATCH path\0token\0[depth\0]: the ack, then one event for the path itself.
Result<Reply> do_watch(Ctx& ctx, const Request& req) {
  auto args = wire::split_args(req.payload);
  std::size_t nuls = wire::count_nuls(req.payload);
  if (args.size() < 2 || args.size() > 3 || nuls != args.size())
    return XsErr::kEINVAL;
  int depth = -1;
  if (args.size() == 3) {
    auto given = parse_decimal<int>(args[2]);
    if (!given || *given < 0) return XsErr::kEINVAL;
    depth = *given;
  }
  auto parsed = parse_watch_args(ctx, args);
  if (!parsed) return parsed.error();
  if (!ctx.privileged() && ctx.limits.watches != 0 &&
      ctx.watches.count(ctx.session.conn) >= ctx.limits.watches)
    return XsErr::kENOSPC;
  CXS_TRY(ctx.store.check_memory(
      ctx.caller(), store::watch_bytes(parsed->path, parsed->token)));
  // The first event is made before the watch: once the watch is added
  // nothing may fail (a failed request changes nothing).
  DirectEvent first{std::string(parsed->given), std::string(parsed->token)};
  ctx.direct_events.reserve(ctx.direct_events.size() + 1);
  CXS_TRY(ctx.watches.add(store::Watch{ctx.session.conn, parsed->path,
                                       std::string(parsed->token),
                                       parsed->strip, depth}));
  ctx.direct_events.push_back(std::move(first));
  return ok_reply();
}

Result<Reply> do_unwatch(Ctx& ctx, const Request& req) {
  auto args = wire::split_args(req.payload);
  if (args.size() != 2 || wire::count_nuls(req.payload) != 2)
    return XsErr::kEINVAL;
  // No watch has a path that is not valid: ENOENT, as C 4.17, which looks
  // the watch up without checking the path.
  auto parsed = parse_watch_args(ctx, args);
  if (!parsed) return XsErr::kENOENT;
  CXS_TRY(ctx.watches.remove(ctx.session.conn, parsed->path, parsed->token));
  return ok_reply();
}

// Drops every watch and every transaction of the caller.
Result<Reply> do_reset_watches(Ctx& ctx, const Request&) {
  ctx.watches.remove_all(ctx.session.conn);
  ctx.store.drop_transactions(ctx.session.conn);
  return ok_reply();
}

}  // namespace cxs::ops

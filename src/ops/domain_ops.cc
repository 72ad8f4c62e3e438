// Handlers for the domain operations: GET_DOMAIN_PATH, IS_DOMAIN_INTRODUCED,
// INTRODUCE, RELEASE, RESUME, SET_TARGET. The daemon owns domains; these
// parse and check arguments and call DaemonHooks.
#include "ops/handlers.h"
#include "store/path.h"

namespace cxs::ops {
namespace {

// Every argument NUL-terminated, exactly `n` of them.
bool exact_args(std::string_view payload, std::size_t n,
                std::vector<std::string_view>& out) {
  return terminated_args(payload, out) && out.size() == n;
}

// A domain that can have a ring: not a reserved DOMID_* value.
std::optional<DomId> real_domid(std::string_view text) {
  auto dom = parse_domid(text);
  if (!dom || dom->value >= kDomidFirstReserved) return std::nullopt;
  return dom;
}

}  // namespace

Result<Reply> do_get_domain_path(Ctx&, const Request& req) {
  std::string_view arg;
  if (!one_arg(req.payload, arg)) return XsErr::kEINVAL;
  auto dom = parse_domid(arg);
  if (!dom) return XsErr::kEINVAL;
  std::string out = store::home_path(*dom);
  out += '\0';
  return Reply{std::move(out)};
}

Result<Reply> do_is_domain_introduced(Ctx& ctx, const Request& req) {
  std::string_view arg;
  if (!one_arg(req.payload, arg)) return XsErr::kEINVAL;
  auto dom = parse_domid(arg);
  if (!dom) return XsErr::kEINVAL;
  bool known = ctx.daemon ? ctx.daemon->is_domain_introduced(*dom)
                          : *dom == kDom0;
  return Reply{std::string(known ? "T" : "F") + '\0'};
}

// INTRODUCE domid\0gfn\0port\0: gfn is signed decimal on the wire.
Result<Reply> do_introduce(Ctx& ctx, const Request& req) {
  std::vector<std::string_view> args;
  if (!exact_args(req.payload, 3, args)) return XsErr::kEINVAL;
  auto dom = real_domid(args[0]);
  auto gfn = parse_decimal<std::int64_t>(args[1]);
  auto port = parse_decimal<std::uint32_t>(args[2]);
  if (!dom || !gfn || !port || *port == 0) return XsErr::kEINVAL;
  if (!ctx.daemon) return XsErr::kEINVAL;
  return status_reply(ctx.daemon->introduce(
      *dom, static_cast<std::uint64_t>(*gfn), *port, ctx.events));
}

// RELEASE and RESUME are for guests: dom0 is refused (EINVAL), as in C.
Result<Reply> do_release(Ctx& ctx, const Request& req) {
  std::string_view arg;
  if (!one_arg(req.payload, arg)) return XsErr::kEINVAL;
  auto dom = real_domid(arg);
  if (!dom || *dom == kDom0 || !ctx.daemon) return XsErr::kEINVAL;
  return status_reply(ctx.daemon->release(*dom, ctx.events));
}

Result<Reply> do_resume(Ctx& ctx, const Request& req) {
  std::string_view arg;
  if (!one_arg(req.payload, arg)) return XsErr::kEINVAL;
  auto dom = real_domid(arg);
  if (!dom || *dom == kDom0 || !ctx.daemon) return XsErr::kEINVAL;
  return status_reply(ctx.daemon->resume(*dom));
}

Result<Reply> do_set_target(Ctx& ctx, const Request& req) {
  std::vector<std::string_view> args;
  if (!exact_args(req.payload, 2, args)) return XsErr::kEINVAL;
  auto dom = real_domid(args[0]);
  auto target = real_domid(args[1]);
  if (!dom || !target || !ctx.daemon) return XsErr::kEINVAL;
  return status_reply(ctx.daemon->set_target(*dom, *target));
}

}  // namespace cxs::ops

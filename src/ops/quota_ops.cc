// GET_QUOTA, SET_QUOTA, GET_FEATURE, SET_FEATURE (Xen 4.22, types 23-26).
// Quotas and features belong to the daemon's domains; these handlers parse
// the optional domid and call DaemonHooks.
#include "ops/handlers.h"
#include "store/quota.h"

namespace cxs::ops {
namespace {

Reply text_reply(std::string s) {
  s += '\0';
  return Reply{std::move(s)};
}

}  // namespace

// GET_QUOTA                -> the quota names, blank-separated
// GET_QUOTA <quota>        -> the global value
// GET_QUOTA <domid> <quota> -> the domain's value
Result<Reply> do_get_quota(Ctx& ctx, const Request& req) {
  std::vector<std::string_view> args;
  if (!terminated_args(req.payload, args) || args.size() > 2 || !ctx.daemon)
    return XsErr::kEINVAL;
  if (args.empty()) {
    std::string names;
    store::for_each_hard_quota([&](const store::QuotaSpec& q) {
      if (!names.empty()) names += ' ';
      names += q.name;
    });
    return text_reply(std::move(names));
  }
  std::optional<DomId> dom;
  if (args.size() == 2) {
    dom = parse_domid(args[0]);
    if (!dom) return XsErr::kEINVAL;
  }
  auto value = ctx.daemon->get_quota(dom, args.back());
  if (!value) return value.error();
  return text_reply(std::to_string(*value));
}

// SET_QUOTA [<domid>] <quota> <value>
Result<Reply> do_set_quota(Ctx& ctx, const Request& req) {
  std::vector<std::string_view> args;
  if (!terminated_args(req.payload, args) || args.size() < 2 ||
      args.size() > 3 || !ctx.daemon)
    return XsErr::kEINVAL;
  std::optional<DomId> dom;
  if (args.size() == 3) {
    dom = parse_domid(args[0]);
    if (!dom) return XsErr::kEINVAL;
  }
  auto value = parse_decimal<std::size_t>(args.back());
  if (!value) return XsErr::kEINVAL;
  CXS_TRY(ctx.daemon->set_quota(dom, args[args.size() - 2], *value));
  return ok_reply();
}

// GET_FEATURE [<domid>]
Result<Reply> do_get_feature(Ctx& ctx, const Request& req) {
  std::vector<std::string_view> args;
  if (!terminated_args(req.payload, args) || args.size() > 1 || !ctx.daemon)
    return XsErr::kEINVAL;
  std::optional<DomId> dom;
  if (args.size() == 1) {
    dom = parse_domid(args[0]);
    if (!dom) return XsErr::kEINVAL;
  }
  auto value = ctx.daemon->get_feature(dom);
  if (!value) return value.error();
  return text_reply(std::to_string(*value));
}

// SET_FEATURE <domid> <value>
Result<Reply> do_set_feature(Ctx& ctx, const Request& req) {
  std::vector<std::string_view> args;
  if (!terminated_args(req.payload, args) || args.size() != 2 || !ctx.daemon)
    return XsErr::kEINVAL;
  auto dom = parse_domid(args[0]);
  auto value = parse_decimal<std::uint32_t>(args[1]);
  if (!dom || !value) return XsErr::kEINVAL;
  CXS_TRY(ctx.daemon->set_feature(*dom, *value));
  return ok_reply();
}

}  // namespace cxs::ops

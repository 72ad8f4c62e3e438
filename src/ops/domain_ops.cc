// Handlers for the domain queries that need no hypervisor: GET_DOMAIN_PATH
// and IS_DOMAIN_INTRODUCED. (INTRODUCE, RELEASE, RESUME and SET_TARGET come
// with the ring transport.)
#include "ops/handlers.h"
#include "store/path.h"

namespace cxs::ops {

Result<Reply> do_get_domain_path(Ctx& ctx, const Request& req) noexcept {
  std::string_view arg;
  if (!one_arg(req.payload, arg)) return XsErr::kEINVAL;
  auto dom = parse_domid(arg);
  if (!dom) return XsErr::kEINVAL;
  (void)ctx;
  std::string out = store::home_path(*dom);
  out += '\0';
  return Reply{std::move(out)};
}

Result<Reply> do_is_domain_introduced(Ctx& ctx, const Request& req) noexcept {
  std::string_view arg;
  if (!one_arg(req.payload, arg)) return XsErr::kEINVAL;
  auto dom = parse_domid(arg);
  if (!dom) return XsErr::kEINVAL;
  bool known = ctx.daemon ? ctx.daemon->is_domain_introduced(*dom)
                          : *dom == kDom0;
  return Reply{std::string(known ? "T" : "F") + '\0'};
}

}  // namespace cxs::ops

#include <charconv>

#include "ops/handlers.h"
#include "wire/args.h"

namespace cxs::ops {

bool one_arg(std::string_view payload, std::string_view& arg) noexcept {
  if (payload.empty() || payload.back() != '\0') return false;
  std::string_view body = payload.substr(0, payload.size() - 1);
  if (body.find('\0') != std::string_view::npos) return false;
  arg = body;
  return true;
}

Result<store::CanonicalPath> canonical_path(const Ctx& ctx, std::string_view raw,
                                   store::PathKind kind) {
  auto path = store::canonicalise(raw, ctx.caller().dom, kind);
  if (!path) return path.error();
  const store::Quota* q = ctx.caller().quota;
  if (q && !store::is_special(*path) &&
      store::over(store::below_domain_home(*path).size(), q->path_max))
    return XsErr::kEINVAL;
  return path;
}

std::optional<DomId> parse_domid(std::string_view text) noexcept {
  auto v = parse_decimal<std::uint32_t>(text);
  if (!v || *v > 0xFFFF) return std::nullopt;
  return DomId{*v};
}

bool terminated_args(std::string_view payload,
                     std::vector<std::string_view>& out) {
  out = wire::split_args(payload);
  return wire::count_nuls(payload) == out.size();
}

Result<Reply> status_reply(Status s) {
  if (!s) return s.error();
  return ok_reply();
}

}  // namespace cxs::ops

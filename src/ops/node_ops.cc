// Handlers for the node operations: READ WRITE MKDIR RM DIRECTORY
// DIRECTORY_PART GET_PERMS SET_PERMS.
#include "cxenstored/features.h"
#include "cxenstored/limits.h"
#include "ops/handlers.h"
#include "store/path.h"
#include "wire/args.h"
#include "wire/perm_string.h"

namespace cxs::ops {
namespace {

Result<store::CanonicalPath> path_arg(Ctx& ctx, std::string_view payload,
                             store::PathKind kind = store::PathKind::kNode) {
  // One NUL-terminated string. A NUL inside is left to the path check,
  // which refuses it with the same EINVAL (one scan of the path, not two).
  if (payload.empty() || payload.back() != '\0') return XsErr::kEINVAL;
  return canonical_path(ctx, payload.substr(0, payload.size() - 1), kind);
}

// The special names that have a permission list: "@other" is no node at
// all (EINVAL, as C), not a missing one.
bool has_permissions(std::string_view path) {
  return !store::is_special(path) || path == "@introduceDomain" ||
         path == "@releaseDomain";
}

}  // namespace

Result<Reply> do_read(Ctx& ctx, const Request& req) {
  auto path = path_arg(ctx, req.payload);
  if (!path) return path.error();
  auto value = ctx.store.read(ctx.caller(), ctx.tx, *path);
  if (!value) return value.error();
  return Reply::borrowing(*value);
}

Result<Reply> do_write(Ctx& ctx, const Request& req) {
  std::string_view raw, value;
  if (!wire::split_first(req.payload, raw, value)) return XsErr::kEINVAL;
  auto path = canonical_path(ctx, raw);
  if (!path) return path.error();
  return status_reply(
      ctx.store.write(ctx.caller(), ctx.tx, *path, value, ctx.events));
}

Result<Reply> do_mkdir(Ctx& ctx, const Request& req) {
  auto path = path_arg(ctx, req.payload);
  if (!path) return path.error();
  return status_reply(ctx.store.mkdir(ctx.caller(), ctx.tx, *path, ctx.events));
}

Result<Reply> do_rm(Ctx& ctx, const Request& req) {
  auto path = path_arg(ctx, req.payload);
  if (!path) return path.error();
  return status_reply(ctx.store.rm(ctx.caller(), ctx.tx, *path, ctx.events));
}

Result<Reply> do_directory(Ctx& ctx, const Request& req) {
  auto path = path_arg(ctx, req.payload);
  if (!path) return path.error();
  auto list = ctx.store.directory(ctx.caller(), ctx.tx, *path);
  if (!list) return list.error();
  return Reply{std::move(*list)};
}

// "path\0offset\0" -> "gencnt\0" + slice; the last slice ends with an extra
// NUL, and an offset past the end gives "gencnt\0\0".
Result<Reply> do_directory_part(Ctx& ctx, const Request& req) {
  auto args = wire::split_args(req.payload);
  if (args.size() != 2 || wire::count_nuls(req.payload) != 2)
    return XsErr::kEINVAL;
  auto path = canonical_path(ctx, args[0]);
  if (!path) return path.error();
  auto offset = parse_decimal<std::size_t>(args[1]);
  if (!offset) return XsErr::kEINVAL;

  auto part = ctx.store.directory_part(ctx.caller(), ctx.tx, *path, *offset,
                                       kPayloadMax);
  if (!part) return part.error();
  std::string out = std::to_string(part->generation);
  out += '\0';
  out += part->names;
  if (part->last) out += '\0';
  return Reply{std::move(out)};
}

Result<Reply> do_get_perms(Ctx& ctx, const Request& req) {
  auto path = path_arg(ctx, req.payload, store::PathKind::kNodeOrSpecial);
  if (!path) return path.error();
  if (!has_permissions(*path)) return XsErr::kEINVAL;
  auto perms = ctx.store.get_perms(ctx.caller(), ctx.tx, *path);
  if (!perms) return perms.error();
  return Reply{wire::format_perm_list(*perms)};
}

namespace {

// DOMID_ANY entries count only for a caller whose domain has the DOMID_ANY
// feature (all do unless SET_FEATURE took it away before INTRODUCE): other
// callers' DOMID_ANY entries are dropped, and a DOMID_ANY owner is ENOENT,
// as C 4.22 ignores them.
Status check_domidany_entries(Ctx& ctx, PermList& perms) {
  if (!ctx.daemon) return {};  // no domains to ask: every feature
  auto features = ctx.daemon->get_feature(ctx.caller().dom);
  if (features && (*features & kFeatureDomidAny)) return {};
  if (perms.front().dom.value == kDomidAny) return XsErr::kENOENT;
  std::erase_if(perms, [](const Perm& p) { return p.dom.value == kDomidAny; });
  return {};
}

// A grant to a domain that does not exist (yet) is kept but ignored, as C
// does: the domain later created with that id is a stranger (XSA-322).
// Domains that die are dropped from every list instead (forget_domain).
void mark_absent_domains(const DaemonHooks& daemon, PermList& perms) {
  for (std::size_t i = 1; i < perms.size(); ++i) {
    DomId dom = perms[i].dom;
    if (dom.value != kDomidAny && !daemon.domain_exists(dom))
      perms[i].bits |= kPermIgnored;
  }
}

}  // namespace

// The checks run in C 4.17's order, so a request wrong in several ways
// gets the same error: the entry count (only NUL-terminated strings count:
// trailing bytes without a NUL are no entry), the caller's permissions
// quota, the entries, the owner's existence, then the node.
Result<Reply> do_set_perms(Ctx& ctx, const Request& req) {
  auto args = wire::split_args(req.payload);
  if (!args.empty() && wire::count_nuls(req.payload) < args.size())
    args.pop_back();
  if (args.size() < 2) return XsErr::kEINVAL;
  const store::Quota* q = ctx.caller().quota;
  if (q && store::over(args.size() - 1, q->node_permissions))
    return XsErr::kENOSPC;
  std::vector<std::string_view> entries(args.begin() + 1, args.end());
  auto perms = wire::parse_perm_list(entries);
  if (!perms) return XsErr::kEINVAL;
  CXS_TRY(check_domidany_entries(ctx, *perms));
  DomId owner = perms->front().dom;
  if (ctx.daemon && owner.value != kDomidAny &&
      !ctx.daemon->domain_exists(owner))
    return XsErr::kENOENT;
  auto path = canonical_path(ctx, args[0], store::PathKind::kNodeOrSpecial);
  if (!path) return path.error();
  if (!has_permissions(*path)) return XsErr::kEINVAL;
  if (ctx.daemon) mark_absent_domains(*ctx.daemon, *perms);
  return status_reply(ctx.store.set_perms(ctx.caller(), ctx.tx, *path,
                                          std::move(*perms), ctx.events));
}

}  // namespace cxs::ops

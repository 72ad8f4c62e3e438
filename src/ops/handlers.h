// The request handlers, one per message type: each parses its arguments,
// canonicalises paths and calls the store. Signature convention:
//   Result<Reply> do_x(Ctx&, const Request&);
#pragma once

#include <charconv>
#include <optional>
#include <string_view>
#include <vector>

#include "cxenstored/result.h"
#include "ops/context.h"
#include "store/path.h"

namespace cxs::ops {

using Handler = Result<Reply> (*)(Ctx&, const Request&);

// node_ops.cc
Result<Reply> do_read(Ctx&, const Request&);
Result<Reply> do_write(Ctx&, const Request&);
Result<Reply> do_mkdir(Ctx&, const Request&);
Result<Reply> do_rm(Ctx&, const Request&);
Result<Reply> do_directory(Ctx&, const Request&);
Result<Reply> do_directory_part(Ctx&, const Request&);
Result<Reply> do_get_perms(Ctx&, const Request&);
Result<Reply> do_set_perms(Ctx&, const Request&);

// watch_ops.cc
Result<Reply> do_watch(Ctx&, const Request&);
Result<Reply> do_unwatch(Ctx&, const Request&);
Result<Reply> do_reset_watches(Ctx&, const Request&);

// transaction_ops.cc
Result<Reply> do_transaction_start(Ctx&, const Request&);
Result<Reply> do_transaction_end(Ctx&, const Request&);

// domain_ops.cc
Result<Reply> do_get_domain_path(Ctx&, const Request&);
Result<Reply> do_is_domain_introduced(Ctx&, const Request&);
Result<Reply> do_introduce(Ctx&, const Request&);
Result<Reply> do_release(Ctx&, const Request&);
Result<Reply> do_resume(Ctx&, const Request&);
Result<Reply> do_set_target(Ctx&, const Request&);

// quota_ops.cc
Result<Reply> do_get_quota(Ctx&, const Request&);
Result<Reply> do_set_quota(Ctx&, const Request&);
Result<Reply> do_get_feature(Ctx&, const Request&);
Result<Reply> do_set_feature(Ctx&, const Request&);

// control_ops.cc
Result<Reply> do_control(Ctx&, const Request&);

// Shared argument helpers (args_util.cc).
inline Reply ok_reply() noexcept {
  return Reply::borrowing(std::string_view("OK\0", 3));
}
// The payload must be exactly one NUL-terminated string (C's onearg()).
bool one_arg(std::string_view payload, std::string_view& arg) noexcept;
// Canonical form of a path argument, with the caller's path-max quota
// (measured below a domain's home) applied: EINVAL past it.
Result<store::CanonicalPath> canonical_path(
    const Ctx& ctx, std::string_view raw,
    store::PathKind kind = store::PathKind::kNode);
// A whole decimal number of type T: nothing before or after it, in range.
template <typename T>
std::optional<T> parse_decimal(std::string_view text) noexcept {
  T v{};
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return v;
}
// Decimal domid 0..65535 with nothing after it.
// (A real domain for INTRODUCE and friends: see domain_ops.cc.)
std::optional<DomId> parse_domid(std::string_view text) noexcept;
// The arguments of a payload in which every one is NUL-terminated; false
// (malformed) if trailing bytes lack their NUL.
bool terminated_args(std::string_view payload,
                     std::vector<std::string_view>& out);
// "OK" for success, the refusal otherwise.
Result<Reply> status_reply(Status s);

}  // namespace cxs::ops

#include "allowed_differences.h"

#include <algorithm>

#include "test_util.h"
#include "wire/message_type.h"

namespace cxs::diff {
namespace {

using wire::MsgType;
using test::ty;

bool is(const Op& op, MsgType t) {
  return op.kind == OpKind::kRequest && op.type == ty(t);
}

bool is_error(const Observation& o) { return o.reply.rfind("error ", 0) == 0; }

// The events are the same; only the replies differ.
bool same_events(const Observation& a, const Observation& b) {
  return a.events == b.events;
}

// A payload that is exactly one NUL-terminated string.
bool one_string(const std::string& p) {
  return !p.empty() && p.back() == '\0' && p.find('\0') == p.size() - 1;
}

bool one_argument_type(const Op& op) {
  static const MsgType kOne[] = {
      MsgType::XS_READ,          MsgType::XS_RM,
      MsgType::XS_MKDIR,         MsgType::XS_DIRECTORY,
      MsgType::XS_GET_PERMS,     MsgType::XS_GET_DOMAIN_PATH,
      MsgType::XS_RELEASE,       MsgType::XS_RESUME,
      MsgType::XS_IS_DOMAIN_INTRODUCED, MsgType::XS_TRANSACTION_START,
      MsgType::XS_TRANSACTION_END,      MsgType::XS_RESET_WATCHES};
  return std::any_of(std::begin(kOne), std::end(kOne),
                     [&](MsgType t) { return is(op, t); });
}

const std::vector<AllowedDifference> kTable = {
    {"xen-4.22-message-types", "Rings and domains",
     "GET/SET_QUOTA and GET/SET_FEATURE are Xen 4.22; 4.17 answers ENOSYS",
     false,
     [](const Op& op, const Observation& ours, const Observation& ref) {
       return op.kind == OpKind::kRequest && op.type >= 23 && op.type <= 26 &&
              ref.reply == "error ENOSYS" && same_events(ours, ref) &&
              (is_error(ours) || op.type == 23 || op.type == 25);
     }},
    {"introduce-malformed-domid", "Rings and domains",
     "C atoi's the domid of INTRODUCE (abc is dom0); a malformed domid is "
     "an error",
     false,
     [](const Op& op, const Observation& ours, const Observation& ref) {
       return is(op, MsgType::XS_INTRODUCE) &&
              op.payload.rfind("abc", 0) == 0 &&
              ours.reply == "error EINVAL" && ref.reply == "INTRODUCE OK" &&
              same_events(ours, ref);
     }},
    {"one-argument-payload", "Framing and errors",
     "a one-argument payload that is not one NUL-terminated string is "
     "EINVAL, never C's stale errno",
     false,
     [](const Op& op, const Observation& ours, const Observation& ref) {
       return one_argument_type(op) && !one_string(op.payload) &&
              ours.reply == "error EINVAL" && is_error(ref) &&
              same_events(ours, ref);
     }},
};

}  // namespace

const std::vector<AllowedDifference>& allowed_differences() { return kTable; }

const AllowedDifference* find_allowed(const Op& op, const Observation& ours,
                                      const Observation& ref) {
  for (const auto& a : kTable)
    if (a.matches(op, ours, ref)) return &a;
  return nullptr;
}

}  // namespace cxs::diff

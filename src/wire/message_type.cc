#include "wire/message_type.h"

#include <array>

namespace cxs::wire {
namespace {

constexpr std::array<std::string_view, 27> kNames = {
    "XS_CONTROL",       "XS_DIRECTORY",
    "XS_READ",          "XS_GET_PERMS",
    "XS_WATCH",         "XS_UNWATCH",
    "XS_TRANSACTION_START", "XS_TRANSACTION_END",
    "XS_INTRODUCE",     "XS_RELEASE",
    "XS_GET_DOMAIN_PATH", "XS_WRITE",
    "XS_MKDIR",         "XS_RM",
    "XS_SET_PERMS",     "XS_WATCH_EVENT",
    "XS_ERROR",         "XS_IS_DOMAIN_INTRODUCED",
    "XS_RESUME",        "XS_SET_TARGET",
    "",                 "XS_RESET_WATCHES",
    "XS_DIRECTORY_PART", "XS_GET_FEATURE",
    "XS_SET_FEATURE",   "XS_GET_QUOTA",
    "XS_SET_QUOTA",
};

}  // namespace

std::string_view msg_type_name(std::uint32_t type) noexcept {
  if (type < kNames.size()) return kNames[type];
  if (type == static_cast<std::uint32_t>(MsgType::XS_INVALID))
    return "XS_INVALID";
  return {};
}

}  // namespace cxs::wire

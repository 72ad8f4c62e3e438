// Message types of the xenstore wire protocol, numbered as in xs_wire.h plus
// the Xen 4.22 additions (GET/SET_FEATURE, GET/SET_QUOTA). Names keep the
// upstream spellings so a reader can grep both trees.
#pragma once

#include <cstdint>
#include <string_view>

namespace cxs::wire {

enum class MsgType : std::uint32_t {
  XS_CONTROL = 0,
  XS_DIRECTORY = 1,
  XS_READ = 2,
  XS_GET_PERMS = 3,
  XS_WATCH = 4,
  XS_UNWATCH = 5,
  XS_TRANSACTION_START = 6,
  XS_TRANSACTION_END = 7,
  XS_INTRODUCE = 8,
  XS_RELEASE = 9,
  XS_GET_DOMAIN_PATH = 10,
  XS_WRITE = 11,
  XS_MKDIR = 12,
  XS_RM = 13,
  XS_SET_PERMS = 14,
  XS_WATCH_EVENT = 15,
  XS_ERROR = 16,
  XS_IS_DOMAIN_INTRODUCED = 17,
  XS_RESUME = 18,
  XS_SET_TARGET = 19,
  // 20 was XS_RESTRICT, removed upstream.
  XS_RESET_WATCHES = 21,
  XS_DIRECTORY_PART = 22,
  XS_GET_FEATURE = 23,
  XS_SET_FEATURE = 24,
  XS_GET_QUOTA = 25,
  XS_SET_QUOTA = 26,
  XS_TYPE_COUNT = 27,
  XS_INVALID = 0xffff,
};

// "XS_READ" etc. for logs and traces; "XS_UNKNOWN(n)" style names are built
// by the caller for values without a name (returns empty view then).
std::string_view msg_type_name(std::uint32_t type) noexcept;

}  // namespace cxs::wire

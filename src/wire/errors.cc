// The one table of protocol error names.
#include <array>

#include "cxenstored/errors.h"

namespace cxs {
namespace {

constexpr std::array<std::string_view, kXsErrCount> kNames = {
    "EINVAL", "EACCES", "EEXIST", "EISDIR",    "ENOENT", "ENOMEM",
    "ENOSPC", "EIO",    "ENOTEMPTY", "ENOSYS", "EROFS",  "EBUSY",
    "EAGAIN", "EISCONN", "E2BIG", "EPERM",
};

}  // namespace

std::string_view xs_error_name(XsErr err) noexcept {
  return kNames[static_cast<std::size_t>(err)];
}

std::optional<XsErr> xs_error_from_name(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return static_cast<XsErr>(i);
  return std::nullopt;
}

}  // namespace cxs

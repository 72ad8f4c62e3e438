// Permission strings on the wire: "r5", "b0", "n3", "w7" (letter + decimal
// domid), NUL-separated in SET_PERMS requests and GET_PERMS replies.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cxenstored/perms.h"

namespace cxs::wire {

// One "r5" entry; nullopt if the letter or the number is malformed.
std::optional<Perm> parse_perm(std::string_view text) noexcept;

// A whole list (at least one entry); nullopt if any entry is malformed.
std::optional<PermList> parse_perm_list(
    const std::vector<std::string_view>& entries);

// "r5\0b0\0..." with a NUL after every entry.
std::string format_perm_list(const PermList& perms);

}  // namespace cxs::wire

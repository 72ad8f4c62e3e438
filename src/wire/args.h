// Splitting request payloads into their NUL-terminated arguments, the way the
// C daemon reads them: a payload "a\0b\0" has two arguments; trailing bytes
// without a NUL form a last argument of their own.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace cxs::wire {

// Every NUL-separated piece. "a\0b\0" -> {"a","b"}; "a\0b" -> {"a","b"};
// "" -> {}.
std::vector<std::string_view> split_args(std::string_view payload);

// The first argument alone: bytes up to the first NUL (or the whole payload).
std::string_view first_arg(std::string_view payload) noexcept;

// For requests of the form "<arg>\0<binary rest>" (WRITE): the first argument
// and everything after its NUL. Without a NUL, there is no rest and the
// request is malformed (returns false).
bool split_first(std::string_view payload, std::string_view& first,
                 std::string_view& rest) noexcept;

// Number of NUL bytes in the payload (the C daemon's argument count).
std::size_t count_nuls(std::string_view payload) noexcept;

}  // namespace cxs::wire

// The children of /bench/d that the dir-100 workload creates, and that the
// echo server lists when asked for a DIRECTORY: one definition, so the
// echo server's canned answer is the listing the workload checks.
#pragma once

#include <string>

namespace cxs::bench {

inline constexpr int kDir100Children = 100;

// "c1000" ... "c1099": names of equal length, so a listing is 600 bytes.
inline std::string dir100_child(int i) { return "c" + std::to_string(1000 + i); }

}  // namespace cxs::bench

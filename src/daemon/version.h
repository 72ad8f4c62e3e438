// The version cxenstored reports (--version, the start-up log, CONTROL
// version, the producer named in a live-update state). Defined in a file
// generated at build time (cmake/version.cmake), so that a new commit
// recompiles that one file and relinks what uses it, nothing more.
#pragma once

#include <string_view>

namespace cxs::daemon {

// The CMake project version (the Debian package's), with `git describe`
// when built from a checkout: "0.1.0 (git 7a2e841)", "0.1.0 (git
// 7a2e841-dirty)"; the project version alone otherwise ("0.1.0").
std::string_view version_string() noexcept;

}  // namespace cxs::daemon

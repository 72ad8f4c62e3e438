// How a fuzzer reports a broken invariant: one line on stderr naming what
// broke and where, then abort(), which libFuzzer and ctest both catch.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace cxs::fuzz {

[[noreturn]] inline void fuzz_failure(std::string_view who,
                                      std::string_view what) {
  std::fprintf(stderr, "fuzz: %.*s: %.*s\n", static_cast<int>(who.size()),
               who.data(), static_cast<int>(what.size()), what.data());
  std::abort();
}

}  // namespace cxs::fuzz

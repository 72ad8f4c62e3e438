// Seeding a libFuzzer corpus from a replay test: with
// CXS_FUZZ_WRITE_CORPUS=DIR, the first kSeeds generated inputs are written
// to DIR/<prefix>-<i>, for the fuzzer to start from (docs/testing.md,
// "Fuzzing").
#pragma once

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace cxs::fuzz {

inline constexpr int kSeeds = 200;

// Writes input `i` when a corpus is asked for and i < kSeeds.
inline void save_seed(int i, std::string_view bytes,
                      std::string_view prefix = "seed") {
  const char* dir = std::getenv("CXS_FUZZ_WRITE_CORPUS");
  if (!dir || i >= kSeeds) return;
  std::ofstream f(
      std::string(dir) + "/" + std::string(prefix) + "-" + std::to_string(i),
      std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string_view as_bytes(const std::vector<std::uint8_t>& in) {
  return {reinterpret_cast<const char*>(in.data()), in.size()};
}

}  // namespace cxs::fuzz

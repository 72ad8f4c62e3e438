// Replays seeded inputs through the hostile ring page fuzzer
// (ring_page_fuzz.h): step and rewrite bytes drawn mostly small (zero
// bytes leave fields alone, and zeroed ring bytes frame as empty
// requests), some any value, so that runs mix sane traffic with
// impossible indexes, wraps at 2^32, faults and reconnections.
// Deterministic: the same inputs on every run.
#include <gtest/gtest.h>

#include <cstdint>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "ring_page_fuzz.h"
#include "seed_corpus.h"

namespace cxs::fuzz {
namespace {

std::vector<std::uint8_t> generate(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  std::vector<std::uint8_t> out(static_cast<std::size_t>(pick(0, 600)));
  int zeros = pick(30, 90);  // percent of zero bytes in this input
  for (auto& b : out) {
    int roll = pick(0, 99);
    b = static_cast<std::uint8_t>(roll < zeros       ? 0
                                  : roll < zeros + 5 ? pick(0, 7)
                                                     : pick(0, 255));
  }
  return out;
}

TEST(RingPageFuzzReplay, HostilePagesKeepTheTransportInBounds) {
  std::mt19937 rng(20261208);
  RingPageRunStats total;
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::uint8_t> in = generate(rng);
    RingPageRunStats s = run_ring_page_input(in.data(), in.size());
    total.calls += s.calls;
    total.bytes_read += s.bytes_read;
    total.bytes_written += s.bytes_written;
    total.index_faults += s.index_faults;
    total.requests += s.requests;
    save_seed(i, as_bytes(in));
  }
  std::cout << "[ fuzz ] " << total.calls << " transport calls checked, "
            << total.bytes_read << " bytes read, " << total.bytes_written
            << " written, " << total.index_faults << " index faults, "
            << total.requests << " requests framed" << std::endl;
  EXPECT_GT(total.calls, 100000u);
  EXPECT_GT(total.bytes_read, 100000u);
  EXPECT_GT(total.bytes_written, 100000u);
  EXPECT_GT(total.index_faults, 10000u);
  EXPECT_GT(total.requests, 1000u);
}

TEST(RingPageFuzzReplay, EmptyAndTinyInputsAreHarmless) {
  std::uint8_t bytes[4] = {6, 0, 0, 7};
  EXPECT_EQ(run_ring_page_input(bytes, 0).calls, 0u);
  (void)run_ring_page_input(bytes, 1);
  (void)run_ring_page_input(bytes, 4);
}

}  // namespace
}  // namespace cxs::fuzz

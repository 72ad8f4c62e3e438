// Slab: size classes 8 bytes apart from 64 KiB pages, free lists, and
// operator new beyond 1 KiB.
#include "store/slab.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>
#include <vector>

namespace cxs::store {
namespace {

TEST(Slab, AFreedBlockIsReusedForTheSameClassOnly) {
  Slab s;
  void* a = s.allocate(74);
  s.deallocate(a, 74);
  void* other_class = s.allocate(90);
  EXPECT_NE(other_class, a);
  void* same_class = s.allocate(80);  // 74 and 80 share the 80-byte class
  EXPECT_EQ(same_class, a);
  s.deallocate(other_class, 90);
  s.deallocate(same_class, 80);
}

TEST(Slab, LiveBlocksNeverOverlapAndKeepTheirBytes) {
  Slab s;
  std::mt19937 rng(3);
  std::map<std::byte*, std::pair<std::size_t, unsigned char>> live;
  for (int step = 0; step < 20000; ++step) {
    if (live.empty() || rng() % 3 != 0) {
      std::size_t n = rng() % 1500 + 1;  // small and large
      auto* p = static_cast<std::byte*>(s.allocate(n));
      auto fill = static_cast<unsigned char>(step);
      std::memset(p, fill, n);
      live[p] = {n, fill};
    } else {
      auto it = live.begin();
      std::advance(it, static_cast<long>(rng() % live.size()));
      s.deallocate(it->first, it->second.first);
      live.erase(it);
    }
  }
  std::byte* end = nullptr;
  for (const auto& [p, info] : live) {
    EXPECT_GE(p, end) << "overlap";
    end = p + info.first;
    for (std::size_t i = 0; i < info.first; ++i)
      ASSERT_EQ(static_cast<unsigned char>(p[i]), info.second);
  }
  for (const auto& [p, info] : live) s.deallocate(p, info.first);
  EXPECT_GT(s.pages(), 1u);
}

TEST(Slab, ZeroBytesAndNullAreHandled) {
  Slab s;
  void* p = s.allocate(0);
  EXPECT_NE(p, nullptr);
  s.deallocate(p, 0);
  s.deallocate(nullptr, 10);
}

}  // namespace
}  // namespace cxs::store

// PathSet: the reader's keyed open-addressing set of node paths.
#include "migrate/path_set.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cxs::migrate {
namespace {

TEST(PathSet, InsertsOnceAndFindsWhatItHolds) {
  PathSet set;
  set.reserve(2);
  EXPECT_TRUE(set.insert("/a"));
  EXPECT_TRUE(set.insert(""));
  EXPECT_FALSE(set.insert("/a"));
  EXPECT_FALSE(set.insert(""));
  EXPECT_TRUE(set.contains("/a"));
  EXPECT_TRUE(set.contains(""));
  EXPECT_FALSE(set.contains("/b"));
  EXPECT_EQ(set.size(), 2u);
}

TEST(PathSet, GrowsPastItsReservationWithoutLosingPaths) {
  std::vector<std::string> paths;
  for (int i = 0; i < 5000; ++i) paths.push_back("/n/" + std::to_string(i));
  PathSet set;  // nothing reserved: starts at 16 slots and doubles
  for (const auto& p : paths) ASSERT_TRUE(set.insert(p));
  for (const auto& p : paths) {
    EXPECT_TRUE(set.contains(p));
    EXPECT_FALSE(set.insert(p));
  }
  EXPECT_FALSE(set.contains("/n/5000"));
  EXPECT_EQ(set.size(), paths.size());
}

TEST(PathSet, AnEmptySetContainsNothing) {
  PathSet set;
  EXPECT_FALSE(set.contains("/"));
}

}  // namespace
}  // namespace cxs::migrate

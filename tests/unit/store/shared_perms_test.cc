// SharedPerms: permission lists interned and reference-counted.
#include "store/shared_perms.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace cxs::store {
namespace {

const PermList kA{Perm{DomId{5}, kPermNone}, Perm{DomId{0}, kPermRead}};
const PermList kB{Perm{DomId{7}, kPermBoth}};

TEST(SharedPerms, EqualListsShareOneEntryUntilTheLastHolderGoes) {
  std::size_t before = SharedPerms::pool_size();
  {
    SharedPerms a(kA);
    SharedPerms b(kA);
    EXPECT_EQ(SharedPerms::pool_size(), before + 1);
    EXPECT_EQ(&a.list(), &b.list());  // one copy
    EXPECT_EQ(a.list(), kA);
    {
      std::vector<SharedPerms> many(1000, a);
      EXPECT_EQ(SharedPerms::pool_size(), before + 1);
    }
    SharedPerms c(kB);
    EXPECT_EQ(SharedPerms::pool_size(), before + 2);
  }
  EXPECT_EQ(SharedPerms::pool_size(), before);
}

TEST(SharedPerms, AssigningAListReinternsAndReleasesTheOld) {
  std::size_t before = SharedPerms::pool_size();
  SharedPerms p(kA);
  p = kB;
  EXPECT_EQ(p.list(), kB);
  EXPECT_EQ(SharedPerms::pool_size(), before + 1);  // kA had no other holder
  PermList changed = p;
  changed.front().dom = DomId{9};
  p = changed;
  EXPECT_EQ(p.front().dom, DomId{9});
  EXPECT_EQ(SharedPerms::pool_size(), before + 1);
}

TEST(SharedPerms, CopiesMovesAndSelfAssignmentKeepCounts) {
  std::size_t before = SharedPerms::pool_size();
  SharedPerms a(kA);
  SharedPerms b(a);
  SharedPerms c(std::move(b));
  EXPECT_TRUE(b.empty());  // moved-from: the empty list
  a = a;
  c = std::move(c);
  EXPECT_EQ(a, c);
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1].bits, kPermRead);
  a = SharedPerms{};
  c = SharedPerms{};
  EXPECT_EQ(SharedPerms::pool_size(), before);
}

TEST(SharedPerms, TheEmptyListNeedsNoEntry) {
  std::size_t before = SharedPerms::pool_size();
  SharedPerms e(PermList{});
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(e.list(), PermList{});
  EXPECT_EQ(SharedPerms::pool_size(), before);
}

}  // namespace
}  // namespace cxs::store

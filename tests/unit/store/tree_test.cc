// The committed tree: its initial contents and generation stamping.
#include "store/tree.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace cxs::store {
namespace {

const PermList kDom0Only{Perm{DomId{0}, kPermNone}};

TEST(Tree, FreshTreeHasTheCDaemonsNodes) {
  Tree t;
  for (const char* p : {"/", "/tool", "/tool/xenstored", "@introduceDomain",
                        "@releaseDomain"}) {
    NodeView n = t.find(p);
    ASSERT_NE(n, nullptr) << p;
    EXPECT_EQ(n.value(), "") << p;
    EXPECT_EQ(n.perms().list(), kDom0Only) << p;
    EXPECT_NE(n.generation(), kAbsentGeneration) << p;
  }
  EXPECT_EQ(t.size(), 5u);
}

TEST(Tree, FreshTreeLinksToolUnderRootAndNotTheSpecials) {
  Tree t;
  EXPECT_EQ(t.find("/")->children().joined(), std::string("tool\0", 5));
  EXPECT_EQ(t.find("/tool")->children().joined(), std::string("xenstored\0", 10));
  EXPECT_TRUE(t.find("/tool/xenstored")->children().empty());
}

TEST(Tree, MissingPathIsNotFound) {
  Tree t;
  EXPECT_EQ(t.find("/local"), nullptr);
  EXPECT_EQ(t.find(""), nullptr);
  EXPECT_EQ(t.find("/tool/"), nullptr);
}

TEST(Tree, GenerationsAreUniqueAndIncreasing) {
  Tree t;
  std::set<std::uint64_t> seen;
  for (const char* p : {"/", "/tool", "/tool/xenstored", "@introduceDomain",
                        "@releaseDomain"})
    EXPECT_TRUE(seen.insert(t.find(p)->generation()).second) << p;
  std::uint64_t last = *seen.rbegin();
  for (int i = 0; i < 10; ++i) {
    NodeView n = t.put("/n" + std::to_string(i), Node{"v", kDom0Only, 0, {}});
    EXPECT_GT(n.generation(), last);
    EXPECT_TRUE(seen.insert(n.generation()).second);
    last = n.generation();
  }
}

TEST(Tree, PutReplacesAndRestampsAnExistingNode) {
  Tree t;
  std::uint64_t before = t.find("/tool")->generation();
  NodeView n = t.put("/tool", Node{"new", kDom0Only, 0, {"xenstored"}});
  EXPECT_GT(n.generation(), before);
  EXPECT_EQ(t.find("/tool")->value(), "new");
  EXPECT_EQ(t.size(), 5u);
}

TEST(Tree, PutIgnoresTheGenerationGiven) {
  Tree t;
  NodeView n = t.put("/x", Node{"", kDom0Only, 12345678, {}});
  EXPECT_NE(n.generation(), 12345678u);
}

TEST(Tree, NextGenerationNeverRepeats) {
  Tree t;
  std::uint64_t a = t.next_generation();
  std::uint64_t b = t.next_generation();
  EXPECT_GT(b, a);
  EXPECT_GT(t.put("/y", Node{}).generation(), b);
}

TEST(Tree, EraseRemovesOnlyThatNode) {
  Tree t;
  t.put("/x", Node{});
  t.erase("/x");
  EXPECT_EQ(t.find("/x"), nullptr);
  t.erase("/does-not-exist");
  EXPECT_EQ(t.size(), 5u);
}

// The tree keeps a node's name and its parent's record, not its path: a node
// whose parent is missing cannot go in, and one that is in can be found and
// listed under its full path.
TEST(Tree, ANodeGoesInOnlyBelowItsParent) {
  Tree t;
  EXPECT_FALSE(t.put("/a/b", Node{}));
  EXPECT_EQ(t.size(), 5u);
  ASSERT_TRUE(t.put("/a", Node{}));
  ASSERT_TRUE(t.put("/a/b", Node{"value longer than fourteen bytes", kDom0Only,
                                 0, {}}));
  EXPECT_EQ(t.find("/a/b")->value(), "value longer than fourteen bytes");
  std::set<std::string> paths;
  t.for_each([&](std::string_view p, NodeView) { paths.emplace(p); });
  EXPECT_EQ(paths, (std::set<std::string>{"/", "/tool", "/tool/xenstored",
                                          "@introduceDomain", "@releaseDomain",
                                          "/a", "/a/b"}));
}

// Editing a parent moves its child list out of the record and back: the
// list survives, and so does a value that is not touched.
TEST(Tree, EditKeepsWhatTheChangeDoesNotTouch) {
  Tree t;
  t.edit("/tool", [](Node& n) { n.value.assign("v"); });
  EXPECT_EQ(t.find("/tool")->value(), "v");
  EXPECT_EQ(t.find("/tool")->children().joined(),
            std::string("xenstored\0", 10));
  t.edit("/tool", [](Node& n) { n.perms = PermList{Perm{DomId{3}, kPermRead}}; });
  EXPECT_EQ(t.find("/tool")->value(), "v");
  EXPECT_EQ(t.usage(DomId{3}).nodes, 1u);
}

}  // namespace
}  // namespace cxs::store

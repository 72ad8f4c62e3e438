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
    const Node* n = t.find(p);
    ASSERT_NE(n, nullptr) << p;
    EXPECT_EQ(n->value, "") << p;
    EXPECT_EQ(n->perms, kDom0Only) << p;
    EXPECT_NE(n->generation, kAbsentGeneration) << p;
  }
  EXPECT_EQ(t.size(), 5u);
}

TEST(Tree, FreshTreeLinksToolUnderRootAndNotTheSpecials) {
  Tree t;
  EXPECT_EQ(t.find("/")->children.joined(), std::string("tool\0", 5));
  EXPECT_EQ(t.find("/tool")->children.joined(), std::string("xenstored\0", 10));
  EXPECT_TRUE(t.find("/tool/xenstored")->children.empty());
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
    EXPECT_TRUE(seen.insert(t.find(p)->generation).second) << p;
  std::uint64_t last = *seen.rbegin();
  for (int i = 0; i < 10; ++i) {
    const Node& n = t.put("/n" + std::to_string(i), Node{"v", kDom0Only, 0, {}});
    EXPECT_GT(n.generation, last);
    EXPECT_TRUE(seen.insert(n.generation).second);
    last = n.generation;
  }
}

TEST(Tree, PutReplacesAndRestampsAnExistingNode) {
  Tree t;
  std::uint64_t before = t.find("/tool")->generation;
  const Node& n = t.put("/tool", Node{"new", kDom0Only, 0, {"xenstored"}});
  EXPECT_GT(n.generation, before);
  EXPECT_EQ(t.find("/tool")->value, "new");
  EXPECT_EQ(t.size(), 5u);
}

TEST(Tree, PutIgnoresTheGenerationGiven) {
  Tree t;
  const Node& n = t.put("/x", Node{"", kDom0Only, 12345678, {}});
  EXPECT_NE(n.generation, 12345678u);
}

TEST(Tree, NextGenerationNeverRepeats) {
  Tree t;
  std::uint64_t a = t.next_generation();
  std::uint64_t b = t.next_generation();
  EXPECT_GT(b, a);
  EXPECT_GT(t.put("/y", Node{}).generation, b);
}

TEST(Tree, EraseRemovesOnlyThatNode) {
  Tree t;
  t.put("/x", Node{});
  t.erase("/x");
  EXPECT_EQ(t.find("/x"), nullptr);
  t.erase("/does-not-exist");
  EXPECT_EQ(t.size(), 5u);
}

}  // namespace
}  // namespace cxs::store

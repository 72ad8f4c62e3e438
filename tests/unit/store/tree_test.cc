// The committed tree: its initial contents, generation stamping, and the
// export walk and node-by-node restore of a live update.
#include "store/tree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

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


// --- live update: export walk and restore ------------------------------------

const PermList kDom5Owns{Perm{DomId{5}, kPermNone}, Perm{DomId{7}, kPermRead}};

// What each owner's nodes cost, counted from the nodes themselves.
std::map<DomId, Tree::Usage> recount_usage(const Tree& t) {
  std::map<DomId, Tree::Usage> out;
  t.for_each([&](std::string_view path, NodeView n) {
    Tree::Usage& u = out[n.perms().empty() ? DomId{0} : n.perms().front().dom];
    u.nodes += 1;
    u.bytes += Tree::node_bytes(path, n);
  });
  return out;
}

void expect_usage_exact(const Tree& t) {
  for (const auto& [dom, u] : recount_usage(t)) {
    EXPECT_EQ(t.usage(dom).nodes, u.nodes) << dom.value;
    EXPECT_EQ(t.usage(dom).bytes, u.bytes) << dom.value;
  }
}

std::vector<std::string> preorder(const Tree& t) {
  std::vector<std::string> out;
  t.for_each_preorder(
      [&](std::string_view path, NodeView) { out.emplace_back(path); });
  return out;
}

TEST(Tree, ClearForRestoreLeavesNothingAtAll) {
  Tree t;
  t.put("/x", Node{"v", kDom5Owns, 0, {}});
  t.clear_for_restore();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.find("/"), nullptr);
  EXPECT_EQ(t.find("@releaseDomain"), nullptr);
  EXPECT_EQ(t.usage(DomId{0}).nodes, 0u);
  EXPECT_EQ(t.usage(DomId{5}).bytes, 0u);
  EXPECT_TRUE(t.referenced_domains().empty());
  EXPECT_EQ(t.generation_counter(), 0u);
  EXPECT_TRUE(preorder(t).empty());
  int specials = 0;
  t.for_each_special([&](std::string_view, NodeView) { ++specials; });
  EXPECT_EQ(specials, 0);
}

TEST(Tree, PreorderWalkGivesParentsFirstAndChildrenInListOrder) {
  Tree t;
  // The child list decides the order, not the order of insertion.
  t.put("/b", Node{});
  t.put("/a", Node{});
  t.put("/a/z", Node{});
  t.put("/a/y", Node{});
  t.edit("/", [](Node& n) { n.children = ChildNames{"tool", "b", "a"}; });
  t.edit("/a", [](Node& n) { n.children = ChildNames{"z", "y"}; });
  EXPECT_EQ(preorder(t),
            (std::vector<std::string>{"/", "/tool", "/tool/xenstored", "/b",
                                      "/a", "/a/z", "/a/y"}));
  std::vector<std::string> specials;
  t.for_each_special([&](std::string_view path, NodeView n) {
    specials.emplace_back(path);
    EXPECT_EQ(n.perms().list(), kDom0Only);
  });
  EXPECT_EQ(specials, (std::vector<std::string>{"@introduceDomain",
                                                "@releaseDomain"}));
}

TEST(Tree, PreorderWalkReachesAPathOfFifteenHundredLevels) {
  Tree t;
  t.clear_for_restore();
  ASSERT_TRUE(t.restore_node("/", "", kDom0Only, 1));
  std::string path;
  for (int i = 0; i < 1500; ++i) {
    path += "/d";
    ASSERT_TRUE(t.restore_node(path, "", kDom0Only, 0)) << i;
  }
  std::vector<std::string> seen = preorder(t);
  ASSERT_EQ(seen.size(), 1501u);
  EXPECT_EQ(seen.back(), path);
}

TEST(Tree, RestoredNodesKeepTheirGenerationsAndJoinTheirParentsList) {
  Tree t;
  t.clear_for_restore();
  ASSERT_TRUE(t.restore_node("/", "", kDom0Only, 40));
  ASSERT_TRUE(t.restore_node("/b", "vb", kDom5Owns, 7));
  ASSERT_TRUE(t.restore_node("/a", std::string("x\0y", 3), kDom5Owns, 90));
  ASSERT_TRUE(t.restore_node("@releaseDomain", "", kDom0Only, 3));
  EXPECT_EQ(t.find("/")->generation(), 40u);  // not stamped by its children
  EXPECT_EQ(t.find("/")->children().joined(), std::string("b\0a\0", 4));
  EXPECT_EQ(t.find("/b")->generation(), 7u);
  EXPECT_EQ(t.find("/a")->value(), std::string("x\0y", 3));
  EXPECT_EQ(t.find("@releaseDomain")->generation(), 3u);
  EXPECT_TRUE(t.find("@releaseDomain")->children().empty());
  // The counter is at least the highest generation restored.
  EXPECT_EQ(t.generation_counter(), 90u);
  t.set_generation_counter(50);
  EXPECT_EQ(t.generation_counter(), 90u);
  t.set_generation_counter(1000);
  EXPECT_EQ(t.generation_counter(), 1000u);
  EXPECT_EQ(t.put("/c", Node{}).generation(), 1001u);
  expect_usage_exact(t);
  std::vector<DomId> refs = t.referenced_domains();
  std::sort(refs.begin(), refs.end(),
            [](DomId a, DomId b) { return a.value < b.value; });
  EXPECT_EQ(refs, (std::vector<DomId>{DomId{0}, DomId{5}, DomId{7}}));
}

// Streams of the C daemon carry no generations: each node gets a fresh one,
// in the order the nodes come.
TEST(Tree, RestoreWithoutGenerationStampsFreshIncreasingOnes) {
  Tree t;
  t.clear_for_restore();
  std::uint64_t root = t.restore_node("/", "", kDom0Only, 0).generation();
  EXPECT_EQ(root, 1u);
  std::uint64_t a = t.restore_node("/a", "", kDom0Only, 0).generation();
  std::uint64_t b = t.restore_node("/a/b", "", kDom0Only, 0).generation();
  EXPECT_GT(a, root);
  EXPECT_GT(b, a);
  EXPECT_EQ(t.find("/")->generation(), root);
  EXPECT_EQ(t.find("/a")->generation(), a);
  EXPECT_EQ(t.generation_counter(), b);
}

TEST(Tree, RestoreRefusesAChildWithoutItsParentOrABadPath) {
  Tree t;
  t.clear_for_restore();
  EXPECT_FALSE(t.restore_node("/a", "", kDom0Only, 5));  // no "/" yet
  ASSERT_TRUE(t.restore_node("/", "", kDom0Only, 1));
  EXPECT_FALSE(t.restore_node("/a/b", "", kDom0Only, 5));
  for (const char* bad : {"", "a", "/a/", "//a", "/a b", "@x/5"})
    EXPECT_FALSE(t.restore_node(bad, "", kDom0Only, 5)) << bad;
  EXPECT_EQ(t.size(), 1u);
  EXPECT_TRUE(t.find("/")->children().empty());
  EXPECT_EQ(t.generation_counter(), 1u);  // nothing stamped for refusals
  expect_usage_exact(t);
}

// A stream restored over a fresh tree replaces its nodes in place.
TEST(Tree, RestoreOverAnExistingNodeKeepsItsChildren) {
  Tree t;
  ASSERT_TRUE(t.restore_node("/", "root", kDom5Owns, 77));
  EXPECT_EQ(t.find("/")->value(), "root");
  EXPECT_EQ(t.find("/")->perms().list(), kDom5Owns);
  EXPECT_EQ(t.find("/")->generation(), 77u);
  EXPECT_EQ(t.find("/")->children().joined(), std::string("tool\0", 5));
  ASSERT_TRUE(t.restore_node("/tool", std::string(100, 'v'), kDom0Only, 78));
  EXPECT_EQ(t.find("/")->children().joined(), std::string("tool\0", 5));
  EXPECT_EQ(t.size(), 5u);
  expect_usage_exact(t);
  EXPECT_EQ(t.usage(DomId{5}).nodes, 1u);
}

}  // namespace
}  // namespace cxs::store

// NodeIndex against a std::map doing the same inserts and erases: every
// node stays findable through growth and backward-shift removal, its path is
// spelled back exactly, and a record's address does not change while it
// lives.
#include "store/node_index.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace cxs::store {
namespace {

TEST(NodeIndex, EmptyIndexFindsAndErasesNothing) {
  NodeIndex idx;
  EXPECT_EQ(idx.find("/"), nullptr);
  EXPECT_FALSE(idx.erase("/"));
  EXPECT_EQ(idx.size(), 0u);
}

TEST(NodeIndex, AChildIsFoundFromItsParentsIdOnly) {
  NodeIndex idx;
  idx.emplace("/");
  idx.emplace("/a");
  idx.emplace("/b");
  idx.emplace("/a/x");
  idx.emplace("/b/x");
  std::uint32_t a = idx.find_id("/a"), b = idx.find_id("/b");
  ASSERT_NE(a, NodeIndex::kNone);
  std::uint32_t ax = idx.find_child(a, "/a/x", "x");
  ASSERT_NE(ax, NodeIndex::kNone);
  EXPECT_EQ(&idx.record(ax), idx.find("/a/x"));
  EXPECT_EQ(&idx.record(idx.find_child(b, "/b/x", "x")), idx.find("/b/x"));
  // Same name, other parent: not a match.
  EXPECT_EQ(idx.find_child(b, "/a/x", "x"), NodeIndex::kNone);
  EXPECT_EQ(idx.find_child(a, "/a/y", "y"), NodeIndex::kNone);
  EXPECT_EQ(idx.find_id("/c"), NodeIndex::kNone);
}

TEST(NodeIndex, ClearRemovesEveryNodeAndTheIndexIsUsableAfter) {
  NodeIndex idx;
  idx.emplace("/");
  idx.emplace("@releaseDomain");
  for (int i = 0; i < 5000; ++i) idx.emplace("/n" + std::to_string(i));
  idx.clear();
  EXPECT_EQ(idx.size(), 0u);
  EXPECT_EQ(idx.find("/"), nullptr);
  EXPECT_EQ(idx.find("/n7"), nullptr);
  EXPECT_EQ(idx.find("@releaseDomain"), nullptr);
  EXPECT_LE(idx.chunks_held(), 1u);  // one empty chunk is kept
  EXPECT_EQ(idx.emplace("/n7").first, nullptr);  // no "/" any more
  ASSERT_TRUE(idx.emplace("/").second);
  ASSERT_TRUE(idx.emplace("/n7").second);
  EXPECT_EQ(idx.path_of(*idx.find("/n7")), "/n7");
}

TEST(NodeIndex, EmplaceReturnsTheExistingNode) {
  NodeIndex idx;
  ASSERT_TRUE(idx.emplace("/").second);
  auto [a, created] = idx.emplace("/a");
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(created);
  a->name_value.set_value("one");
  auto [again, created_again] = idx.emplace("/a");
  EXPECT_FALSE(created_again);
  EXPECT_EQ(again, a);
  EXPECT_EQ(idx.find("/a")->value(), "one");
  EXPECT_EQ(idx.find("/a")->name(), "a");
  EXPECT_EQ(idx.find("/a/"), nullptr);
  EXPECT_EQ(idx.find("a"), nullptr);
  EXPECT_EQ(idx.find("//a"), nullptr);
}

TEST(NodeIndex, ANodeNeedsItsParentButRootAndSpecialNodesHaveNone) {
  NodeIndex idx;
  EXPECT_EQ(idx.emplace("/a").first, nullptr);
  EXPECT_EQ(idx.size(), 0u);
  ASSERT_NE(idx.emplace("@introduceDomain").first, nullptr);
  ASSERT_NE(idx.emplace("/").first, nullptr);
  ASSERT_NE(idx.emplace("/a").first, nullptr);
  EXPECT_EQ(idx.emplace("/a/b/c").first, nullptr);
  EXPECT_EQ(idx.path_of(*idx.find("@introduceDomain")), "@introduceDomain");
  EXPECT_EQ(idx.path_of(*idx.find("/")), "/");
  EXPECT_EQ(idx.path_of(*idx.find("/a")), "/a");
}

// The index confirms a hash match by the names along the parent chain:
// paths with the same last component, or the same characters split at
// another '/', are different nodes.
TEST(NodeIndex, PathsThatShareNamesOrCharactersStayApart) {
  NodeIndex idx;
  for (const char* p : {"/", "/a", "/b", "/ab", "/a/b", "/b/b", "/a/b/x",
                        "/b/b/x", "/ab/x"})
    ASSERT_TRUE(idx.emplace(p).second) << p;
  idx.find("/a/b/x")->name_value.set_value("1");
  idx.find("/b/b/x")->name_value.set_value("2");
  idx.find("/ab/x")->name_value.set_value("3");
  EXPECT_EQ(idx.find("/a/b/x")->value(), "1");
  EXPECT_EQ(idx.find("/b/b/x")->value(), "2");
  EXPECT_EQ(idx.find("/ab/x")->value(), "3");
  EXPECT_EQ(idx.find("/abx"), nullptr);
  EXPECT_EQ(idx.find("/a/bx"), nullptr);
  EXPECT_EQ(idx.find("/x"), nullptr);
  EXPECT_EQ(idx.path_of(*idx.find("/a/b/x")), "/a/b/x");
}

TEST(NodeIndex, MatchesAMapThroughRandomInsertsAndErases) {
  NodeIndex idx;
  std::map<std::string, std::string> model;
  std::map<std::string, const NodeRecord*> where;
  for (const char* p : {"/", "/d0", "/d1", "/d2"}) {
    idx.emplace(p);
    model[p] = "";
    where[p] = idx.find(p);
  }
  std::mt19937 rng(7);
  for (int step = 0; step < 60000; ++step) {
    std::string path = "/d" + std::to_string(rng() % 3) + "/n" +
                       std::to_string(rng() % 4000);
    if (rng() % 3 != 0) {
      auto [n, created] = idx.emplace(path);
      ASSERT_NE(n, nullptr);
      EXPECT_EQ(created, model.count(path) == 0) << path;
      if (created) {
        // Some values fit beside the name, some need the heap.
        std::string value(step % 20, 'v');
        n->name_value.set_value(value);
        model[path] = value;
        where[path] = n;
      }
    } else {
      EXPECT_EQ(idx.erase(path), model.erase(path) == 1) << path;
      where.erase(path);
    }
  }
  ASSERT_EQ(idx.size(), model.size());
  for (const auto& [path, value] : model) {
    const NodeRecord* n = idx.find(path);
    ASSERT_NE(n, nullptr) << path;
    EXPECT_EQ(n->value(), value);
    EXPECT_EQ(n, where[path]) << "node moved: " << path;
  }
  std::size_t seen = 0;
  idx.for_each([&](std::string_view path, const NodeRecord& n) {
    ++seen;
    EXPECT_EQ(model.at(std::string(path)), n.value());
  });
  EXPECT_EQ(seen, model.size());
}

TEST(NodeIndex, ErasingEverythingLeavesItEmptyAndReusable) {
  NodeIndex idx;
  idx.emplace("/");
  idx.emplace("/x");
  for (int i = 0; i < 5000; ++i) idx.emplace("/x/" + std::to_string(i));
  for (int i = 0; i < 5000; i += 2) EXPECT_TRUE(idx.erase("/x/" + std::to_string(i)));
  for (int i = 1; i < 5000; i += 2) EXPECT_NE(idx.find("/x/" + std::to_string(i)), nullptr);
  for (int i = 1; i < 5000; i += 2) EXPECT_TRUE(idx.erase("/x/" + std::to_string(i)));
  EXPECT_EQ(idx.size(), 2u);
  EXPECT_TRUE(idx.emplace("/x/1").second);
  EXPECT_NE(idx.find("/x/1"), nullptr);
}

// A 1500-level path (the longest the path rules allow is about that deep)
// is found and spelled back without recursion.
TEST(NodeIndex, DeepPathsAreFoundAndSpelledBack) {
  NodeIndex idx;
  idx.emplace("/");
  std::string path;
  for (int i = 0; i < 1500; ++i) {
    path += "/a";
    ASSERT_TRUE(idx.emplace(path).second);
  }
  ASSERT_NE(idx.find(path), nullptr);
  EXPECT_EQ(idx.path_of(*idx.find(path)), path);
}

}  // namespace
}  // namespace cxs::store

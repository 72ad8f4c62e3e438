// NodeIndex against a std::map doing the same inserts and erases: every
// node stays findable through growth and backward-shift removal, and a
// node's address does not change while it lives.
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

TEST(NodeIndex, EmplaceReturnsTheExistingNode) {
  NodeIndex idx;
  auto [a, created] = idx.emplace("/a");
  EXPECT_TRUE(created);
  a->value = "one";
  auto [again, created_again] = idx.emplace("/a");
  EXPECT_FALSE(created_again);
  EXPECT_EQ(again, a);
  EXPECT_EQ(idx.find("/a")->value, "one");
  EXPECT_EQ(idx.find("/a/"), nullptr);
  EXPECT_EQ(idx.find("/"), nullptr);
}

TEST(NodeIndex, MatchesAMapThroughRandomInsertsAndErases) {
  NodeIndex idx;
  std::map<std::string, std::string> model;
  std::map<std::string, const Node*> where;
  std::mt19937 rng(7);
  for (int step = 0; step < 60000; ++step) {
    std::string path = "/d" + std::to_string(rng() % 3) + "/n" +
                       std::to_string(rng() % 4000);
    if (rng() % 3 != 0) {
      auto [n, created] = idx.emplace(path);
      EXPECT_EQ(created, model.count(path) == 0) << path;
      if (created) {
        n->value = std::to_string(step);
        model[path] = n->value;
        where[path] = n;
      }
    } else {
      EXPECT_EQ(idx.erase(path), model.erase(path) == 1) << path;
      where.erase(path);
    }
  }
  ASSERT_EQ(idx.size(), model.size());
  for (const auto& [path, value] : model) {
    const Node* n = idx.find(path);
    ASSERT_NE(n, nullptr) << path;
    EXPECT_EQ(n->value, value);
    EXPECT_EQ(n, where[path]) << "node moved: " << path;
  }
  std::size_t seen = 0;
  idx.for_each([&](std::string_view path, const Node& n) {
    ++seen;
    EXPECT_EQ(model.at(std::string(path)), n.value);
  });
  EXPECT_EQ(seen, model.size());
}

TEST(NodeIndex, ErasingEverythingLeavesItEmptyAndReusable) {
  NodeIndex idx;
  for (int i = 0; i < 5000; ++i) idx.emplace("/x/" + std::to_string(i));
  for (int i = 0; i < 5000; i += 2) EXPECT_TRUE(idx.erase("/x/" + std::to_string(i)));
  for (int i = 1; i < 5000; i += 2) EXPECT_NE(idx.find("/x/" + std::to_string(i)), nullptr);
  for (int i = 1; i < 5000; i += 2) EXPECT_TRUE(idx.erase("/x/" + std::to_string(i)));
  EXPECT_EQ(idx.size(), 0u);
  EXPECT_TRUE(idx.emplace("/x/1").second);
  EXPECT_NE(idx.find("/x/1"), nullptr);
}

}  // namespace
}  // namespace cxs::store

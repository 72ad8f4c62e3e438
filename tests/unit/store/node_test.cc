// ChildNames: a node's children as one NUL-joined string in creation order.
#include "store/node.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cxs::store {
namespace {

std::vector<std::string> names_of(const ChildNames& c) {
  std::vector<std::string> out;
  c.for_each([&](std::string_view n) { out.emplace_back(n); });
  return out;
}

TEST(ChildNames, KeepCreationOrderAndFormTheDirectoryPayload) {
  ChildNames c;
  c.add("b");
  c.add("a");
  c.add("long-name-beyond-small-string");
  EXPECT_EQ(names_of(c), (std::vector<std::string>{
                             "b", "a", "long-name-beyond-small-string"}));
  EXPECT_EQ(c.joined(), std::string("b\0a\0long-name-beyond-small-string\0", 34));
  EXPECT_EQ(c.bytes(), 34u);
}

TEST(ChildNames, RemoveTakesOnlyTheWholeNameAsked) {
  ChildNames c{"ab", "a", "abc", "b"};
  EXPECT_TRUE(c.remove("a"));  // not the prefix of "ab" or "abc"
  EXPECT_EQ(names_of(c), (std::vector<std::string>{"ab", "abc", "b"}));
  EXPECT_FALSE(c.remove("a"));
  EXPECT_TRUE(c.remove("b"));  // the last one
  EXPECT_TRUE(c.remove("ab"));  // the first one
  EXPECT_EQ(names_of(c), (std::vector<std::string>{"abc"}));
  EXPECT_TRUE(c.remove("abc"));
  EXPECT_TRUE(c.empty());
  EXPECT_EQ(c.bytes(), 0u);
}

TEST(ChildNames, CopiesAreIndependentAndALeafHoldsNothing) {
  ChildNames a{"x", "y"};
  ChildNames b(a);
  b.add("z");
  EXPECT_EQ(a.bytes(), 4u);
  EXPECT_EQ(b.bytes(), 6u);
  a = b;
  b.remove("x");
  EXPECT_EQ(names_of(a), (std::vector<std::string>{"x", "y", "z"}));
  a = a;
  EXPECT_EQ(a.bytes(), 6u);
  ChildNames leaf;
  EXPECT_EQ(leaf.joined(), "");
  EXPECT_FALSE(leaf.remove("x"));
  ChildNames moved(std::move(a));
  EXPECT_EQ(moved.bytes(), 6u);
}

TEST(ChildNames, NodeChildrenBytesFollowAddsAndRemoves) {
  Node n;
  n.add_child("x");
  n.add_child("yy");
  EXPECT_EQ(n.children_bytes(), 5u);
  n.remove_child("x");
  EXPECT_EQ(n.children_bytes(), 3u);
}

}  // namespace
}  // namespace cxs::store

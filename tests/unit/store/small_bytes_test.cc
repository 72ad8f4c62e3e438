// SmallBytes: a node's value, inline up to 15 bytes, on the heap beyond.
#include "store/small_bytes.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace cxs::store {
namespace {

TEST(SmallBytes, KeepsEveryLengthAroundTheInlineLimit) {
  for (std::size_t n : {0u, 1u, 14u, 15u, 16u, 17u, 100u, 4096u}) {
    std::string s(n, 'v');
    if (n > 2) s[1] = '\0';  // binary-safe
    SmallBytes b(s);
    EXPECT_EQ(b.size(), n);
    EXPECT_EQ(b.view(), s);
    EXPECT_EQ(b.str(), s);
  }
}

TEST(SmallBytes, CopiesMovesAndReassignmentsOwnTheirBytes) {
  SmallBytes big(std::string(40, 'b'));
  SmallBytes small("tiny");
  SmallBytes copy(big);
  big.assign("x");  // heap -> inline
  EXPECT_EQ(copy.view(), std::string(40, 'b'));
  EXPECT_EQ(big.view(), "x");
  SmallBytes moved(std::move(copy));
  EXPECT_TRUE(copy.empty());
  EXPECT_EQ(moved.view(), std::string(40, 'b'));
  small = moved;  // inline -> heap
  EXPECT_EQ(small.view(), std::string(40, 'b'));
  small = small;
  EXPECT_EQ(small.size(), 40u);
  moved = std::move(big);
  EXPECT_EQ(moved.view(), "x");
  moved = std::string(20, 'z');
  EXPECT_TRUE(moved == std::string(20, 'z'));
}

}  // namespace
}  // namespace cxs::store

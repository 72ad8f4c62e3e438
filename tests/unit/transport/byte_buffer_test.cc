// ByteBuffer: the output queue's buffer, extended in place.
#include "transport/byte_buffer.h"

#include <gtest/gtest.h>

#include <string>

namespace cxs::transport {
namespace {

TEST(ByteBuffer, StartsEmptyWithoutStorage) {
  ByteBuffer b;
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(b.view(), "");
}

TEST(ByteBuffer, ExtendHandsOutRoomAtTheEnd) {
  ByteBuffer b(std::string_view("head"));
  char* at = b.extend(3);
  at[0] = 'x';
  at[1] = 'y';
  at[2] = 'z';
  EXPECT_EQ(b.view(), "headxyz");
}

TEST(ByteBuffer, GrowingKeepsEveryByteWritten) {
  ByteBuffer b;
  std::string expected;
  for (int i = 0; i < 5000; ++i) {
    std::string piece(static_cast<std::size_t>(i % 23), static_cast<char>('a' + i % 26));
    b.append(piece);
    expected += piece;
  }
  EXPECT_EQ(b.view(), expected);
  EXPECT_GE(b.capacity(), b.size());
}

TEST(ByteBuffer, ClearKeepsTheCapacity) {
  ByteBuffer b(std::string(1000, 'q'));
  std::size_t capacity = b.capacity();
  b.clear();
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.capacity(), capacity);
  b.append("again");
  EXPECT_EQ(b.view(), "again");
}

TEST(ByteBuffer, MoveLeavesTheSourceEmpty) {
  ByteBuffer a(std::string_view("bytes"));
  ByteBuffer b(std::move(a));
  EXPECT_EQ(b.view(), "bytes");
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): the contract
  EXPECT_EQ(a.capacity(), 0u);
  a = std::move(b);
  EXPECT_EQ(a.view(), "bytes");
}

// copy_bytes takes different paths for 0, 1-3, 4-7, 8-16 and longer runs.
TEST(ByteBuffer, CopyBytesCopiesEveryLengthExactly) {
  std::string src;
  for (int i = 0; i < 40; ++i) src += static_cast<char>('A' + i);
  for (std::size_t n = 0; n <= src.size(); ++n) {
    std::string dst(42, '.');
    copy_bytes(dst.data() + 1, src.data(), n);
    EXPECT_EQ(dst.substr(1, n), src.substr(0, n)) << n;
    EXPECT_EQ(dst[0], '.') << n;
    EXPECT_EQ(dst.substr(1 + n), std::string(41 - n, '.')) << n;
  }
}

}  // namespace
}  // namespace cxs::transport

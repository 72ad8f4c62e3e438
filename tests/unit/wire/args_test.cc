// Argument splitting of request payloads, as the C daemon reads them.
#include "wire/args.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace cxs::wire {
namespace {

using namespace std::string_view_literals;
using Args = std::vector<std::string_view>;

TEST(Args, TwoTerminatedArgumentsSplitInTwo) {
  EXPECT_EQ(split_args("a\0b\0"sv), (Args{"a", "b"}));
}

TEST(Args, TrailingBytesWithoutNulFormALastArgument) {
  EXPECT_EQ(split_args("a\0b"sv), (Args{"a", "b"}));
  EXPECT_EQ(split_args("abc"sv), (Args{"abc"}));
}

TEST(Args, EmptyPayloadHasNoArguments) {
  EXPECT_TRUE(split_args(""sv).empty());
}

TEST(Args, EmptyArgumentsAreKept) {
  EXPECT_EQ(split_args("\0"sv), (Args{""}));
  EXPECT_EQ(split_args("\0\0"sv), (Args{"", ""}));
  EXPECT_EQ(split_args("a\0\0b\0"sv), (Args{"a", "", "b"}));
}

TEST(Args, FirstArgStopsAtTheFirstNul) {
  EXPECT_EQ(first_arg("path\0rest\0"sv), "path");
  EXPECT_EQ(first_arg("nonul"sv), "nonul");
  EXPECT_EQ(first_arg(""sv), "");
  EXPECT_EQ(first_arg("\0x"sv), "");
}

TEST(Args, SplitFirstSeparatesPathFromBinaryRest) {
  std::string_view first, rest;
  ASSERT_TRUE(split_first("/a\0val\0ue\xff"sv, first, rest));
  EXPECT_EQ(first, "/a");
  EXPECT_EQ(rest, "val\0ue\xff"sv);
}

TEST(Args, SplitFirstWithNothingAfterTheNulGivesAnEmptyRest) {
  std::string_view first, rest = "unchanged";
  ASSERT_TRUE(split_first("/a\0"sv, first, rest));
  EXPECT_EQ(first, "/a");
  EXPECT_TRUE(rest.empty());
}

TEST(Args, SplitFirstWithoutNulIsMalformed) {
  std::string_view first, rest;
  EXPECT_FALSE(split_first("/a"sv, first, rest));
  EXPECT_FALSE(split_first(""sv, first, rest));
}

TEST(Args, CountNulsCountsEveryNul) {
  EXPECT_EQ(count_nuls(""sv), 0u);
  EXPECT_EQ(count_nuls("abc"sv), 0u);
  EXPECT_EQ(count_nuls("a\0b\0"sv), 2u);
  EXPECT_EQ(count_nuls("\0\0\0"sv), 3u);
  EXPECT_EQ(count_nuls("a\0b"sv), 1u);
}

}  // namespace
}  // namespace cxs::wire

// Permission strings: "r5", "b0", "n3", "w7" and lists of them.
#include "wire/perm_string.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace cxs::wire {
namespace {

using namespace std::string_view_literals;

TEST(PermString, EachLetterParsesToItsBits) {
  EXPECT_EQ(parse_perm("r5"), (Perm{DomId{5}, kPermRead}));
  EXPECT_EQ(parse_perm("b0"), (Perm{DomId{0}, kPermBoth}));
  EXPECT_EQ(parse_perm("n3"), (Perm{DomId{3}, kPermNone}));
  EXPECT_EQ(parse_perm("w7"), (Perm{DomId{7}, kPermWrite}));
}

TEST(PermString, LargestDomidIsAccepted) {
  EXPECT_EQ(parse_perm("r65535"), (Perm{DomId{65535}, kPermRead}));
  EXPECT_EQ(parse_perm("b32752"), (Perm{DomId{32752}, kPermBoth}));
}

TEST(PermString, UnknownLetterIsRejected) {
  EXPECT_FALSE(parse_perm("x0"));
  EXPECT_FALSE(parse_perm("R5"));
  EXPECT_FALSE(parse_perm("05"));
}

TEST(PermString, MissingNumberIsRejected) {
  EXPECT_FALSE(parse_perm("r"));
  EXPECT_FALSE(parse_perm(""));
}

TEST(PermString, NonDecimalNumberIsRejected) {
  EXPECT_FALSE(parse_perm("rabc"));
  EXPECT_FALSE(parse_perm("r5x"));
  EXPECT_FALSE(parse_perm("r 5"));
  EXPECT_FALSE(parse_perm("r5 "));
}

TEST(PermString, OutOfRangeDomidIsRejected) {
  EXPECT_FALSE(parse_perm("r70000"));
  EXPECT_FALSE(parse_perm("r65536"));
  EXPECT_FALSE(parse_perm("r99999999999999999999"));
}

TEST(PermString, NegativeDomidIsRejected) {
  EXPECT_FALSE(parse_perm("r-1"));
}

TEST(PermString, ListParsesEveryEntryInOrder) {
  auto list = parse_perm_list({"b0", "r5", "w7"});
  ASSERT_TRUE(list);
  EXPECT_EQ(*list, (PermList{{DomId{0}, kPermBoth},
                             {DomId{5}, kPermRead},
                             {DomId{7}, kPermWrite}}));
}

TEST(PermString, EmptyListIsRejected) {
  EXPECT_FALSE(parse_perm_list({}));
}

TEST(PermString, ListWithOneBadEntryIsRejected) {
  EXPECT_FALSE(parse_perm_list({"b0", "x5"}));
  EXPECT_FALSE(parse_perm_list({"b0", ""}));
}

TEST(PermString, FormatPutsANulAfterEveryEntry) {
  PermList perms{{DomId{0}, kPermNone}, {DomId{5}, kPermRead},
                 {DomId{7}, kPermWrite}, {DomId{9}, kPermBoth}};
  EXPECT_EQ(format_perm_list(perms), "n0\0r5\0w7\0b9\0"sv);
  EXPECT_EQ(format_perm_list({}), "");
}

TEST(PermString, FormatThenParseRoundTrips) {
  PermList perms{{DomId{3}, kPermBoth}, {DomId{0}, kPermRead},
                 {DomId{65535}, kPermNone}, {DomId{12}, kPermWrite}};
  std::string text = format_perm_list(perms);
  std::vector<std::string_view> entries;
  std::string_view rest = text;
  while (!rest.empty()) {
    std::size_t nul = rest.find('\0');
    ASSERT_NE(nul, std::string_view::npos);
    entries.push_back(rest.substr(0, nul));
    rest.remove_prefix(nul + 1);
  }
  auto back = parse_perm_list(entries);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, perms);
}

TEST(PermString, ParseThenFormatRoundTrips) {
  for (std::string_view s : {"r5"sv, "b0"sv, "n3"sv, "w7"sv, "b65535"sv}) {
    auto p = parse_perm(s);
    ASSERT_TRUE(p) << s;
    EXPECT_EQ(format_perm_list({*p}), std::string(s) + '\0');
  }
}

}  // namespace
}  // namespace cxs::wire

// Path rules: validation, canonicalisation and the parent/child relations.
#include "store/path.h"

#include <gtest/gtest.h>

#include <cctype>
#include <random>
#include <string>

#include "cxenstored/limits.h"

namespace cxs::store {
namespace {

constexpr DomId kDom5{5};

XsErr err_of(std::string_view path, PathKind kind = PathKind::kNode) {
  auto r = canonicalise(path, kDom5, kind);
  EXPECT_FALSE(r.ok()) << path;
  return r.ok() ? XsErr::kEIO : r.error();
}

TEST(Path, NodePathsAreCanonicalAbsoluteOrASpecialNodesName) {
  for (const char* ok : {"/", "/a", "/a/b-c_d", "@releaseDomain"})
    EXPECT_TRUE(is_node_path(ok)) << ok;
  for (const char* bad : {"", "a", "/a/", "//", "/a//b", "@releaseDomain/5",
                          "@bad name", "/a b"})
    EXPECT_FALSE(is_node_path(bad)) << bad;
}

TEST(Path, HomePathIsLocalDomainDomid) {
  EXPECT_EQ(home_path(DomId{0}), "/local/domain/0");
  EXPECT_EQ(home_path(DomId{5}), "/local/domain/5");
  EXPECT_EQ(home_path(DomId{32752}), "/local/domain/32752");
}

TEST(Path, EveryAllowedCharacterIsValid) {
  EXPECT_TRUE(is_valid_absolute(
      "/abcdefghijklmnopqrstuvwxyz/ABCDEFGHIJKLMNOPQRSTUVWXYZ/0123456789/-_@"));
  EXPECT_TRUE(is_valid_absolute("/"));
  EXPECT_TRUE(is_valid_absolute("/a"));
  EXPECT_TRUE(is_valid_absolute("/a@b/c-d/e_f"));
}

TEST(Path, OtherCharactersAreInvalid) {
  for (char c : std::string(" .:,;!?*+=~#$%^&()[]{}<>|\\'\"`\t\n\x7f\x80\xff")) {
    std::string p = std::string("/a") + c + "b";
    EXPECT_FALSE(is_valid_absolute(p)) << p;
    EXPECT_EQ(err_of(p), XsErr::kEINVAL) << p;
  }
  EXPECT_FALSE(is_valid_absolute(std::string("/a\0b", 4)));
}

TEST(Path, DoubleSlashIsInvalid) {
  EXPECT_FALSE(is_valid_absolute("//"));
  EXPECT_FALSE(is_valid_absolute("/a//b"));
  EXPECT_EQ(err_of("/a//b"), XsErr::kEINVAL);
  EXPECT_EQ(err_of("a//b"), XsErr::kEINVAL);
}

// The "//" check reads 8-byte words overlapping by one byte: a pair at each
// position of each length up to 40 (both sides of every word boundary).
TEST(Path, DoubleSlashIsFoundAtEveryPosition) {
  for (std::size_t len = 3; len <= 40; ++len) {
    std::string plain = "/" + std::string(len - 1, 'a');
    ASSERT_TRUE(is_valid_absolute(plain)) << plain;
    for (std::size_t at = 0; at + 1 < len - 1; ++at) {
      std::string path = plain;
      path[at] = '/';
      path[at + 1] = '/';
      EXPECT_FALSE(is_valid_absolute(path)) << path;
      if (at == 0) continue;  // the leading '/' is always there
      std::string single = plain;
      single[at + 1] = '/';
      EXPECT_TRUE(is_valid_absolute(single)) << single;
    }
  }
}

// The rules spelt the slow way, to check the table-driven validator.
bool valid_by_rules(const std::string& path) {
  if (path.empty() || path[0] != '/' || path.size() > kAbsPathMax) return false;
  for (std::size_t i = 0; i < path.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(path[i]);
    bool allowed = std::isalnum(c) || c == '-' || c == '/' || c == '_' ||
                   c == '@';
    if (c >= 0x80 || !allowed) return false;
    if (c == '/' && i > 0 && path[i - 1] == '/') return false;
  }
  return path.size() == 1 || path.back() != '/';
}

TEST(Path, ValidatorAgreesWithTheRulesOnRandomPaths) {
  // Mostly valid bytes and many slashes, so that bad bytes and "//" land
  // at every position.
  const std::string alphabet = std::string("aZ09-_@/////") + '.' + '\0' +
                               "\x80\xff ~`:" + '\x7f';
  std::mt19937 rng(20261207);
  int valid = 0;
  for (int round = 0; round < 50000; ++round) {
    std::size_t len = 1 + rng() % 40;
    std::string path = "/";
    while (path.size() < len) {
      bool rare = rng() % 8 == 0;
      std::size_t pick = rare ? rng() % alphabet.size() : rng() % 12;
      path += alphabet[pick];
    }
    bool expected = valid_by_rules(path);
    valid += expected;
    ASSERT_EQ(is_valid_absolute(path), expected) << testing::PrintToString(path);
  }
  EXPECT_GT(valid, 1000);  // both answers were exercised
  EXPECT_LT(valid, 49000);
}

TEST(Path, TrailingSlashIsInvalidExceptForTheRoot) {
  EXPECT_FALSE(is_valid_absolute("/a/"));
  EXPECT_EQ(err_of("/a/"), XsErr::kEINVAL);
  EXPECT_EQ(err_of("a/"), XsErr::kEINVAL);
  auto root = canonicalise("/", kDom5);
  ASSERT_TRUE(root);
  EXPECT_EQ(*root, "/");
}

TEST(Path, EmptyPathIsInvalid) {
  EXPECT_FALSE(is_valid_absolute(""));
  EXPECT_EQ(err_of(""), XsErr::kEINVAL);
  EXPECT_EQ(err_of("", PathKind::kNodeOrSpecial), XsErr::kEINVAL);
}

TEST(Path, AbsolutePathOf3072BytesIsAccepted) {
  std::string p = "/" + std::string(kAbsPathMax - 1, 'a');
  ASSERT_EQ(p.size(), 3072u);
  EXPECT_TRUE(is_valid_absolute(p));
  auto r = canonicalise(p, kDom5);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, p);
}

TEST(Path, AbsolutePathOf3073BytesIsEinval) {
  std::string p = "/" + std::string(kAbsPathMax, 'a');
  ASSERT_EQ(p.size(), 3073u);
  EXPECT_FALSE(is_valid_absolute(p));
  EXPECT_EQ(err_of(p), XsErr::kEINVAL);
}

TEST(Path, RelativePathIsJoinedToTheCallersHome) {
  auto r = canonicalise("device/vif/0", kDom5);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "/local/domain/5/device/vif/0");
  auto r0 = canonicalise("x", DomId{0});
  ASSERT_TRUE(r0);
  EXPECT_EQ(*r0, "/local/domain/0/x");
}

TEST(Path, RelativePathLengthCountsTheHomePrefix) {
  // "/local/domain/5/" is 16 bytes: the longest relative path is 3056.
  std::string ok(kAbsPathMax - 16, 'r');
  EXPECT_TRUE(canonicalise(ok, kDom5).ok());
  EXPECT_EQ(err_of(ok + "r"), XsErr::kEINVAL);
}

TEST(Path, AbsolutePathIsKeptAsItIs) {
  auto r = canonicalise("/local/domain/7/x", kDom5);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "/local/domain/7/x");
}

TEST(Path, SpecialPathIsAcceptedOnlyWithNodeOrSpecial) {
  EXPECT_EQ(err_of("@releaseDomain"), XsErr::kEINVAL);
  EXPECT_EQ(err_of("@introduceDomain", PathKind::kNode), XsErr::kEINVAL);
  for (std::string_view s :
       {"@releaseDomain", "@introduceDomain", "@releaseDomain/5"}) {
    auto r = canonicalise(s, kDom5, PathKind::kNodeOrSpecial);
    ASSERT_TRUE(r) << s;
    EXPECT_EQ(*r, s);
  }
}

TEST(Path, MalformedSpecialPathIsEinval) {
  EXPECT_EQ(err_of("@a/", PathKind::kNodeOrSpecial), XsErr::kEINVAL);
  EXPECT_EQ(err_of("@a//b", PathKind::kNodeOrSpecial), XsErr::kEINVAL);
  EXPECT_EQ(err_of("@a b", PathKind::kNodeOrSpecial), XsErr::kEINVAL);
  EXPECT_EQ(err_of("@" + std::string(kAbsPathMax, 'x'),
                   PathKind::kNodeOrSpecial),
            XsErr::kEINVAL);
}

TEST(Path, KindPredicatesClassifyPaths) {
  EXPECT_TRUE(is_special("@releaseDomain"));
  EXPECT_FALSE(is_special("/a"));
  EXPECT_FALSE(is_special(""));
  EXPECT_TRUE(is_relative("a/b"));
  EXPECT_FALSE(is_relative("/a"));
  EXPECT_FALSE(is_relative("@a"));
  EXPECT_FALSE(is_relative(""));
}

TEST(Path, ParentOfStripsTheLastComponent) {
  EXPECT_EQ(parent_of("/a/b/c"), "/a/b");
  EXPECT_EQ(parent_of("/a/b"), "/a");
  EXPECT_EQ(parent_of("/a"), "/");
  EXPECT_EQ(parent_of("/"), "/");
}

TEST(Path, BasenameOfIsTheLastComponent) {
  EXPECT_EQ(basename_of("/a/b/c"), "c");
  EXPECT_EQ(basename_of("/a"), "a");
  EXPECT_EQ(basename_of("/"), "");
}

TEST(Path, JoinAddsOneSlash) {
  EXPECT_EQ(join("/a", "b"), "/a/b");
  EXPECT_EQ(join("/", "b"), "/b");
  EXPECT_EQ(join("/a/b", "c"), "/a/b/c");
}

TEST(Path, SameOrBelowRespectsComponentBoundaries) {
  EXPECT_TRUE(is_same_or_below("/a", "/a"));
  EXPECT_TRUE(is_same_or_below("/a/b", "/a"));
  EXPECT_TRUE(is_same_or_below("/a/b/c", "/a"));
  EXPECT_FALSE(is_same_or_below("/ab", "/a"));
  EXPECT_FALSE(is_same_or_below("/a", "/a/b"));
  EXPECT_FALSE(is_same_or_below("/b", "/a"));
}

TEST(Path, EveryAbsolutePathIsBelowTheRoot) {
  EXPECT_TRUE(is_same_or_below("/", "/"));
  EXPECT_TRUE(is_same_or_below("/a", "/"));
  EXPECT_TRUE(is_same_or_below("/a/b", "/"));
  EXPECT_FALSE(is_same_or_below("@releaseDomain", "/"));
}

TEST(Path, DepthCountsComponents) {
  EXPECT_EQ(depth_of("/"), 0u);
  EXPECT_EQ(depth_of("/a"), 1u);
  EXPECT_EQ(depth_of("/a/b"), 2u);
  EXPECT_EQ(depth_of("/local/domain/5/x"), 4u);
  EXPECT_EQ(depth_of("@releaseDomain"), 1u);
  EXPECT_EQ(depth_of("@releaseDomain/5"), 2u);
}

}  // namespace
}  // namespace cxs::store

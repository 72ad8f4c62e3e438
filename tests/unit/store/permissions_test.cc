#include "store/permissions.h"

#include <gtest/gtest.h>

namespace cxs::store {
namespace {

PermList list(std::initializer_list<Perm> p) { return PermList(p); }
constexpr std::uint8_t kRW = kPermRead | kPermWrite;

TEST(Permissions, OwnerHasFullAccessWhateverItsLetter) {
  Caller five{DomId{5}};
  EXPECT_EQ(access_for(five, list({{DomId{5}, kPermNone}})),
            kRW | kPermOwner);
}

TEST(Permissions, OwnEntryBeatsTheDefault) {
  Caller five{DomId{5}};
  auto p = list({{DomId{0}, kPermRead}, {DomId{5}, kPermNone}});
  EXPECT_EQ(access_for(five, p), kPermNone);
  Caller six{DomId{6}};
  EXPECT_EQ(access_for(six, p), kPermRead);
}

TEST(Permissions, DomidAnyGrantsEveryDomainWithoutItsOwnEntry) {
  auto p = list({{DomId{0}, kPermNone},
                 {DomId{kDomidAny}, kPermRead},
                 {DomId{7}, kPermNone}});
  EXPECT_EQ(access_for(Caller{DomId{5}}, p), kPermRead);
  EXPECT_EQ(access_for(Caller{DomId{7}}, p), kPermNone);
}

TEST(Permissions, TargetActsWithItsTargetsRights) {
  Caller stubdom{DomId{9}, false, DomId{5}};
  EXPECT_EQ(access_for(stubdom, list({{DomId{5}, kPermNone}})),
            kRW | kPermOwner);
}

TEST(Permissions, PrivilegedCallerBypassesEveryCheck) {
  Caller dom0{DomId{0}, true};
  EXPECT_TRUE(may(dom0, list({{DomId{5}, kPermNone}}), kRW | kPermOwner));
}

}  // namespace
}  // namespace cxs::store

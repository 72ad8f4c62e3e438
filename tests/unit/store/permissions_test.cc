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

// An ignored entry is passed over: a later entry, or the default, decides.
TEST(Permissions, IgnoredEntryGrantsNothing) {
  Caller five{DomId{5}};
  auto p = list({{DomId{0}, kPermNone},
                 {DomId{5}, kPermBoth | kPermIgnored}});
  EXPECT_EQ(access_for(five, p), kPermNone);
  p.push_back({DomId{5}, kPermRead});
  EXPECT_EQ(access_for(five, p), kPermRead);
}

TEST(Permissions, DomidAnyGrantsEveryDomain) {
  auto p = list({{DomId{0}, kPermNone}, {DomId{kDomidAny}, kPermRead}});
  EXPECT_EQ(access_for(Caller{DomId{5}}, p), kPermRead);
  EXPECT_EQ(access_for(Caller{DomId{7}}, p), kPermRead);
}

TEST(Permissions, FirstApplyingEntryWinsInListOrder) {
  // C 4.22 scans the list once: an earlier DOMID_ANY entry beats a later
  // entry of the domain's own, and an earlier own entry beats DOMID_ANY.
  auto any_first = list({{DomId{0}, kPermNone},
                         {DomId{kDomidAny}, kPermRead},
                         {DomId{7}, kPermNone}});
  EXPECT_EQ(access_for(Caller{DomId{7}}, any_first), kPermRead);
  auto own_first = list({{DomId{0}, kPermNone},
                         {DomId{7}, kPermNone},
                         {DomId{kDomidAny}, kPermRead}});
  EXPECT_EQ(access_for(Caller{DomId{7}}, own_first), kPermNone);
  EXPECT_EQ(access_for(Caller{DomId{8}}, own_first), kPermRead);
}

TEST(Permissions, DomidAnyOwnerGivesEveryDomainFullAccess) {
  auto p = list({{DomId{kDomidAny}, kPermNone}});
  EXPECT_EQ(access_for(Caller{DomId{5}}, p), kRW | kPermOwner);
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

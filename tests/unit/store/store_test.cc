// Store operations outside transactions: node semantics, watch events and
// permission checks, following the C xenstored.
#include "store/store.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cxenstored/limits.h"
#include "store/path.h"

namespace cxs::store {
namespace {

const Caller kPriv{DomId{0}, true, std::nullopt};
const Caller kDom5{DomId{5}, false, std::nullopt};
const Caller kDom7{DomId{7}, false, std::nullopt};

class StoreTest : public ::testing::Test {
 protected:
  void write(std::string_view path, std::string_view value = "",
             const Caller& c = kPriv) {
    EventSink ev;
    ASSERT_TRUE(store_.write(c, nullptr, path, value, ev).ok()) << path;
  }
  void set_perms(std::string_view path, PermList perms) {
    EventSink ev;
    ASSERT_TRUE(store_.set_perms(kPriv, nullptr, path, perms, ev).ok())
        << path;
  }
  XsErr read_err(std::string_view path, const Caller& c) {
    auto r = store_.read(c, nullptr, path);
    EXPECT_FALSE(r.ok()) << path;
    return r.ok() ? XsErr::kEIO : r.error();
  }
  std::uint64_t generation(std::string_view path) {
    NodeView n = store_.tree().find(path);
    return n ? n->generation() : kAbsentGeneration;
  }
  static std::vector<std::string> paths(const EventSink& ev) {
    std::vector<std::string> out;
    for (const auto& e : ev) out.push_back(e.path);
    return out;
  }

  Store store_;
};

PermList perms(std::initializer_list<std::pair<std::uint32_t, std::uint8_t>> l) {
  PermList out;
  for (auto [d, b] : l) out.push_back(Perm{DomId{d}, b});
  return out;
}

// --- read / write / mkdir ---------------------------------------------------

TEST_F(StoreTest, ReadOfAFreshNodeIsEmpty) {
  auto r = store_.read(kPriv, nullptr, "/tool/xenstored");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "");
}

TEST_F(StoreTest, ReadOfAMissingNodeIsEnoent) {
  EXPECT_EQ(read_err("/nope", kPriv), XsErr::kENOENT);
  EXPECT_EQ(read_err("/nope/deeper", kPriv), XsErr::kENOENT);
}

TEST_F(StoreTest, WriteThenReadGivesTheValueBack) {
  write("/a", "hello");
  auto r = store_.read(kPriv, nullptr, "/a");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "hello");
}

TEST_F(StoreTest, ValuesAreBinarySafe) {
  std::string value("\0\x01\xff\0end", 7);
  write("/bin", value);
  auto r = store_.read(kPriv, nullptr, "/bin");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, value);
}

TEST_F(StoreTest, WriteCreatesMissingParentsWithEmptyValues) {
  write("/a/b/c", "leaf");
  EXPECT_EQ(*store_.read(kPriv, nullptr, "/a"), "");
  EXPECT_EQ(*store_.read(kPriv, nullptr, "/a/b"), "");
  EXPECT_EQ(*store_.read(kPriv, nullptr, "/a/b/c"), "leaf");
  EXPECT_EQ(*store_.directory(kPriv, nullptr, "/a"), std::string("b\0", 2));
  EXPECT_EQ(*store_.directory(kPriv, nullptr, "/a/b"), std::string("c\0", 2));
}

// As in C: watches on the new ancestors hear of the deepest path.
TEST_F(StoreTest, WriteCreatingParentsFiresOneEventForTheRequestedPath) {
  EventSink ev;
  ASSERT_TRUE(store_.write(kPriv, nullptr, "/a/b/c", "v", ev).ok());
  EXPECT_EQ(paths(ev), (std::vector<std::string>{"/a/b/c"}));
  for (const auto& e : ev) {
    EXPECT_FALSE(e.recursive);
    EXPECT_EQ(e.perms, store_.tree().find(e.path)->perms());
  }
}

TEST_F(StoreTest, WriteOfAnExistingNodeFiresOneEvent) {
  write("/a/b");
  EventSink ev;
  ASSERT_TRUE(store_.write(kPriv, nullptr, "/a/b", "x", ev).ok());
  EXPECT_EQ(paths(ev), std::vector<std::string>{"/a/b"});
  EXPECT_FALSE(ev[0].recursive);
}

TEST_F(StoreTest, WriteStampsANewGeneration) {
  write("/a", "1");
  std::uint64_t g1 = generation("/a");
  write("/a", "2");
  EXPECT_GT(generation("/a"), g1);
}

TEST_F(StoreTest, NewNodesInheritTheParentsPermissions) {
  write("/p");
  set_perms("/p", perms({{3, kPermRead}, {9, kPermWrite}}));
  write("/p/q/r");
  EXPECT_EQ(*store_.get_perms(kPriv, nullptr, "/p/q"),
            perms({{3, kPermRead}, {9, kPermWrite}}));
  EXPECT_EQ(*store_.get_perms(kPriv, nullptr, "/p/q/r"),
            perms({{3, kPermRead}, {9, kPermWrite}}));
}

TEST_F(StoreTest, ChildrenAreListedInCreationOrder) {
  write("/d/zeta");
  write("/d/alpha");
  write("/d/mid");
  EXPECT_EQ(*store_.directory(kPriv, nullptr, "/d"),
            std::string("zeta\0alpha\0mid\0", 15));
}

TEST_F(StoreTest, MkdirCreatesAnEmptyNodeAndItsParents) {
  EventSink ev;
  ASSERT_TRUE(store_.mkdir(kPriv, nullptr, "/m/n", ev).ok());
  EXPECT_EQ(paths(ev), (std::vector<std::string>{"/m/n"}));
  EXPECT_EQ(*store_.read(kPriv, nullptr, "/m/n"), "");
}

TEST_F(StoreTest, MkdirOfAnExistingNodeIsOkAndKeepsItsValue) {
  write("/m", "keep");
  std::uint64_t g = generation("/m");
  EventSink ev;
  ASSERT_TRUE(store_.mkdir(kPriv, nullptr, "/m", ev).ok());
  EXPECT_TRUE(ev.empty());
  EXPECT_EQ(*store_.read(kPriv, nullptr, "/m"), "keep");
  EXPECT_EQ(generation("/m"), g);
}

// --- rm ------------------------------------------------------------------

TEST_F(StoreTest, RmRemovesTheNodeAndItsSubtree) {
  write("/a/b/c");
  write("/a/d");
  write("/keep");
  EventSink ev;
  ASSERT_TRUE(store_.rm(kPriv, nullptr, "/a", ev).ok());
  for (const char* p : {"/a", "/a/b", "/a/b/c", "/a/d"})
    EXPECT_EQ(store_.tree().find(p), nullptr) << p;
  EXPECT_NE(store_.tree().find("/keep"), nullptr);
  EXPECT_EQ(*store_.directory(kPriv, nullptr, "/"),
            std::string("tool\0keep\0", 10));
}

TEST_F(StoreTest, RmFiresEventsChildrenFirstWithTheTopOneRecursive) {
  write("/a/b/c");
  write("/a/d");
  EventSink ev;
  ASSERT_TRUE(store_.rm(kPriv, nullptr, "/a", ev).ok());
  auto got = paths(ev);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got.back(), "/a");
  // Every node is reported after all of its descendants.
  for (std::size_t i = 0; i < got.size(); ++i)
    for (std::size_t j = i + 1; j < got.size(); ++j)
      EXPECT_FALSE(is_same_or_below(got[j], got[i]) && got[j] != got[i])
          << got[j] << " reported after its ancestor " << got[i];
  // Removed descendants fire only the watches exactly on them.
  for (std::size_t i = 0; i + 1 < ev.size(); ++i) {
    EXPECT_FALSE(ev[i].recursive) << ev[i].path;
    EXPECT_TRUE(ev[i].exact) << ev[i].path;
  }
  EXPECT_TRUE(ev.back().recursive);
  EXPECT_FALSE(ev.back().exact);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"/a", "/a/b", "/a/b/c", "/a/d"}));
}

TEST_F(StoreTest, RmOfALeafFiresOneRecursiveEvent) {
  write("/x/y");
  EventSink ev;
  ASSERT_TRUE(store_.rm(kPriv, nullptr, "/x/y", ev).ok());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].path, "/x/y");
  EXPECT_TRUE(ev[0].recursive);
  EXPECT_EQ(*store_.directory(kPriv, nullptr, "/x"), "");
}

TEST_F(StoreTest, RmOfTheRootIsEinval) {
  EventSink ev;
  auto s = store_.rm(kPriv, nullptr, "/", ev);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), XsErr::kEINVAL);
  EXPECT_NE(store_.tree().find("/tool"), nullptr);
}

TEST_F(StoreTest, RmOfAMissingNodeWithAnExistingParentIsOk) {
  write("/p");
  EventSink ev;
  EXPECT_TRUE(store_.rm(kPriv, nullptr, "/p/missing", ev).ok());
  EXPECT_TRUE(ev.empty());
}

TEST_F(StoreTest, RmOfAMissingNodeWithAMissingParentIsEnoent) {
  EventSink ev;
  auto s = store_.rm(kPriv, nullptr, "/nope/missing", ev);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), XsErr::kENOENT);
}

TEST_F(StoreTest, RmOfADeepChainDoesNotRecurse) {
  std::string p;
  for (int i = 0; i < 1500; ++i) p += "/a";
  write(p);
  EventSink ev;
  ASSERT_TRUE(store_.rm(kPriv, nullptr, "/a", ev).ok());
  EXPECT_EQ(ev.size(), 1500u);
  EXPECT_EQ(store_.tree().size(), 5u);
}

// --- directory / directory_part --------------------------------------------

TEST_F(StoreTest, DirectoryOfALeafIsEmpty) {
  write("/leaf");
  EXPECT_EQ(*store_.directory(kPriv, nullptr, "/leaf"), "");
}

TEST_F(StoreTest, DirectoryOfAMissingNodeIsEnoent) {
  auto r = store_.directory(kPriv, nullptr, "/missing");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), XsErr::kENOENT);
}

TEST_F(StoreTest, DirectoryPartStartsWithTheNodesGeneration) {
  write("/d/a");
  write("/d/b");
  auto part = store_.directory_part(kPriv, nullptr, "/d", 0, kPayloadMax);
  ASSERT_TRUE(part);
  EXPECT_EQ(part->generation, generation("/d"));
  EXPECT_EQ(part->names, std::string("a\0b\0", 4));
  EXPECT_TRUE(part->last);
}

TEST_F(StoreTest, DirectoryPartFromAnOffsetSkipsEarlierNames) {
  write("/d/aa");
  write("/d/b");
  write("/d/ccc");
  auto part = store_.directory_part(kPriv, nullptr, "/d", 3, kPayloadMax);
  ASSERT_TRUE(part);
  EXPECT_EQ(part->names, std::string("b\0ccc\0", 6));
  EXPECT_TRUE(part->last);
}

TEST_F(StoreTest, DirectoryPartPastTheEndIsEmptyAndLast) {
  write("/d/a");
  for (std::size_t off : {std::size_t{2}, std::size_t{3}, std::size_t{1000}}) {
    auto part = store_.directory_part(kPriv, nullptr, "/d", off, kPayloadMax);
    ASSERT_TRUE(part) << off;
    EXPECT_EQ(part->names, "") << off;
    EXPECT_TRUE(part->last) << off;
    EXPECT_EQ(part->generation, generation("/d"));
  }
}

TEST_F(StoreTest, DirectoryPartOfALeafIsEmptyAndLast) {
  write("/leaf");
  auto part = store_.directory_part(kPriv, nullptr, "/leaf", 0, kPayloadMax);
  ASSERT_TRUE(part);
  EXPECT_EQ(part->names, "");
  EXPECT_TRUE(part->last);
}

TEST_F(StoreTest, DirectoryPartPagesSixHundredChildrenCompletely) {
  for (int i = 0; i < 600; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "child%05d", i);  // 10 characters
    write(std::string("/big/") + name);
  }
  std::string whole = *store_.directory(kPriv, nullptr, "/big");
  ASSERT_EQ(whole.size(), 600u * 11u);

  std::string joined;
  std::size_t offset = 0;
  int pages = 0;
  for (;;) {
    auto part =
        store_.directory_part(kPriv, nullptr, "/big", offset, kPayloadMax);
    ASSERT_TRUE(part);
    ++pages;
    ASSERT_LT(pages, 10);
    EXPECT_EQ(part->generation, generation("/big"));
    // Whole names only: each slice ends at a name boundary.
    if (!part->names.empty()) {
      EXPECT_EQ(part->names.back(), '\0');
      EXPECT_EQ(part->names.size() % 11, 0u);
    }
    std::size_t reply = std::to_string(part->generation).size() + 1 +
                        part->names.size() + (part->last ? 1 : 0);
    EXPECT_LE(reply, kPayloadMax);
    joined += part->names;
    offset += part->names.size();
    if (part->last) break;
    ASSERT_FALSE(part->names.empty()) << "no progress at " << offset;
  }
  EXPECT_GE(pages, 2);
  EXPECT_EQ(joined, whole);
}

TEST_F(StoreTest, DirectoryPartTakesNamesWhileTheFinalNulStillFits) {
  // C: a slice takes whole names while "gen\0" + names + 1 <= the payload
  // maximum, so the last slice's extra NUL always fits.
  write("/f/" + std::string(100, 'a'));
  write("/f/" + std::string(200, 'b'));
  write("/f/" + std::string(300, 'c'));
  std::string whole = *store_.directory(kPriv, nullptr, "/f");
  std::size_t genlen = std::to_string(generation("/f")).size() + 1;
  std::size_t exact = genlen + whole.size() + 1;

  auto all = store_.directory_part(kPriv, nullptr, "/f", 0, exact);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->names, whole);
  EXPECT_TRUE(all->last);

  auto short_by_one = store_.directory_part(kPriv, nullptr, "/f", 0, exact - 1);
  ASSERT_TRUE(short_by_one);
  EXPECT_EQ(short_by_one->names, whole.substr(0, 101 + 201));
  EXPECT_FALSE(short_by_one->last);

  // A page that ends exactly at a name boundary without being the last.
  std::size_t two = genlen + 101 + 201 + 1;
  auto page = store_.directory_part(kPriv, nullptr, "/f", 0, two);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->names.size(), 302u);
  EXPECT_FALSE(page->last);
  auto rest = store_.directory_part(kPriv, nullptr, "/f", 302, two);
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->names, whole.substr(302));
  EXPECT_TRUE(rest->last);
}

// --- permissions ------------------------------------------------------------

TEST_F(StoreTest, UnprivilegedReadOfANodeWithoutAccessIsEacces) {
  write("/secret", "s");  // inherits "n0" from "/"
  EXPECT_EQ(read_err("/secret", kDom5), XsErr::kEACCES);
  EXPECT_EQ(store_.directory(kDom5, nullptr, "/secret").error(),
            XsErr::kEACCES);
  EXPECT_EQ(store_.get_perms(kDom5, nullptr, "/secret").error(),
            XsErr::kEACCES);
}

TEST_F(StoreTest, OwnerAndReadersMayRead) {
  write("/n", "v");
  set_perms("/n", perms({{5, kPermNone}}));
  EXPECT_EQ(*store_.read(kDom5, nullptr, "/n"), "v");
  set_perms("/n", perms({{0, kPermNone}, {7, kPermRead}}));
  EXPECT_EQ(*store_.read(kDom7, nullptr, "/n"), "v");
  EXPECT_EQ(read_err("/n", kDom5), XsErr::kEACCES);
  // The owner entry's bits are the default for everyone else.
  set_perms("/n", perms({{0, kPermRead}}));
  EXPECT_EQ(*store_.read(kDom5, nullptr, "/n"), "v");
}

TEST_F(StoreTest, TargetActsWithTheTargetsRights) {
  write("/t", "v");
  set_perms("/t", perms({{9, kPermNone}}));
  Caller stubdom{DomId{5}, false, DomId{9}};
  EXPECT_EQ(*store_.read(stubdom, nullptr, "/t"), "v");
  EXPECT_EQ(read_err("/t", kDom5), XsErr::kEACCES);
}

TEST_F(StoreTest, MissingNodeUnderAnUnreadableAncestorIsEacces) {
  write("/hidden");  // n0
  EXPECT_EQ(read_err("/hidden/missing", kDom5), XsErr::kEACCES);
  EXPECT_EQ(read_err("/hidden/missing/deeper", kDom5), XsErr::kEACCES);
}

TEST_F(StoreTest, MissingNodeUnderAReadableAncestorIsEnoent) {
  write("/visible");
  set_perms("/visible", perms({{0, kPermNone}, {5, kPermRead}}));
  EXPECT_EQ(read_err("/visible/missing", kDom5), XsErr::kENOENT);
  EXPECT_EQ(read_err("/visible/missing/deeper", kDom5), XsErr::kENOENT);
  EXPECT_EQ(read_err("/visible/missing", kDom7), XsErr::kEACCES);
}

TEST_F(StoreTest, UnprivilegedWriteOfANodeWithoutWriteAccessIsEacces) {
  write("/ro", "v");
  set_perms("/ro", perms({{0, kPermRead}}));
  EventSink ev;
  auto s = store_.write(kDom5, nullptr, "/ro", "x", ev);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), XsErr::kEACCES);
  EXPECT_TRUE(ev.empty());
  EXPECT_EQ(*store_.read(kPriv, nullptr, "/ro"), "v");
}

TEST_F(StoreTest, UnprivilegedCreateUnderANodeWithoutWriteAccessIsEacces) {
  write("/ro");
  set_perms("/ro", perms({{0, kPermRead}}));
  EventSink ev;
  auto s = store_.write(kDom5, nullptr, "/ro/new/deeper", "x", ev);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), XsErr::kEACCES);
  EXPECT_EQ(store_.tree().find("/ro/new"), nullptr);
  EXPECT_EQ(*store_.directory(kPriv, nullptr, "/ro"), "");
  auto m = store_.mkdir(kDom5, nullptr, "/ro/new", ev);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error(), XsErr::kEACCES);
}

TEST_F(StoreTest, NewChildCreatedByAnUnprivilegedDomainIsOwnedByIt) {
  // As in C: creating needs write access to the nearest existing ancestor
  // (read access is not needed); the creator becomes the owner.
  write("/shared");
  set_perms("/shared", perms({{0, kPermBoth}, {5, kPermWrite}}));
  EventSink ev;
  ASSERT_TRUE(store_.write(kDom5, nullptr, "/shared/mine/leaf", "v", ev).ok());
  EXPECT_EQ(*store_.get_perms(kPriv, nullptr, "/shared/mine"),
            perms({{5, kPermBoth}, {5, kPermWrite}}));
  EXPECT_EQ(*store_.get_perms(kPriv, nullptr, "/shared/mine/leaf"),
            perms({{5, kPermBoth}, {5, kPermWrite}}));
  EXPECT_EQ(*store_.read(kDom5, nullptr, "/shared/mine/leaf"), "v");
}

TEST_F(StoreTest, NewChildCreatedByAPrivilegedCallerKeepsTheParentsOwner) {
  write("/owned");
  set_perms("/owned", perms({{5, kPermRead}}));
  write("/owned/child");
  EXPECT_EQ(*store_.get_perms(kPriv, nullptr, "/owned/child"),
            perms({{5, kPermRead}}));
}

TEST_F(StoreTest, OwnerMaySetPermsButNotGiveTheNodeAway) {
  write("/mine");
  set_perms("/mine", perms({{5, kPermNone}}));
  EventSink ev;
  ASSERT_TRUE(store_
                  .set_perms(kDom5, nullptr, "/mine",
                             perms({{5, kPermRead}, {7, kPermBoth}}), ev)
                  .ok());
  EXPECT_EQ(*store_.get_perms(kPriv, nullptr, "/mine"),
            perms({{5, kPermRead}, {7, kPermBoth}}));
  auto s = store_.set_perms(kDom5, nullptr, "/mine", perms({{0, kPermBoth}}),
                            ev);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), XsErr::kEPERM);
  EXPECT_EQ(*store_.get_perms(kPriv, nullptr, "/mine"),
            perms({{5, kPermRead}, {7, kPermBoth}}));
}

TEST_F(StoreTest, NonOwnerWithWriteAccessMayNotSetPerms) {
  write("/w");
  set_perms("/w", perms({{0, kPermNone}, {5, kPermBoth}}));
  EventSink ev;
  auto s = store_.set_perms(kDom5, nullptr, "/w",
                            perms({{0, kPermNone}, {5, kPermBoth}}), ev);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), XsErr::kEACCES);
}

TEST_F(StoreTest, PrivilegedCallerMayChangeTheOwner) {
  write("/o");
  EventSink ev;
  ASSERT_TRUE(
      store_.set_perms(kPriv, nullptr, "/o", perms({{9, kPermRead}}), ev).ok());
  EXPECT_EQ(*store_.get_perms(kPriv, nullptr, "/o"), perms({{9, kPermRead}}));
}

// For the node and its ancestors only (the children's permissions are
// their own), with both lists so that a reader losing access hears of it.
TEST_F(StoreTest, SetPermsFiresAnEventForTheNodeWithOldAndNewPerms) {
  write("/sp");
  EventSink ev;
  ASSERT_TRUE(
      store_.set_perms(kPriv, nullptr, "/sp", perms({{5, kPermRead}}), ev)
          .ok());
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].path, "/sp");
  EXPECT_FALSE(ev[0].recursive);
  EXPECT_EQ(ev[0].perms, perms({{5, kPermRead}}));
  EXPECT_EQ(ev[0].old_perms, perms({{0, kPermNone}}));
}

TEST_F(StoreTest, SetPermsOfASpecialNodeFiresNothing) {
  EventSink ev;
  ASSERT_TRUE(store_.set_perms(kPriv, nullptr, "@releaseDomain",
                               perms({{0, kPermNone}, {5, kPermRead}}), ev)
                  .ok());
  EXPECT_TRUE(ev.empty());
}

TEST_F(StoreTest, SetPermsOfAMissingNodeIsEnoent) {
  EventSink ev;
  auto s = store_.set_perms(kPriv, nullptr, "/missing",
                            perms({{0, kPermNone}}), ev);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), XsErr::kENOENT);
}

TEST_F(StoreTest, UnprivilegedSetPermsOfAMissingNodeDependsOnTheAncestor) {
  // As C: ENOENT if the nearest ancestor grants write or ownership.
  write("/mine");
  set_perms("/mine", perms({{5, kPermNone}}));
  write("/theirs");
  set_perms("/theirs", perms({{0, kPermRead}}));
  EventSink ev;
  auto s = store_.set_perms(kDom5, nullptr, "/mine/missing",
                            perms({{5, kPermNone}}), ev);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), XsErr::kENOENT);
  s = store_.set_perms(kDom5, nullptr, "/theirs/missing",
                       perms({{5, kPermNone}}), ev);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), XsErr::kEACCES);
}

TEST_F(StoreTest, SpecialNodesHavePermissionsButNoParent) {
  auto p = store_.get_perms(kPriv, nullptr, "@releaseDomain");
  ASSERT_TRUE(p);
  EXPECT_EQ(*p, perms({{0, kPermNone}}));
  EventSink ev;
  ASSERT_TRUE(store_
                  .set_perms(kPriv, nullptr, "@introduceDomain",
                             perms({{0, kPermNone}, {5, kPermRead}}), ev)
                  .ok());
  EXPECT_EQ(*store_.get_perms(kDom5, nullptr, "@introduceDomain"),
            perms({{0, kPermNone}, {5, kPermRead}}));
  auto missing = store_.get_perms(kDom5, nullptr, "@nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), XsErr::kENOENT);
}

TEST_F(StoreTest, UnprivilegedRmNeedsWriteAccess) {
  write("/r/child");
  set_perms("/r", perms({{0, kPermRead}}));
  set_perms("/r/child", perms({{0, kPermRead}}));
  EventSink ev;
  auto s = store_.rm(kDom5, nullptr, "/r/child", ev);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), XsErr::kEACCES);
  EXPECT_NE(store_.tree().find("/r/child"), nullptr);
}

TEST_F(StoreTest, UnprivilegedRmOfAMissingNodeUnderAnUnwritableParentIsEacces) {
  // C asks the nearest ancestor for the access the request needs (write).
  write("/r");
  set_perms("/r", perms({{0, kPermRead}}));
  EventSink ev;
  auto s = store_.rm(kDom5, nullptr, "/r/missing", ev);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), XsErr::kEACCES);
}

TEST_F(StoreTest, UnprivilegedRmOfAMissingNodeUnderAWritableParentIsOk) {
  write("/w");
  set_perms("/w", perms({{0, kPermNone}, {5, kPermWrite}}));
  EventSink ev;
  EXPECT_TRUE(store_.rm(kDom5, nullptr, "/w/missing", ev).ok());
}

// Found by the differential tester (seed 122): dom0 gave "/" to a guest
// that then died. "/" cannot go with the domain; it passes to dom0 (or the
// -K heir), so a later domain with that id does not own the root.
TEST_F(StoreTest, RootOwnedByAGoneDomainPassesToDom0) {
  write("/local/domain/7/x");
  set_perms("/", {Perm{DomId{5}, kPermNone}});
  set_perms("@releaseDomain", {Perm{DomId{5}, kPermNone}});
  EventSink ev;
  store_.forget_domain(DomId{5}, std::nullopt, ev);
  EXPECT_EQ(store_.tree().find("/")->perms().list().front().dom, DomId{0});
  EXPECT_EQ(store_.tree().find("@releaseDomain")->perms().list().front().dom,
            DomId{0});
  EXPECT_TRUE(store_.tree().find("/local/domain/7/x"));
  set_perms("/", {Perm{DomId{5}, kPermNone}});
  store_.forget_domain(DomId{5}, DomId{3}, ev);
  EXPECT_EQ(store_.tree().find("/")->perms().list().front().dom, DomId{3});
}

// Found by the differential tester (seed 210): a dead domain's nodes go in
// tree order (children in creation order), as C 4.17 removes them, so a
// watcher of their parent hears of /t/shared before /t/p.
TEST_F(StoreTest, DeadDomainsNodesGoInTreeOrder) {
  write("/t/shared");
  write("/t/p/q");
  set_perms("/t/shared", {Perm{DomId{5}, kPermNone}});
  set_perms("/t/p", {Perm{DomId{5}, kPermNone}});
  EventSink ev;
  store_.forget_domain(DomId{5}, std::nullopt, ev);
  std::vector<std::string> tops;
  for (const Event& e : ev)
    if (!e.exact) tops.push_back(e.path);
  EXPECT_EQ(tops, (std::vector<std::string>{"/t/shared", "/t/p"}));
}

}  // namespace
}  // namespace cxs::store

// The watch registry and its path index: which watches an event fires, and
// with which event path.
#include "store/watches.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

namespace cxs::store {
namespace {

constexpr ConnId kA{1};
constexpr ConnId kB{2};

using Hits = std::vector<std::pair<std::string, std::string>>;  // token, path

Watch w(ConnId c, std::string path, std::string token, std::size_t strip = 0,
        int depth = -1) {
  return Watch{c, std::move(path), std::move(token), strip, depth};
}

Hits fire(const WatchIndex& idx, std::string path, bool recursive = false) {
  Hits out;
  idx.match(Event{std::move(path), recursive, {}, {}},
            [&out](const WatchRecord& watch, std::string_view ev_path) {
              out.emplace_back(watch.token(), std::string(ev_path));
            });
  std::sort(out.begin(), out.end());
  return out;
}

TEST(WatchIndex, AddCountsPerConnection) {
  WatchIndex idx;
  EXPECT_TRUE(idx.add(w(kA, "/a", "t1")).ok());
  EXPECT_TRUE(idx.add(w(kA, "/b", "t1")).ok());
  EXPECT_TRUE(idx.add(w(kB, "/a", "t1")).ok());
  EXPECT_EQ(idx.count(kA), 2u);
  EXPECT_EQ(idx.count(kB), 1u);
  EXPECT_EQ(idx.count(ConnId{99}), 0u);
  EXPECT_EQ(idx.total(), 3u);
}

TEST(WatchIndex, BytesFollowAddsRemovesAndRefusals) {
  WatchIndex idx;
  EXPECT_EQ(idx.bytes(kA), 0u);
  ASSERT_TRUE(idx.add(w(kA, "/a", "one")).ok());
  ASSERT_TRUE(idx.add(w(kA, "/a/b", std::string(100, 't'))).ok());
  ASSERT_TRUE(idx.add(w(kB, "/a", "other")).ok());
  std::size_t both = watch_bytes("/a", "one") +
                     watch_bytes("/a/b", std::string(100, 't'));
  EXPECT_EQ(idx.bytes(kA), both);
  EXPECT_FALSE(idx.add(w(kA, "/a", "one")).ok());  // EEXIST: no charge
  EXPECT_FALSE(idx.remove(kA, "/a", "nope").ok());  // ENOENT: no refund
  EXPECT_EQ(idx.bytes(kA), both);
  ASSERT_TRUE(idx.remove(kA, "/a", "one").ok());
  EXPECT_EQ(idx.bytes(kA), watch_bytes("/a/b", std::string(100, 't')));
  idx.remove_all(kA);
  EXPECT_EQ(idx.bytes(kA), 0u);
  EXPECT_EQ(idx.bytes(kB), watch_bytes("/a", "other"));
}

std::size_t heap_in_use() {
  struct mallinfo2 mi = ::mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

// The memory quota charges a watch what it makes the index hold (issue 18):
// read from malloc itself around the adds. On paths that share nothing but
// "/w" every trie node is the watch's own, so the charge is about exact.
TEST(WatchIndex, ChargeCoversWhatWatchesOnNewPathsHold) {
  constexpr int kWatches = 3000;  // 6001 trie nodes: an 8192-slot table
  WatchIndex idx;
  std::size_t before = heap_in_use();
  for (int i = 0; i < kWatches; ++i)
    ASSERT_TRUE(idx.add(w(kA, "/w/n" + std::to_string(i) + "/state",
                          "FFFF8880" + std::to_string(10000000 + i)))
                    .ok());
  std::size_t real = heap_in_use() - before;
  std::size_t charged = idx.bytes(kA);
  std::cout << "[ watches ] " << kWatches << " on new paths: heap "
            << real / kWatches << " B each, charged " << charged / kWatches
            << " B each" << std::endl;
  if (real == 0) GTEST_SKIP() << "mallinfo2 does not see this allocator";
  EXPECT_GE(charged, real);
  EXPECT_LE(charged, real + real / 2);
}

// Watches on one path share its trie node: each holds its own block only
// (about 100 bytes for a 20-byte token; a table entry, two id vectors and
// the node's vector made it over 200).
TEST(WatchIndex, WatchesOnOnePathHoldOneBlockEach) {
  constexpr int kWatches = 1000;
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kB, "@releaseDomain", "first")).ok());
  std::size_t before = heap_in_use();
  for (int i = 0; i < kWatches; ++i)
    ASSERT_TRUE(idx.add(w(ConnId{10 + std::uint64_t(i % 10)}, "@releaseDomain",
                          "libxl-" + std::to_string(1000000 + i)))
                    .ok());
  std::size_t real = heap_in_use() - before;
  if (real == 0) GTEST_SKIP() << "mallinfo2 does not see this allocator";
  EXPECT_LE(real / kWatches, 128u);
  EXPECT_EQ(idx.trie_nodes(), 1u);
}

TEST(WatchIndex, RemovingEveryWatchFreesEveryTrieNode) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kA, "/a/b/c", "t")).ok());
  ASSERT_TRUE(idx.add(w(kB, "/a/b/d", "t")).ok());
  ASSERT_TRUE(idx.add(w(kA, "@releaseDomain/5", "t")).ok());
  EXPECT_EQ(idx.trie_nodes(), 6u);  // a b c d @releaseDomain 5
  ASSERT_TRUE(idx.remove(kB, "/a/b/d", "t").ok());
  EXPECT_EQ(idx.trie_nodes(), 5u);
  idx.remove_all(kA);
  EXPECT_EQ(idx.trie_nodes(), 0u);
  EXPECT_EQ(idx.total(), 0u);
}

// Thousands of siblings in the edge table, removed out of order: the
// entries that follow a removed one move back and stay findable.
TEST(WatchIndex, ManySiblingsStayFindableAcrossRemovals) {
  constexpr int kN = 5000;
  WatchIndex idx;
  for (int i = 0; i < kN; ++i)
    ASSERT_TRUE(idx.add(w(kA, "/s/n" + std::to_string(i), "t")).ok());
  for (int i = 0; i < kN; i += 3)
    ASSERT_TRUE(idx.remove(kA, "/s/n" + std::to_string(i), "t").ok());
  for (int i = 0; i < kN; ++i) {
    std::string p = "/s/n" + std::to_string(i);
    EXPECT_EQ(fire(idx, p).size(), i % 3 ? 1u : 0u) << p;
  }
  EXPECT_EQ(fire(idx, "/s", true).size(), std::size_t(kN - (kN + 2) / 3));
  idx.remove_all(kA);
  EXPECT_EQ(idx.trie_nodes(), 0u);
}

TEST(WatchIndex, PathOrTokenPastSixteenBitsIsEinval) {
  WatchIndex idx;
  EXPECT_EQ(idx.add(w(kA, "/" + std::string(70000, 'a'), "t")).error(),
            XsErr::kEINVAL);
  EXPECT_EQ(idx.add(w(kA, "/a", std::string(70000, 't'))).error(),
            XsErr::kEINVAL);
  EXPECT_EQ(idx.total(), 0u);
}

TEST(WatchIndex, SamePathAndTokenTwiceIsEexist) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kA, "/a", "t")).ok());
  auto s = idx.add(w(kA, "/a", "t"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), XsErr::kEEXIST);
  EXPECT_TRUE(idx.add(w(kA, "/a", "other")).ok());
  EXPECT_TRUE(idx.add(w(kB, "/a", "t")).ok());
  EXPECT_EQ(idx.count(kA), 2u);
}

TEST(WatchIndex, RemoveOfAnUnknownWatchIsEnoent) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kA, "/a", "t")).ok());
  EXPECT_EQ(idx.remove(kA, "/a", "x").error(), XsErr::kENOENT);
  EXPECT_EQ(idx.remove(kA, "/b", "t").error(), XsErr::kENOENT);
  EXPECT_EQ(idx.remove(kB, "/a", "t").error(), XsErr::kENOENT);
  EXPECT_EQ(idx.remove(kA, "/a/b/c", "t").error(), XsErr::kENOENT);
  EXPECT_EQ(idx.count(kA), 1u);
}

TEST(WatchIndex, RemoveDropsOnlyThatWatch) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kA, "/a", "t")).ok());
  ASSERT_TRUE(idx.add(w(kA, "/a/b", "u")).ok());
  ASSERT_TRUE(idx.remove(kA, "/a/b", "u").ok());
  EXPECT_EQ(idx.count(kA), 1u);
  EXPECT_EQ(fire(idx, "/a/b"), (Hits{{"t", "/a/b"}}));
  ASSERT_TRUE(idx.add(w(kA, "/a/b", "u")).ok());
  ASSERT_TRUE(idx.remove(kA, "/a", "t").ok());
  EXPECT_EQ(fire(idx, "/a/b"), (Hits{{"u", "/a/b"}}));
  EXPECT_EQ(idx.remove(kA, "/a", "t").error(), XsErr::kENOENT);
}

TEST(WatchIndex, RemovedWatchCanBeAddedAgain) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kA, "/a", "t")).ok());
  ASSERT_TRUE(idx.remove(kA, "/a", "t").ok());
  EXPECT_TRUE(fire(idx, "/a").empty());
  EXPECT_TRUE(idx.add(w(kA, "/a", "t")).ok());
  EXPECT_EQ(fire(idx, "/a"), (Hits{{"t", "/a"}}));
}

TEST(WatchIndex, RemoveAllDropsEveryWatchOfOneConnection) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kA, "/a", "1")).ok());
  ASSERT_TRUE(idx.add(w(kA, "/a/b", "2")).ok());
  ASSERT_TRUE(idx.add(w(kA, "@releaseDomain", "3")).ok());
  ASSERT_TRUE(idx.add(w(kB, "/a/b", "b")).ok());
  idx.remove_all(kA);
  EXPECT_EQ(idx.count(kA), 0u);
  EXPECT_EQ(idx.count(kB), 1u);
  EXPECT_EQ(idx.total(), 1u);
  EXPECT_EQ(fire(idx, "/a/b"), (Hits{{"b", "/a/b"}}));
  EXPECT_TRUE(fire(idx, "@releaseDomain").empty());
  idx.remove_all(kA);  // nothing left: a no-op
  EXPECT_TRUE(idx.add(w(kA, "/a", "1")).ok());
}

TEST(WatchIndex, WatchOnTheNodeFiresWithTheEventPath) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kA, "/a/b", "t")).ok());
  EXPECT_EQ(fire(idx, "/a/b"), (Hits{{"t", "/a/b"}}));
}

TEST(WatchIndex, WatchOnAnAncestorFiresWithTheEventPath) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kA, "/a", "anc")).ok());
  ASSERT_TRUE(idx.add(w(kA, "/", "root")).ok());
  EXPECT_EQ(fire(idx, "/a/b/c"),
            (Hits{{"anc", "/a/b/c"}, {"root", "/a/b/c"}}));
}

TEST(WatchIndex, WatchOnASiblingOrPrefixDoesNotFire) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kA, "/a/c", "sib")).ok());
  ASSERT_TRUE(idx.add(w(kA, "/ab", "prefix")).ok());
  EXPECT_TRUE(fire(idx, "/a/b").empty());
  EXPECT_TRUE(fire(idx, "/a").empty());
}

TEST(WatchIndex, WatchBelowFiresOnlyForRecursiveEventsWithItsOwnPath) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kA, "/a/b/c", "deep")).ok());
  ASSERT_TRUE(idx.add(w(kA, "/a/x", "x")).ok());
  EXPECT_TRUE(fire(idx, "/a").empty());
  EXPECT_EQ(fire(idx, "/a", true), (Hits{{"deep", "/a/b/c"}, {"x", "/a/x"}}));
  EXPECT_EQ(fire(idx, "/a/b", true), (Hits{{"deep", "/a/b/c"}}));
}

TEST(WatchIndex, RecursiveEventFiresEachWatchOnce) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kA, "/", "root")).ok());
  ASSERT_TRUE(idx.add(w(kA, "/a", "self")).ok());
  ASSERT_TRUE(idx.add(w(kA, "/a/b", "below")).ok());
  EXPECT_EQ(fire(idx, "/a", true),
            (Hits{{"below", "/a/b"}, {"root", "/a"}, {"self", "/a"}}));
}

TEST(WatchIndex, EveryConnectionWatchingAPathFires) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kA, "/a", "fromA")).ok());
  ASSERT_TRUE(idx.add(w(kB, "/a", "fromB")).ok());
  std::vector<ConnId> conns;
  idx.match(Event{"/a/b", false, {}, {}},
            [&conns](const WatchRecord& watch, std::string_view) {
              conns.push_back(watch.conn());
            });
  std::sort(conns.begin(), conns.end());
  EXPECT_EQ(conns, (std::vector<ConnId>{kA, kB}));
}

TEST(WatchIndex, RelativeWatchGetsRelativeEventPaths) {
  WatchIndex idx;
  const std::string home = "/local/domain/5/";
  ASSERT_TRUE(
      idx.add(w(kA, "/local/domain/5/device", "rel", home.size())).ok());
  EXPECT_EQ(fire(idx, "/local/domain/5/device/vif/0"),
            (Hits{{"rel", "device/vif/0"}}));
  EXPECT_EQ(fire(idx, "/local/domain/5/device"), (Hits{{"rel", "device"}}));
  // Below a recursive event the watch's own path is stripped too.
  EXPECT_EQ(fire(idx, "/local/domain/5", true), (Hits{{"rel", "device"}}));
}

TEST(WatchIndex, DepthLimitsHowFarBelowAWatchEventsFire) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kA, "/a", "d0", 0, 0)).ok());
  ASSERT_TRUE(idx.add(w(kA, "/a", "d1", 0, 1)).ok());
  ASSERT_TRUE(idx.add(w(kA, "/a", "any")).ok());
  EXPECT_EQ(fire(idx, "/a"), (Hits{{"any", "/a"}, {"d0", "/a"}, {"d1", "/a"}}));
  EXPECT_EQ(fire(idx, "/a/b"), (Hits{{"any", "/a/b"}, {"d1", "/a/b"}}));
  EXPECT_EQ(fire(idx, "/a/b/c"), (Hits{{"any", "/a/b/c"}}));
}

TEST(WatchIndex, WithinDepthTreatsNegativeAsUnlimited) {
  EXPECT_TRUE(within_depth(-1, 1000));
  EXPECT_TRUE(within_depth(0, 0));
  EXPECT_FALSE(within_depth(0, 1));
  EXPECT_TRUE(within_depth(2, 2));
  EXPECT_FALSE(within_depth(2, 3));
}

TEST(WatchIndex, SpecialPathsAreSeparateFromTheRoot) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kA, "/", "root")).ok());
  ASSERT_TRUE(idx.add(w(kA, "@releaseDomain", "rel")).ok());
  ASSERT_TRUE(idx.add(w(kA, "@introduceDomain", "intro")).ok());
  EXPECT_EQ(fire(idx, "@releaseDomain"), (Hits{{"rel", "@releaseDomain"}}));
  EXPECT_EQ(fire(idx, "@introduceDomain"),
            (Hits{{"intro", "@introduceDomain"}}));
  EXPECT_EQ(fire(idx, "/a"), (Hits{{"root", "/a"}}));
  EXPECT_EQ(fire(idx, "/", true), (Hits{{"root", "/"}}));
}

TEST(WatchIndex, BareSpecialWatchSeesTheBarePathForDomainEvents) {
  // Xen 4.22: "@releaseDomain/5" fires a watch on "@releaseDomain" with the
  // bare path, unless the watch asked for depth 1.
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kA, "@releaseDomain", "all")).ok());
  ASSERT_TRUE(idx.add(w(kA, "@releaseDomain/5", "five")).ok());
  EXPECT_EQ(fire(idx, "@releaseDomain/5"),
            (Hits{{"all", "@releaseDomain"}, {"five", "@releaseDomain/5"}}));
  EXPECT_EQ(fire(idx, "@releaseDomain/7"), (Hits{{"all", "@releaseDomain"}}));
  EXPECT_EQ(fire(idx, "@releaseDomain"), (Hits{{"all", "@releaseDomain"}}));
}

TEST(WatchIndex, SpecialWatchWithDepthOneSeesTheDomainPath) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kA, "@releaseDomain", "d1", 0, 1)).ok());
  EXPECT_EQ(fire(idx, "@releaseDomain/7"), (Hits{{"d1", "@releaseDomain/7"}}));
}

TEST(WatchIndex, UnwatchedEventFiresNothing) {
  WatchIndex idx;
  EXPECT_TRUE(fire(idx, "/a").empty());
  EXPECT_TRUE(fire(idx, "/a", true).empty());
  EXPECT_TRUE(fire(idx, "@releaseDomain").empty());
}

// --- live update: export in registration order --------------------------------

std::string describe(const WatchRecord& x) {
  return std::to_string(x.conn().value) + " " + std::string(x.path()) + " " +
         std::string(x.token()) + " " + std::to_string(x.strip()) + " " +
         std::to_string(x.depth());
}

std::vector<std::string> all_watches(const WatchIndex& idx) {
  std::vector<std::string> out;
  idx.for_each([&](const WatchRecord& x) { out.push_back(describe(x)); });
  return out;
}

// In the order fired, not sorted.
std::vector<std::string> fired(const WatchIndex& idx, std::string path,
                               bool recursive) {
  std::vector<std::string> out;
  idx.match(Event{std::move(path), recursive, {}, {}},
            [&out](const WatchRecord& x, std::string_view ev_path) {
              out.push_back(describe(x) + " -> " + std::string(ev_path));
            });
  return out;
}

TEST(WatchIndex, ForEachGoesInRegistrationOrderWithDepthAndStrip) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kB, "/z", "first")).ok());
  ASSERT_TRUE(idx.add(w(kA, "/local/domain/5/a", "rel", 16, 2)).ok());
  ASSERT_TRUE(idx.add(w(kA, "/a", "gone")).ok());
  ASSERT_TRUE(idx.add(w(kB, "@releaseDomain", "special", 0, 1)).ok());
  ASSERT_TRUE(idx.add(w(kA, "/", "root", 0, 0)).ok());
  ASSERT_TRUE(idx.remove(kA, "/a", "gone").ok());
  ASSERT_TRUE(idx.add(w(kA, "/a", "again")).ok());
  EXPECT_EQ(all_watches(idx),
            (std::vector<std::string>{"2 /z first 0 -1",
                                      "1 /local/domain/5/a rel 16 2",
                                      "2 @releaseDomain special 0 1",
                                      "1 / root 0 0", "1 /a again 0 -1"}));
  std::vector<std::string> of_a;
  idx.for_each_of(kA,
                  [&](const WatchRecord& x) { of_a.emplace_back(x.token()); });
  EXPECT_EQ(of_a, (std::vector<std::string>{"rel", "root", "again"}));
  of_a.clear();
  idx.for_each_of(ConnId{99},
                  [&](const WatchRecord& x) { of_a.emplace_back(x.token()); });
  EXPECT_TRUE(of_a.empty());
}

// Watches below a removed subtree fire in registration order, whatever
// order the index's hash tables hold them in; so an index rebuilt from
// for_each fires everything in the same order as the original.
TEST(WatchIndex, AnIndexRebuiltInRegistrationOrderFiresInTheSameOrder) {
  WatchIndex original;
  for (int i = 0; i < 40; ++i) {
    int n = (i * 17) % 40;  // not in name order
    ASSERT_TRUE(original.add(w(i % 2 ? kA : kB, "/t/n" + std::to_string(n),
                               "tok" + std::to_string(i)))
                    .ok());
  }
  for (int i = 0; i < 40; i += 3)
    ASSERT_TRUE(original.remove(i % 2 ? kA : kB,
                                "/t/n" + std::to_string((i * 17) % 40),
                                "tok" + std::to_string(i))
                    .ok());
  ASSERT_TRUE(original.add(w(kA, "/t/n5/deeper", "late")).ok());
  ASSERT_TRUE(original.add(w(kB, "/t", "top", 0, 1)).ok());
  ASSERT_TRUE(original.add(w(kA, "/", "root")).ok());

  WatchIndex rebuilt;
  original.for_each([&](const WatchRecord& x) {
    ASSERT_TRUE(rebuilt.add(x.to_watch()).ok());
  });
  EXPECT_EQ(all_watches(rebuilt), all_watches(original));
  EXPECT_EQ(rebuilt.bytes(kA), original.bytes(kA));
  EXPECT_EQ(rebuilt.count(kB), original.count(kB));
  for (bool recursive : {false, true})
    for (const char* path : {"/t", "/t/n5", "/t/n5/deeper", "/"})
      EXPECT_EQ(fired(rebuilt, path, recursive),
                fired(original, path, recursive))
          << path << (recursive ? " recursive" : "");

  // Below "/t": registration order (tokens by number, "late" last).
  std::vector<std::string> below;
  original.match(Event{"/t", true, {}, {}},
                 [&](const WatchRecord& x, std::string_view) {
                   if (x.path().size() > 2 && x.path() != "/t")
                     below.emplace_back(x.token());
                 });
  std::vector<std::string> expected;
  for (int i = 0; i < 40; ++i)
    if (i % 3 != 0) expected.push_back("tok" + std::to_string(i));
  expected.push_back("late");
  EXPECT_EQ(below, expected);
}

}  // namespace
TEST(WatchIndexExact, ExactEventFiresOnlyTheWatchOnThatPath) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(Watch{ConnId{1}, "/a", "up", 0, -1}).ok());
  ASSERT_TRUE(idx.add(Watch{ConnId{1}, "/a/b", "on", 0, -1}).ok());
  Event ev{"/a/b", false, {}, {}, true};
  std::vector<std::string> tokens;
  idx.match(ev, [&](const WatchRecord& w, std::string_view) {
    tokens.emplace_back(w.token());
  });
  EXPECT_EQ(tokens, std::vector<std::string>{"on"});
}

// Issue 17, item 5 (differential finding): one change fires a connection's
// watches on the path and its ancestors in the order they were registered,
// whatever their depth, as C 4.17 does ("W" on /local/domain before "tok-a"
// on /local: "W" first).
TEST(WatchIndex, WatchesOnAncestorsFireInRegistrationOrderNotByDepth) {
  WatchIndex idx;
  ASSERT_TRUE(idx.add(w(kA, "/local/domain", "W")).ok());
  ASSERT_TRUE(idx.add(w(kA, "/local", "tok-a")).ok());
  ASSERT_TRUE(idx.add(w(kA, "/local/domain/6/b", "exact")).ok());
  ASSERT_TRUE(idx.add(w(kA, "/", "root")).ok());
  std::vector<std::string> tokens;
  idx.match(Event{"/local/domain/6/b", false, {}, {}},
            [&](const WatchRecord& x, std::string_view) {
              tokens.emplace_back(x.token());
            });
  EXPECT_EQ(tokens,
            (std::vector<std::string>{"W", "tok-a", "exact", "root"}));
}

}  // namespace cxs::store

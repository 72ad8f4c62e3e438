// Watches over the raw protocol: the initial event, events for every kind of
// change, their order relative to replies, deduplication while pending,
// subtree removal, relative paths, the payload limit for events, and the
// WATCH/UNWATCH/RESET_WATCHES error cases.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "integration_helpers.h"

namespace cxs::test {
namespace {

using wire::MsgType;
using namespace std::chrono_literals;

std::string event(std::string_view path, std::string_view token) {
  return nul_join({std::string(path), std::string(token)});
}

class Watches : public ::testing::Test {
 protected:
  // Registers a watch and consumes its initial event.
  void watch(RawClient& c, const std::string& path, const std::string& token) {
    Msg m = c.watch(path, token);
    ASSERT_TRUE(is_type(m, MsgType::XS_WATCH)) << m.shown();
    auto ev = c.recv_event();
    ASSERT_TRUE(ev) << "no initial event for " << path;
    ASSERT_EQ(ev->payload, event(path, token));
  }

  // The events queued for `c` so far, in order
  // (RawClient::events_before_barrier: an ordering barrier, not a wait).
  static std::vector<std::string> drain(RawClient& c) {
    std::vector<std::string> out;
    for (const Msg& ev : c.events_before_barrier()) out.push_back(ev.payload);
    return out;
  }

  static bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }

  DaemonProcess d;
};

TEST_F(Watches, InitialEventFollowsTheWatchReply) {
  RawClient c(d.socket_path());
  std::uint32_t id = c.send(ty(MsgType::XS_WATCH), event("/wi", "tok"));
  auto first = c.recv();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->type, ty(MsgType::XS_WATCH));
  EXPECT_EQ(first->req_id, id);
  EXPECT_EQ(first->payload, with_nul("OK"));
  auto second = c.recv();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->type, ty(MsgType::XS_WATCH_EVENT));
  EXPECT_EQ(second->req_id, 0u);
  EXPECT_EQ(second->payload, event("/wi", "tok"));
  EXPECT_TRUE(drain(c).empty());
}

TEST_F(Watches, WriteFiresTheWatchOnTheNodeAndOnItsAncestors) {
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type(c.write("/ww/n", "0"), MsgType::XS_WRITE));
  watch(w, "/ww", "parent");
  watch(w, "/ww/n", "self");
  watch(w, "/ww/other", "sibling");
  ASSERT_TRUE(is_type(c.write("/ww/n", "1"), MsgType::XS_WRITE));
  auto evs = drain(w);
  EXPECT_EQ(evs.size(), 2u);
  EXPECT_TRUE(contains(evs, event("/ww/n", "parent")));
  EXPECT_TRUE(contains(evs, event("/ww/n", "self")));
}

// A WRITE of the value the node already has is still a modification (new
// generation), and fires, as in C.
TEST_F(Watches, WriteOfTheSameValueFiresAgain) {
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type(c.write("/ws/n", "same"), MsgType::XS_WRITE));
  watch(w, "/ws/n", "t");
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(is_type(c.write("/ws/n", "same"), MsgType::XS_WRITE));
    EXPECT_EQ(drain(w), std::vector<std::string>{event("/ws/n", "t")}) << i;
  }
}

TEST_F(Watches, CreatingANodeFiresItsWatch) {
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type(c.mkdir("/wc"), MsgType::XS_MKDIR));
  watch(w, "/wc/new", "t");
  ASSERT_TRUE(is_type(c.mkdir("/wc/new"), MsgType::XS_MKDIR));
  EXPECT_EQ(drain(w), std::vector<std::string>{event("/wc/new", "t")});
  // MKDIR of an existing node changes nothing and fires nothing.
  ASSERT_TRUE(is_type(c.mkdir("/wc/new"), MsgType::XS_MKDIR));
  EXPECT_TRUE(drain(w).empty());
}

// Both reference daemons (C xenstored and oxenstored 4.17) fire one event
// for a WRITE or MKDIR that also creates missing parents: the requested path.
TEST_F(Watches, WriteCreatingMissingParentsFiresOneEventForTheWrittenPath) {
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  watch(w, "/", "root");
  ASSERT_TRUE(is_type(c.write("/wp/q/r", "v"), MsgType::XS_WRITE));
  EXPECT_EQ(drain(w), std::vector<std::string>{event("/wp/q/r", "root")});
  ASSERT_TRUE(is_type(c.mkdir("/wm/a/b"), MsgType::XS_MKDIR));
  EXPECT_EQ(drain(w), std::vector<std::string>{event("/wm/a/b", "root")});
}

TEST_F(Watches, RmFiresTheWatchOnTheRemovedNode) {
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type(c.write("/wr/n", "v"), MsgType::XS_WRITE));
  watch(w, "/wr/n", "t");
  ASSERT_TRUE(is_type(c.rm("/wr/n"), MsgType::XS_RM));
  EXPECT_EQ(drain(w), std::vector<std::string>{event("/wr/n", "t")});
}

TEST_F(Watches, SetPermsFiresTheWatchOnTheNodeAndItsAncestors) {
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type(c.write("/wsp/n", "v"), MsgType::XS_WRITE));
  watch(w, "/wsp", "parent");
  watch(w, "/wsp/n", "self");
  ASSERT_TRUE(is_type(c.set_perms("/wsp/n", {"n0", "r5"}), MsgType::XS_SET_PERMS));
  auto evs = drain(w);
  EXPECT_TRUE(contains(evs, event("/wsp/n", "parent")));
  EXPECT_TRUE(contains(evs, event("/wsp/n", "self")));
  EXPECT_EQ(evs.size(), 2u);
}

// Permissions are per node: a change of /wsc fires nothing for watches
// placed below it (as in C), whose nodes' permissions stay as they were.
TEST_F(Watches, SetPermsDoesNotFireWatchesBelowTheNode) {
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type(c.write("/wsc/b/c", "v"), MsgType::XS_WRITE));
  watch(w, "/", "root");
  watch(w, "/wsc", "self");
  watch(w, "/wsc/b", "child");
  watch(w, "/wsc/b/c", "grandchild");
  ASSERT_TRUE(is_type(c.set_perms("/wsc", {"n0", "r5"}), MsgType::XS_SET_PERMS));
  auto evs = drain(w);
  std::sort(evs.begin(), evs.end());
  std::vector<std::string> want{event("/wsc", "root"), event("/wsc", "self")};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(evs, want);
}

// The special nodes' watchers hear of domains coming and going; a change
// of who may watch them is not such news (C fires nothing either).
TEST_F(Watches, SetPermsOnASpecialNodeFiresNothing) {
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  watch(w, "@releaseDomain", "rel");
  watch(w, "@introduceDomain", "intro");
  ASSERT_TRUE(is_type(c.set_perms("@releaseDomain", {"n0", "r5"}),
                      MsgType::XS_SET_PERMS));
  ASSERT_TRUE(is_type(c.set_perms("@introduceDomain", {"n0", "r5"}),
                      MsgType::XS_SET_PERMS));
  EXPECT_TRUE(drain(w).empty());
  Msg perms = c.get_perms("@releaseDomain");
  EXPECT_EQ(perms.payload, nul_join({"n0", "r5"}));
}

TEST_F(Watches, WriterThatWatchesGetsTheEventBeforeItsReply) {
  RawClient c(d.socket_path());
  watch(c, "/wself", "me");
  std::uint32_t id = c.send(ty(MsgType::XS_WRITE), std::string("/wself\0x", 8));
  auto first = c.recv();
  auto second = c.recv();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->type, ty(MsgType::XS_WATCH_EVENT));
  EXPECT_EQ(first->payload, event("/wself", "me"));
  EXPECT_EQ(second->type, ty(MsgType::XS_WRITE));
  EXPECT_EQ(second->req_id, id);
}

// Deduplication only applies to events still waiting in the daemon's queue
// for a connection. To get events to wait, the watcher stops reading and a
// writer fires ~2 MB of distinct events (2000-byte token), far more than a
// Unix socket buffers. Five identical writes then queue one event; the
// distinct events around them are all delivered, in order.
TEST_F(Watches, IdenticalPendingEventsAreQueuedOnce) {
  constexpr int kFlood = 1000;
  const std::string token(2000, 't');
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type(c.mkdir("/dd"), MsgType::XS_MKDIR));
  watch(w, "/dd", token);
  for (int i = 0; i < kFlood; ++i)
    ASSERT_TRUE(is_type(c.write("/dd/n" + std::to_string(i), ""), MsgType::XS_WRITE));
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(is_type(c.write("/dd/same", std::to_string(i)), MsgType::XS_WRITE));
  ASSERT_TRUE(is_type(c.write("/dd/end", ""), MsgType::XS_WRITE));

  std::map<std::string, int> counts;
  std::vector<std::string> order;
  for (;;) {
    auto ev = w.recv_event(5s);
    ASSERT_TRUE(ev) << "events stopped after " << order.size();
    auto parts = nul_split(ev->payload);
    ASSERT_EQ(parts.size(), 2u);
    ASSERT_EQ(parts[1], token);
    order.push_back(parts[0]);
    ++counts[parts[0]];
    if (parts[0] == "/dd/end") break;
  }
  EXPECT_EQ(counts["/dd/same"], 1);
  for (int i = 0; i < kFlood; ++i)
    ASSERT_EQ(order[i], "/dd/n" + std::to_string(i));
  EXPECT_EQ(order.size(), static_cast<std::size_t>(kFlood + 2));
  EXPECT_TRUE(d.alive());
}

// Without a backlog nothing is merged: each change is its own event.
TEST_F(Watches, EventsAlreadySentAreNotMergedWithLaterOnes) {
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  watch(w, "/nd", "t");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(is_type(c.write("/nd", std::to_string(i)), MsgType::XS_WRITE));
    auto ev = w.recv_event();
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->payload, event("/nd", "t"));
  }
}

TEST_F(Watches, SubtreeRemovalFiresForRemovedChildrenAndWatchesBelow) {
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type(c.write("/st/a/b/c", "v"), MsgType::XS_WRITE));
  watch(w, "/st", "above");
  watch(w, "/st/a", "top");
  watch(w, "/st/a/b", "child");
  watch(w, "/st/a/b/c", "grandchild");
  watch(w, "/st/a/zz", "below-missing");
  watch(w, "/st/other", "unrelated");
  ASSERT_TRUE(is_type(c.rm("/st/a"), MsgType::XS_RM));
  auto evs = drain(w);
  EXPECT_TRUE(contains(evs, event("/st/a", "above")));
  EXPECT_TRUE(contains(evs, event("/st/a", "top")));
  // A watch on a removed child fires with its own path.
  EXPECT_TRUE(contains(evs, event("/st/a/b", "child")));
  EXPECT_TRUE(contains(evs, event("/st/a/b/c", "grandchild")));
  // A watch below the removed node fires with the watch path.
  EXPECT_TRUE(contains(evs, event("/st/a/zz", "below-missing")));
  for (const auto& e : evs) EXPECT_NE(nul_split(e)[1], "unrelated");
  EXPECT_EQ(std::count(evs.begin(), evs.end(), event("/st/a", "top")), 1);
}

// Both reference daemons (C and OCaml 4.17) tell a watch on the removed node
// or above it about the removal once, with the removed node's path; only
// watches on (C) or below (OCaml) removed descendants hear of those.
TEST_F(Watches, WatchAboveARemovedSubtreeGetsOneEventForTheRemovedNode) {
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type(c.write("/so/a/b/c", "v"), MsgType::XS_WRITE));
  watch(w, "/so", "above");
  watch(w, "/so/a", "top");
  ASSERT_TRUE(is_type(c.rm("/so/a"), MsgType::XS_RM));
  auto evs = drain(w);
  std::sort(evs.begin(), evs.end());
  EXPECT_EQ(evs, (std::vector<std::string>{event("/so/a", "above"),
                                           event("/so/a", "top")}));
}

TEST_F(Watches, RelativeWatchPathGivesRelativeEventPaths) {
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type(c.mkdir("relw"), MsgType::XS_MKDIR));
  Msg m = w.watch("relw", "r");
  ASSERT_TRUE(is_type(m, MsgType::XS_WATCH)) << m.shown();
  auto initial = w.recv_event();
  ASSERT_TRUE(initial);
  EXPECT_EQ(initial->payload, event("relw", "r"));
  ASSERT_TRUE(is_type(c.write("relw/x", "1"), MsgType::XS_WRITE));
  EXPECT_EQ(drain(w), std::vector<std::string>{event("relw/x", "r")});
  ASSERT_TRUE(is_type(c.write("/local/domain/0/relw/y", "2"), MsgType::XS_WRITE));
  EXPECT_EQ(drain(w), std::vector<std::string>{event("relw/y", "r")});
}

TEST_F(Watches, LongTokenWorksAndOversizedEventsAreDroppedNotSent) {
  const std::string token(4000, 'k');
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type(c.mkdir("/lt"), MsgType::XS_MKDIR));
  // WATCH payload "/lt\0<token>\0" is 4005 bytes: accepted, and the initial
  // event (same payload) is sent.
  watch(w, "/lt", token);
  // Event payload = path + 1 + 4000 + 1: a 95-byte path makes 4097 bytes.
  std::string too_long = "/lt/" + std::string(91, 'x');
  std::string just_fits = "/lt/" + std::string(90, 'y');
  ASSERT_EQ(event(too_long, token).size(), kPayloadMax + 1);
  ASSERT_EQ(event(just_fits, token).size(), kPayloadMax);
  ASSERT_TRUE(is_type(c.write(too_long, "1"), MsgType::XS_WRITE));
  ASSERT_TRUE(is_type(c.write(just_fits, "2"), MsgType::XS_WRITE));
  auto ev = w.recv_event();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->payload, event(just_fits, token));
  EXPECT_TRUE(drain(w).empty());
  // The watcher's connection is alive and in step.
  Msg r = w.read(just_fits);
  EXPECT_TRUE(is_type(r, MsgType::XS_READ)) << r.shown();
  EXPECT_EQ(r.payload, "2");
  EXPECT_TRUE(d.alive());
}

TEST_F(Watches, WatchPayloadAtTheLimitIsAccepted) {
  RawClient w(d.socket_path());
  std::string path = "/lim";
  std::string token(kPayloadMax - path.size() - 2, 'k');
  ASSERT_EQ(event(path, token).size(), kPayloadMax);
  Msg m = w.watch(path, token);
  EXPECT_TRUE(is_type(m, MsgType::XS_WATCH)) << m.shown().substr(0, 40);
  auto ev = w.recv_event();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->payload, event(path, token));
  EXPECT_EQ(w.read("/").type, ty(MsgType::XS_READ));
}

TEST_F(Watches, DuplicateWatchGivesEexist) {
  RawClient w(d.socket_path());
  watch(w, "/dup", "t");
  EXPECT_TRUE(w.watch("/dup", "t").is_error("EEXIST"));
  // Same path with another token is a different watch.
  EXPECT_TRUE(is_type(w.watch("/dup", "t2"), MsgType::XS_WATCH));
  // Another connection may use the same path and token.
  RawClient other(d.socket_path());
  EXPECT_TRUE(is_type(other.watch("/dup", "t"), MsgType::XS_WATCH));
}

TEST_F(Watches, UnwatchOfAnUnknownWatchGivesEnoent) {
  RawClient w(d.socket_path());
  EXPECT_TRUE(w.unwatch("/nowatch", "t").is_error("ENOENT"));
  watch(w, "/uw", "t");
  EXPECT_TRUE(w.unwatch("/uw", "other").is_error("ENOENT"));
  EXPECT_TRUE(is_type(w.unwatch("/uw", "t"), MsgType::XS_UNWATCH));
  EXPECT_TRUE(w.unwatch("/uw", "t").is_error("ENOENT"));
}

TEST_F(Watches, UnwatchStopsEvents) {
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  watch(w, "/us", "t");
  ASSERT_TRUE(is_type(w.unwatch("/us", "t"), MsgType::XS_UNWATCH));
  ASSERT_TRUE(is_type(c.write("/us", "x"), MsgType::XS_WRITE));
  EXPECT_TRUE(drain(w).empty());
}

TEST_F(Watches, ResetWatchesRemovesAllWatchesOfTheConnection) {
  RawClient w(d.socket_path());
  RawClient keep(d.socket_path());
  RawClient c(d.socket_path());
  watch(w, "/rw/a", "1");
  watch(w, "/rw/b", "2");
  watch(keep, "/rw/a", "k");
  Msg m = w.request(ty(MsgType::XS_RESET_WATCHES), "");
  EXPECT_TRUE(is_type(m, MsgType::XS_RESET_WATCHES)) << m.shown();
  ASSERT_TRUE(is_type(c.write("/rw/a", "x"), MsgType::XS_WRITE));
  ASSERT_TRUE(is_type(c.write("/rw/b", "x"), MsgType::XS_WRITE));
  EXPECT_TRUE(drain(w).empty());
  EXPECT_EQ(drain(keep), std::vector<std::string>{event("/rw/a", "k")});
  // The watches are gone, not just muted: they can be added again.
  watch(w, "/rw/a", "1");
}

TEST_F(Watches, TransactionEventsArriveOnlyAfterCommit) {
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type(c.mkdir("/te"), MsgType::XS_MKDIR));
  watch(w, "/te", "t");
  std::uint32_t tx = c.start_transaction();
  ASSERT_NE(tx, 0u);
  ASSERT_TRUE(is_type(c.write("/te/a", "1", tx), MsgType::XS_WRITE));
  ASSERT_TRUE(is_type(c.write("/te/a", "2", tx), MsgType::XS_WRITE));
  EXPECT_TRUE(drain(w).empty());
  ASSERT_TRUE(is_type(c.end_transaction(tx, true), MsgType::XS_TRANSACTION_END));
  auto evs = drain(w);
  ASSERT_FALSE(evs.empty());
  EXPECT_TRUE(contains(evs, event("/te/a", "t")));
  // How many: C xenstored fires once per changed node, oxenstored once per
  // request (here 2). Either way nothing else fires.
  for (const auto& e : evs) EXPECT_EQ(e, event("/te/a", "t"));
}

TEST_F(Watches, AbortedTransactionFiresNoEvents) {
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type(c.write("/ta/x", "0"), MsgType::XS_WRITE));
  watch(w, "/ta", "t");
  std::uint32_t tx = c.start_transaction();
  ASSERT_NE(tx, 0u);
  ASSERT_TRUE(is_type(c.write("/ta/x", "1", tx), MsgType::XS_WRITE));
  ASSERT_TRUE(is_type(c.rm("/ta/x", tx), MsgType::XS_RM));
  ASSERT_TRUE(is_type(c.write("/ta/y", "1", tx), MsgType::XS_WRITE));
  ASSERT_TRUE(is_type(c.end_transaction(tx, false), MsgType::XS_TRANSACTION_END));
  EXPECT_TRUE(drain(w).empty());
}

TEST_F(Watches, FailedCommitFiresNoEvents) {
  RawClient w(d.socket_path());
  RawClient c(d.socket_path());
  RawClient other(d.socket_path());
  ASSERT_TRUE(is_type(c.write("/tf/x", "0"), MsgType::XS_WRITE));
  std::uint32_t tx = c.start_transaction();
  ASSERT_NE(tx, 0u);
  EXPECT_EQ(c.read("/tf/x", tx).payload, "0");
  ASSERT_TRUE(is_type(c.write("/tf/y", "1", tx), MsgType::XS_WRITE));
  ASSERT_TRUE(is_type(other.write("/tf/x", "1"), MsgType::XS_WRITE));
  watch(w, "/tf/y", "t");
  ASSERT_TRUE(c.end_transaction(tx, true).is_error("EAGAIN"));
  EXPECT_TRUE(drain(w).empty());
}

}  // namespace
}  // namespace cxs::test

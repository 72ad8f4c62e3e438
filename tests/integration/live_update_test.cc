// Live update, end to end: the built cxenstored replaces itself (the same
// binary, exec'd with -U) while socket clients and simulated guests are
// mid-session, driven by XS_CONTROL "live-update" exactly as
// xenstore-control sends it (-f FILE, -c CMDLINE, -s -t N [-F]). After each
// update every client's next operations must behave as if nothing happened:
// same store, same process, watches fire once, transactions commit,
// partial requests complete, queued replies and events arrive.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "integration_helpers.h"
#include "sim_host.h"

namespace cxs::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Msg control(RawClient& c, const std::vector<std::string>& args) {
  return c.request(ty(wire::MsgType::XS_CONTROL), nul_join(args));
}

// The text of a CONTROL reply ("OK", or why not), or the error's name.
std::string text_of(const Msg& m) {
  return m.payload.substr(0, m.payload.find('\0'));
}

struct UpdateOptions {
  std::string binary = daemon_binary();
  std::optional<std::string> cmdline;
  bool force = false;
  int timeout_s = 10;
};

// -f, [-c], then -s: sends -s and returns its req_id without waiting (the
// reply comes from the new daemon).
std::uint32_t start_update(RawClient& c, const UpdateOptions& o) {
  Msg f = control(c, {"live-update", "-f", o.binary});
  EXPECT_EQ(text_of(f), "OK");
  if (o.cmdline) {
    EXPECT_EQ(text_of(control(c, {"live-update", "-c", *o.cmdline})), "OK");
  }
  std::vector<std::string> s{"live-update", "-s", "-t",
                             std::to_string(o.timeout_s)};
  if (o.force) s.push_back("-F");
  return c.send(ty(wire::MsgType::XS_CONTROL), nul_join(s));
}

std::string update_reply(RawClient& c, milliseconds timeout = seconds(20)) {
  auto m = c.recv_reply(timeout);
  return m ? text_of(*m) : "no reply";
}

// The whole update from one requester; returns the -s reply text.
std::string live_update(RawClient& c, const UpdateOptions& o = {}) {
  start_update(c, o);
  return update_reply(c);
}

// The command line the daemon under test was started with, for -c (the
// test's DaemonProcess passes --standalone/--sim-xen, --no-fork, --socket).
std::string same_args(const DaemonProcess& d, bool sim) {
  std::string args = sim ? "--sim-xen " + d.dir() : "--standalone";
  return args + " --no-fork --socket " + d.socket_path();
}

// The event `watcher` gets once `writer` writes `path`, as "path|token|";
// "none" if none comes.
std::string event_on_write(RawClient& writer, RawClient& watcher,
                           const std::string& path) {
  if (!is_type_ok(writer.write(path, "1"))) return "write refused";
  auto ev = watcher.recv_event();
  return ev ? ev->shown() : "none";
}

void write_script(const std::string& path, const std::string& body) {
  std::ofstream(path) << "#!/bin/sh\n" << body << "\n";
  ::chmod(path.c_str(), 0755);
}

TEST(LiveUpdate, StoreSurvivesAndTheRequesterGetsOk) {
  DaemonProcess d;
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type_ok(c.write("/lu/a", std::string("v\0w", 3))));
  ASSERT_TRUE(is_type_ok(c.write("/lu/b/c", "")));
  ASSERT_TRUE(is_type_ok(c.set_perms("/lu/a", {"n0", "r5", "b7"})));
  ASSERT_TRUE(is_type_ok(c.rm("/lu/b/c")));
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(is_type_ok(c.write("/lu/many/n" + std::to_string(i), "x")));
  std::string before = dump_store(d.socket_path());
  pid_t pid = d.pid();

  EXPECT_EQ(live_update(c), "OK");
  EXPECT_EQ(d.pid(), pid);
  EXPECT_TRUE(d.alive());
  EXPECT_EQ(dump_store(d.socket_path()), before);
  EXPECT_NE(d.log().find("live update: serving"), std::string::npos) << d.log();
  // The state file is gone once restored.
  EXPECT_NE(::access((d.dir() + "/state_dump").c_str(), F_OK), 0);
  // The requester's connection lives on.
  EXPECT_EQ(c.read("/lu/a").payload, std::string("v\0w", 3));
}

TEST(LiveUpdate, WatchesFireOnceAfterTheUpdateAndNotBefore) {
  DaemonProcess d;
  RawClient watcher(d.socket_path());
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type_ok(watcher.watch("/w", "abs")));
  ASSERT_TRUE(is_type_ok(watcher.watch("rel", "relative")));
  ASSERT_TRUE(watcher.recv_event());  // the initial events
  ASSERT_TRUE(watcher.recv_event());

  EXPECT_EQ(live_update(c), "OK");
  // No event is fired by the restore itself.
  EXPECT_TRUE(no_event_before_barrier(watcher));
  EXPECT_EQ(event_on_write(c, watcher, "/w/x"), "/w/x|abs|");
  EXPECT_TRUE(no_event_before_barrier(watcher));
  EXPECT_EQ(event_on_write(c, watcher, "/local/domain/0/rel/y"),
            "rel/y|relative|");
}

TEST(LiveUpdate, AnOpenTransactionCommitsAfterAForcedUpdate) {
  DaemonProcess d;
  RawClient t(d.socket_path());
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type_ok(c.write("/tx/read", "old")));
  std::uint32_t tx = t.start_transaction();
  ASSERT_NE(tx, 0u);
  EXPECT_EQ(t.read("/tx/read", tx).payload, "old");
  ASSERT_TRUE(is_type_ok(t.write("/tx/new", "v", tx)));

  UpdateOptions o;
  o.force = true;
  o.timeout_s = 1;
  EXPECT_EQ(live_update(c, o), "OK");
  // The transaction carried over: it still sees its own write and its
  // snapshot, and commits.
  EXPECT_EQ(t.read("/tx/new", tx).payload, "v");
  EXPECT_TRUE(c.read("/tx/new").is_error("ENOENT"));
  EXPECT_TRUE(is_type_ok(t.end_transaction(tx, true)));
  EXPECT_EQ(c.read("/tx/new").payload, "v");
  // Ids go on: the next transaction does not reuse the old id.
  std::uint32_t next = t.start_transaction();
  EXPECT_NE(next, 0u);
  EXPECT_NE(next, tx);
}

// A child added without listing the parent (issue 19) is a delta the new
// daemon replays: another client's new sibling survives the commit, and
// the listing is the serial order of the two.
TEST(LiveUpdate, AChildAddedBeforeTheUpdateMergesWithAnotherAfterIt) {
  DaemonProcess d;
  RawClient t(d.socket_path());
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type_ok(c.write("/m", "")));
  std::uint32_t tx = t.start_transaction();
  ASSERT_TRUE(is_type_ok(t.write("/m/mine", "t", tx)));
  UpdateOptions o;
  o.force = true;
  o.timeout_s = 0;
  EXPECT_EQ(live_update(c, o), "OK");
  ASSERT_TRUE(is_type_ok(c.write("/m/other", "c")));
  EXPECT_TRUE(is_type_ok(t.end_transaction(tx, true)));
  EXPECT_EQ(c.directory("/m").payload, std::string("other\0mine\0", 11));
}

TEST(LiveUpdate, ATransactionReadBeforeTheUpdateStillConflicts) {
  DaemonProcess d;
  RawClient t(d.socket_path());
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type_ok(c.write("/cf/x", "1")));
  std::uint32_t tx = t.start_transaction();
  EXPECT_EQ(t.read("/cf/x", tx).payload, "1");
  ASSERT_TRUE(is_type_ok(t.write("/cf/y", "2", tx)));
  UpdateOptions o;
  o.force = true;
  o.timeout_s = 0;
  EXPECT_EQ(live_update(c, o), "OK");
  ASSERT_TRUE(is_type_ok(c.write("/cf/x", "changed")));
  EXPECT_TRUE(t.end_transaction(tx, true).is_error("EAGAIN"));
}

TEST(LiveUpdate, WaitsForOpenTransactionsAndHoldsNewOnes) {
  DaemonProcess d;
  RawClient t(d.socket_path());
  RawClient other(d.socket_path());
  RawClient c(d.socket_path());
  std::uint32_t tx = t.start_transaction();
  ASSERT_NE(tx, 0u);
  start_update(c, UpdateOptions{});
  // Pending: a new transaction waits, other requests go on.
  std::uint32_t held = other.send(ty(wire::MsgType::XS_TRANSACTION_START),
                                  with_nul(""));
  // Held, not answered. (No barrier can say so sooner: a connection's
  // requests are answered in order, so one sent after it waits too.)
  EXPECT_FALSE(other.recv_reply(milliseconds(500)));
  EXPECT_TRUE(is_type_ok(t.write("/held/x", "1", tx)));
  EXPECT_TRUE(is_type_ok(c.read("/")));
  // The open transaction ends: the update happens, the held request is
  // answered by the new daemon.
  EXPECT_TRUE(is_type_ok(t.end_transaction(tx, true)));
  EXPECT_EQ(update_reply(c), "OK");
  auto reply = other.recv_reply(seconds(5));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->req_id, held);
  EXPECT_TRUE(is_type(*reply, wire::MsgType::XS_TRANSACTION_START));
  EXPECT_NE(d.log().find("live update: serving"), std::string::npos);
}

TEST(LiveUpdate, WithoutForceATimeoutGivesUpAndServesOn) {
  DaemonProcess d;
  RawClient t(d.socket_path());
  RawClient other(d.socket_path());
  RawClient c(d.socket_path());
  std::uint32_t tx = t.start_transaction();
  ASSERT_NE(tx, 0u);
  UpdateOptions o;
  o.timeout_s = 1;
  start_update(c, o);
  std::uint32_t held = other.send(ty(wire::MsgType::XS_TRANSACTION_START),
                                  with_nul(""));
  std::string why = update_reply(c, seconds(10));
  EXPECT_EQ(why.rfind("Domains with long running transactions:\nDomain 0: ", 0),
            0u)
      << why;
  // The held request is served once the update is given up.
  auto reply = other.recv_reply(seconds(5));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->req_id, held);
  EXPECT_EQ(d.log().find("live update: serving"), std::string::npos);
  EXPECT_TRUE(is_type_ok(t.end_transaction(tx, true)));
}

TEST(LiveUpdate, StepsOutOfOrderAndBadArgumentsAreRefused) {
  DaemonProcess d;
  RawClient c(d.socket_path());
  RawClient other(d.socket_path());
  EXPECT_EQ(text_of(control(c, {"live-update", "-s", "-t", "1"})),
            "Not in live-update session.");
  EXPECT_EQ(text_of(control(c, {"live-update", "-f", "/nonexistent/x"})),
            "File not accessible.");
  std::string plain = d.dir() + "/plain";
  std::ofstream(plain) << "not a program";
  EXPECT_EQ(text_of(control(c, {"live-update", "-f", plain})),
            "File not executable.");
  EXPECT_EQ(text_of(control(c, {"live-update", "-x"})), "EINVAL");
  EXPECT_EQ(text_of(control(c, {"live-update", "-f", daemon_binary()})), "OK");
  EXPECT_EQ(text_of(control(other, {"live-update", "-f", daemon_binary()})),
            "live-update session already active.");
  EXPECT_EQ(text_of(control(other, {"live-update", "-c", "x"})),
            "Not in live-update session.");
  EXPECT_EQ(text_of(control(c, {"live-update", "-s", "-v", "3"})), "EINVAL");
  EXPECT_EQ(text_of(control(c, {"live-update", "-a"})), "OK");
  EXPECT_EQ(text_of(control(c, {"live-update", "-a"})),
            "No live-update session active.");
  // Closing the requester's connection ends its session.
  {
    RawClient gone(d.socket_path());
    EXPECT_EQ(text_of(control(gone, {"live-update", "-f", daemon_binary()})),
              "OK");
  }
  EXPECT_TRUE(eventually([&] {
    return text_of(control(other, {"live-update", "-f", daemon_binary()})) ==
           "OK";
  }));
  Msg help = control(c, {"help"});
  EXPECT_NE(help.payload.find("live-update"), std::string::npos);
}

TEST(LiveUpdate, UnprivilegedCallersAreRefused) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  EXPECT_EQ(g.outcome(wire::MsgType::XS_CONTROL,
                      nul_join({"live-update", "-f", daemon_binary()})),
            "EACCES");
}

// A target that cannot take over is found out before the daemon stops:
// the requester hears why, the daemon serves on, and a later update works.
TEST(LiveUpdate, BadTargetsAreRefusedAndTheDaemonServesOn) {
  DaemonProcess d;
  RawClient c(d.socket_path());
  RawClient watcher(d.socket_path());
  ASSERT_TRUE(is_type_ok(watcher.watch("/bad", "t")));
  ASSERT_TRUE(watcher.recv_event());
  std::string fails_help = d.dir() + "/fails-help";
  write_script(fails_help, "exit 3");
  std::string cannot_restore = d.dir() + "/cannot-restore";
  write_script(cannot_restore,
               "case \"$*\" in *--help*) echo 'Usage: cxenstored'; exit 0;; "
               "*--check-state*) echo 'state bad: no'; exit 1;; esac; exit 9");

  UpdateOptions o;
  o.binary = fails_help;
  EXPECT_EQ(live_update(c, o).rfind("Target " + fails_help + " fails --help", 0),
            0u);
  o.binary = cannot_restore;
  std::string why = live_update(c, o);
  EXPECT_NE(why.find("cannot restore the state (exit status 1): state bad: no"),
            std::string::npos)
      << why;
  EXPECT_NE(::access((d.dir() + "/state_dump").c_str(), F_OK), 0);
  // Still the same daemon, still serving its clients.
  EXPECT_EQ(event_on_write(c, watcher, "/bad/x"), "/bad/x|t|");
  EXPECT_EQ(d.log().find("live update: serving"), std::string::npos);
  // A good target afterwards.
  EXPECT_EQ(live_update(c), "OK");
  EXPECT_EQ(event_on_write(c, watcher, "/bad/y"), "/bad/y|t|");
}

// The target check runs beside the daemon, not instead of it: a target
// slow to answer --help does not stop the daemon from answering.
TEST(LiveUpdate, TheDaemonServesWhileTheTargetIsChecked) {
  DaemonProcess d;
  RawClient c(d.socket_path());
  RawClient other(d.socket_path());
  std::string slow = d.dir() + "/slow-help";
  std::string checking = d.dir() + "/help-asked";
  write_script(slow, "case \"$*\" in *--help*) : > '" + checking +
                         "'; sleep 1; echo 'Usage: cxenstored';; "
                         "*) exec '" +
                         daemon_binary() + "' \"$@\";; esac");
  UpdateOptions o;
  o.binary = slow;
  start_update(c, o);
  // The check is under way once the target has been asked for --help.
  ASSERT_TRUE(eventually([&] { return ::access(checking.c_str(), F_OK) == 0; },
                         std::chrono::seconds(10)));
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(is_type_ok(other.write("/during/check", "1")));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(500));
  EXPECT_EQ(update_reply(c), "OK");
  EXPECT_EQ(other.read("/during/check").payload, "1");
  EXPECT_NE(d.log().find("live update: serving"), std::string::npos);
}

TEST(LiveUpdate, CommandLineReplacesTheArguments) {
  DaemonProcess d;
  RawClient c(d.socket_path());
  UpdateOptions o;
  o.cmdline = same_args(d, false) + " -E 77";
  EXPECT_EQ(live_update(c, o), "OK");
  Msg q = control(c, {"quota"});
  EXPECT_NE(q.payload.find("nodes: 77"), std::string::npos) << q.payload;
}

TEST(LiveUpdate, QuotasSetAtRunTimeCarryOver) {
  DaemonProcess d;
  RawClient c(d.socket_path());
  ASSERT_EQ(text_of(control(c, {"quota", "set", "nodes", "55"})), "OK");
  ASSERT_EQ(text_of(control(c, {"quota-soft", "set", "memory", "999"})), "OK");
  EXPECT_EQ(live_update(c), "OK");
  EXPECT_NE(control(c, {"quota"}).payload.find("nodes: 55"), std::string::npos);
  EXPECT_NE(control(c, {"quota-soft"}).payload.find("memory: 999"),
            std::string::npos);
}

// What only cxenstored has, and C's stream has no record for, survives a
// cxenstored -> cxenstored update: a watch's depth, a domain's own quota,
// the features given to a domain not introduced yet and to one that is.
TEST(LiveUpdate, DepthsDomainQuotasAndFeaturesCarryOver) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  RawClient dom0(host.socket());
  RawClient watcher(host.socket());
  auto xs = [&](wire::MsgType t, const std::vector<std::string>& args) {
    return text_of(dom0.request(ty(t), nul_join(args)));
  };
  ASSERT_EQ(xs(wire::MsgType::XS_SET_QUOTA, {"5", "nodes", "33"}), "OK");
  ASSERT_EQ(xs(wire::MsgType::XS_SET_FEATURE, {"7", "2"}), "OK");
  std::string features5 = xs(wire::MsgType::XS_GET_FEATURE, {"5"});
  ASSERT_TRUE(is_type_ok(watcher.request(ty(wire::MsgType::XS_WATCH),
                                         nul_join({"/deep", "d", "1"}))));
  ASSERT_TRUE(watcher.recv_event());

  UpdateOptions o;
  o.cmdline = same_args(host.daemon(), true);
  EXPECT_EQ(live_update(dom0, o), "OK");

  EXPECT_EQ(xs(wire::MsgType::XS_GET_QUOTA, {"5", "nodes"}), "33");
  EXPECT_EQ(xs(wire::MsgType::XS_GET_QUOTA, {"nodes"}), "1000");
  EXPECT_EQ(xs(wire::MsgType::XS_GET_FEATURE, {"7"}), "2");
  EXPECT_EQ(xs(wire::MsgType::XS_GET_FEATURE, {"5"}), features5);
  // Depth 1: a child fires, a grandchild does not.
  EXPECT_EQ(event_on_write(dom0, watcher, "/deep/a"), "/deep/a|d|");
  ASSERT_TRUE(is_type_ok(dom0.write("/deep/a/b", "1")));
  EXPECT_TRUE(no_event_before_barrier(watcher));
}

// A ring cut off for a protocol fault stays cut off across an update (its
// domain known, not served), and its death is still reported.
TEST(LiveUpdate, AStalledRingStaysStalledAndItsDeathIsSeen) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  ASSERT_TRUE(is_type_ok(host.introduce(6)));
  SimGuest bad(host, 5);
  SimGuest good(host, 6);
  RawClient dom0(host.socket());
  wire::Header hdr{ty(wire::MsgType::XS_READ), 1, 0, 5000};
  char raw[kHeaderSize];
  wire::encode_header(hdr, raw);
  ASSERT_TRUE(bad.ring().send_bytes(std::string_view(raw, sizeof raw)));
  ASSERT_TRUE(eventually([&] { return bad.ring().error() != 0; }));

  UpdateOptions o;
  o.cmdline = same_args(host.daemon(), true);
  EXPECT_EQ(live_update(dom0, o), "OK");

  EXPECT_EQ(good.write("data/x", "1"), "XS_WRITE");
  EXPECT_EQ(bad.outcome(wire::MsgType::XS_READ, with_nul("data")), "timeout");
  EXPECT_EQ(text_of(dom0.request(ty(wire::MsgType::XS_IS_DOMAIN_INTRODUCED),
                                 with_nul("5"))),
            "T");
  ASSERT_TRUE(is_type_ok(dom0.watch("@releaseDomain", "rel")));
  ASSERT_TRUE(dom0.recv_event());
  host.destroy(5);
  auto ev = dom0.recv_event();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->shown(), "@releaseDomain|rel|");
  EXPECT_TRUE(eventually(
      [&] { return dom0.read("/local/domain/5").is_error("ENOENT"); }));
}

// The exec itself can fail after every check passed (here the target
// deletes itself once it has answered --help): the daemon takes its fds
// and VIRQ back, answers -s with C's text, and serves on.
TEST(LiveUpdate, AFailedExecLeavesTheDaemonServing) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  SimGuest g(host, 5);
  RawClient c(host.socket());
  std::string vanishing = host.dir() + "/vanishing";
  write_script(vanishing, "echo 'Usage: xenstored'; rm -f \"$0\"");
  UpdateOptions o;
  o.binary = vanishing;
  o.cmdline = "-N";
  EXPECT_EQ(live_update(c, o), "Error activating new binary.");
  EXPECT_NE(host.daemon().log().find("live update: exec " + vanishing),
            std::string::npos);
  EXPECT_NE(::access((host.dir() + "/state_dump").c_str(), F_OK), 0);
  EXPECT_EQ(g.write("data/after", "1"), "XS_WRITE");
  // Still watching for deaths: VIRQ_DOM_EXC was bound again.
  host.destroy(5);
  EXPECT_TRUE(eventually(
      [&] { return c.read("/local/domain/5").is_error("ENOENT"); }));
  EXPECT_EQ(live_update(c), "OK");
}

TEST(LiveUpdate, UpdateAfterUpdate) {
  DaemonProcess d;
  RawClient c(d.socket_path());
  ASSERT_TRUE(is_type_ok(c.write("/twice", "1")));
  EXPECT_EQ(live_update(c), "OK");
  EXPECT_EQ(live_update(c), "OK");
  EXPECT_EQ(c.read("/twice").payload, "1");
}

// The socket's lock passes through the exec, held all the while, and the
// new daemon adopts it (one fd on it, not one more per update): a second
// daemon on the same socket is refused before and after.
TEST(LiveUpdate, TheSocketLockPassesToTheNewDaemon) {
  DaemonProcess d;
  RawClient c(d.socket_path());
  std::string lock = d.socket_path() + ".lock";
  std::string second = daemon_binary() + " --standalone --no-fork --socket " +
                       d.socket_path() + " 2>/dev/null";
  EXPECT_EQ(fds_open_on(d.pid(), lock), 1);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(live_update(c), "OK");
    EXPECT_EQ(fds_open_on(d.pid(), lock), 1) << "after update " << i + 1;
    int status = std::system(("timeout 10 " + second).c_str());
    EXPECT_EQ(WEXITSTATUS(status), 1) << "after update " << i + 1;
  }
  EXPECT_TRUE(is_type_ok(c.write("/locked", "1")));
  RawClient later(d.socket_path());
  EXPECT_EQ(later.read("/locked").payload, "1");
}

// Regression: the restore's domain check dropped permission entries naming
// a domain that does not exist (kept, marked ignored, listed by GET_PERMS),
// so an update under a hypervisor changed what GET_PERMS showed.
TEST(LiveUpdate, IgnoredPermissionEntriesSurviveUnderAHypervisor) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  RawClient c(host.socket());
  ASSERT_TRUE(is_type_ok(c.write("/perm/x", "v")));
  ASSERT_TRUE(is_type_ok(c.set_perms("/perm/x", {"n0", "r5", "b9"})));
  ASSERT_EQ(c.get_perms("/perm/x").shown(), "n0|r5|b9|");
  UpdateOptions o;
  o.cmdline = same_args(host.daemon(), true);
  EXPECT_EQ(live_update(c, o), "OK");
  EXPECT_EQ(c.get_perms("/perm/x").shown(), "n0|r5|b9|");
  // dom9 still gets nothing from it.
  host.set_alive(9);
  ASSERT_TRUE(is_type_ok(host.introduce(9)));
  SimGuest g9(host, 9);
  EXPECT_EQ(g9.read("/perm/x"), "EACCES");
}

// Guests on rings: a watch armed, a transaction open, half a request in the
// ring, replies and events not yet taken.
TEST(LiveUpdate, GuestsMidSessionNoticeNothing) {
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  ASSERT_TRUE(is_type_ok(host.introduce(6)));
  SimGuest g5(host, 5);
  SimGuest g6(host, 6);
  RawClient dom0(host.socket());
  ASSERT_EQ(g5.outcome(wire::MsgType::XS_WATCH, nul_join({"data", "w5"})),
            "XS_WATCH");
  ASSERT_TRUE(g5.next_event());
  ASSERT_EQ(g5.write("data/x", "5"), "XS_WRITE");
  ASSERT_TRUE(g5.next_event());
  ASSERT_EQ(g6.write("data/v", "1"), "XS_WRITE");
  std::uint32_t tx = g6.start_transaction();
  ASSERT_NE(tx, 0u);
  ASSERT_EQ(g6.write("data/t", "in-tx", tx), "XS_WRITE");
  // Replies and an event g5 has not taken: a read answered, dom0 writes.
  std::uint32_t unread = g5.send(ty(wire::MsgType::XS_READ), with_nul("data"));
  ASSERT_TRUE(is_type_ok(dom0.write("/local/domain/5/data/e", "x")));
  // Half a request in g6's ring: the header and part of the payload.
  std::string msg = wire::encode_message(ty(wire::MsgType::XS_WRITE), 77, 0,
                                         std::string("else/half\0value", 15));
  ASSERT_TRUE(g6.ring().send_bytes(msg.substr(0, 20)));
  // Time for the daemon to take the half request and the read (not a wait
  // for an absence: taken or not, they must be served after the update;
  // the pause makes "taken, half-parsed" the likely case tested).
  std::this_thread::sleep_for(milliseconds(200));

  UpdateOptions o;
  o.cmdline = same_args(host.daemon(), true);
  o.force = true;
  o.timeout_s = 0;
  EXPECT_EQ(live_update(dom0, o), "OK");

  // g5: the reply and the event queued before the update arrive once.
  auto reply = g5.await(unread);
  ASSERT_TRUE(reply);
  EXPECT_EQ(outcome_of(*reply), "XS_READ");
  auto ev = g5.next_event_text();
  ASSERT_TRUE(ev);
  EXPECT_EQ(*ev, "data/e|w5|");
  EXPECT_TRUE(no_event_before_barrier(g5));
  // g6: the rest of the half-sent request completes it.
  ASSERT_TRUE(g6.ring().send_bytes(msg.substr(20)));
  auto half = g6.await(77);
  ASSERT_TRUE(half);
  EXPECT_EQ(outcome_of(*half), "XS_WRITE");
  EXPECT_EQ(dom0.read("/local/domain/6/else/half").payload, "value");
  // g6's transaction commits; g5's watch fires.
  EXPECT_EQ(g6.outcome(wire::MsgType::XS_TRANSACTION_END, with_nul("T"), tx),
            "XS_TRANSACTION_END");
  EXPECT_EQ(dom0.read("/local/domain/6/data/t").payload, "in-tx");
  ASSERT_EQ(g6.write("/local/domain/5/data/from6", "1"), "EACCES");
  ASSERT_TRUE(is_type_ok(dom0.write("/local/domain/5/data/after", "1")));
  ev = g5.next_event_text();
  ASSERT_TRUE(ev);
  EXPECT_EQ(*ev, "data/after|w5|");
  // Domains still die as before.
  host.destroy(6);
  EXPECT_TRUE(eventually([&] {
    return dom0.read("/local/domain/6").is_error("ENOENT");
  }));
}

}  // namespace
}  // namespace cxs::test

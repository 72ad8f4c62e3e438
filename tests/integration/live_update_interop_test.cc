// Live update across implementations, under the refd shim: the reference C
// xenstored 4.17 hands its state to the built cxenstored (a hot swap), and
// cxenstored hands its state to C 4.17 (a rollback). Both are driven by the
// raw XS_CONTROL "live-update" requests xenstore-control sends (which itself
// refuses to run without Xen), with socket clients and simulated guests
// mid-session. Without the shim or Debian's xen-utils-4.17 the tests that
// run the C daemon are skipped; those on the checked-in C streams
// (tests/fixtures/live-update) always run. What crosses and what does not:
// docs/compat.md ("Live update").
#include <gtest/gtest.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "integration_helpers.h"
#include "sim_host.h"
#include "temp_dir.h"

namespace cxs::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kCDaemon[] = "/usr/lib/xen-4.17/bin/xenstored";

#define SKIP_WITHOUT_REFD()                                         \
  do {                                                              \
    if (refd_dir().empty())                                         \
      GTEST_SKIP() << "reference C xenstored not available (needs " \
                      "shared/tools/refd or $CXS_REFD_DIR, and "    \
                      "xen-utils-4.17)";                            \
  } while (0)

Msg control(RawClient& c, const std::vector<std::string>& args) {
  return c.request(ty(wire::MsgType::XS_CONTROL), nul_join(args));
}

std::string text_of(const Msg& m) {
  return m.payload.substr(0, m.payload.find('\0'));
}

// -f BINARY, [-c CMDLINE], -s -t N -F; returns the -s reply's text (sent
// by the new daemon).
std::string live_update(RawClient& c, const std::string& binary,
                        const std::optional<std::string>& cmdline,
                        int timeout_s = 5) {
  std::string f = text_of(control(c, {"live-update", "-f", binary}));
  if (f != "OK") return "-f: " + f;
  if (cmdline) {
    std::string r = text_of(control(c, {"live-update", "-c", *cmdline}));
    if (r != "OK") return "-c: " + r;
  }
  c.send(
      ty(wire::MsgType::XS_CONTROL),
      nul_join({"live-update", "-s", "-t", std::to_string(timeout_s), "-F"}));
  auto m = c.recv_reply(seconds(20));
  return m ? text_of(*m) : "no reply";
}

// Whether the daemon still answers `c` (a dead one throws or is silent).
bool answers(RawClient& c) {
  try {
    return is_type_ok(c.read("/"));
  } catch (const std::exception&) {
    return false;
  }
}

std::string real_path(const std::string& p) {
  char buf[PATH_MAX];
  return ::realpath(p.c_str(), buf) ? std::string(buf) : "";
}

std::string exe_of(pid_t pid) {
  return real_path("/proc/" + std::to_string(pid) + "/exe");
}

// cxenstored's arguments for a simulated host in `dir`.
std::string cxenstored_args(const std::string& dir) {
  return "--sim-xen " + dir + " --no-fork --socket " + dir + "/socket";
}

// What either daemon has everywhere: socket clients with watches (absolute,
// relative, special), two guests with a relative watch, one of them with a
// partial request in its ring, the other with replies and an event it has
// not taken (more than its ring holds, so the daemon keeps the rest).
struct Session {
  explicit Session(SimHost& h) : host(h) {}

  void set_up() {
    // dom6 acts for dom5 (SET_TARGET), introduced first: a reader that
    // needs a target's record first must not get them in introduction
    // order.
    ASSERT_TRUE(is_type_ok(host.introduce(6)));
    ASSERT_TRUE(is_type_ok(host.introduce(5)));
    g5.emplace(host, 5);
    g6.emplace(host, 6);
    dom0.emplace(host.socket());
    ASSERT_TRUE(is_type_ok(
        dom0->request(ty(wire::MsgType::XS_SET_TARGET), nul_join({"6", "5"}))));
    watcher.emplace(host.socket());
    partial.emplace(host.socket());
    ASSERT_TRUE(is_type_ok(watcher->watch("/watched", "abs")));
    ASSERT_TRUE(is_type_ok(watcher->watch("rel", "relative")));
    ASSERT_TRUE(is_type_ok(watcher->watch("@releaseDomain", "release")));
    ASSERT_TRUE(is_type_ok(watcher->watch("@introduceDomain", "intro")));
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(watcher->recv_event());
    ASSERT_TRUE(is_type_ok(dom0->write("/watched/before", "1")));
    ASSERT_TRUE(watcher->recv_event());
    // Left in the socket: the watcher takes it after the update.
    ASSERT_TRUE(is_type_ok(dom0->write("/local/domain/0/rel/unread", "1")));
    ASSERT_TRUE(is_type_ok(dom0->write("/perm/x", std::string("v\0w", 3))));
    ASSERT_TRUE(is_type_ok(dom0->set_perms("/perm/x", {"n0", "r5", "b9"})));
    ASSERT_TRUE(is_type_ok(dom0->set_perms("@introduceDomain", {"n0", "r5"})));

    ASSERT_EQ(g5->write("data/x", "5"), "XS_WRITE");
    ASSERT_EQ(g6->write("/local/domain/5/data/from6", "0"), "XS_WRITE");
    ASSERT_EQ(g5->outcome(wire::MsgType::XS_WATCH, nul_join({"data", "w5"})),
              "XS_WATCH");
    ASSERT_TRUE(g5->next_event());
    ASSERT_EQ(g6->outcome(wire::MsgType::XS_WATCH, nul_join({"data", "w6"})),
              "XS_WATCH");
    ASSERT_TRUE(g6->next_event());
    ASSERT_EQ(g6->write("big", std::string(600, 'x')), "XS_WRITE");

    // g5: half a request (the header and part of the payload).
    half = wire::encode_message(ty(wire::MsgType::XS_WRITE), 77, 0,
                                std::string("else/half\0value", 15));
    ASSERT_TRUE(g5->ring().send_bytes(half.substr(0, 20)));
    // g6: three 616-byte replies and an event, not taken: more than rsp[].
    for (int i = 0; i < 3; ++i)
      unread.push_back(g6->send(ty(wire::MsgType::XS_READ), with_nul("big")));
    // Time for the daemon to take the reads (not a wait for an absence:
    // replies taken or not, they must all arrive after the update; the
    // pause makes "taken, some replies queued" the likely case tested).
    std::this_thread::sleep_for(milliseconds(200));
    ASSERT_TRUE(is_type_ok(dom0->write("/local/domain/6/data/e", "x")));
    // A socket's half request.
    half_socket = wire::encode_message(ty(wire::MsgType::XS_WRITE), 88, 0,
                                       std::string("/part\0done", 10));
    partial->send_bytes(half_socket.substr(0, 21));
    // As above: time for the daemon to read the half request, so the
    // update likely hands it over half-parsed (in the kernel it must
    // survive too).
    std::this_thread::sleep_for(milliseconds(200));
  }

  std::string special_perms() {
    return dom0->get_perms("@releaseDomain").shown() + " " +
           dom0->get_perms("@introduceDomain").shown();
  }

  // After the update: everything goes on, once.
  void check_after() {
    // The event left in the watcher's socket, then nothing more.
    auto ev = watcher->recv_event();
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->shown(), "rel/unread|relative|");
    EXPECT_TRUE(no_event_before_barrier(*watcher));
    // Watches fire once on later writes.
    ASSERT_TRUE(is_type_ok(dom0->write("/watched/after", "1")));
    ev = watcher->recv_event();
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->shown(), "/watched/after|abs|");
    ASSERT_TRUE(is_type_ok(dom0->write("/local/domain/0/rel/after", "1")));
    ev = watcher->recv_event();
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->shown(), "rel/after|relative|");
    EXPECT_TRUE(no_event_before_barrier(*watcher));

    // g6: the replies and the event queued before the update arrive.
    for (std::uint32_t id : unread) {
      auto r = g6->await(id);
      ASSERT_TRUE(r) << "reply " << id;
      EXPECT_EQ(r->payload, std::string(600, 'x'));
    }
    auto e6 = g6->next_event_text();
    ASSERT_TRUE(e6);
    EXPECT_EQ(*e6, "data/e|w6|");
    EXPECT_TRUE(no_event_before_barrier(*g6));
    // g5: the half request completes; its watch fires once.
    ASSERT_TRUE(g5->ring().send_bytes(half.substr(20)));
    auto r = g5->await(77);
    ASSERT_TRUE(r);
    EXPECT_EQ(outcome_of(*r), "XS_WRITE");
    EXPECT_EQ(dom0->read("/local/domain/5/else/half").payload, "value");
    ASSERT_TRUE(is_type_ok(dom0->write("/local/domain/5/data/after", "1")));
    auto e5 = g5->next_event_text();
    ASSERT_TRUE(e5);
    EXPECT_EQ(*e5, "data/after|w5|");
    EXPECT_TRUE(no_event_before_barrier(*g5));
    EXPECT_EQ(g5->read("data/x"), "5");
    // The target carried over; dom5 may still not touch dom6's nodes.
    EXPECT_EQ(g6->write("/local/domain/5/data/from6", "1"), "XS_WRITE");
    EXPECT_EQ(g5->write("/local/domain/6/data/from5", "1"), "EACCES");
    // The socket's half request completes.
    partial->send_bytes(half_socket.substr(21));
    auto pr = partial->recv_reply();
    ASSERT_TRUE(pr);
    EXPECT_EQ(pr->req_id, 88u);
    EXPECT_TRUE(is_type_ok(*pr));
    EXPECT_EQ(dom0->read("/part").payload, "done");

    // A guest dies: @releaseDomain fires, its nodes go. (dom6: C 4.17
    // fires nothing when a domain another one acts for dies, update or
    // not.)
    host.destroy(6);
    ev = watcher->recv_event();
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->shown(), "@releaseDomain|release|");
    EXPECT_TRUE(eventually(
        [&] { return dom0->read("/local/domain/6").is_error("ENOENT"); }));
    // A new guest comes.
    ASSERT_TRUE(is_type_ok(host.introduce(7)));
    ev = watcher->recv_event();
    ASSERT_TRUE(ev);
    EXPECT_EQ(ev->shown(), "@introduceDomain|intro|");
    SimGuest g7(host, 7);
    EXPECT_EQ(g7.write("data/x", "7"), "XS_WRITE");
    EXPECT_EQ(dom0->read("/local/domain/7/data/x").payload, "7");
  }

  SimHost& host;
  std::optional<SimGuest> g5, g6;
  std::optional<RawClient> dom0, watcher, partial;
  std::string half, half_socket;
  std::vector<std::uint32_t> unread;
};

// ---- C 4.17 -> cxenstored ---------------------------------------------------

TEST(LiveUpdateFromC, CxenstoredTakesOverEveryClientAndGuest) {
  SKIP_WITHOUT_REFD();
  SimHost host(Peer::kReferenceC);
  Session s(host);
  ASSERT_NO_FATAL_FAILURE(s.set_up());
  std::string before = dump_store(host.socket());
  std::string specials = s.special_perms();
  pid_t pid = host.pid();
  ASSERT_EQ(exe_of(pid), real_path(kCDaemon));

  RawClient requester(host.socket());
  EXPECT_EQ(
      live_update(requester, daemon_binary(), cxenstored_args(host.dir())),
      "OK")
      << host.log();
  EXPECT_EQ(host.pid(), pid);
  EXPECT_EQ(exe_of(pid), real_path(daemon_binary())) << host.log();
  // The OK may be written before the restore is over.
  EXPECT_TRUE(eventually([&] {
    return host.log().find("live update: serving") != std::string::npos;
  })) << host.log();
  // The shim's LD_PRELOAD came along with C's environment: harmless.
  EXPECT_NE(read_file("/proc/" + std::to_string(pid) + "/environ")
                .find("LD_PRELOAD="),
            std::string::npos);
  EXPECT_NE(::access((host.dir() + "/state_dump").c_str(), F_OK), 0);
  EXPECT_EQ(dump_store(host.socket()), before);
  // C offered no ring features; the guests keep having none.
  EXPECT_EQ(s.g5->ring().server_features(), 0u);
  // C 4.17 refuses GET_PERMS of a special node (EINVAL); the stream had
  // them.
  EXPECT_EQ(specials, "EINVAL| EINVAL|");
  EXPECT_EQ(s.special_perms(), "n0| n0|r5|");
  // The requester's connection lives on.
  EXPECT_TRUE(is_type_ok(requester.read("/")));
  ASSERT_NO_FATAL_FAILURE(s.check_after());
  EXPECT_TRUE(host.alive()) << host.log();
}

// The command's exit status (-1 if it did not exit) and its output.
std::pair<int, std::string> run_shell(const std::string& command) {
  std::string out;
  std::FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return {-1, ""};
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string fixture(const std::string& name) {
  return std::string(CXS_FIXTURE_DIR) + "/c417-" + name + ".state";
}

// The dry run a cxenstored update makes of its target, on what C 4.17
// really writes (no refd needed: the streams are checked in).
TEST(LiveUpdateFromC, EveryC417FixturePassesCheckState) {
  const std::pair<const char*, const char*> kFixtures[] = {
      {"fresh", "5 nodes, 2 connections, 0 watches"},
      {"nodes", "220 nodes, 2 connections, 0 watches"},
      {"watches", "5 nodes, 4 connections, 5 watches"},
      {"guests", "11 nodes, 6 connections, 3 watches"},
      {"transaction", "7 nodes, 4 connections, 0 watches"},
  };
  for (auto [name, summary] : kFixtures) {
    auto [status, out] =
        run_shell("'" + daemon_binary() + "' --check-state " + fixture(name));
    EXPECT_EQ(status, 0) << name << ": " << out;
    EXPECT_NE(out.find(std::string("state OK: ") + summary), std::string::npos)
        << name << ": " << out;
    EXPECT_NE(out.find("from another xenstored"), std::string::npos) << out;
  }
}

// A state cut short or damaged is refused by the dry run with the record
// and offset at fault, and by a new daemon (-U) without a crash: the
// update that wrote it would then be refused, the old daemon serving on.
TEST(LiveUpdateFromC, ADamagedStateIsRefusedNamingTheRecord) {
  TempDir dir("lu-damaged");
  std::string cut = dir.path() + "/cut.state";
  std::string flipped = dir.path() + "/flipped.state";
  ASSERT_EQ(run_shell("head -c 100 " + fixture("fresh") + " >" + cut).first,
            0);
  // The GLOBAL record's length word (file offset 20) made odd.
  ASSERT_EQ(run_shell("cp " + fixture("fresh") + " " + flipped +
                      " && printf '\\011' | dd of=" + flipped +
                      " bs=1 seek=20 conv=notrunc 2>/dev/null")
                .first,
            0);
  for (const auto& [file, why] :
       {std::pair{cut, std::string("runs past the end")},
        std::pair{flipped, std::string("record 0 (GLOBAL) at offset 16")}}) {
    auto [status, out] =
        run_shell("'" + daemon_binary() + "' --check-state " + file);
    EXPECT_EQ(status, 1) << out;
    EXPECT_NE(out.find("not restorable"), std::string::npos) << out;
    EXPECT_NE(out.find(why), std::string::npos) << out;
  }
  // A new daemon given the cut state stops with the reason, no crash.
  std::string rundir = dir.path() + "/run";
  ASSERT_EQ(run_shell("mkdir " + rundir + " && cp " + cut + " " + rundir +
                      "/state_dump")
                .first,
            0);
  auto [status, out] = run_shell(
      "XENSTORED_RUNDIR='" + rundir + "' '" + daemon_binary() +
      "' -N --standalone --socket " + dir.path() + "/s -U");
  EXPECT_EQ(status, 1) << out;
  EXPECT_NE(out.find("runs past the end"), std::string::npos) << out;
}

// Without -c, cxenstored gets the C daemon's argv with -U. Every C 4.17
// option parses (options_test.cc); on a simulated host there is no Xen to
// find, so a hot swap off refd needs -c (docs/compat.md). The state file
// stays, as C leaves it when its successor fails.
TEST(LiveUpdateFromC, TheCDaemonsArgvParsesAndOnlyTheHypervisorIsMissing) {
  struct stat st;
  if (::stat("/dev/xen/evtchn", &st) == 0) GTEST_SKIP() << "this host has Xen";
  TempDir dir("lu-argv");
  std::string state = dir.path() + "/state_dump";
  ASSERT_EQ(run_shell("cp " + fixture("guests") + " " + state).first, 0);
  auto [status, out] = run_shell(
      "env -u XENSTORED_PATH XENSTORED_RUNDIR=" + dir.path() + " '" +
      daemon_binary() + "' -N -F " + dir.path() + "/xenstored.pid -U");
  EXPECT_EQ(status, 1) << out;
  EXPECT_NE(out.find("no Xen hypervisor found"), std::string::npos) << out;
  EXPECT_EQ(::access(state.c_str(), F_OK), 0);
}

// ---- cxenstored -> C 4.17 ---------------------------------------------------

// The C daemon as a live-update target on this simulated host: the shim
// preloaded, pointed at `dir` (cxenstored's environment has none of it).
std::string write_c_wrapper(const std::string& dir) {
  std::string path = dir + "/c-xenstored";
  std::ofstream(path) << "#!/bin/sh\n"
                      << "export LD_PRELOAD='" << refd_dir()
                      << "/build/xenshim.so'\n"
                      << "export XENSHIM_DIR='" << dir << "'\n"
                      << "export XENSHIM_SOCKET='" << dir << "/socket'\n"
                      << "export XENSTORED_RUNDIR='" << dir << "'\n"
                      << "exec " << kCDaemon << " \"$@\"\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

// C's own arguments under refd (start-peer.sh's).
std::string c_args(const std::string& dir) {
  return "-N -F " + dir + "/xenstored.pid";
}

TEST(LiveUpdateToC, TheCDaemonTakesOverEveryClientAndGuest) {
  SKIP_WITHOUT_REFD();
  SimHost host;
  Session s(host);
  ASSERT_NO_FATAL_FAILURE(s.set_up());
  std::string before = dump_store(host.socket());
  std::string specials = s.special_perms();
  pid_t pid = host.pid();

  RawClient requester(host.socket());
  EXPECT_EQ(
      live_update(requester, write_c_wrapper(host.dir()), c_args(host.dir())),
      "OK")
      << host.log();
  EXPECT_EQ(host.pid(), pid);
  EXPECT_EQ(exe_of(pid), real_path(kCDaemon)) << host.log();
  EXPECT_TRUE(eventually([&] {
    return ::access((host.dir() + "/state_dump").c_str(), F_OK) != 0;
  })) << host.log();
  EXPECT_EQ(dump_store(host.socket()), before) << host.log();
  EXPECT_EQ(s.special_perms(), "EINVAL| EINVAL|");  // C 4.17 hides them
  // C 4.17 offers no ring feature: the pages must not claim any.
  EXPECT_EQ(s.g5->ring().server_features(), 0u);
  EXPECT_EQ(s.g6->ring().server_features(), 0u);
  EXPECT_TRUE(is_type_ok(requester.read("/")));
  ASSERT_NO_FATAL_FAILURE(s.check_after()) << host.log();
  EXPECT_TRUE(host.alive()) << host.log();
  EXPECT_EQ(host.log().find("FATAL"), std::string::npos) << host.log();

  // And back to cxenstored: what C could not show came through it.
  std::string after_c = dump_store(host.socket());
  EXPECT_EQ(
      live_update(requester, daemon_binary(), cxenstored_args(host.dir())),
      "OK")
      << host.log();
  EXPECT_EQ(exe_of(pid), real_path(daemon_binary()));
  EXPECT_EQ(dump_store(host.socket()), after_c);
  EXPECT_EQ(s.special_perms(), specials);
  EXPECT_EQ(specials, "n0| n0|r5|");
  ASSERT_TRUE(is_type_ok(s.dom0->write("/watched/back", "1")));
  auto ev = s.watcher->recv_event();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->shown(), "/watched/back|abs|");
  EXPECT_EQ(s.g5->read("data/x"), "5");
}

// A domain gone from the hypervisor before its death was seen (VIRQ not yet
// handled) still owns nodes: C 4.17's reader dies on a NODE whose owner does
// not exist, unless the owner has a ring connection in the stream. Here
// dom8 has none (never introduced); dom7 has one.
TEST(LiveUpdateToC, DomainsThatDiedUnseenAreReleasedBeforeTheDump) {
  SKIP_WITHOUT_REFD();
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(7)));
  host.set_alive(8);
  RawClient dom0(host.socket());
  RawClient watcher(host.socket());
  ASSERT_TRUE(is_type_ok(watcher.watch("@releaseDomain", "release")));
  ASSERT_TRUE(watcher.recv_event());
  ASSERT_TRUE(is_type_ok(dom0.write("/owned/by8", "1")));
  ASSERT_TRUE(is_type_ok(dom0.set_perms("/owned/by8", {"n8"})));
  ASSERT_TRUE(is_type_ok(dom0.write("/owned/by0", "1")));
  ASSERT_TRUE(is_type_ok(dom0.set_perms("/owned/by0", {"n0", "r8"})));
  host.set_gone(8);  // no VIRQ
  host.set_gone(7);

  RawClient requester(host.socket());
  EXPECT_EQ(
      live_update(requester, write_c_wrapper(host.dir()), c_args(host.dir())),
      "OK")
      << host.log();
  EXPECT_EQ(exe_of(host.pid()), real_path(kCDaemon));
  ASSERT_TRUE(answers(dom0)) << host.log();
  EXPECT_TRUE(dom0.read("/owned/by8").is_error("ENOENT"));
  EXPECT_TRUE(dom0.read("/local/domain/7").is_error("ENOENT"));
  EXPECT_EQ(dom0.get_perms("/owned/by0").shown(), "n0|");
  auto ev = watcher.recv_event();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->shown(), "@releaseDomain|release|");
  EXPECT_EQ(host.log().find("FATAL"), std::string::npos) << host.log();
}

// cxenstored's own options mean nothing to C: without -c the C daemon
// would get them and die.
TEST(LiveUpdateToC, WithoutACommandLineItIsRefusedAndCxenstoredServesOn) {
  SKIP_WITHOUT_REFD();
  SimHost host;
  RawClient c(host.socket());
  ASSERT_TRUE(is_type_ok(c.write("/kept", "1")));
  std::string why = live_update(c, write_c_wrapper(host.dir()), std::nullopt);
  EXPECT_NE(why.find("-c"), std::string::npos) << why;
  EXPECT_EQ(exe_of(host.pid()), real_path(daemon_binary()));
  EXPECT_EQ(c.read("/kept").payload, "1");
  EXPECT_NE(::access((host.dir() + "/state_dump").c_str(), F_OK), 0);
}

// A node owned by DOMID_ANY (Xen 4.22) has no domain C 4.17 could account
// it to: its reader would die on it.
TEST(LiveUpdateToC, ANodeOwnedByDomidAnyIsRefusedAndCxenstoredServesOn) {
  SKIP_WITHOUT_REFD();
  SimHost host;
  RawClient c(host.socket());
  ASSERT_TRUE(is_type_ok(c.write("/any", "1")));
  ASSERT_TRUE(is_type_ok(c.set_perms("/any", {"n32757"})));
  std::string why =
      live_update(c, write_c_wrapper(host.dir()), c_args(host.dir()));
  EXPECT_NE(why.find("/any"), std::string::npos) << why;
  EXPECT_EQ(exe_of(host.pid()), real_path(daemon_binary()));
  EXPECT_EQ(c.read("/any").payload, "1");
}

// C has no transaction records: a transaction open across a forced update
// is gone afterwards (ENOENT), as after a C -> C update; its writes never
// reach the store.
TEST(LiveUpdateToC, AnOpenTransactionIsDroppedAsCDropsIt) {
  SKIP_WITHOUT_REFD();
  SimHost host;
  RawClient t(host.socket());
  std::uint32_t tx = t.start_transaction();
  ASSERT_NE(tx, 0u);
  ASSERT_TRUE(is_type_ok(t.write("/tx/inside", "1", tx)));
  RawClient requester(host.socket());
  EXPECT_EQ(live_update(requester, write_c_wrapper(host.dir()),
                        c_args(host.dir()), /*timeout_s=*/0),
            "OK");
  ASSERT_TRUE(answers(requester)) << host.log();
  EXPECT_TRUE(t.write("/tx/more", "1", tx).is_error("ENOENT"));
  EXPECT_TRUE(t.read("/tx/inside").is_error("ENOENT"));
  EXPECT_TRUE(is_type_ok(t.write("/tx/outside", "1")));
}

// C 4.17 links a ring to its target only if the target's record came first
// (otherwise the link is silently lost). A chain dom7 -> dom6 -> dom5,
// introduced in that order, must still be written target first.
TEST(LiveUpdateToC, AChainOfTargetsSurvives) {
  SKIP_WITHOUT_REFD();
  SimHost host;
  for (std::uint32_t d : {7u, 6u, 5u})
    ASSERT_TRUE(is_type_ok(host.introduce(d)));
  RawClient dom0(host.socket());
  for (auto [dom, target] : {std::pair{"7", "6"}, std::pair{"6", "5"}}) {
    ASSERT_TRUE(is_type_ok(dom0.request(ty(wire::MsgType::XS_SET_TARGET),
                                        nul_join({dom, target}))));
  }
  SimGuest g7(host, 7);
  SimGuest g6(host, 6);
  ASSERT_EQ(g7.write("/local/domain/6/from7", "1"), "XS_WRITE");
  ASSERT_EQ(g6.write("/local/domain/5/from6", "1"), "XS_WRITE");
  RawClient requester(host.socket());
  EXPECT_EQ(
      live_update(requester, write_c_wrapper(host.dir()), c_args(host.dir())),
      "OK");
  ASSERT_TRUE(answers(requester)) << host.log();
  EXPECT_EQ(g7.write("/local/domain/6/from7", "2"), "XS_WRITE");
  EXPECT_EQ(g6.write("/local/domain/5/from6", "2"), "XS_WRITE");
}

// Watch kinds C 4.17 does not have: a depth (kept in a record C skips) and
// "@releaseDomain/<domid>" (Xen 4.22). C must come up with them; what it
// makes of them is in docs/compat.md.
TEST(LiveUpdateToC, WatchesCFourSeventeenLacksDoNotStopIt) {
  SKIP_WITHOUT_REFD();
  SimHost host;
  ASSERT_TRUE(is_type_ok(host.introduce(5)));
  RawClient w(host.socket());
  ASSERT_TRUE(is_type_ok(
      w.request(ty(wire::MsgType::XS_WATCH), nul_join({"/d", "depth0", "0"}))));
  ASSERT_TRUE(is_type_ok(w.watch("@releaseDomain/5", "rel5")));
  ASSERT_TRUE(w.recv_event());
  ASSERT_TRUE(w.recv_event());
  RawClient requester(host.socket());
  EXPECT_EQ(
      live_update(requester, write_c_wrapper(host.dir()), c_args(host.dir())),
      "OK");
  ASSERT_TRUE(answers(requester)) << host.log();
  EXPECT_EQ(exe_of(host.pid()), real_path(kCDaemon));
  ASSERT_TRUE(is_type_ok(requester.write("/d", "1")));
  ASSERT_TRUE(is_type_ok(requester.write("/d/below", "1")));
  std::vector<std::string> seen;
  for (const Msg& ev : w.events_before_barrier()) seen.push_back(ev.shown());
  // The requester watches the bare @releaseDomain, so the test knows when
  // the daemon has taken 5's death (a VIRQ, answered by no reply).
  ASSERT_TRUE(is_type_ok(requester.watch("@releaseDomain", "bare")));
  ASSERT_TRUE(requester.recv_event());
  host.destroy(5);
  ASSERT_TRUE(requester.recv_event(milliseconds(10000))) << "no release";
  for (const Msg& ev : w.events_before_barrier()) seen.push_back(ev.shown());
  // C 4.17 has no depths (the watch now sees below /d) and fires only the
  // bare @releaseDomain.
  EXPECT_EQ(seen, (std::vector<std::string>{"/d|depth0|", "/d/below|depth0|"}));
  EXPECT_TRUE(answers(requester)) << host.log();
}

// The socket's lock rides through C, which keeps the fd open unknowingly
// (so a second cxenstored is refused meanwhile), and cxenstored adopts it
// when the host comes back to it.
TEST(LiveUpdateToC, TheSocketLockIsHeldThroughCAndAdoptedBack) {
  SKIP_WITHOUT_REFD();
  SimHost host;
  pid_t pid = host.pid();
  std::string lock = host.dir() + "/socket.lock";
  std::string second = "timeout 10 " + daemon_binary() +
                       " --standalone --no-fork --socket " + host.socket() +
                       " 2>/dev/null";
  ASSERT_EQ(fds_open_on(pid, lock), 1);
  RawClient requester(host.socket());
  ASSERT_EQ(
      live_update(requester, write_c_wrapper(host.dir()), c_args(host.dir())),
      "OK")
      << host.log();
  EXPECT_EQ(exe_of(pid), real_path(kCDaemon));
  EXPECT_EQ(fds_open_on(pid, lock), 1);
  EXPECT_EQ(WEXITSTATUS(std::system(second.c_str())), 1);
  ASSERT_EQ(
      live_update(requester, daemon_binary(), cxenstored_args(host.dir())),
      "OK")
      << host.log();
  EXPECT_EQ(fds_open_on(pid, lock), 1);
  EXPECT_EQ(WEXITSTATUS(std::system(second.c_str())), 1);
  EXPECT_TRUE(answers(requester)) << host.log();
}

}  // namespace
}  // namespace cxs::test

// The cxs-guest tool (src/guest), the built binary, against the built
// cxenstored --sim-xen DIR: it introduces a domain as the toolstack does,
// then speaks for it over its ring (reads, writes, listings, a watch, a
// transaction) and, in hostile mode, breaks the ring on purpose.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "sim_host.h"
#include "test_util.h"

namespace cxs::test {
namespace {

using wire::MsgType;

std::string guest_binary() { return CXS_GUEST_PATH; }

// cxs-guest DIR DOM ARGS..., stdout and stderr together.
CommandResult guest(SimHost& host, std::uint32_t dom, const std::string& args) {
  return host.daemon().run("'" + guest_binary() + "' '" + host.dir() + "' " +
                           std::to_string(dom) + " " + args);
}

// A cxs-guest still running, its output read line by line.
class RunningGuest {
 public:
  RunningGuest(SimHost& host, std::uint32_t dom, const std::string& args) {
    std::string cmd = "'" + guest_binary() + "' '" + host.dir() + "' " +
                      std::to_string(dom) + " " + args + " 2>&1";
    pipe_ = ::popen(cmd.c_str(), "r");
  }
  ~RunningGuest() {
    if (pipe_) ::pclose(pipe_);
  }
  // The next line without its newline; "" at the end of the output. The
  // tool gives up on its own after its --timeout, so this cannot hang.
  std::string line() {
    char buf[512];
    if (!pipe_ || !std::fgets(buf, sizeof buf, pipe_)) return "";
    std::string s(buf);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
  }
  int exit_status() {
    int status = ::pclose(pipe_);
    pipe_ = nullptr;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  std::FILE* pipe_ = nullptr;
};

std::string introduced(RawClient& dom0, std::uint32_t dom) {
  return dom0
      .request(ty(MsgType::XS_IS_DOMAIN_INTRODUCED),
               with_nul(std::to_string(dom)))
      .shown();
}

TEST(CxsGuest, IntroducesADomainAndWritesThroughItsRing) {
  SimHost host;
  RawClient dom0(host.socket());
  CommandResult r = guest(host, 5, "--introduce write data/x hello");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(introduced(dom0, 5), "T|");
  // A relative path is in the domain's home, and the domain owns the node.
  EXPECT_EQ(dom0.read("/local/domain/5/data/x").payload, "hello");
  EXPECT_EQ(nul_split(dom0.get_perms("/local/domain/5/data/x").payload),
            std::vector<std::string>{"n5"});
}

TEST(CxsGuest, ReadsAndListsThroughTheRing) {
  SimHost host;
  RawClient dom0(host.socket());
  ASSERT_EQ(guest(host, 5, "--introduce").status, 0);
  ASSERT_TRUE(is_type_ok(dom0.write("/local/domain/5/data/a", "1")));
  ASSERT_TRUE(is_type_ok(dom0.write("/local/domain/5/data/b", "2")));
  EXPECT_EQ(guest(host, 5, "read data/a").out, "1\n");
  EXPECT_EQ(guest(host, 5, "read /local/domain/5/data/b").out, "2\n");
  EXPECT_EQ(guest(host, 5, "ls data").out, "a\nb\n");
  EXPECT_EQ(guest(host, 5, "ls --part data").out, "a\nb\n");
  CommandResult missing = guest(host, 5, "read data/none");
  EXPECT_EQ(missing.status, 1);
  EXPECT_EQ(missing.out, "error: ENOENT\n");
  // Its ring is an unprivileged domain's.
  ASSERT_TRUE(is_type_ok(dom0.write("/secret", "s")));
  ASSERT_TRUE(is_type_ok(dom0.set_perms("/secret", {"n0"})));
  EXPECT_EQ(guest(host, 5, "read /secret").out, "error: EACCES\n");
}

TEST(CxsGuest, WatchPrintsTheEventsOfAnotherWriter) {
  SimHost host;
  RawClient dom0(host.socket());
  ASSERT_EQ(guest(host, 5, "--introduce").status, 0);
  RunningGuest w(host, 5, "watch data/w tok 2");
  // The first event is the one every new watch fires at once: after it,
  // the watch is in place.
  ASSERT_EQ(w.line(), "data/w tok");
  ASSERT_TRUE(is_type_ok(dom0.write("/local/domain/5/data/w", "v")));
  EXPECT_EQ(w.line(), "data/w tok");
  EXPECT_EQ(w.exit_status(), 0);
  // It unwatched before leaving: no watch of dom5's is left.
  Msg q = dom0.request(ty(MsgType::XS_CONTROL), nul_join({"quota", "5"}));
  EXPECT_NE(q.payload.find("watches: 0\n"), std::string::npos) << q.shown();
}

TEST(CxsGuest, TransactionCommits) {
  SimHost host;
  RawClient dom0(host.socket());
  CommandResult r = guest(host, 5, "--introduce tx-demo data/t");
  ASSERT_EQ(r.status, 0) << r.out;
  std::string tx = r.out.substr(0, r.out.find('\n'));
  ASSERT_EQ(tx.rfind("transaction ", 0), 0u) << r.out;
  std::string id = tx.substr(12);
  EXPECT_EQ(dom0.read("/local/domain/5/data/t").payload,
            "written in transaction " + id);
  EXPECT_NE(r.out.find("committed; data/t = written in transaction " + id),
            std::string::npos)
      << r.out;
}

TEST(CxsGuest, HostileGuestsAreCutOffWhileTheDaemonAndAnotherGuestGoOn) {
  SimHost host;
  RawClient dom0(host.socket());
  ASSERT_EQ(guest(host, 5, "--introduce write data/x 1").status, 0);
  CommandResult bad = guest(host, 6, "--introduce hostile bad-index");
  EXPECT_EQ(bad.status, 0) << bad.out;
  EXPECT_EQ(bad.out, "ring error 2\n");
  CommandResult big = guest(host, 7, "--introduce hostile oversize");
  EXPECT_EQ(big.status, 0) << big.out;
  EXPECT_EQ(big.out, "ring error 3\n");
  // The two are no longer served...
  for (std::uint32_t dom : {6u, 7u}) {
    CommandResult after = guest(host, dom, "--timeout 1 read data");
    EXPECT_EQ(after.status, 1) << after.out;
    EXPECT_NE(after.out.find("ring error"), std::string::npos) << after.out;
  }
  // ...the daemon and the well-behaved guest go on.
  EXPECT_TRUE(host.alive());
  EXPECT_EQ(guest(host, 5, "write data/y 2").status, 0);
  EXPECT_EQ(guest(host, 5, "read data/x").out, "1\n");
  EXPECT_EQ(dom0.read("/local/domain/5/data/y").payload, "2");
  EXPECT_EQ(introduced(dom0, 6), "T|");
}

TEST(CxsGuest, KillReleasesTheDomain) {
  SimHost host;
  RawClient dom0(host.socket());
  ASSERT_EQ(guest(host, 5, "--introduce write data/x 1").status, 0);
  ASSERT_TRUE(is_type_ok(dom0.watch("@releaseDomain", "rel")));
  ASSERT_TRUE(dom0.recv_event());
  ASSERT_EQ(guest(host, 5, "kill").status, 0);
  auto ev = dom0.recv_event();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->shown(), "@releaseDomain|rel|");
  EXPECT_EQ(introduced(dom0, 5), "F|");
  EXPECT_TRUE(dom0.read("/local/domain/5/data/x").is_error("ENOENT"));
}

}  // namespace
}  // namespace cxs::test

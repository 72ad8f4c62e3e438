// The real Xen clients (xenstore-utils, test-xenstore) against the daemon,
// through libxenstore and XENSTORED_PATH.
#include <gtest/gtest.h>

#include <string>

#include "integration_helpers.h"

namespace cxs::test {
namespace {

constexpr const char* kTestXenstore = "/usr/lib/xen-4.17/bin/test-xenstore";

#define REQUIRE_PROGRAM(name)                                          \
  do {                                                                 \
    if (!have_program(name))                                           \
      GTEST_SKIP() << name << " is not installed (xenstore-utils / "   \
                   << "xen-utils-4.17 missing)";                       \
  } while (0)

class Clients : public ::testing::Test {
 protected:
  DaemonProcess d;
};

TEST_F(Clients, WriteThenReadGivesTheValueBack) {
  REQUIRE_PROGRAM("xenstore-write");
  REQUIRE_PROGRAM("xenstore-read");
  auto w = d.run("xenstore-write /cl/a 42");
  ASSERT_EQ(w.status, 0) << w.out;
  auto r = d.run("xenstore-read /cl/a");
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "42\n");
}

TEST_F(Clients, ValuesWithSpacesSurviveWriteReadAndLs) {
  REQUIRE_PROGRAM("xenstore-write");
  REQUIRE_PROGRAM("xenstore-ls");
  ASSERT_EQ(d.run("xenstore-write /cl/s 'hello big world'").status, 0);
  auto r = d.run("xenstore-read /cl/s");
  EXPECT_EQ(r.out, "hello big world\n");
  auto ls = d.run("xenstore-ls /cl");
  EXPECT_EQ(ls.status, 0);
  EXPECT_NE(ls.out.find("s = \"hello big world\""), std::string::npos)
      << ls.out;
  // And it is the same bytes over the raw protocol.
  RawClient c(d.socket_path());
  EXPECT_EQ(c.read("/cl/s").payload, "hello big world");
}

TEST_F(Clients, WriteSeveralPairsAtOnce) {
  REQUIRE_PROGRAM("xenstore-write");
  ASSERT_EQ(d.run("xenstore-write /cl/x 1 /cl/y 2 /cl/z 3").status, 0);
  RawClient c(d.socket_path());
  EXPECT_EQ(c.read("/cl/x").payload, "1");
  EXPECT_EQ(c.read("/cl/y").payload, "2");
  EXPECT_EQ(c.read("/cl/z").payload, "3");
}

TEST_F(Clients, ReadOfAMissingNodeFails) {
  REQUIRE_PROGRAM("xenstore-read");
  auto r = d.run("xenstore-read /cl/none");
  EXPECT_NE(r.status, 0) << r.out;
}

TEST_F(Clients, LsShowsTheTreeIndented) {
  REQUIRE_PROGRAM("xenstore-write");
  REQUIRE_PROGRAM("xenstore-ls");
  ASSERT_EQ(d.run("xenstore-write /cl/a/b v1 /cl/a/c v2").status, 0);
  auto ls = d.run("xenstore-ls /cl");
  ASSERT_EQ(ls.status, 0) << ls.out;
  EXPECT_EQ(ls.out, "a = \"\"\n b = \"v1\"\n c = \"v2\"\n");
}

TEST_F(Clients, LsOfTheFreshRootShowsToolXenstored) {
  REQUIRE_PROGRAM("xenstore-ls");
  auto ls = d.run("xenstore-ls /");
  ASSERT_EQ(ls.status, 0) << ls.out;
  EXPECT_NE(ls.out.find("tool = \"\""), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find(" xenstored = \"\""), std::string::npos) << ls.out;
}

TEST_F(Clients, ListPrintsTheChildrenInCreationOrder) {
  REQUIRE_PROGRAM("xenstore-write");
  REQUIRE_PROGRAM("xenstore-list");
  ASSERT_EQ(d.run("xenstore-write /cl/c 1 /cl/a 2 /cl/b 3").status, 0);
  auto l = d.run("xenstore-list /cl");
  ASSERT_EQ(l.status, 0) << l.out;
  EXPECT_EQ(l.out, "c\na\nb\n");
}

TEST_F(Clients, RmRemovesTheWholeSubtree) {
  REQUIRE_PROGRAM("xenstore-write");
  REQUIRE_PROGRAM("xenstore-rm");
  REQUIRE_PROGRAM("xenstore-exists");
  ASSERT_EQ(d.run("xenstore-write /cl/a/b 1 /cl/a/c 2 /cl/keep 3").status, 0);
  ASSERT_EQ(d.run("xenstore-rm /cl/a").status, 0);
  EXPECT_NE(d.run("xenstore-exists /cl/a").status, 0);
  EXPECT_NE(d.run("xenstore-exists /cl/a/b").status, 0);
  EXPECT_EQ(d.run("xenstore-exists /cl/keep").status, 0);
}

TEST_F(Clients, ExistsExitsZeroOnlyForExistingNodes) {
  REQUIRE_PROGRAM("xenstore-write");
  REQUIRE_PROGRAM("xenstore-exists");
  ASSERT_EQ(d.run("xenstore-write /cl/e x").status, 0);
  EXPECT_EQ(d.run("xenstore-exists /cl/e").status, 0);
  EXPECT_EQ(d.run("xenstore-exists /").status, 0);
  EXPECT_NE(d.run("xenstore-exists /cl/none").status, 0);
}

TEST_F(Clients, ChmodSetsPermissionsThatLsDashPShows) {
  REQUIRE_PROGRAM("xenstore-write");
  REQUIRE_PROGRAM("xenstore-chmod");
  REQUIRE_PROGRAM("xenstore-ls");
  ASSERT_EQ(d.run("xenstore-write /cl/p v").status, 0);
  auto ch = d.run("xenstore-chmod /cl/p b0 r3 w4");
  ASSERT_EQ(ch.status, 0) << ch.out;
  auto ls = d.run("xenstore-ls -p /cl");
  ASSERT_EQ(ls.status, 0) << ls.out;
  EXPECT_NE(ls.out.find("p = \"v\""), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("(b0,r3,w4)"), std::string::npos) << ls.out;
  RawClient c(d.socket_path());
  EXPECT_EQ(c.get_perms("/cl/p").payload, nul_join({"b0", "r3", "w4"}));
}

TEST_F(Clients, LsDashPShowsTheDefaultPermissionOfNewNodes) {
  REQUIRE_PROGRAM("xenstore-write");
  REQUIRE_PROGRAM("xenstore-ls");
  ASSERT_EQ(d.run("xenstore-write /cl/q v").status, 0);
  auto ls = d.run("xenstore-ls -p /cl");
  ASSERT_EQ(ls.status, 0) << ls.out;
  EXPECT_NE(ls.out.find("(n0)"), std::string::npos) << ls.out;
}

TEST_F(Clients, TestXenstoreRunsAllTwelveTestsSuccessfully) {
  REQUIRE_PROGRAM(kTestXenstore);
  auto list = d.run(std::string(kTestXenstore) + " -l");
  ASSERT_EQ(list.status, 0) << list.out;
  int tests = 0;
  for (char ch : list.out) tests += ch == '\n';
  EXPECT_EQ(tests, 12) << list.out;
  auto r = d.run(std::string("timeout 120 ") + kTestXenstore);
  EXPECT_EQ(r.status, 0) << r.out << "\nlog:\n" << d.log();
  EXPECT_TRUE(d.alive());
}

TEST_F(Clients, TestXenstoreWith200IterationsPasses) {
  REQUIRE_PROGRAM(kTestXenstore);
  auto r = d.run(std::string("timeout 240 ") + kTestXenstore + " -i 200");
  EXPECT_EQ(r.status, 0) << r.out << "\nlog:\n" << d.log();
  EXPECT_TRUE(d.alive());
}

TEST_F(Clients, TestXenstoreRandomForTenSecondsPasses) {
  REQUIRE_PROGRAM(kTestXenstore);
  auto r = d.run(std::string("timeout 120 ") + kTestXenstore + " -r 10");
  EXPECT_EQ(r.status, 0) << r.out << "\nlog:\n" << d.log();
  EXPECT_TRUE(d.alive());
}

// xenstore-watch -n N runs in the background writing to a file; the test
// waits for its initial event (so the watch is registered), makes changes
// and then waits for it to exit after N events.
class ClientsWatch : public Clients {
 protected:
  std::string out_file() const { return d.dir() + "/watch.out"; }
  std::string done_file() const { return d.dir() + "/watch.done"; }
  void start_watch(const std::string& path, int count) {
    // run() prefixes XENSTORED_PATH=...; the inner sh inherits it.
    auto r = d.run("sh -c 'timeout 20 xenstore-watch -n " +
                   std::to_string(count) + " " + path + " > " + out_file() +
                   " 2>&1; echo $? > " + done_file() + "' > /dev/null 2>&1 &");
    ASSERT_EQ(r.status, 0) << r.out;
    ASSERT_TRUE(eventually([&] { return !read_file(out_file()).empty(); }))
        << "xenstore-watch printed no initial event";
  }
  bool wait_done() {
    return eventually([&] { return !read_file(done_file()).empty(); },
                      std::chrono::seconds(15));
  }
  static std::vector<std::string> lines(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string line;
    while (std::getline(ss, line)) out.push_back(line);
    return out;
  }
};

TEST_F(ClientsWatch, WatchPrintsTheInitialEventThenWriteAndRmEvents) {
  REQUIRE_PROGRAM("xenstore-watch");
  REQUIRE_PROGRAM("xenstore-write");
  REQUIRE_PROGRAM("xenstore-rm");
  ASSERT_EQ(d.run("xenstore-write /cw/x 0").status, 0);
  start_watch("/cw", 4);
  ASSERT_EQ(d.run("xenstore-write /cw/x 1").status, 0);
  ASSERT_EQ(d.run("xenstore-write /cw/y 2").status, 0);
  ASSERT_EQ(d.run("xenstore-rm /cw/x").status, 0);
  ASSERT_TRUE(wait_done()) << read_file(out_file());
  EXPECT_EQ(read_file(done_file()), "0\n");
  EXPECT_EQ(lines(read_file(out_file())),
            (std::vector<std::string>{"/cw", "/cw/x", "/cw/y", "/cw/x"}));
}

// Both reference daemons (C and OCaml) fire exactly one event for a write
// that creates missing parents: the written path.
TEST_F(ClientsWatch, WatchSeesOneEventForAWriteThatCreatesParents) {
  REQUIRE_PROGRAM("xenstore-watch");
  REQUIRE_PROGRAM("xenstore-write");
  REQUIRE_PROGRAM("xenstore-rm");
  start_watch("/cn", 3);
  ASSERT_EQ(d.run("xenstore-write /cn/a/b 1").status, 0);
  ASSERT_EQ(d.run("xenstore-rm /cn/a/b").status, 0);
  ASSERT_TRUE(wait_done()) << read_file(out_file());
  EXPECT_EQ(lines(read_file(out_file())),
            (std::vector<std::string>{"/cn", "/cn/a/b", "/cn/a/b"}));
}

TEST_F(ClientsWatch, WatchOnANodeSeesChmod) {
  REQUIRE_PROGRAM("xenstore-watch");
  REQUIRE_PROGRAM("xenstore-write");
  REQUIRE_PROGRAM("xenstore-chmod");
  ASSERT_EQ(d.run("xenstore-write /cp v").status, 0);
  start_watch("/cp", 2);
  ASSERT_EQ(d.run("xenstore-chmod /cp r0").status, 0);
  ASSERT_TRUE(wait_done()) << read_file(out_file());
  EXPECT_EQ(lines(read_file(out_file())),
            (std::vector<std::string>{"/cp", "/cp"}));
}

}  // namespace
}  // namespace cxs::test

// The live-update pieces that need no server: the new daemon's argv (as the
// C daemon builds it), the CONTROL arguments, the target file check, the
// state file's place, and running a child to check a target.
#include "daemon/live_update.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "daemon/process.h"
#include "temp_dir.h"

namespace cxs::daemon {
namespace {

using Args = std::vector<std::string>;

TEST(LiveUpdateArgv, WithoutACommandLineTheCurrentArgumentsFollowTheBinary) {
  EXPECT_EQ(live_update_argv("/new/xenstored", std::nullopt,
                             {"/old/xenstored", "-N", "-F", "/run/x.pid"}),
            (Args{"/new/xenstored", "-N", "-F", "/run/x.pid", "-U"}));
}

TEST(LiveUpdateArgv, MinusUIsNotAddedTwice) {
  EXPECT_EQ(live_update_argv("/b", std::nullopt, {"/a", "-N", "-U"}),
            (Args{"/b", "-N", "-U"}));
  EXPECT_EQ(live_update_argv("/b", std::string("-U -N"), {"/a"}),
            (Args{"/b", "-U", "-N"}));
}

TEST(LiveUpdateArgv, ACommandLineReplacesTheArgumentsSplitAtBlanks) {
  EXPECT_EQ(live_update_argv("/b", std::string("  --sim-xen /d\t-E 5  "),
                             {"/a", "-N", "--standalone"}),
            (Args{"/b", "--sim-xen", "/d", "-E", "5", "-U"}));
  EXPECT_EQ(live_update_argv("/b", std::string(""), {"/a", "-N"}),
            (Args{"/b", "-U"}));
}

std::optional<LiveUpdateArgs> parse(std::vector<std::string_view> args) {
  return parse_live_update_args(args);
}

TEST(LiveUpdateControl, EachStepParses) {
  auto f = parse({"live-update", "-f", "/x"});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->step, LiveUpdateArgs::Step::kFile);
  EXPECT_EQ(f->value, "/x");
  auto c = parse({"live-update", "-c", "a b"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->step, LiveUpdateArgs::Step::kCmdline);
  EXPECT_EQ(c->value, "a b");
  auto a = parse({"live-update", "-a"});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->step, LiveUpdateArgs::Step::kAbort);
  auto s = parse({"live-update", "-s", "-t", "60", "-F", "-v", "2"});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->step, LiveUpdateArgs::Step::kStart);
  EXPECT_EQ(s->timeout_s, 60u);
  EXPECT_TRUE(s->force);
  EXPECT_EQ(s->version, 2u);
  auto plain = parse({"live-update", "-s"});
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->force);
  EXPECT_EQ(plain->version, 1u);
}

TEST(LiveUpdateControl, MalformedArgumentsAreRefused) {
  for (const auto& bad : std::vector<std::vector<std::string_view>>{
           {"live-update"},
           {"live-update", "-f"},
           {"live-update", "-f", ""},
           {"live-update", "-f", "/x", "/y"},
           {"live-update", "-c"},
           {"live-update", "-s", "-t"},
           {"live-update", "-s", "-t", "x"},
           {"live-update", "-s", "-t", "-1"},
           {"live-update", "-s", "-v", "0"},
           {"live-update", "-s", "-v", "3"},
           {"live-update", "-s", "-G"},
           {"live-update", "-a", "x"},
           {"live-update", "-q"}})
    EXPECT_FALSE(parse(bad)) << bad.size();
}

TEST(LiveUpdateTarget, MissingAndNonExecutableFilesAreRefused) {
  test::TempDir dir;
  EXPECT_EQ(check_target_file(dir.path() + "/missing"), "File not accessible.");
  std::string plain = dir.path() + "/plain";
  std::ofstream(plain) << "x";
  ::chmod(plain.c_str(), 0644);
  EXPECT_EQ(check_target_file(plain), "File not executable.");
  EXPECT_EQ(check_target_file(dir.path()), "File not executable.");
  ::chmod(plain.c_str(), 0755);
  EXPECT_EQ(check_target_file(plain), std::nullopt);
}

TEST(LiveUpdateTarget, TheStateFileFollowsXenstoredRundir) {
  Options o;
  o.sim_xen_dir = "/sim";
  ::setenv("XENSTORED_RUNDIR", "/rd", 1);
  EXPECT_EQ(state_file_path(o), "/rd/state_dump");
  ::unsetenv("XENSTORED_RUNDIR");
  EXPECT_EQ(state_file_path(o), "/sim/state_dump");
  EXPECT_EQ(state_file_path(Options{}), "/var/run/xenstored/state_dump");
}

TEST(RunChild, OutputAndExitStatusAreReported) {
  ChildResult r = run_child({"sh", "-c", "echo out; echo err >&2; exit 3"},
                            5000);
  EXPECT_TRUE(r.started);
  EXPECT_EQ(r.exit_status, 3);
  EXPECT_FALSE(r.succeeded());
  EXPECT_EQ(r.output, "out\nerr\n");
  EXPECT_EQ(r.describe(), "exit status 3");
}

TEST(RunChild, AMissingProgramDidNotStart) {
  ChildResult r = run_child({"/nonexistent/program"}, 5000);
  EXPECT_FALSE(r.started);
  EXPECT_EQ(r.describe(), "could not be started");
}

TEST(RunChild, AChildThatHangsIsKilledAtTheTimeout) {
  ChildResult r = run_child({"sleep", "30"}, 200);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.succeeded());
}

TEST(RunChild, ASignalIsReported) {
  ChildResult r = run_child({"sh", "-c", "kill -SEGV $$"}, 5000);
  EXPECT_EQ(r.signal, 11);
  EXPECT_EQ(r.describe(), "killed by signal 11");
}

}  // namespace
}  // namespace cxs::daemon

// The daemon as a process: trace file and its reopening on SIGHUP, pid file,
// systemd readiness, daemonising, clean exit on SIGTERM, obsolete options,
// the descriptor limit raised at start-up, and the refusal to start without
// Xen unless --standalone.
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "test_util.h"

namespace cxs::test {
namespace {

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

bool wait_for(const std::function<bool()>& cond) {
  for (int i = 0; i < 200; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

// Runs a shell command (stderr with stdout), killed after 10 s.
CommandResult shell(const std::string& command) {
  CommandResult r;
  FILE* p = ::popen(("timeout 10 " + command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) r.out += buf;
  int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1))
    ++n;
  return n;
}

TEST(Daemon, TraceFileHasOneLinePerRequestAndReply) {
  char dir[] = "/tmp/cxs-trace-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string trace = std::string(dir) + "/trace";
  {
    DaemonProcess d({"-T", trace});
    RawClient c(d.socket_path());
    EXPECT_EQ(c.write("/traced", "v").type, 11u);
    EXPECT_TRUE(c.read("/missing").is_error("ENOENT"));
    std::string t = slurp(trace);
    EXPECT_NE(t.find("XS_WRITE"), std::string::npos) << t;
    EXPECT_NE(t.find("/traced"), std::string::npos) << t;
    EXPECT_NE(t.find("XS_ERROR"), std::string::npos) << t;
    EXPECT_NE(t.find("ENOENT"), std::string::npos) << t;

    // Log rotation: move the file away, SIGHUP, the trace starts afresh.
    std::string rotated = trace + ".1";
    ASSERT_EQ(std::rename(trace.c_str(), rotated.c_str()), 0);
    ::kill(d.pid(), SIGHUP);
    ASSERT_TRUE(wait_for([&] {
      RawClient probe(d.socket_path());
      probe.read("/after-rotation");
      return slurp(trace).find("/after-rotation") != std::string::npos;
    }));
    EXPECT_EQ(slurp(rotated).find("/after-rotation"), std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST(Daemon, SigtermExitsCleanlyAndRemovesTheSocket) {
  DaemonProcess d;
  std::string sock = d.socket_path();
  EXPECT_EQ(d.terminate(), 0);
  struct stat st;
  EXPECT_NE(::stat(sock.c_str(), &st), 0) << "socket file left behind";
}

TEST(Daemon, NotifiesSystemdWhenReady) {
  char dir[] = "/tmp/cxs-notify-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/notify";
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  {
    DaemonProcess d;
    ::unsetenv("NOTIFY_SOCKET");
    char buf[256] = {};
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
    ASSERT_GT(n, 0);
    EXPECT_NE(std::string(buf, n).find("READY=1"), std::string::npos);
  }
  ::unsetenv("NOTIFY_SOCKET");
  ::close(fd);
  std::filesystem::remove_all(dir);
}

TEST(Daemon, ObsoleteOptionsAreAcceptedWithAWarning) {
  DaemonProcess d({"-R", "-V"});
  RawClient c(d.socket_path());
  EXPECT_EQ(c.read("/tool").type, 2u);
  EXPECT_NE(d.log().find("warn"), std::string::npos) << d.log();
}

// Without -N it forks into the background; the pid file names the daemon.
TEST(Daemon, DaemonisesAndWritesItsPidFile) {
  char dir[] = "/tmp/cxs-fork-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  std::string sock = std::string(dir) + "/socket";
  std::string pidfile = std::string(dir) + "/pid";
  std::string cmd = daemon_binary() + " --standalone --socket " + sock +
                    " --pid-file " + pidfile;
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  ASSERT_TRUE(wait_for([&] { return !slurp(pidfile).empty(); }));
  pid_t pid = std::atoi(slurp(pidfile).c_str());
  ASSERT_GT(pid, 1);
  EXPECT_EQ(::kill(pid, 0), 0);
  RawClient c(sock);
  EXPECT_EQ(c.read("/tool").type, 2u);
  ::kill(pid, SIGTERM);
  // Gone, or a zombie where the sandbox's init does not reap orphans.
  EXPECT_TRUE(wait_for([&] {
    std::string status = slurp("/proc/" + std::to_string(pid) + "/status");
    return status.empty() || status.find("State:\tZ") != std::string::npos;
  }));
  std::filesystem::remove_all(dir);
}

// Both in the foreground and as a would-be daemon (whose log is syslog):
// the administrator who typed the command sees why on stderr.
TEST(Daemon, WithoutXenItRefusesToStartAndNamesStandalone) {
  struct stat st;
  if (::stat("/dev/xen/evtchn", &st) == 0) GTEST_SKIP() << "this host has Xen";
  for (const char* args : {" --no-fork", ""}) {
    std::string out;
    FILE* p = ::popen((daemon_binary() + args + " 2>&1").c_str(), "r");
    ASSERT_NE(p, nullptr);
    char buf[512];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    int status = ::pclose(p);
    EXPECT_NE(WEXITSTATUS(status), 0) << args;
    EXPECT_NE(out.find("--standalone"), std::string::npos) << args << ": " << out;
  }
}

// Each client holds a descriptor: the daemon takes all the hard limit
// allows, and says how many it has.
TEST(Daemon, RaisesItsSoftDescriptorLimitToTheHardOne) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  if (saved.rlim_max <= 256) GTEST_SKIP() << "hard limit too low to test";
  rlimit low = saved;
  low.rlim_cur = 256;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  std::optional<DaemonProcess> d;
  try {
    d.emplace();
  } catch (...) {
    ::setrlimit(RLIMIT_NOFILE, &saved);
    throw;
  }
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit now{};
  ASSERT_EQ(::prlimit(d->pid(), RLIMIT_NOFILE, nullptr, &now), 0);
  EXPECT_EQ(now.rlim_cur, saved.rlim_max);
  std::string line =
      "fd limit: " + std::to_string(saved.rlim_max) + " (raised from 256)";
  EXPECT_NE(d->log().find(line), std::string::npos) << d->log();
}

// Regression: a second daemon on the same socket replaced it (and the pid
// file), and deleted it when it stopped, leaving the first unreachable.
TEST(Daemon, ASecondInstanceRefusesToStartAndLeavesTheFirstAlone) {
  DaemonProcess d;
  std::string pidfile = d.dir() + "/second.pid";
  for (const char* mode : {" --no-fork", ""}) {
    CommandResult r = shell(daemon_binary() + " --standalone" + mode +
                            " --socket " + d.socket_path() + " --pid-file " +
                            pidfile);
    EXPECT_EQ(r.status, 1) << mode << ": " << r.out;
    EXPECT_EQ(count_of(r.out, "another xenstored (pid " +
                                  std::to_string(d.pid()) +
                                  ") is serving on " + d.socket_path()),
              1u)
        << mode << ": " << r.out;
    EXPECT_NE(::access(pidfile.c_str(), F_OK), 0) << mode;
    RawClient c(d.socket_path());
    EXPECT_EQ(c.read("/tool").type, 2u) << mode;
  }
  EXPECT_TRUE(d.alive());
}

// Exit status 2 and one line naming the problem (the usage is --help's).
TEST(Daemon, BadOptionsAreRefusedInOneLineWithStatus2) {
  struct Case {
    std::string args;
    std::string says;
  };
  for (const Case& c : {
           Case{"--no-such-option", "unknown or ambiguous option "
                                    "--no-such-option (see --help)"},
           Case{"-E 12x", "invalid value \"12x\" for -E/--entry-nb"},
           Case{"--socket /tmp/" + std::string(110, 's'),
                "--socket path is too long (max 107 bytes)"},
       }) {
    CommandResult r = shell(daemon_binary() + " --standalone " + c.args);
    EXPECT_EQ(r.status, 2) << c.args << ": " << r.out;
    EXPECT_EQ(count_of(r.out, "\n"), 1u) << c.args << ": " << r.out;
    EXPECT_EQ(r.out.rfind("cxenstored: ", 0), 0u) << c.args << ": " << r.out;
    EXPECT_NE(r.out.find(c.says), std::string::npos) << c.args << ": " << r.out;
  }
}

// Regression: without -N, an unwritable pid file (written after the fork)
// gave exit status 0, nothing on stderr and no daemon. Every start-up
// failure is now one line on stderr and exit status 1, forking or not,
// and leaves no socket or pid file behind.
TEST(Daemon, StartUpFailuresAreOneLineAndStatus1AlsoWhenForking) {
  char tmpl[] = "/tmp/cxs-startup-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string dir = tmpl;
  std::string sock = dir + "/socket";
  std::string pidfile = dir + "/pid";
  struct Case {
    std::string args;
    std::string says;
    std::string env;
  };
  std::string long_dir = dir + "/" + std::string(100, 'd');
  ASSERT_EQ(::mkdir(long_dir.c_str(), 0700), 0);
  for (const Case& c : {
           Case{"--socket " + sock + " -F /etc/passwd/pid",
                "cannot write pid file /etc/passwd/pid: Not a directory", ""},
           Case{"--socket " + dir + "/no/such/socket -F " + pidfile,
                "mkdir " + dir + "/no/such: No such file or directory", ""},
           Case{"-F " + pidfile, "socket path too long (max 107 bytes)",
                "env XENSTORED_RUNDIR=" + long_dir + " "},
       }) {
    for (const char* mode : {"", " --no-fork"}) {
      std::string what = std::string(mode) + " " + c.args;
      CommandResult r = shell(c.env + daemon_binary() + " --standalone" +
                              mode + " " + c.args);
      EXPECT_EQ(r.status, 1) << what << ": " << r.out;
      EXPECT_EQ(count_of(r.out, c.says), 1u) << what << ": " << r.out;
      // Forking, the log is syslog: stderr has that one line only.
      if (*mode == '\0') {
        EXPECT_EQ(count_of(r.out, "\n"), 1u) << what << ": " << r.out;
      }
      struct stat st;
      EXPECT_NE(::stat(sock.c_str(), &st), 0) << what << ": socket left";
      EXPECT_NE(::stat(pidfile.c_str(), &st), 0) << what << ": pid file left";
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cxs::test

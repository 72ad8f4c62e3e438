#include "daemon/process.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "cxenstored/unique_fd.h"
#include "temp_dir.h"

namespace cxs::daemon {
namespace {

namespace fs = std::filesystem;

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* v = std::getenv("NOTIFY_SOCKET");
    if (v != nullptr) saved_notify_ = v;
  }
  void TearDown() override {
    if (saved_notify_) {
      ::setenv("NOTIFY_SOCKET", saved_notify_->c_str(), 1);
    } else {
      ::unsetenv("NOTIFY_SOCKET");
    }
  }

  static std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // A datagram socket bound to `name` ('@' = abstract), as systemd's.
  static UniqueFd bind_notify_socket(const std::string& name) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    EXPECT_TRUE(fd.valid());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    socklen_t len = offsetof(sockaddr_un, sun_path) + name.size();
    if (name[0] == '@') {
      addr.sun_path[0] = '\0';
    } else {
      ++len;
    }
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len), 0)
        << std::strerror(errno);
    return fd;
  }

  static std::string receive(const UniqueFd& fd) {
    char buf[256];
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
  }

  test::TempDir dir_{"process-test"};
  std::optional<std::string> saved_notify_;
};

TEST_F(ProcessTest, InitLoggingSetsTheLevel) {
  init_logging(true, "debug");
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::debug);
  init_logging(true, "warning");
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::warn);
  init_logging(true, "error");
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::err);
  init_logging(true, "info");
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::info);
}

TEST_F(ProcessTest, InitLoggingToSyslogCanBeSetUpAndReplaced) {
  init_logging(false, "trace");
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::trace);
  EXPECT_EQ(spdlog::default_logger()->name(), "cxenstored");
  init_logging(true, "info");
}

TEST_F(ProcessTest, InitLoggingRejectsAnUnknownLevelAndKeepsTheLogger) {
  init_logging(true, "info");
  EXPECT_THROW(init_logging(true, "loud"), std::invalid_argument);
  EXPECT_THROW(init_logging(false, ""), std::invalid_argument);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::info);
}

TEST_F(ProcessTest, PidFileHoldsThePidAndANewline) {
  fs::path p = dir_ / "xenstored.pid";
  write_pid_file(p.string());
  EXPECT_EQ(read_file(p), std::to_string(::getpid()) + "\n");
  // Nothing but the pid file is left behind.
  EXPECT_EQ(
      std::distance(fs::directory_iterator(dir_.path()), fs::directory_iterator()), 1);
}

TEST_F(ProcessTest, PidFileReplacesAnOldOne) {
  fs::path p = dir_ / "xenstored.pid";
  { std::ofstream(p) << "99999999 and some junk\n"; }
  write_pid_file(p.string());
  EXPECT_EQ(read_file(p), std::to_string(::getpid()) + "\n");
}

TEST_F(ProcessTest, PidFileInAMissingDirectoryThrows) {
  EXPECT_THROW(write_pid_file((dir_ / "no/such/dir/pid").string()),
               std::runtime_error);
}

TEST_F(ProcessTest, NotifyReadyWithoutNotifySocketSendsNothing) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(notify_ready());
  ::setenv("NOTIFY_SOCKET", "", 1);
  EXPECT_TRUE(notify_ready());
}

TEST_F(ProcessTest, NotifyReadySendsReadyToAPathSocket) {
  std::string path = (dir_ / "notify").string();
  UniqueFd sock = bind_notify_socket(path);
  ::setenv("NOTIFY_SOCKET", path.c_str(), 1);
  EXPECT_TRUE(notify_ready());
  EXPECT_EQ(receive(sock), "READY=1");
}

TEST_F(ProcessTest, NotifyReadySendsReadyToAnAbstractSocket) {
  std::string name = "@cxs-notify-test-" + std::to_string(::getpid()) + "-" +
                     fs::path(dir_.path()).filename().string();
  UniqueFd sock = bind_notify_socket(name);
  ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
  EXPECT_TRUE(notify_ready());
  EXPECT_EQ(receive(sock), "READY=1");
}

TEST_F(ProcessTest, NotifyReadyToAMissingSocketFails) {
  ::setenv("NOTIFY_SOCKET", (dir_ / "nobody-listens").c_str(), 1);
  EXPECT_FALSE(notify_ready());
}

TEST_F(ProcessTest, NotifyReadyRejectsAnUnsupportedAddress) {
  ::setenv("NOTIFY_SOCKET", "relative/name", 1);
  EXPECT_FALSE(notify_ready());
  ::setenv("NOTIFY_SOCKET", ("/" + std::string(200, 'x')).c_str(), 1);
  EXPECT_FALSE(notify_ready());
}

TEST_F(ProcessTest, DaemoniseDetachesIntoANewSessionAtRoot) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  UniqueFd rd(fds[0]), wr(fds[1]);

  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    rd.reset();
    StartupReport startup;
    try {
      startup = daemonise();
    } catch (...) {
      ::_exit(2);
    }
    // The process we started waits for this before it exits 0.
    startup.ready();
    // The grandchild reports what it became, then leaves without running
    // any of the test framework's exit handlers.
    char link[64] = {};
    ssize_t n = ::readlink("/proc/self/fd/0", link, sizeof link - 1);
    if (n < 0) n = 0;
    char cwd[64] = {};
    if (::getcwd(cwd, sizeof cwd) == nullptr) cwd[0] = '?';
    std::string report = std::to_string(::getpid()) + " " +
                         std::to_string(::getsid(0)) + " " + cwd + " " +
                         std::string(link, static_cast<size_t>(n));
    [[maybe_unused]] ssize_t w =
        ::write(wr.get(), report.data(), report.size());
    ::_exit(0);
  }
  wr.reset();
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  std::string report;
  char buf[256];
  for (ssize_t n; (n = ::read(rd.get(), buf, sizeof buf)) > 0;) {
    report.append(buf, static_cast<size_t>(n));
  }
  std::istringstream in(report);
  long pid = 0, sid = 0;
  std::string cwd, stdin_target;
  in >> pid >> sid >> cwd >> stdin_target;
  ASSERT_FALSE(in.fail()) << "report: " << report;
  // fork, setsid, fork: the survivor is neither the process we started nor
  // the leader of the new session, which is not ours either.
  EXPECT_NE(pid, child);
  EXPECT_NE(sid, ::getsid(0));
  EXPECT_NE(sid, child);
  EXPECT_NE(pid, sid);
  EXPECT_EQ(cwd, "/");
  EXPECT_EQ(stdin_target, "/dev/null");
}

// What the process the shell started prints and exits with, once the
// daemon it forked has done `in_daemon` with its report.
struct Relayed {
  int status = -1;
  std::string err;
};
Relayed relayed(const fs::path& err_file,
                void (*in_daemon)(StartupReport& report)) {
  Relayed r;
  pid_t child = ::fork();
  if (child < 0) return r;
  if (child == 0) {
    int fd = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, STDERR_FILENO);
    StartupReport startup;
    try {
      startup = daemonise();
    } catch (...) {
      ::_exit(2);
    }
    in_daemon(startup);
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(err_file);
  std::stringstream ss;
  ss << in.rdbuf();
  r.err = ss.str();
  return r;
}

// Regression: in fork mode a start-up failure after the fork (an
// unwritable pid file) gave exit status 0 and nothing on stderr.
TEST_F(ProcessTest, DaemoniseRelaysTheDaemonsFailureToTheShell) {
  Relayed r = relayed(dir_ / "err", [](StartupReport& report) {
    report.failed("cannot write pid file /x: Not a directory");
  });
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "cxenstored: cannot write pid file /x: Not a directory\n");
}

TEST_F(ProcessTest, DaemoniseCountsADaemonDeadWithoutAReportAsAFailure) {
  Relayed r = relayed(dir_ / "err", [](StartupReport&) {});
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "cxenstored: the daemon exited during start-up\n");
}

TEST_F(ProcessTest, DaemoniseExitsZeroOnceTheDaemonIsReady) {
  Relayed r = relayed(dir_ / "err", [](StartupReport& report) {
    report.ready();
    // Reported once: a later failure is the daemon's own business.
    report.failed("too late");
  });
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.err, "");
}

// Regression: the daemon blocks SIGTERM/SIGINT/SIGHUP for its signalfd, and
// a live update exec'd the C xenstored with them still blocked (the mask
// survives execve), leaving it deaf to SIGTERM and SIGHUP.
TEST_F(ProcessTest, ExecReplaceStartsTheNewProgramWithNoSignalBlocked) {
  fs::path out = fs::path(dir_.path()) / "sigblk";
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    exec_replace({"/bin/sh", "-c",
                  "grep SigBlk /proc/self/status >" + out.string()});
    ::_exit(3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(read_file(out), "SigBlk:\t0000000000000000\n");
}

TEST_F(ProcessTest, AFailedExecReplaceLeavesTheSignalMaskAsItWas) {
  sigset_t set, before, after;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  ASSERT_EQ(::sigprocmask(SIG_BLOCK, &set, &before), 0);
  EXPECT_EQ(exec_replace({dir_.path() + "/no-such-binary"}), ENOENT);
  ASSERT_EQ(::sigprocmask(SIG_SETMASK, &before, &after), 0);
  EXPECT_TRUE(sigismember(&after, SIGHUP));
}

}  // namespace
}  // namespace cxs::daemon

// Start-up chores. Everything here runs before the event loop, so failures
// throw (main reports them) except notify_ready, which only reports: a
// daemon already serving must not die because systemd went away.
#include "daemon/process.h"

#include <fcntl.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "cxenstored/unique_fd.h"

namespace cxs::daemon {
namespace {

struct LevelName {
  std::string_view name;
  spdlog::level::level_enum level;
};

// spdlog::level::from_str maps any unknown word to "off", which would turn a
// typo into silence; an explicit table turns it into an error instead.
constexpr std::array<LevelName, 8> kLevels = {{
    {"trace", spdlog::level::trace},
    {"debug", spdlog::level::debug},
    {"info", spdlog::level::info},
    {"warn", spdlog::level::warn},
    {"warning", spdlog::level::warn},
    {"error", spdlog::level::err},
    {"critical", spdlog::level::critical},
    {"off", spdlog::level::off},
}};

spdlog::level::level_enum parse_level(const std::string& name) {
  for (const auto& l : kLevels) {
    if (l.name == name) return l.level;
  }
  throw std::invalid_argument("unknown log level \"" + name + "\"");
}

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

void init_logging(bool foreground, const std::string& level) {
  // Parsed first, so a bad level leaves the current logger untouched.
  spdlog::level::level_enum lvl = parse_level(level);

  std::shared_ptr<spdlog::logger> logger;
  if (foreground) {
    // Colours only when stderr is a terminal (the sink checks).
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    logger = std::make_shared<spdlog::logger>("cxenstored", std::move(sink));
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  } else {
    // syslog stamps time, host and pid itself and maps the level to a
    // priority; repeating them in the text would only add noise.
    auto sink = std::make_shared<spdlog::sinks::syslog_sink_mt>(
        "cxenstored", LOG_PID | LOG_NDELAY, LOG_DAEMON, true);
    logger = std::make_shared<spdlog::logger>("cxenstored", std::move(sink));
    logger->set_pattern("%l: %v");
  }
  logger->set_level(lvl);
  // Problems must reach the log even if the daemon dies right after.
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

namespace {

// The report's bytes: "R" (ready), or "F" and the reason.
constexpr char kReady = 'R';
constexpr char kFailed = 'F';

void write_fully(int fd, std::string_view bytes) noexcept {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

// In the process the shell started: waits for the daemon's report and
// exits with it. Reaching EOF without one means the daemon died.
[[noreturn]] void relay_report(UniqueFd read_end, pid_t first_child) {
  // Server blocked these for its signalfd; here they should just end the
  // wait (the daemon goes on).
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  while (::waitpid(first_child, nullptr, 0) < 0 && errno == EINTR) {
  }
  std::string report;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    report.append(buf, static_cast<std::size_t>(n));
  }
  if (!report.empty() && report[0] == kReady) ::_exit(0);
  std::string line =
      "cxenstored: " +
      (report.size() > 1 ? report.substr(1)
                         : std::string("the daemon exited during start-up")) +
      "\n";
  write_fully(STDERR_FILENO, line);
  ::_exit(1);
}

}  // namespace

void StartupReport::ready() noexcept {
  if (!fd_.valid()) return;
  write_fully(fd_.get(), std::string_view(&kReady, 1));
  fd_.reset();
}

bool StartupReport::failed(std::string_view why) noexcept {
  if (!fd_.valid()) return false;
  write_fully(fd_.get(), std::string_view(&kFailed, 1));
  write_fully(fd_.get(), why);
  fd_.reset();
  return true;
}

StartupReport daemonise() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno("pipe");
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);

  // First fork: the child is not a process-group leader, so setsid() can
  // succeed. The shell's process waits for the daemon's report.
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("fork");
  if (pid > 0) {
    write_end.reset();
    relay_report(std::move(read_end), pid);
  }
  read_end.reset();
  StartupReport report(std::move(write_end));

  // From here on a failure is reported through the pipe, so the shell
  // sees it once (from the waiting process), not from this one too.
  if (::setsid() < 0) {
    report.failed(std::string("setsid: ") + std::strerror(errno));
    ::_exit(1);
  }

  // Second fork: a session member that is not its leader can never acquire
  // a controlling terminal again.
  pid = ::fork();
  if (pid < 0) {
    report.failed(std::string("fork: ") + std::strerror(errno));
    ::_exit(1);
  }
  if (pid > 0) ::_exit(0);

  // Do not pin the filesystem we happened to be started from.
  if (::chdir("/") < 0) throw_errno("chdir /");

  // No O_CLOEXEC: if this lands on 0..2 (they were closed), dup2 onto
  // itself is a no-op and the flag would stay on a std fd.
  UniqueFd null_fd(::open("/dev/null", O_RDWR));
  if (!null_fd.valid()) throw_errno("open /dev/null");
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    // dup2 clears FD_CLOEXEC on the copy, as wanted for 0, 1 and 2.
    if (::dup2(null_fd.get(), fd) < 0) throw_errno("dup2 /dev/null");
  }
  // Should /dev/null itself have landed on 0..2 (they were closed), it is
  // one of the std fds now and must stay open.
  if (null_fd.get() <= STDERR_FILENO) null_fd.release();
  return report;
}

void raise_fd_limit() noexcept {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    spdlog::warn("getrlimit(RLIMIT_NOFILE): {}", std::strerror(errno));
    return;
  }
  rlim_t before = rl.rlim_cur;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) {
      spdlog::warn("fd limit: {} (cannot raise it to {}: {})", before,
                   rl.rlim_max, std::strerror(errno));
      return;
    }
    spdlog::info("fd limit: {} (raised from {})", rl.rlim_cur, before);
    return;
  }
  spdlog::info("fd limit: {}", rl.rlim_cur);
}

std::uint64_t fd_limit() noexcept {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  return rl.rlim_cur;
}

void write_pid_file(const std::string& path) {
  // Written beside the target and renamed over it, so a reader (an init
  // script, systemd's PIDFile=) sees the old file or the whole new one.
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  UniqueFd fd(
      ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) {
    // Named as given: the temporary name would only puzzle.
    throw std::runtime_error("cannot write pid file " + path + ": " +
                             std::strerror(errno));
  }
  std::string text = std::to_string(::getpid()) + "\n";
  std::string error;
  ssize_t n = ::write(fd.get(), text.data(), text.size());
  if (n != static_cast<ssize_t>(text.size())) {
    error = n < 0 ? std::strerror(errno) : "short write";
  } else if (::fsync(fd.get()) < 0) {
    error = std::strerror(errno);
  }
  fd.reset();
  if (error.empty() && ::rename(tmp.c_str(), path.c_str()) < 0) {
    error = std::strerror(errno);
  }
  if (!error.empty()) {
    ::unlink(tmp.c_str());
    throw std::runtime_error("cannot write pid file " + path + ": " + error);
  }
}

std::string ChildResult::describe() const {
  if (!started) return "could not be started";
  if (timed_out) return "did not finish in time";
  if (signal != 0) return "killed by signal " + std::to_string(signal);
  return "exit status " + std::to_string(exit_status);
}

namespace {

std::vector<char*> c_argv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  out.reserve(argv.size() + 1);
  for (const std::string& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

// Reads what the child writes until it closes the pipe or time runs out.
void collect_output(int fd, int timeout_ms, std::size_t capture_max,
                    ChildResult& r) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  char buf[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      r.timed_out = true;
      return;
    }
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;  // the deadline check above ends the wait
    ssize_t got = ::read(fd, buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return;  // the child closed its end: it is finishing
    std::size_t room = capture_max - std::min(capture_max, r.output.size());
    r.output.append(buf, std::min(room, static_cast<std::size_t>(got)));
  }
}

}  // namespace

ChildResult run_child(const std::vector<std::string>& argv, int timeout_ms,
                      std::size_t capture_max) noexcept {
  ChildResult r;
  try {
    if (argv.empty()) return r;
    std::vector<char*> args = c_argv(argv);
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
      r.output = std::string("pipe: ") + std::strerror(errno);
      return r;
    }
    UniqueFd read_end(pipe_fds[0]);
    UniqueFd write_end(pipe_fds[1]);
    pid_t pid = ::fork();
    if (pid < 0) {
      r.output = std::string("fork: ") + std::strerror(errno);
      return r;
    }
    if (pid == 0) {
      // The daemon blocks these for its signalfd; the child must not
      // inherit the mask, nor the ignored SIGPIPE.
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::signal(SIGPIPE, SIG_DFL);
      int null_fd = ::open("/dev/null", O_RDONLY);
      if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
      ::dup2(write_end.get(), STDOUT_FILENO);
      ::dup2(write_end.get(), STDERR_FILENO);
      ::execvp(args[0], args.data());
      static constexpr char kFailed[] = "exec failed\n";
      ssize_t ignored = ::write(STDERR_FILENO, kFailed, sizeof kFailed - 1);
      (void)ignored;
      ::_exit(127);
    }
    r.started = true;
    write_end.reset();
    collect_output(read_end.get(), timeout_ms, capture_max, r);
    if (r.timed_out) ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) r.exit_status = WEXITSTATUS(status);
    if (WIFSIGNALED(status) && !r.timed_out) r.signal = WTERMSIG(status);
    if (r.exit_status == 127 && r.output == "exec failed\n") r.started = false;
  } catch (const std::bad_alloc&) {
    r.output = "out of memory";
  }
  return r;
}

bool set_inherited(int fd, bool inherited) noexcept {
  int flags = ::fcntl(fd, F_GETFD);
  if (flags < 0) return false;
  flags = inherited ? (flags & ~FD_CLOEXEC) : (flags | FD_CLOEXEC);
  return ::fcntl(fd, F_SETFD, flags) == 0;
}

int exec_replace(const std::vector<std::string>& argv) noexcept {
  try {
    std::vector<char*> args = c_argv(argv);
    // The signal mask survives execve. The daemon blocks SIGTERM, SIGINT
    // and SIGHUP for its signalfd; a new daemon that does not (the C
    // xenstored) would otherwise run with them blocked for good: deaf to
    // SIGTERM, and to SIGHUP's log reopening. A signal already pending is
    // delivered here, with its default action: it was meant to stop us.
    sigset_t none, before;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, &before);
    ::execvp(args[0], args.data());
    int err = errno;
    ::sigprocmask(SIG_SETMASK, &before, nullptr);
    return err;
  } catch (const std::bad_alloc&) {
    return ENOMEM;
  }
}

bool notify_ready() {
  // The sd_notify protocol: one datagram to the socket systemd names in
  // NOTIFY_SOCKET. Spoken directly so cxenstored needs no libsystemd.
  const char* env = std::getenv("NOTIFY_SOCKET");
  if (env == nullptr || env[0] == '\0') return true;  // not under systemd
  std::string_view name(env);

  if (name[0] != '/' && name[0] != '@') {
    spdlog::error("NOTIFY_SOCKET={}: unsupported address", name);
    return false;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (name.size() > sizeof addr.sun_path ||
      (name[0] == '/' && name.size() == sizeof addr.sun_path)) {
    spdlog::error("NOTIFY_SOCKET={}: address too long", name);
    return false;
  }
  std::memcpy(addr.sun_path, name.data(), name.size());
  // '@' stands for the abstract namespace, whose names start with a NUL and
  // are not NUL-terminated: the address length delimits them.
  if (name[0] == '@') addr.sun_path[0] = '\0';
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) +
                                    name.size() + (name[0] == '/' ? 1 : 0));

  UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    spdlog::error("notify socket: {}", std::strerror(errno));
    return false;
  }
  static constexpr std::string_view kReady = "READY=1";
  ssize_t n = ::sendto(fd.get(), kReady.data(), kReady.size(), MSG_NOSIGNAL,
                       reinterpret_cast<const sockaddr*>(&addr), len);
  if (n != static_cast<ssize_t>(kReady.size())) {
    spdlog::error("cannot notify systemd via {}: {}", name,
                  n < 0 ? std::strerror(errno) : "short send");
    return false;
  }
  return true;
}

}  // namespace cxs::daemon

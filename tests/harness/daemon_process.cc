#include "daemon_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cxenstored/unique_fd.h"
#include "raw_client.h"

namespace cxs::harness {

using Clock = std::chrono::steady_clock;

const char* kind_name(DaemonKind k) {
  // In DaemonKind's order.
  static constexpr std::array<const char*, 5> kNames = {
      "cxenstored", "C-xenstored", "echo", "oxenstored", "oxenstored-nolog"};
  auto i = static_cast<std::size_t>(k);
  return i < kNames.size() ? kNames[i] : "?";
}

namespace {

[[noreturn]] void sys_fail(const std::string& what) {
  throw Error(what + ": " + std::strerror(errno));
}

std::string read_text(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

bool executable(const std::string& path) {
  return ::access(path.c_str(), X_OK) == 0;
}

// A process that is not our child: gone once /proc has no entry for it, or
// a zombie's (its parent, init, reaps it when it will).
bool proc_gone(pid_t pid) {
  std::string status = read_text("/proc/" + std::to_string(pid) + "/status");
  return status.empty() || status.find("State:\tZ") != std::string::npos;
}

long status_field_kib(pid_t pid, const char* field) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  std::size_t n = std::strlen(field);
  while (std::getline(f, line))
    if (line.compare(0, n, field) == 0) return std::atol(line.c_str() + n);
  return -1;
}

// Runs a shell command and returns what it printed; throws on failure.
std::string run_capture(const std::string& cmd) {
  std::FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) sys_fail("popen " + cmd);
  std::array<char, 256> buf{};
  std::string out;
  while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
  if (::pclose(p) != 0) throw Error(cmd + " failed: " + out);
  return out;
}

// start-peer.sh builds the LD_PRELOAD shim on first use, in place. Test
// processes run in parallel: without this lock one of them may preload a
// shim another is still writing ("file too short") and the reference fails
// to start. Held for the whole start-up, so the build happens once.
class RefdStartLock {
 public:
  RefdStartLock()
      : fd_(::open("/tmp/cxs-refd-start.lock", O_RDWR | O_CREAT | O_CLOEXEC,
                   0666)) {
    if (!fd_.valid()) sys_fail("open /tmp/cxs-refd-start.lock");
    while (::flock(fd_.get(), LOCK_EX) != 0)
      if (errno != EINTR) sys_fail("flock");
  }
  ~RefdStartLock() { ::flock(fd_.get(), LOCK_UN); }
  RefdStartLock(const RefdStartLock&) = delete;
  RefdStartLock& operator=(const RefdStartLock&) = delete;

 private:
  UniqueFd fd_;
};

// Shell quoting for a path or an argument.
std::string shell_quoted(const std::string& s) { return "'" + s + "'"; }

}  // namespace

std::string daemon_binary() { return CXS_DAEMON_PATH; }

DaemonOptions cxs_options(bool sim_xen, std::vector<std::string> args) {
  DaemonOptions o;
  o.sim_xen = sim_xen;
  o.args = std::move(args);
  return o;
}

std::string refd_dir() {
  const char* env = std::getenv("CXS_REFD_DIR");
  if (!env) env = std::getenv("CXS_REFD");
  std::string dir = env ? env : CXS_REFD_DEFAULT;
  if (dir.empty() || !executable(dir + "/start-peer.sh") ||
      !executable(dir + "/stop-peer.sh") ||
      !executable("/usr/lib/xen-4.17/bin/xenstored"))
    return "";
  return dir;
}

DaemonProcess::DaemonProcess(const DaemonOptions& o) : kind_(o.kind) {
  if (o.dir.empty()) {
    std::string tmpl =
        is_reference() ? "/tmp/cxs-ref-XXXXXX" : "/tmp/cxs-test-XXXXXX";
    if (!::mkdtemp(tmpl.data())) sys_fail("mkdtemp");
    dir_ = tmpl;
    owns_dir_ = true;
  } else {
    dir_ = o.dir;
    if (::mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST)
      sys_fail("mkdir " + dir_);
  }
  socket_ = dir_ + "/socket";
  ::unlink(socket_.c_str());
  try {
    if (is_reference()) {
      start_reference(o);  // start-peer.sh waited for the socket to answer
    } else {
      start_child(o);
      wait_ready();
    }
  } catch (...) {
    // The destructor does not run for a throwing constructor.
    terminate();
    std::error_code ignored;
    if (owns_dir_) std::filesystem::remove_all(dir_, ignored);
    throw;
  }
}

DaemonProcess::DaemonProcess(const std::string& socket, pid_t pid)
    : socket_(socket), pid_(pid), owned_(false) {}

DaemonProcess::~DaemonProcess() {
  terminate();
  std::error_code ignored;  // a leftover directory is no reason to fail
  if (owns_dir_) std::filesystem::remove_all(dir_, ignored);
}

void DaemonProcess::start_child(const DaemonOptions& o) {
  std::vector<std::string> args;
  if (kind_ == DaemonKind::kEcho) {
    args = {o.binary, socket_};
  } else {
    args.push_back(o.binary.empty() ? daemon_binary() : o.binary);
    if (o.sim_xen) {
      sim_dir_ = dir_;
      args.insert(args.end(), {"--sim-xen", dir_});
    } else {
      args.emplace_back("--standalone");
    }
    args.insert(args.end(), {"--no-fork", "--socket", socket_});
    args.insert(args.end(), o.args.begin(), o.args.end());
  }
  std::string log = dir_ + "/daemon.log";
  pid_ = ::fork();
  if (pid_ < 0) sys_fail("fork");
  if (pid_ == 0) {
    std::vector<char*> argv;
    argv.reserve(args.size() + 1);
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // A live update's state file goes beside the socket (on tmpfs, as /run
    // is on a host), not into the host's /var/run/xenstored.
    ::setenv("XENSTORED_RUNDIR", dir_.c_str(), 1);
    std::FILE* f = std::freopen(log.c_str(), "w", stderr);
    (void)f;
    ::dup2(2, 1);
    ::execv(argv[0], argv.data());
    std::perror(("execv " + args[0]).c_str());
    std::fflush(stderr);  // the reopened stderr is fully buffered
    ::_exit(127);
  }
}

void DaemonProcess::start_reference(const DaemonOptions& o) {
  refd_ = o.refd.empty() ? refd_dir() : o.refd;
  if (refd_.empty())
    throw Error("the reference daemons (shared/tools/refd) are absent");
  sim_dir_ = dir_;
  std::string cmd = shell_quoted(refd_ + "/start-peer.sh") +
                    (kind_ == DaemonKind::kC ? " c " : " ocaml ") +
                    shell_quoted(dir_);
  if (kind_ == DaemonKind::kOxNoLog) cmd = "OX_ACCESS_LOG=0 " + cmd;
  for (const auto& a : o.args) cmd += " " + shell_quoted(a);
  std::string out;
  {
    RefdStartLock lock;
    out = run_capture(cmd);
  }
  pid_ = static_cast<pid_t>(std::atol(out.c_str()));
  if (pid_ <= 0) throw Error(cmd + " printed no pid: " + out);
}

void DaemonProcess::wait_ready() {
  auto deadline = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    try {
      RawClient c(socket_);
      c.set_timeout(std::chrono::milliseconds(2000));
      c.request(wire::MsgType::XS_READ, nul_join({"/"}));
      return;
    } catch (const Error&) {
      if (!alive())
        throw Error(std::string(kind_name(kind_)) +
                    " exited during start-up: " + log());
      if (Clock::now() > deadline)
        throw Error(std::string(kind_name(kind_)) +
                    " did not answer within 10 s: " + log());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

bool DaemonProcess::alive() const {
  if (pid_ <= 0 || reaped_) return false;
  if (is_reference()) return !proc_gone(pid_);
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    reaped_status_ = status;
  }
  return r == 0;
}

int DaemonProcess::terminate() {
  if (pid_ <= 0 || !owned_) return -1;
  if (is_reference()) {
    stop_reference();
    pid_ = -1;
    return -1;
  }
  if (reaped_) {
    pid_ = -1;
    return WIFEXITED(reaped_status_) ? WEXITSTATUS(reaped_status_) : -1;
  }
  ::kill(pid_, SIGTERM);
  int status = 0;
  for (int i = 0; i < 200; ++i) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (r < 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return -1;
}

void DaemonProcess::stop_reference() {
  // stop-peer.sh signals only a process named xenstored or oxenstored;
  // after a live update to cxenstored the same pid runs cxenstored,
  // stopped here.
  std::string comm = read_text("/proc/" + std::to_string(pid_) + "/comm");
  if (comm.rfind("cxenstored", 0) == 0) {
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 50 && !proc_gone(pid_); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!proc_gone(pid_)) ::kill(pid_, SIGKILL);
    return;
  }
  std::string cmd = shell_quoted(refd_ + "/stop-peer.sh") + " " +
                    std::to_string(pid_) + " >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0)
    std::fprintf(stderr, "warning: %s failed\n", cmd.c_str());
}

std::string DaemonProcess::log() const {
  return read_text(dir_ + "/daemon.log");
}

long DaemonProcess::rss_kib() const { return status_field_kib(pid_, "VmRSS:"); }

long DaemonProcess::peak_rss_kib() const {
  return status_field_kib(pid_, "VmHWM:");
}

long DaemonProcess::rss_bytes() const {
  long kib = rss_kib();
  if (kib < 0) throw Error("no VmRSS for pid " + std::to_string(pid_));
  return kib * 1024;
}

// Time on a CPU from the scheduler's own count (nanoseconds, every thread),
// where the kernel keeps it: /proc/PID/stat's clock ticks are 10 ms, up to
// 2.5 % of the daemon's CPU in a 1-second window of pipelined reads, which
// is as much as the differences the compare run is there to show.
double DaemonProcess::cpu_seconds() const {
  if (double ns = scheduled_ns(); ns > 0) return ns / 1e9;
  return ticks_seconds();
}

// Whether the kernel keeps schedstat is decided by the process's own file,
// so the readings at both ends of a window come from the same clock; a
// thread gone between listing and reading is skipped, not a fallback.
double DaemonProcess::scheduled_ns() const {
  std::string proc = "/proc/" + std::to_string(pid_);
  std::error_code ec;
  if (!std::filesystem::exists(proc + "/schedstat", ec)) return 0;
  double total = 0;
  for (const auto& t :
       std::filesystem::directory_iterator(proc + "/task", ec)) {
    std::ifstream in(t.path() / "schedstat");
    unsigned long long on_cpu = 0;
    if (in >> on_cpu) total += static_cast<double>(on_cpu);
  }
  return total;
}

double DaemonProcess::ticks_seconds() const {
  std::string stat = read_text("/proc/" + std::to_string(pid_) + "/stat");
  std::size_t close = stat.rfind(')');
  if (close == std::string::npos)
    throw Error("cannot read /proc/" + std::to_string(pid_) + "/stat");
  // Fields after "pid (comm)": state is field 3; utime 14, stime 15.
  std::istringstream in(stat.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) /
         static_cast<double>(::sysconf(_SC_CLK_TCK));
}

CommandResult DaemonProcess::run(const std::string& command) const {
  std::string full =
      "XENSTORED_PATH=" + shell_quoted(socket_) + " " + command + " 2>&1";
  CommandResult r;
  std::FILE* p = ::popen(full.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
    r.out.append(buf.data(), n);
  int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace cxs::harness

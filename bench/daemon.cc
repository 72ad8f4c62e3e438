#include "daemon.h"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "xs_conn.h"

namespace cxs::bench {

const char* kind_name(DaemonKind k) {
  switch (k) {
    case DaemonKind::kCxs:
      return "cxenstored";
    case DaemonKind::kC:
      return "C-xenstored";
    case DaemonKind::kEcho:
      return "echo";
    case DaemonKind::kOx:
      return "oxenstored";
    case DaemonKind::kOxNoLog:
      return "oxenstored-nolog";
  }
  return "?";
}

namespace {

pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  pid_t pid = ::fork();
  if (pid < 0) throw BenchError(std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    std::FILE* f = std::freopen(log.c_str(), "w", stderr);
    (void)f;
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::fprintf(stderr, "exec %s: %s\n", args[0], strerror(errno));
    ::_exit(127);
  }
  return pid;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

bool path_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

namespace {
std::string exe_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string p(buf, static_cast<std::size_t>(n));
  return p.substr(0, p.rfind('/'));
}
}  // namespace

DaemonPaths default_paths(const std::string& source_dir) {
  DaemonPaths paths;
  std::string here = exe_dir();
  paths.cxenstored = here + "/../src/daemon/cxenstored";
  paths.echo = here + "/cxs-bench-echo";
  const char* env = std::getenv("CXS_REFD");
  for (std::string cand : {std::string(env ? env : ""),
                           std::string("../shared/tools/refd"),
                           source_dir + "/../shared/tools/refd"}) {
    if (!cand.empty() && path_exists(cand + "/start-peer.sh")) {
      paths.refd = cand;
      break;
    }
  }
  return paths;
}

// CXS_BENCH_LOG=info lets a bench show the daemon's own timings (the live
// update logs its phases at info); the default keeps the log quiet.
const char* daemon_log_level() {
  const char* level = std::getenv("CXS_BENCH_LOG");
  return level ? level : "warn";
}

int run_targets(const std::string& target, const DaemonPaths& paths,
                const std::string& workdir,
                const std::function<int(DaemonKind)>& run_one) {
  std::string list = target == "both"  ? "cxs,c"
                     : target == "all" ? "cxs,c,ox,ox-nolog"
                                       : target;
  std::vector<DaemonKind> kinds;
  std::stringstream in(list);
  for (std::string t; std::getline(in, t, ',');) {
    if (t == "cxs")
      kinds.push_back(DaemonKind::kCxs);
    else if (t == "c")
      kinds.push_back(DaemonKind::kC);
    else if (t == "ox")
      kinds.push_back(DaemonKind::kOx);
    else if (t == "ox-nolog")
      kinds.push_back(DaemonKind::kOxNoLog);
    else
      throw BenchError("unknown target " + t);
  }
  ::mkdir(workdir.c_str(), 0700);
  int rc = 0;
  for (DaemonKind k : kinds) {
    if (k != DaemonKind::kCxs && paths.refd.empty())
      std::printf("%s: skipped (tools/refd absent)\n", kind_name(k));
    else
      rc |= run_one(k);
  }
  std::error_code ignored;  // a leftover directory is no reason to fail
  std::filesystem::remove_all(workdir, ignored);
  return rc;
}

std::string option_value(int argc, char** argv, int& i) {
  if (i + 1 >= argc) throw BenchError(std::string(argv[i]) + " needs a value");
  return argv[++i];
}

int bench_main(const char* name, const std::function<int()>& body) {
  ::signal(SIGPIPE, SIG_IGN);
  try {
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 2;
  }
}

Daemon::Daemon(DaemonKind kind, const DaemonPaths& paths,
               const std::string& dir)
    : kind_(kind), dir_(dir), socket_(dir + "/socket") {
  ::mkdir(dir.c_str(), 0700);
  ::unlink(socket_.c_str());
  switch (kind) {
    case DaemonKind::kCxs:
      sim_dir_ = dir;
      pid_ = spawn({paths.cxenstored, "--sim-xen", dir, "--socket", socket_,
                    "--no-fork", "--log-level", daemon_log_level()},
                   dir + "/daemon.log");
      break;
    case DaemonKind::kEcho:
      pid_ = spawn({paths.echo, socket_}, dir + "/daemon.log");
      break;
    case DaemonKind::kC:
    case DaemonKind::kOx:
    case DaemonKind::kOxNoLog: {
      if (paths.refd.empty())
        throw BenchError("the reference daemons (tools/refd) are absent");
      sim_dir_ = dir;
      stop_script_ = paths.refd + "/stop-peer.sh";
      std::string cmd =
          kind == DaemonKind::kC ? paths.refd + "/start-peer.sh c " + dir
          : kind == DaemonKind::kOx
              ? paths.refd + "/start-peer.sh ocaml " + dir
              : "OX_ACCESS_LOG=0 " + paths.refd + "/start-peer.sh ocaml " + dir;
      std::FILE* p = ::popen(cmd.c_str(), "r");
      if (!p) throw BenchError("cannot run " + cmd);
      char buf[64] = {};
      bool got = std::fgets(buf, sizeof buf, p) != nullptr;
      int rc = ::pclose(p);
      if (!got || rc != 0) throw BenchError(cmd + " failed");
      pid_ = static_cast<pid_t>(std::atol(buf));
      owned_ = true;
      return;  // start-peer.sh waited for the socket to answer
    }
  }
  wait_ready();
}

Daemon::Daemon(const std::string& socket, pid_t pid)
    : kind_(DaemonKind::kCxs), socket_(socket), pid_(pid), owned_(false) {}

void Daemon::wait_ready() {
  auto deadline = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    try {
      XsConn c(socket_);
      c.set_timeout(std::chrono::milliseconds(2000));
      c.request(MsgType::XS_READ, nul_join({"/"}));
      return;
    } catch (const BenchError&) {
      int status;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw BenchError(std::string(kind_name(kind_)) +
                         " exited during start-up; see " + dir_ +
                         "/daemon.log");
      }
      if (Clock::now() > deadline)
        throw BenchError(std::string(kind_name(kind_)) +
                         " did not answer within 10 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

Daemon::~Daemon() {
  if (!owned_ || pid_ <= 0) return;
  if (is_reference()) {
    std::string cmd = stop_script_ + " " + std::to_string(pid_) + " >&2";
    if (std::system(cmd.c_str()) != 0)
      std::fprintf(stderr, "warning: %s failed\n", cmd.c_str());
    return;
  }
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    int status;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid_, SIGKILL);
  int status;
  ::waitpid(pid_, &status, 0);
}

// Time on a CPU from the scheduler's own count (nanoseconds, every thread),
// where the kernel keeps it: /proc/PID/stat's clock ticks are 10 ms, up to
// 2.5 % of the daemon's CPU in a 1-second window of pipelined reads, which
// is as much as the differences the compare run is there to show.
double Daemon::cpu_seconds() const {
  if (double ns = scheduled_ns(); ns > 0) return ns / 1e9;
  return ticks_seconds();
}

// Whether the kernel keeps schedstat is decided by the process's own file,
// so the readings at both ends of a window come from the same clock; a
// thread gone between listing and reading is skipped, not a fallback.
double Daemon::scheduled_ns() const {
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

double Daemon::ticks_seconds() const {
  std::string stat = read_file("/proc/" + std::to_string(pid_) + "/stat");
  std::size_t close = stat.rfind(')');
  if (close == std::string::npos)
    throw BenchError("cannot read /proc/" + std::to_string(pid_) + "/stat");
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

long Daemon::rss_bytes() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) * 1024;
  }
  throw BenchError("no VmRSS for pid " + std::to_string(pid_));
}

}  // namespace cxs::bench

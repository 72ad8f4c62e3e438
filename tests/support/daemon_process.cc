#include "daemon_process.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace cxs::test {
namespace {

bool socket_answers(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::string daemon_binary() { return CXS_DAEMON_PATH; }

DaemonProcess::DaemonProcess(std::vector<std::string> extra_args) {
  start(false, extra_args);
}

DaemonProcess::DaemonProcess(SimXen, std::vector<std::string> extra_args) {
  start(true, extra_args);
}

void DaemonProcess::start(bool sim_xen,
                          const std::vector<std::string>& extra_args) {
  char tmpl[] = "/tmp/cxs-test-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  socket_ = dir_ + "/socket";
  std::vector<std::string> args{daemon_binary()};
  if (sim_xen) {
    args.push_back("--sim-xen");
    args.push_back(dir_);
  } else {
    args.push_back("--standalone");
  }
  for (const char* a : {"--no-fork", "--socket"}) args.push_back(a);
  args.push_back(socket_);
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::string log = dir_ + "/daemon.log";

  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    // A live update's state file goes beside the socket, not into the
    // host's /var/run/xenstored.
    ::setenv("XENSTORED_RUNDIR", dir_.c_str(), 1);
    std::FILE* f = std::freopen(log.c_str(), "w", stderr);
    (void)f;
    ::dup2(2, 1);
    ::execv(argv[0], argv.data());
    std::perror(("execv " + args[0]).c_str());
    std::fflush(stderr);  // the reopened stderr is fully buffered
    ::_exit(127);
  }
  for (int i = 0; i < 200; ++i) {
    if (socket_answers(socket_)) return;
    if (!alive()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::string why = this->log();
  terminate();
  // The destructor does not run for a throwing constructor: clean up here.
  std::string cmd = "rm -rf '" + dir_ + "'";
  int rc = std::system(cmd.c_str());
  (void)rc;
  throw std::runtime_error("daemon did not start: " + why);
}

DaemonProcess::~DaemonProcess() {
  terminate();
  std::string cmd = "rm -rf '" + dir_ + "'";
  int rc = std::system(cmd.c_str());
  (void)rc;
}

bool DaemonProcess::alive() const {
  if (pid_ <= 0 || reaped_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    reaped_status_ = status;
  }
  return r == 0;
}

int DaemonProcess::terminate() {
  if (pid_ <= 0) return -1;
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

std::string DaemonProcess::log() const {
  std::ifstream f(dir_ + "/daemon.log");
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

namespace {

long status_field_kib(pid_t pid, const char* field) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  std::size_t n = std::strlen(field);
  while (std::getline(f, line))
    if (line.compare(0, n, field) == 0) return std::atol(line.c_str() + n);
  return -1;
}

}  // namespace

long DaemonProcess::rss_kib() const { return status_field_kib(pid_, "VmRSS:"); }

long DaemonProcess::peak_rss_kib() const {
  return status_field_kib(pid_, "VmHWM:");
}

CommandResult DaemonProcess::run(const std::string& command) const {
  std::string full = "XENSTORED_PATH='" + socket_ + "' " + command + " 2>&1";
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

}  // namespace cxs::test

#include "bench_main.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <vector>

namespace cxs::bench {

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

// CXS_BENCH_LOG=info lets a bench show the daemon's own timings (the live
// update logs its phases at info); the default keeps the log quiet.
const char* daemon_log_level() {
  const char* level = std::getenv("CXS_BENCH_LOG");
  return level ? level : "warn";
}

}  // namespace

DaemonPaths default_paths() {
  return {harness::daemon_binary(), exe_dir() + "/cxs-bench-echo",
          harness::refd_dir()};
}

harness::DaemonOptions daemon_options(DaemonKind kind, const DaemonPaths& paths,
                                      const std::string& dir) {
  harness::DaemonOptions o;
  o.kind = kind;
  o.sim_xen = true;
  o.dir = dir;
  switch (kind) {
    case DaemonKind::kCxs:
      o.binary = paths.cxenstored;
      o.args = {"--log-level", daemon_log_level()};
      break;
    case DaemonKind::kEcho:
      o.binary = paths.echo;
      break;
    case DaemonKind::kC:
    case DaemonKind::kOx:
    case DaemonKind::kOxNoLog:
      if (paths.refd.empty())
        throw BenchError("the reference daemons (tools/refd) are absent");
      o.refd = paths.refd;
      break;
  }
  return o;
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

}  // namespace cxs::bench

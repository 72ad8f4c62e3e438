// cxenstored: entry point. Parses options, sets up logging, checks for a
// hypervisor (or --standalone), starts the server and reports readiness.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <exception>

#include <spdlog/spdlog.h>

#include "daemon/options.h"
#include "daemon/process.h"
#include "daemon/server.h"

namespace {

bool xen_present() {
  struct stat st;
  return ::stat("/proc/xen/xsd_kva", &st) == 0 ||
         ::stat("/dev/xen/evtchn", &st) == 0;
}

int run(int argc, char** argv) {
  using namespace cxs::daemon;
  Options opts = parse_options(argc, argv);
  if (opts.help) {
    std::fputs(usage_text().c_str(), stdout);
    return 0;
  }
  init_logging(opts.no_fork, opts.log_level);
  for (const auto& w : opts.warnings) spdlog::warn("{}", w);

  if (!opts.standalone && !opts.sim_xen_dir) {
    if (!xen_present()) {
      spdlog::critical(
          "no Xen hypervisor found (/proc/xen/xsd_kva, /dev/xen/evtchn); "
          "run with --standalone for a dom0-only daemon without Xen");
      return 1;
    }
    spdlog::critical(
        "the Xen backend is not built into this cxenstored yet; use "
        "--standalone");
    return 1;
  }
  if (opts.sim_xen_dir) {
    spdlog::critical("--sim-xen is not built into this cxenstored yet");
    return 1;
  }

  Server server(opts);
  if (!opts.no_fork) daemonise();
  if (opts.pid_file) write_pid_file(*opts.pid_file);
  notify_ready();
  return server.run();
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const cxs::daemon::OptionsError& e) {
    std::fprintf(stderr, "cxenstored: %s\n%s", e.what(),
                 cxs::daemon::usage_text().c_str());
    return 2;
  } catch (const std::exception& e) {
    spdlog::critical("cxenstored: {}", e.what());
    std::fprintf(stderr, "cxenstored: %s\n", e.what());
    return 1;
  }
}

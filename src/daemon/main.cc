// cxenstored: entry point. Parses options, sets up logging, checks for a
// hypervisor (or --standalone), starts the server and reports readiness.
#include <cstdio>
#include <exception>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "daemon/options.h"
#include "daemon/process.h"
#include "daemon/server.h"
#include "xen/hypervisor.h"

namespace {

int run(int argc, char** argv) {
  using namespace cxs::daemon;
  Options opts = parse_options(argc, argv);
  if (opts.help) {
    std::fputs(usage_text().c_str(), stdout);
    return 0;
  }
  init_logging(opts.no_fork, opts.log_level);
  for (const auto& w : opts.warnings) spdlog::warn("{}", w);

  // Standalone: no hypervisor (dom0 only). --sim-xen: files and FIFOs that
  // stand in for Xen. Otherwise the real hypervisor, which must be there.
  std::optional<cxs::xen::Hypervisor> hv;
  if (opts.sim_xen_dir) {
    hv = cxs::xen::open_sim(*opts.sim_xen_dir);
  } else if (!opts.standalone) {
    // Thrown, not just logged: main() reports it on stderr as well, since
    // without -N the log is syslog and the shell would see nothing.
    if (!cxs::xen::xen_present())
      throw std::runtime_error(
          "no Xen hypervisor found (/dev/xen/evtchn, /proc/xen/xsd_kva); "
          "run with --standalone for a dom0-only daemon without Xen");
    hv = cxs::xen::open_xen();
  }

  Server server(opts, std::move(hv));
  if (!opts.no_fork) {
    daemonise();
    server.after_fork();
  }
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

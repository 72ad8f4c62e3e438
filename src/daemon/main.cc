// cxenstored: entry point. Parses options, sets up logging, checks for a
// hypervisor (or --standalone), starts the server and reports readiness.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "daemon/options.h"
#include "daemon/process.h"
#include "daemon/server.h"
#include "daemon/state_restore.h"
#include "daemon/version.h"
#include "migrate/reader.h"
#include "xen/hypervisor.h"

namespace {

using namespace cxs::daemon;

// Without -N the log is syslog: a failure is logged there as well as said
// on stderr. With -N the log is stderr itself, where once is enough.
bool log_is_syslog = false;

// Standalone: no hypervisor (dom0 only). --sim-xen: files and FIFOs that
// stand in for Xen. Otherwise the real hypervisor, which must be there.
std::optional<cxs::xen::Hypervisor> open_hypervisor(const Options& opts,
                                                    int inherited_evtchn_fd) {
  if (opts.sim_xen_dir)
    return cxs::xen::open_sim(*opts.sim_xen_dir, inherited_evtchn_fd);
  if (opts.standalone) return std::nullopt;
  // Thrown, not just logged: main() reports it on stderr as well, since
  // without -N the log is syslog and the shell would see nothing.
  if (!cxs::xen::xen_present())
    throw std::runtime_error(
        "no Xen hypervisor found (/dev/xen/evtchn, /proc/xen/xsd_kva); "
        "run with --standalone for a dom0-only daemon without Xen");
  return cxs::xen::open_xen(inherited_evtchn_fd);
}

// -U: the daemon before wrote its state and exec'd this binary; take over.
int run_live_updated(const Options& opts) {
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
  };
  auto t0 = Clock::now();
  std::string path = state_file_path(opts);
  Clock::time_point t1, t2;
  std::unique_ptr<Server> server;
  {
    // The mapped file goes once restored.
    StateFile file(path);
    t1 = Clock::now();
    int evtchn_fd = read_global_record(file.bytes()).evtchn_fd;
    server = std::make_unique<Server>(opts, open_hypervisor(opts, evtchn_fd),
                                      file.bytes());
    t2 = Clock::now();
  }
  // As C: the file goes once everything in it is restored.
  ::unlink(path.c_str());
  if (opts.pid_file) write_pid_file(*opts.pid_file);
  spdlog::info(
      "live update: serving (state read {:.1f} ms, read and restored {:.1f} "
      "ms)",
      ms(t1 - t0), ms(t2 - t1));
  return server->run();
}

// `report` is set once forked: main() tells the waiting process about a
// failure after this returns (the Server gone, its socket removed).
int run(int argc, char** argv, StartupReport& report) {
  Options opts = parse_options(argc, argv);
  if (opts.help) {
    std::fputs(usage_text().c_str(), stdout);
    return 0;
  }
  if (opts.version) {
    std::printf("cxenstored %s\n", std::string(version_string()).c_str());
    return 0;
  }
  if (opts.check_state)
    return check_state_file(*opts.check_state,
                            cxs::DomId{opts.master_domid.value_or(0)},
                            QuotaDefaults{opts.quotas, opts.quotas_given});
  init_logging(opts.no_fork, opts.log_level);
  log_is_syslog = !opts.no_fork;
  spdlog::info("cxenstored {} starting{}", version_string(),
               opts.live_update ? " (live update)" : "");
  for (const auto& w : opts.warnings) spdlog::warn("{}", w);
  raise_fd_limit();
  // The new daemon of a live update is the process of the one before: no
  // fork (it is a daemon already), no readiness to report again.
  if (opts.live_update) return run_live_updated(opts);

  Server server(opts, open_hypervisor(opts, -1));
  if (!opts.no_fork) {
    report = daemonise();
    server.after_fork();
  }
  if (opts.pid_file) write_pid_file(*opts.pid_file);
  notify_ready();
  report.ready();
  return server.run();
}

}  // namespace

// Exit status: 0 after a clean stop, 1 when start-up (or a live update's
// take-over) fails, 2 for a usage error (a bad option or value). Either
// failure is one line on stderr, also when forking: the process the shell
// started waits for the daemon's report (StartupReport).
int main(int argc, char** argv) {
  cxs::daemon::StartupReport report;
  try {
    return run(argc, argv, report);
  } catch (const cxs::daemon::OptionsError& e) {
    std::fprintf(stderr, "cxenstored: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    if (log_is_syslog) spdlog::critical("cxenstored: {}", e.what());
    if (!report.failed(e.what()))
      std::fprintf(stderr, "cxenstored: %s\n", e.what());
    return 1;
  }
}

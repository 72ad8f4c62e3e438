// Command-line options, compatible with the C xenstored's: the quota options,
// -F/-N/-T and friends, the ones 4.17 still had (accepted with a warning so
// old xencommons files keep working), plus cxenstored's own --standalone and
// --sim-xen. Parsing throws OptionsError on bad input (caught in main).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "store/quota.h"

namespace cxs::daemon {

struct OptionsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  bool help = false;
  bool version = false;                     // --version
  bool no_fork = false;                     // -N
  std::optional<std::string> pid_file;      // -F
  std::optional<std::string> trace_file;    // -T
  bool keep_orphans = false;                // -K
  std::optional<std::string> live_update;   // -U (state to restore)
  std::optional<std::uint32_t> master_domid;
  std::optional<std::uint32_t> priv_domid;
  std::optional<std::uint32_t> event_port;  // --event
  bool standalone = false;                  // --standalone: no hypervisor
  std::optional<std::string> sim_xen_dir;   // --sim-xen DIR
  std::optional<std::string> socket_path;   // --socket PATH (else env/default)
  std::string log_level = "info";           // --log-level
  // -E -S -W -t -A -M, -Q name=, -q memory= (store/quota.h's kQuotas).
  store::Quota quotas;
  std::uint64_t watch_event_timeout = 20;  // -w watch-event=seconds
  // The quotas the command line set, by store name ("nodes", "node-size",
  // "soft-memory"...): after a live update these win over the values the
  // daemon before had in force; the others carry over.
  std::vector<std::string> quotas_given;
  std::vector<std::string> warnings;        // obsolete options seen
  // cxenstored's own options given (--sim-xen, --socket...), which the C
  // xenstored does not know: a live update to it needs a command line.
  std::vector<std::string> own_options;
  // --check-state FILE: restore FILE in a dry run and exit (live update).
  std::optional<std::string> check_state;
  // The command line as given (argv[0] included): a live update without a
  // new command line runs the new binary with it, as C does.
  std::vector<std::string> argv;
};

// argv[0] is skipped. Throws OptionsError.
Options parse_options(int argc, char** argv);
std::string usage_text();

// The socket path libxenstore would use: XENSTORED_PATH, else
// $XENSTORED_RUNDIR/socket, else /var/run/xenstored/socket.
std::string default_socket_path();

}  // namespace cxs::daemon

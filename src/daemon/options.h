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

namespace cxs::daemon {

struct OptionsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Quota names and defaults of the C daemon (0 disables a quota).
struct Quotas {
  std::uint64_t nodes = 1000;               // -E, -Q nodes=
  std::uint64_t node_size = 2048;           // -S, -Q node-size=
  std::uint64_t watches = 128;              // -W, -Q watches=
  std::uint64_t transactions = 10;          // -t, -Q transactions=
  std::uint64_t node_permissions = 5;       // -A, -Q permissions=
  std::uint64_t path_max = 2048;            // -M, -Q path-max=
  std::uint64_t transaction_nodes = 1024;   // -Q transaction-nodes=
  std::uint64_t outstanding = 20;           // -Q outstanding=
  std::uint64_t memory = 2621440;           // -Q memory= (hard)
  std::uint64_t soft_memory = 2097152;      // -q memory= (soft, warn only)
  std::uint64_t watch_event_timeout = 20;   // -w watch-event=seconds
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
  Quotas quotas;
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

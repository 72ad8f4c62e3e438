// Live update: replacing the running daemon by another binary (a newer
// cxenstored, or the C xenstored) without a guest noticing. The flow, as the
// C daemon defines it for `xenstore-control live-update`:
//
//   CONTROL live-update -f FILE      opens a session owned by the requester
//   CONTROL live-update -c CMDLINE   the new daemon's arguments (optional)
//   CONTROL live-update -s -t N [-F] [-v V]
//                                    no reply now: the update is pending
//   CONTROL live-update -a           aborts the session
//
// While pending, a TRANSACTION_START from a connection with no transaction
// open is held (not read further) until the update happens or is given up.
// The update starts once no transaction is open, or with -F once every open
// transaction is N seconds old or N seconds have passed. The daemon then
// writes its whole state (migrate/format.h) to $XENSTORED_RUNDIR/state_dump,
// with the requester's "OK" at the end of its pending output, and execs the
// new binary with -U; the listening socket, the client sockets and the event
// channel fd are inherited, the new daemon maps the rings again.
//
// Beyond C: before it stops, the daemon checks the target (it must answer
// --help; a cxenstored must also restore the state in a dry run,
// --check-state). The check runs in a forked child on a snapshot of the
// state (fork's copy-on-write image) while the daemon goes on serving, so it
// adds nothing to the time clients wait; only when it passes does the
// daemon stop, write the state again and exec. If a check or the exec
// fails, the requester is told why and the daemon serves on as before.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cxenstored/ids.h"
#include "cxenstored/unique_fd.h"
#include "daemon/options.h"
#include "wire/header.h"

namespace cxs::daemon {

// The final dump's working memory, allocated and touched before the
// daemon stops serving: the dump runs while no client is answered, and in
// a VM the first touch of a fresh megabyte costs 3-5 ms.
struct DumpBuffers {
  static constexpr std::size_t kPiece = std::size_t{1} << 20;
  std::string piece;                      // the stream leaves in such pieces
  std::vector<std::uint64_t> generations;  // one per node

  // Room (touched) for a piece and for `nodes` generations.
  void prepare(std::size_t nodes);
};

struct LiveUpdateSession {
  using Clock = std::chrono::steady_clock;

  ConnId owner;
  std::string binary;                  // -f
  std::optional<std::string> cmdline;  // -c
  // Set by -s: the update is pending from then on.
  bool started = false;
  bool force = false;       // -F
  unsigned timeout_s = 0;   // -t
  std::uint32_t version = 1;  // -v: migration stream version written
  wire::Header start_request{};  // answered by the new daemon
  Clock::time_point started_at{};
  // The target check under way (a forked child): its pid and the pipe it
  // reports through; -1 / invalid when none runs.
  pid_t check_pid = -1;
  UniqueFd check_pipe;
  // What the check found: the target is a cxenstored (it says so in its
  // --help), so the ring features it offers stay advertised.
  bool checked = false;
  bool target_is_cxenstored = false;
  // Why a target that is not cxenstored (C 4.17) could not take this state
  // (found before the check forks: the child must not call the hypervisor).
  std::optional<std::string> foreign_refusal;
  DumpBuffers dump_buffers;  // prepared when the target check starts
};

// The new daemon's argv, as the C daemon builds it: without a command line,
// the current daemon's argv with argv[0] replaced by `binary`; with one,
// `binary` followed by the command line split at spaces and tabs (no
// quoting). Either way "-U" is appended unless an argument already is "-U".
std::vector<std::string> live_update_argv(
    const std::string& binary, const std::optional<std::string>& cmdline,
    const std::vector<std::string>& current_argv);

// Where the state goes: $XENSTORED_RUNDIR/state_dump (the C daemon's path,
// so either daemon finds the other's), else beside a simulated hypervisor,
// else /var/run/xenstored/state_dump.
std::string state_file_path(const Options& opts);

// "live-update" argument errors are EINVAL; the rest are reply texts.
struct LiveUpdateArgs {
  enum class Step { kFile, kCmdline, kStart, kAbort } step;
  std::string_view value;  // -f FILE, -c CMDLINE
  bool force = false;
  unsigned timeout_s = 0;
  std::uint32_t version = 1;
};
// nullopt: malformed (the caller answers EINVAL).
std::optional<LiveUpdateArgs> parse_live_update_args(
    const std::vector<std::string_view>& args);

// Why the target cannot take over, or nothing if it can: it must exist and
// be executable (checked at -f, as C does).
std::optional<std::string> check_target_file(const std::string& binary);

}  // namespace cxs::daemon

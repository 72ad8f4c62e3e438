// The frame of a bench tool's main(): where it finds the daemons, which it
// measures (--target), how it starts them, and how it reports a failure.
// The client and the launcher are the harness's (tests/harness/, shared with
// the tests), named here unqualified.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "daemon_process.h"
#include "raw_client.h"
#include "wire/header.h"
#include "wire/message_type.h"

namespace cxs::bench {

using Clock = std::chrono::steady_clock;
using harness::DaemonKind;
using harness::DaemonProcess;
using harness::error_name;
using harness::kind_name;
using harness::Msg;
using harness::nul_join;
using harness::RawClient;
using harness::ty;
using wire::Message;
using wire::MsgType;

// Anything that makes a measurement meaningless: a wrong reply, a timeout,
// a daemon that went away. Ends the workload (or the smoke test) loudly.
// The harness's own error, so the client's failures are caught as one.
using BenchError = harness::Error;

struct DaemonPaths {
  std::string cxenstored;  // the cxenstored binary
  std::string echo;        // the echo server binary
  std::string refd;        // tools/refd directory; empty when absent
};

// Where the bench tools find the daemons: the built cxenstored, the echo
// server beside the tool, refd where harness::refd_dir() finds it.
DaemonPaths default_paths();

// How a bench starts a daemon of `kind` in `dir`: cxenstored on the
// simulated hypervisor (so the ring workloads can use it too) with a quiet
// log (CXS_BENCH_LOG=info shows the daemon's own timings), the echo server,
// or a reference daemon under refd.
harness::DaemonOptions daemon_options(DaemonKind kind, const DaemonPaths& paths,
                                      const std::string& dir);

// The body of main() for a bench that measures cxenstored and/or the C
// daemon: `run_one` for each kind `target` names ("cxs", "c", "ox",
// "ox-nolog", a comma-separated list of those, "both" = cxs,c or "all";
// the reference daemons skipped with a line when tools/refd is absent), in
// `workdir`, which is removed afterwards. Returns the exit status: the
// runs' statuses or'ed.
int run_targets(const std::string& target, const DaemonPaths& paths,
                const std::string& workdir,
                const std::function<int(DaemonKind)>& run_one);
// main() for such a bench: `body`'s status, or 2 with "name: message" on
// stderr when it throws.
int bench_main(const char* name, const std::function<int()>& body);
// The value of the option at argv[i] (argv[i + 1], i moved on to it);
// throws BenchError "<option> needs a value" when there is none.
std::string option_value(int argc, char** argv, int& i);
bool path_exists(const std::string& p);

}  // namespace cxs::bench

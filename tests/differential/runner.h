// Runs one sequence of ops on cxenstored and on the C xenstored 4.17 in
// lockstep and compares every reply and every watch event, op by op. The
// run stops at the first difference the allowed-differences table does not
// accept (or goes on with fresh daemons, with keep_going). When the C
// daemon dies on an op, that is recorded as the reference's fault (after
// checking that cxenstored refused the op and lives), both daemons start
// again from the set-up and the run goes on with the next op.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "op.h"
#include "side.h"

namespace cxs::diff {

struct RunOptions {
  std::vector<std::string> daemon_args;
  bool keep_going = false;  // after a difference, restart and go on
  bool verbose = false;     // print every op and both observations
};

struct Mismatch {
  std::size_t index = 0;  // in the sequence run
  Op op;
  Observation ours;
  Observation ref;
  std::string note;  // why it is a failure, when not just "differs"

  // What the shrinker keeps constant: the kind of op and what differed.
  std::string signature() const;
  std::string text() const;
};

struct RunStats {
  std::size_t ops = 0;       // compared
  std::size_t skipped = 0;   // the actor's ring was not served
  std::size_t events = 0;    // watch events compared
  std::size_t restarts = 0;  // fresh daemons after a crash or divergence
  std::map<std::string, std::size_t> allowed;  // by table entry name
  std::vector<std::string>
      reference_faults;  // C died or went silent: op and answers

  void add(const RunStats& other);
};

struct RunResult {
  std::vector<Mismatch> mismatches;  // at most one unless keep_going
  RunStats stats;
};

RunResult run_ops(const std::vector<Op>& ops, const RunOptions& options);

// Cuts a failing sequence down to a minimal one that still fails with the
// same signature (delta debugging over ops), within `budget_s` seconds.
std::vector<Op> shrink(std::vector<Op> ops, const Mismatch& failure,
                       const RunOptions& options, int budget_s);

}  // namespace cxs::diff

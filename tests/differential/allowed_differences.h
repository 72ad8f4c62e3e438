// The differences between cxenstored and the C xenstored 4.17 that a
// differential run accepts. Each one is a deliberate choice written down in
// docs/compat.md; `why` repeats compat.md's reason in a line, and `section`
// names the compat.md section that gives it in full. Anything else the two
// daemons answer differently is a failure. The table is the one place that
// decides; compat.md points here.
#pragma once

#include <vector>

#include "op.h"
#include "side.h"

namespace cxs::diff {

struct AllowedDifference {
  const char* name;     // short id, printed in run summaries
  const char* section;  // docs/compat.md section
  const char* why;      // compat.md's reason, in a line
  // The two stores differ afterwards: both daemons are started again.
  bool restart;
  // The op's answers may be equal while the stores differ afterwards:
  // `matches` is asked for every op, and a match restarts both daemons.
  bool on_equal;
  bool (*matches)(const Op& op, const Observation& ours, const Observation& ref,
                  const HostModel& model);
};

const std::vector<AllowedDifference>& allowed_differences();

// The first entry that accepts this difference, or nullptr.
// With equal answers only entries marked on_equal are asked.
const AllowedDifference* find_allowed(const Op& op, const Observation& ours,
                                      const Observation& ref,
                                      const HostModel& model);

}  // namespace cxs::diff

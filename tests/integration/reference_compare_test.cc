// The rings-and-domains scenarios (ring_scenarios.h) run against cxenstored
// and against the reference C xenstored 4.17 under the refd LD_PRELOAD shim,
// step by step. Every step must give the same outcome, except the known
// differences below, each documented in docs/compat.md ("Rings and domains
// (compared with the C daemon under refd)"). The shim lives outside the
// project: without it (or without Debian's xen-utils-4.17) these tests are
// skipped. The recorded comparison is in docs/compat.md.
#include <gtest/gtest.h>

#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "ring_scenarios.h"

namespace cxs::test {
namespace {

struct KnownDifference {
  const char *scenario;
  const char *step;
  const char *cxenstored;
  const char *reference;
};

// Each entry is a deliberate difference; docs/compat.md gives the reason.
const std::vector<KnownDifference> &known_differences() {
  static const std::vector<KnownDifference> kKnown = {
#include "reference_differences.inc"
  };
  return kKnown;
}

const KnownDifference *find_known(const std::string &scenario,
                                  const std::string &step) {
  for (const auto &k : known_differences())
    if (scenario == k.scenario && step == k.step)
      return &k;
  return nullptr;
}

class ReferenceCompare : public ::testing::TestWithParam<Scenario> {};

TEST_P(ReferenceCompare, SameOutcomesAsTheCDaemon) {
  if (refd_dir().empty())
    GTEST_SKIP() << "reference C xenstored not available (needs "
                    "shared/tools/refd or $CXS_REFD_DIR, and xen-utils-4.17)";
  const Scenario &s = GetParam();
  Transcript ours = run_scenario(s, Peer::kCxenstored);
  Transcript ref = run_scenario(s, Peer::kReferenceC);
  std::cout << "[ cxenstored ] " << s.name << "\n"
            << ours.text() << "[ C 4.17     ] " << s.name << "\n"
            << ref.text();

  std::set<std::string> steps;
  for (const auto &[k, v] : ours.lines())
    steps.insert(k);
  for (const auto &[k, v] : ref.lines())
    steps.insert(k);
  for (const auto &step : steps) {
    std::string a = ours[step];
    std::string b = ref[step];
    const KnownDifference *known = find_known(s.name, step);
    if (known) {
      EXPECT_EQ(a, known->cxenstored) << s.name << ": " << step;
      EXPECT_EQ(b, known->reference) << s.name << ": " << step;
    } else {
      EXPECT_EQ(a, b) << s.name << ": " << step
                      << " (cxenstored vs C 4.17; not a known difference)";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(RingsAndDomains, ReferenceCompare,
                         ::testing::ValuesIn(ring_scenarios()),
                         [](const ::testing::TestParamInfo<Scenario> &info) {
                           return std::string(info.param.name);
                         });

} // namespace
} // namespace cxs::test

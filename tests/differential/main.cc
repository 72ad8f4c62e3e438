// differential_run: seeded random differential testing of cxenstored
// against the C xenstored 4.17 under refd (docs/testing.md). Exit status:
// 0 same answers (or only allowed differences), 1 a difference, 2 usage,
// 77 the reference daemon cannot run here (ctest reports a skip).
//
//   differential_run [--seeds 1-8|1,5,9] [--ops N] [--keep-going]
//                    [--no-shrink] [--shrink-seconds S] [--verbose]
//                    [--replay FILE]
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "allowed_differences.h"
#include "generator.h"
#include "runner.h"
#include "sim_host.h"

namespace cxs::diff {
namespace {

// Quotas low enough for a few hundred random ops to reach them, passed to
// both daemons with the C daemon's own options.
const std::vector<std::string> kDaemonArgs = {"-E", "25", "-W", "6",
                                              "-t", "3",  "-A", "5"};

struct Args {
  std::vector<std::uint64_t> seeds{1, 2, 3, 4, 5, 6, 7, 8};
  std::size_t ops = 400;
  bool keep_going = false;
  bool shrink = true;
  int shrink_seconds = 90;
  bool verbose = false;
  std::string replay;
};

std::vector<std::uint64_t> parse_seeds(const std::string& s) {
  std::vector<std::uint64_t> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    std::size_t dash = part.find('-');
    std::uint64_t a = std::stoull(part.substr(0, dash));
    std::uint64_t b =
        dash == std::string::npos ? a : std::stoull(part.substr(dash + 1));
    for (std::uint64_t x = a; x <= b; ++x) out.push_back(x);
  }
  return out;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(k + " needs a value");
      return argv[++i];
    };
    if (k == "--seeds")
      a.seeds = parse_seeds(val());
    else if (k == "--ops")
      a.ops = std::stoul(val());
    else if (k == "--keep-going")
      a.keep_going = true;
    else if (k == "--no-shrink")
      a.shrink = false;
    else if (k == "--shrink-seconds")
      a.shrink_seconds = std::stoi(val());
    else if (k == "--verbose")
      a.verbose = true;
    else if (k == "--replay")
      a.replay = val();
    else
      throw std::invalid_argument("unknown option " + k);
  }
  return a;
}

void print_case(const std::vector<Op>& ops, const Mismatch& m,
                const std::string& name) {
  std::cout << "---- minimal reproduction (" << ops.size()
            << " ops; save as a file and run differential_run --replay "
               "FILE) ----\n"
            << "# " << name << ": " << m.signature() << "\n"
            << "# cxenstored: " << m.ours.text() << "\n"
            << "# C 4.17:     " << m.ref.text() << "\n"
            << to_text(ops)
            << "---- as a test (tests/differential/cases_test.cc) ----\n"
            << "TEST(DifferentialCase, " << name << ") {\n"
            << "  expect_same_as_c(R\"ops(\n"
            << to_text(ops) << ")ops\");\n}\n";
}

void report(const RunStats& s, double seconds) {
  std::cout << "compared " << s.ops << " ops and " << s.events
            << " watch events (" << s.skipped << " skipped, " << s.restarts
            << " restarts) in " << seconds << " s\n";
  for (const auto& [name, n] : s.allowed)
    std::cout << "  allowed difference " << name << ": " << n << "\n";
  for (const auto& f : s.reference_faults)
    std::cout << "  the C daemon died or went silent (its fault): " << f
              << "\n";
}

int run(const Args& a) {
  if (test::refd_dir().empty()) {
    std::cout << "SKIP: the reference C xenstored 4.17 cannot run here "
                 "(needs shared/tools/refd or $CXS_REFD_DIR, and Debian's "
                 "xen-utils-4.17)\n";
    return 77;
  }
  RunOptions opt{kDaemonArgs, a.keep_going, a.verbose};
  auto t0 = std::chrono::steady_clock::now();
  RunStats total;
  std::set<std::string> classes;
  int failures = 0;
  auto handle = [&](const std::vector<Op>& ops, const RunResult& r,
                    const std::string& name) {
    total.add(r.stats);
    for (const Mismatch& m : r.mismatches) {
      bool fresh = classes.insert(m.signature()).second;
      std::cout << "DIFFERENCE (" << name << ") " << m.text();
      ++failures;
      if (a.shrink && fresh)
        print_case(shrink(ops, m, opt, a.shrink_seconds), m, name);
    }
  };
  if (!a.replay.empty()) {
    std::ifstream f(a.replay);
    std::stringstream ss;
    ss << f.rdbuf();
    auto ops = ops_from_text(ss.str());
    if (!ops) {
      std::cerr << a.replay << ": not a list of ops\n";
      return 2;
    }
    handle(*ops, run_ops(*ops, opt), "Replay");
  } else {
    for (std::uint64_t seed : a.seeds) {
      std::vector<Op> ops = generate(seed, a.ops);
      RunResult r = run_ops(ops, opt);
      std::cout << "seed " << seed << ": " << r.stats.ops << " ops, "
                << r.stats.events << " events, " << r.mismatches.size()
                << " differences" << std::endl;
      handle(ops, r, "Seed" + std::to_string(seed));
    }
  }
  double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  report(total, secs);
  if (!classes.empty()) {
    std::cout << failures << " differences, " << classes.size() << " kinds:\n";
    for (const auto& c : classes) std::cout << "  " << c << "\n";
  }
  return failures ? 1 : 0;
}

}  // namespace
}  // namespace cxs::diff

int main(int argc, char** argv) {
  try {
    return cxs::diff::run(cxs::diff::parse(argc, argv));
  } catch (const std::invalid_argument& e) {
    std::cerr << "differential_run: " << e.what() << "\n";
    return 2;
  }
}

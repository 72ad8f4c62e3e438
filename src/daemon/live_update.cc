// The live-update helpers that need no server: argv, state path, the
// CONTROL arguments and the target file check (see live_update.h).
#include "daemon/live_update.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>


namespace cxs::daemon {

std::vector<std::string> live_update_argv(
    const std::string& binary, const std::optional<std::string>& cmdline,
    const std::vector<std::string>& current_argv) {
  std::vector<std::string> argv{binary};
  if (cmdline) {
    std::string_view rest = *cmdline;
    while (!rest.empty()) {
      std::size_t start = rest.find_first_not_of(" \t");
      if (start == std::string_view::npos) break;
      rest.remove_prefix(start);
      std::size_t end = std::min(rest.find_first_of(" \t"), rest.size());
      argv.emplace_back(rest.substr(0, end));
      rest.remove_prefix(end);
    }
  } else if (!current_argv.empty()) {
    argv.insert(argv.end(), current_argv.begin() + 1, current_argv.end());
  }
  if (std::find(argv.begin() + 1, argv.end(), "-U") == argv.end())
    argv.emplace_back("-U");
  return argv;
}

void DumpBuffers::prepare(std::size_t nodes) {
  // A little room for nodes added before the update starts.
  std::size_t room = nodes + nodes / 8 + 1024;
  // assign() writes every byte: the pages are resident from now on, and
  // clear() keeps them.
  piece.assign(kPiece + 65536, '\0');
  piece.clear();
  generations.assign(room, 0);
  generations.clear();
}

std::string state_file_path(const Options& opts) {
  const char* rundir = std::getenv("XENSTORED_RUNDIR");
  if (rundir != nullptr && rundir[0] != '\0')
    return std::string(rundir) + "/state_dump";
  if (opts.sim_xen_dir) return *opts.sim_xen_dir + "/state_dump";
  return "/var/run/xenstored/state_dump";
}

namespace {

// A decimal of at most 9 digits (no sign, no spaces).
std::optional<unsigned> parse_seconds(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  unsigned v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v;
}

// -s [-t N] [-F] [-v V], in any order.
std::optional<LiveUpdateArgs> parse_start(
    const std::vector<std::string_view>& args) {
  LiveUpdateArgs out{LiveUpdateArgs::Step::kStart, {}};
  for (std::size_t i = 2; i < args.size(); ++i) {
    if (args[i] == "-F") {
      out.force = true;
    } else if (args[i] == "-t" && i + 1 < args.size()) {
      auto secs = parse_seconds(args[++i]);
      if (!secs) return std::nullopt;
      out.timeout_s = *secs;
    } else if (args[i] == "-v" && i + 1 < args.size()) {
      auto v = parse_seconds(args[++i]);
      // Version 1 is what C 4.17 reads; 2 (Xen 4.21+) adds watch depths.
      if (!v || *v < 1 || *v > 2) return std::nullopt;
      out.version = *v;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace

std::optional<LiveUpdateArgs> parse_live_update_args(
    const std::vector<std::string_view>& args) {
  if (args.size() < 2) return std::nullopt;
  std::string_view step = args[1];
  if (step == "-s") return parse_start(args);
  if (step == "-a" && args.size() == 2)
    return LiveUpdateArgs{LiveUpdateArgs::Step::kAbort, {}};
  if (step == "-f" && args.size() == 3 && !args[2].empty())
    return LiveUpdateArgs{LiveUpdateArgs::Step::kFile, args[2]};
  if (step == "-c" && args.size() == 3)
    return LiveUpdateArgs{LiveUpdateArgs::Step::kCmdline, args[2]};
  return std::nullopt;
}

std::optional<std::string> check_target_file(const std::string& binary) {
  struct stat st;
  if (::stat(binary.c_str(), &st) != 0) return "File not accessible.";
  if (!S_ISREG(st.st_mode) || (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) == 0)
    return "File not executable.";
  return std::nullopt;
}

}  // namespace cxs::daemon

// Command-line parsing with getopt_long, so option clustering ("-NK"),
// "--opt=value" and unique long-option prefixes behave exactly as they do for
// the C xenstored that xencommons and the systemd unit were written against.
//
// Worked examples:
//   -N -E 2000              no_fork, quotas.nodes = 2000
//   -Q node-permissions=8   quotas.node_permissions = 8 ("permissions" too)
//   -q memory=1048576       quotas.soft_memory = 1048576
//   -w watch-event=5        watch_event_timeout = 5
//   -D                      accepted, pushes an "obsolete" warning
//   -E 12x, -E -1, -Q foo=1 OptionsError
#include "daemon/options.h"

#include <getopt.h>
#include <sys/un.h>

#include <array>
#include <cctype>
#include <climits>
#include <cstdlib>
#include <string_view>

#include "cxenstored/ids.h"
#include "cxenstored/limits.h"

namespace cxs::daemon {
namespace {

// Long-only options get values outside the char range.
enum LongOnly : int {
  kOptMasterDomid = 256,
  kOptPrivDomid,
  kOptEvent,
  kOptTraceControl,
  kOptStandalone,
  kOptSimXen,
  kOptSocket,
  kOptLogLevel,
  kOptCheckState,
  kOptVersion,
};

// Leading ':' makes getopt report a missing argument as ':' rather than '?',
// so the two mistakes get different messages. "I::" is 4.17's optional
// argument of --internal-db.
constexpr char kShortOpts[] = ":A:DE:F:HI::KM:NPQ:q:RS:T:t:UVW:w:";

const struct option kLongOpts[] = {
    {"perm-nb", required_argument, nullptr, 'A'},
    {"no-domain-init", no_argument, nullptr, 'D'},
    {"entry-nb", required_argument, nullptr, 'E'},
    {"pid-file", required_argument, nullptr, 'F'},
    {"help", no_argument, nullptr, 'H'},
    {"internal-db", optional_argument, nullptr, 'I'},
    {"keep-orphans", no_argument, nullptr, 'K'},
    {"path-max", required_argument, nullptr, 'M'},
    {"no-fork", no_argument, nullptr, 'N'},
    {"output-pid", no_argument, nullptr, 'P'},
    {"quota", required_argument, nullptr, 'Q'},
    {"quota-soft", required_argument, nullptr, 'q'},
    {"no-recovery", no_argument, nullptr, 'R'},
    {"entry-size", required_argument, nullptr, 'S'},
    {"trace-file", required_argument, nullptr, 'T'},
    {"transaction", required_argument, nullptr, 't'},
    {"live-update", no_argument, nullptr, 'U'},
    {"verbose", no_argument, nullptr, 'V'},
    {"watch-nb", required_argument, nullptr, 'W'},
    {"timeout", required_argument, nullptr, 'w'},
    {"master-domid", required_argument, nullptr, kOptMasterDomid},
    {"priv-domid", required_argument, nullptr, kOptPrivDomid},
    {"event", required_argument, nullptr, kOptEvent},
    {"trace-control", required_argument, nullptr, kOptTraceControl},
    {"standalone", no_argument, nullptr, kOptStandalone},
    {"sim-xen", required_argument, nullptr, kOptSimXen},
    {"socket", required_argument, nullptr, kOptSocket},
    {"log-level", required_argument, nullptr, kOptLogLevel},
    {"check-state", required_argument, nullptr, kOptCheckState},
    // Long only: -V is 4.17's obsolete --verbose.
    {"version", no_argument, nullptr, kOptVersion},
    {nullptr, 0, nullptr, 0},
};

// The C daemon caps every numeric option at INT_MAX; doing the same keeps a
// configuration that one daemon accepts valid for the other.
constexpr std::uint64_t kNumberMax = INT_MAX;

std::uint64_t parse_number(std::string_view text, std::string_view what) {
  bool ok = !text.empty() && text.size() <= 10;
  std::uint64_t value = 0;
  for (char c : text) {
    if (!ok) break;
    if (c < '0' || c > '9') {
      ok = false;
      break;
    }
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (!ok || value > kNumberMax) {
    throw OptionsError(
        "invalid value \"" + std::string(text) + "\" for " + std::string(what) +
        ": expected a decimal number from 0 to " + std::to_string(kNumberMax));
  }
  return value;
}

std::uint32_t parse_domid(std::string_view text, std::string_view what) {
  std::uint64_t v = parse_number(text, what);
  if (v >= kDomidFirstReserved) {
    throw OptionsError(std::string(what) + " " + std::string(text) +
                       " is not a valid domain id (must be below 32752)");
  }
  return static_cast<std::uint32_t>(v);
}

// A quota the command line sets (clamped to its kQuotas maximum), which
// then wins over the one a live update carries.
void set_quota(Options& opts, const store::QuotaSpec& q, std::uint64_t v) {
  opts.quotas.*(q.field) = std::min<std::uint64_t>(v, q.max);
  opts.quotas_given.emplace_back(q.name);
}
void set_quota(Options& opts, std::string_view name, std::uint64_t v) {
  set_quota(opts, *store::find_quota(name), v);
}

struct NameValue {
  std::string_view name;
  std::string_view value;
};

NameValue split_name_value(const char* arg, std::string_view option,
                           std::string_view unit) {
  std::string_view s(arg);
  auto eq = s.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw OptionsError(std::string(option) + " must be given as <what>=<" +
                       std::string(unit) + ">, not \"" + std::string(s) + "\"");
  }
  return {s.substr(0, eq), s.substr(eq + 1)};
}

void set_hard_quota(Options& opts, const char* arg) {
  auto [name, value] = split_name_value(arg, "-Q/--quota", "nb");
  const store::QuotaSpec* q = store::find_quota(name);
  if (q == nullptr || !q->hard) {
    throw OptionsError("unknown quota \"" + std::string(name) +
                       "\" in -Q/--quota " + arg);
  }
  set_quota(opts, *q, parse_number(value, "quota " + std::string(name)));
}

// Only memory has a soft (warn-only) limit. Newer C daemons accept the other
// names as soft quotas too; a configuration written for them must still
// start, so those are accepted and ignored with a warning.
void set_soft_quota(Options& opts, const char* arg) {
  auto [name, value] = split_name_value(arg, "-q/--quota-soft", "nb");
  const store::QuotaSpec* q = store::find_quota(name);
  if (q == nullptr || !q->hard) {
    throw OptionsError("unknown quota \"" + std::string(name) +
                       "\" in -q/--quota-soft " + arg);
  }
  std::uint64_t v = parse_number(value, "soft quota " + std::string(name));
  if (q->field == &store::Quota::memory) {
    set_quota(opts, "soft-memory", v);
  } else {
    opts.warnings.push_back("soft quota \"" + std::string(name) +
                            "\" is not supported; -q " + arg + " ignored");
  }
}

void set_timeout(Options& opts, const char* arg) {
  auto [name, value] = split_name_value(arg, "-w/--timeout", "seconds");
  if (name != "watch-event") {
    throw OptionsError("unknown timeout \"" + std::string(name) +
                       "\" in -w/--timeout " + arg);
  }
  opts.watch_event_timeout = parse_number(value, "timeout watch-event");
}

std::string non_empty(const char* arg, std::string_view option) {
  std::string s(arg);
  if (s.empty())
    throw OptionsError(std::string(option) + " needs a non-empty value");
  return s;
}

void obsolete(Options& opts, std::string_view option) {
  opts.warnings.push_back("option " + std::string(option) +
                          " is obsolete and ignored");
}

constexpr std::array<std::string_view, 7> kLogLevels = {
    "trace", "debug", "info", "warn", "error", "critical", "off"};

// The word getopt just stopped at, for error messages. After an error getopt
// has normally stepped past that word; the exception is a short option in
// the middle of a cluster ("-XN"), where the letter itself is the best name.
const char* last_word(int argc, char** argv) {
  return (optind > 0 && optind <= argc) ? argv[optind - 1] : "";
}

[[noreturn]] void throw_getopt_error(int opt, int argc, char** argv) {
  std::string word = last_word(argc, argv);
  bool long_form = word.rfind("--", 0) == 0;
  if (opt == ':') {
    std::string name =
        long_form ? word : std::string("-") + static_cast<char>(optopt);
    throw OptionsError("option " + name + " requires an argument");
  }
  // "--keep-orphans=1": a long option given an argument it does not take.
  if (optopt != 0 && long_form && word.find('=') != std::string::npos) {
    throw OptionsError("option " + word.substr(0, word.find('=')) +
                       " does not take an argument");
  }
  if (optopt > 0 && optopt < 256 &&
      std::isprint(static_cast<unsigned char>(optopt))) {
    throw OptionsError(std::string("unknown option -") +
                       static_cast<char>(optopt) + " (see --help)");
  }
  throw OptionsError("unknown or ambiguous option " + word + " (see --help)");
}

}  // namespace

Options parse_options(int argc, char** argv) {
  Options opts;
  opts.argv.assign(argv, argv + argc);
  // glibc: optind = 0 forces a full re-initialisation of getopt's hidden
  // state, so the parser can run more than once per process (tests).
  optind = 0;
  opterr = 0;

  for (;;) {
    int opt = getopt_long(argc, argv, kShortOpts, kLongOpts, nullptr);
    if (opt == -1) break;
    switch (opt) {
      case 'H':
        // As in the C daemon, help stops parsing: main prints and exits.
        opts.help = true;
        return opts;
      case kOptVersion:
        opts.version = true;
        return opts;
      case 'N':
        opts.no_fork = true;
        break;
      case 'F':
        opts.pid_file = non_empty(optarg, "-F/--pid-file");
        break;
      case 'T':
        opts.trace_file = non_empty(optarg, "-T/--trace-file");
        break;
      case 'E':
        set_quota(opts, "nodes", parse_number(optarg, "-E/--entry-nb"));
        break;
      case 'S':
        set_quota(opts, "node-size", parse_number(optarg, "-S/--entry-size"));
        break;
      case 'W':
        set_quota(opts, "watches", parse_number(optarg, "-W/--watch-nb"));
        break;
      case 't':
        set_quota(opts, "transactions",
                  parse_number(optarg, "-t/--transaction"));
        break;
      case 'A':
        set_quota(opts, "permissions", parse_number(optarg, "-A/--perm-nb"));
        break;
      case 'M':
        set_quota(opts, "path-max", parse_number(optarg, "-M/--path-max"));
        break;
      case 'Q':
        set_hard_quota(opts, optarg);
        break;
      case 'q':
        set_soft_quota(opts, optarg);
        break;
      case 'w':
        set_timeout(opts, optarg);
        break;
      case 'K':
        opts.keep_orphans = true;
        break;
      case 'U':
        // The C daemon takes no argument here; the state comes from the
        // daemon that exec'd us. The empty string just marks "requested".
        opts.live_update = std::string();
        break;
      case kOptMasterDomid:
        opts.master_domid = parse_domid(optarg, "--master-domid");
        break;
      case kOptPrivDomid:
        opts.priv_domid = parse_domid(optarg, "--priv-domid");
        break;
      case kOptEvent:
        opts.event_port =
            static_cast<std::uint32_t>(parse_number(optarg, "--event"));
        break;
      case kOptTraceControl: {
        // Newer C daemons select trace classes (+io, -wrl...). cxenstored
        // traces one fixed set, so only the syntax is checked.
        std::string_view sw(optarg);
        if (sw.size() < 2 || (sw[0] != '+' && sw[0] != '-')) {
          throw OptionsError("illegal trace switch \"" + std::string(sw) +
                             "\" (expected +<switch> or -<switch>)");
        }
        opts.warnings.push_back("--trace-control is not supported; " +
                                std::string(sw) + " ignored");
        break;
      }
      case kOptCheckState:
        opts.own_options.emplace_back("--check-state");
        opts.check_state = non_empty(optarg, "--check-state");
        break;
      case kOptStandalone:
        opts.own_options.emplace_back("--standalone");
        opts.standalone = true;
        break;
      case kOptSimXen:
        opts.own_options.emplace_back("--sim-xen");
        opts.sim_xen_dir = non_empty(optarg, "--sim-xen");
        break;
      case kOptSocket: {
        opts.own_options.emplace_back("--socket");
        std::string path = non_empty(optarg, "--socket");
        // The path must fit sockaddr_un.sun_path with its terminating NUL.
        if (path.size() >= sizeof(sockaddr_un::sun_path)) {
          throw OptionsError("--socket path is too long (max " +
                             std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                             " bytes): " + path);
        }
        opts.socket_path = std::move(path);
        break;
      }
      case kOptLogLevel: {
        opts.own_options.emplace_back("--log-level");
        std::string_view lvl(optarg);
        bool known = false;
        for (auto l : kLogLevels) known = known || l == lvl;
        if (!known) {
          throw OptionsError(
              "unknown log level \"" + std::string(lvl) +
              "\" (trace, debug, info, warn, error, critical, off)");
        }
        opts.log_level = std::string(lvl);
        break;
      }
      case 'D':
        obsolete(opts, "-D/--no-domain-init");
        break;
      case 'P':
        obsolete(opts, "-P/--output-pid");
        break;
      case 'R':
        obsolete(opts, "-R/--no-recovery");
        break;
      case 'V':
        obsolete(opts, "-V/--verbose");
        break;
      case 'I':
        // 4.17 documented "--internal-db off" with a space, which getopt
        // would leave behind as a stray argument; swallow that word too.
        if (optarg == nullptr && optind < argc &&
            (std::string_view(argv[optind]) == "on" ||
             std::string_view(argv[optind]) == "off")) {
          ++optind;
        }
        obsolete(opts, "-I/--internal-db");
        break;
      default:  // ':' or '?'
        throw_getopt_error(opt, argc, argv);
    }
  }

  if (optind < argc) {
    throw OptionsError(std::string("unexpected argument \"") + argv[optind] +
                       "\": cxenstored takes options only");
  }
  return opts;
}

std::string usage_text() {
  // One line per option, so "cxenstored --help | grep quota" is useful.
  // clang-format off
  return
      "Usage: cxenstored [options]\n"
      "  -F, --pid-file FILE          write the daemon's pid to FILE\n"
      "  -N, --no-fork                stay in the foreground, log to stderr\n"
      "  -T, --trace-file FILE        trace requests, replies and events to FILE\n"
      "  -H, --help                   print this message and exit\n"
      "      --version                print the version and exit\n"
      "  -E, --entry-nb N             quota nodes: nodes owned per domain\n"
      "  -S, --entry-size N           quota node-size: bytes per node\n"
      "  -W, --watch-nb N             quota watches: watches per domain\n"
      "  -t, --transaction N          quota transactions: open transactions per domain\n"
      "  -A, --perm-nb N              quota node-permissions: permissions per node\n"
      "  -M, --path-max N             quota path-max: node path length (at most 2048)\n"
      "  -Q, --quota NAME=N           set quota NAME (nodes, node-size, watches, transactions, node-permissions or permissions, path-max, transaction-nodes, outstanding, memory); 0 disables it\n"
      "  -q, --quota-soft memory=N    log a warning when a domain uses more than N bytes\n"
      "  -w, --timeout watch-event=S  seconds a watch event may stay pending\n"
      "  -K, --keep-orphans           keep a dead domain's nodes (a security risk)\n"
      "  -U, --live-update            take over the state of a live-updated daemon\n"
      "      --master-domid N         id of the control domain introduced at start (default 0)\n"
      "      --priv-domid N           id of a domain given control-domain privileges\n"
      "      --event PORT             event channel port of the master domain's ring\n"
      "      --trace-control +/-SW    accepted for compatibility and ignored\n"
      "      --standalone             run without a hypervisor (sockets only)\n"
      "      --sim-xen DIR            use the simulated hypervisor rooted at DIR\n"
      "      --socket PATH            listen on PATH (default: XENSTORED_PATH, XENSTORED_RUNDIR/socket, /var/run/xenstored/socket)\n"
      "      --log-level LEVEL        trace, debug, info (default), warn, error, critical or off\n"
      "      --check-state FILE       restore a live-update state FILE in a dry run, report, exit\n"
      "  -D, --no-domain-init         obsolete (Xen 4.17), ignored\n"
      "  -P, --output-pid             obsolete (Xen 4.17), ignored\n"
      "  -R, --no-recovery            obsolete (Xen 4.17), ignored\n"
      "  -V, --verbose                obsolete (Xen 4.17), ignored; see --log-level\n"
      "  -I, --internal-db[=on|off]   obsolete (Xen 4.17), ignored\n";
  // clang-format on
}

std::string default_socket_path() {
  // Same lookup order as libxenstore, so daemon and clients meet.
  const char* path = std::getenv("XENSTORED_PATH");
  if (path != nullptr && path[0] != '\0') return path;
  const char* rundir = std::getenv("XENSTORED_RUNDIR");
  if (rundir != nullptr && rundir[0] != '\0') {
    return std::string(rundir) + "/socket";
  }
  return "/var/run/xenstored/socket";
}

}  // namespace cxs::daemon

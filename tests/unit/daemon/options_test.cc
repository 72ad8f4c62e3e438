#include "daemon/options.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

namespace cxs::daemon {
namespace {

// getopt may permute argv, so each call gets its own writable copy.
Options parse(std::initializer_list<const char*> args) {
  std::vector<std::string> storage{"cxenstored"};
  for (const char* a : args) storage.emplace_back(a);
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return parse_options(static_cast<int>(storage.size()), argv.data());
}

std::string error_of(std::initializer_list<const char*> args) {
  try {
    parse(args);
  } catch (const OptionsError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Options, NoArgumentsGiveDefaults) {
  Options o = parse({});
  EXPECT_FALSE(o.help);
  EXPECT_FALSE(o.no_fork);
  EXPECT_FALSE(o.pid_file);
  EXPECT_FALSE(o.trace_file);
  EXPECT_FALSE(o.keep_orphans);
  EXPECT_FALSE(o.live_update);
  EXPECT_FALSE(o.master_domid);
  EXPECT_FALSE(o.priv_domid);
  EXPECT_FALSE(o.event_port);
  EXPECT_FALSE(o.standalone);
  EXPECT_FALSE(o.sim_xen_dir);
  EXPECT_FALSE(o.socket_path);
  EXPECT_EQ(o.log_level, "info");
  EXPECT_EQ(o.quotas.nodes, 1000u);
  EXPECT_EQ(o.quotas.memory, 2621440u);
  EXPECT_TRUE(o.warnings.empty());
}

TEST(Options, ParsingTwiceStartsFromScratch) {
  EXPECT_TRUE(parse({"-N"}).no_fork);
  EXPECT_FALSE(parse({}).no_fork);
  EXPECT_EQ(parse({"-E", "5"}).quotas.nodes, 5u);
  EXPECT_EQ(parse({"-E", "6"}).quotas.nodes, 6u);
}

TEST(Options, ShortFlagsSetTheirFields) {
  Options o = parse({"-N", "-K", "-U"});
  EXPECT_TRUE(o.no_fork);
  EXPECT_TRUE(o.keep_orphans);
  ASSERT_TRUE(o.live_update);
  EXPECT_EQ(*o.live_update, "");
}

TEST(Options, LongFlagsSetTheirFields) {
  Options o =
      parse({"--no-fork", "--keep-orphans", "--live-update", "--standalone"});
  EXPECT_TRUE(o.no_fork);
  EXPECT_TRUE(o.keep_orphans);
  EXPECT_TRUE(o.live_update);
  EXPECT_TRUE(o.standalone);
}

TEST(Options, ClusteredShortFlagsAreAccepted) {
  Options o = parse({"-NK"});
  EXPECT_TRUE(o.no_fork);
  EXPECT_TRUE(o.keep_orphans);
}

TEST(Options, HelpStopsParsing) {
  EXPECT_TRUE(parse({"-H"}).help);
  EXPECT_TRUE(parse({"--help", "--no-such-option"}).help);
}

// --version is long only: -V stays 4.17's obsolete --verbose.
TEST(Options, VersionStopsParsing) {
  EXPECT_TRUE(parse({"--version", "--no-such-option"}).version);
  EXPECT_FALSE(parse({"-V"}).version);
}

TEST(Options, PidAndTraceFilesTakeAnArgument) {
  Options o = parse({"-F", "/run/x.pid", "-T", "/tmp/trace"});
  EXPECT_EQ(o.pid_file, "/run/x.pid");
  EXPECT_EQ(o.trace_file, "/tmp/trace");
  o = parse({"--pid-file=/a", "--trace-file", "/b"});
  EXPECT_EQ(o.pid_file, "/a");
  EXPECT_EQ(o.trace_file, "/b");
  o = parse({"-F/c"});
  EXPECT_EQ(o.pid_file, "/c");
}

TEST(Options, EmptyFileNameIsRejected) {
  EXPECT_THROW(parse({"-F", ""}), OptionsError);
  EXPECT_THROW(parse({"--trace-file="}), OptionsError);
}

TEST(Options, ShortQuotaOptionsSetTheirQuotas) {
  Options o = parse(
      {"-E", "11", "-S", "12", "-W", "13", "-t", "14", "-A", "15", "-M", "16"});
  EXPECT_EQ(o.quotas.nodes, 11u);
  EXPECT_EQ(o.quotas.node_size, 12u);
  EXPECT_EQ(o.quotas.watches, 13u);
  EXPECT_EQ(o.quotas.transactions, 14u);
  EXPECT_EQ(o.quotas.node_permissions, 15u);
  EXPECT_EQ(o.quotas.path_max, 16u);
}

TEST(Options, LongQuotaOptionsSetTheirQuotas) {
  Options o =
      parse({"--entry-nb=21", "--entry-size", "22", "--watch-nb", "23",
             "--transaction", "24", "--perm-nb", "25", "--path-max", "26"});
  EXPECT_EQ(o.quotas.nodes, 21u);
  EXPECT_EQ(o.quotas.node_size, 22u);
  EXPECT_EQ(o.quotas.watches, 23u);
  EXPECT_EQ(o.quotas.transactions, 24u);
  EXPECT_EQ(o.quotas.node_permissions, 25u);
  EXPECT_EQ(o.quotas.path_max, 26u);
}

TEST(Options, PathMaxIsClampedToTheProtocolMaximum) {
  EXPECT_EQ(parse({"-M", "100000"}).quotas.path_max, 2048u);
  EXPECT_EQ(parse({"-Q", "path-max=5000"}).quotas.path_max, 2048u);
}

TEST(Options, QuotaOptionSetsNamedQuota) {
  Options o = parse({"-Q", "nodes=1", "-Q", "node-size=2", "-Q", "watches=3",
                     "-Q", "transactions=4", "-Q", "permissions=5", "-Q",
                     "path-max=6", "-Q", "transaction-nodes=7", "-Q",
                     "outstanding=8", "--quota", "memory=9"});
  EXPECT_EQ(o.quotas.nodes, 1u);
  EXPECT_EQ(o.quotas.node_size, 2u);
  EXPECT_EQ(o.quotas.watches, 3u);
  EXPECT_EQ(o.quotas.transactions, 4u);
  EXPECT_EQ(o.quotas.node_permissions, 5u);
  EXPECT_EQ(o.quotas.path_max, 6u);
  EXPECT_EQ(o.quotas.transaction_nodes, 7u);
  EXPECT_EQ(o.quotas.outstanding, 8u);
  EXPECT_EQ(o.quotas.memory, 9u);
  EXPECT_TRUE(o.warnings.empty());
}

TEST(Options, QuotaOptionAcceptsTheUpstreamPermissionsName) {
  EXPECT_EQ(parse({"-Q", "node-permissions=7"}).quotas.node_permissions, 7u);
}

TEST(Options, ZeroQuotaIsAllowed) {
  EXPECT_EQ(parse({"-Q", "outstanding=0"}).quotas.outstanding, 0u);
}

TEST(Options, UnknownQuotaNameIsAnError) {
  EXPECT_NE(error_of({"-Q", "bogus=1"}).find("unknown quota"),
            std::string::npos);
  EXPECT_THROW(parse({"-Q", "node=1"}), OptionsError);  // no prefix match
  EXPECT_THROW(parse({"-Q", "nodesx=1"}), OptionsError);
}

TEST(Options, QuotaWithoutEqualsIsAnError) {
  EXPECT_THROW(parse({"-Q", "nodes"}), OptionsError);
  EXPECT_THROW(parse({"-Q", "=5"}), OptionsError);
  EXPECT_THROW(parse({"-Q", "nodes="}), OptionsError);
}

TEST(Options, SoftMemoryQuotaSetsSoftMemory) {
  Options o = parse({"-q", "memory=4096"});
  EXPECT_EQ(o.quotas.soft_memory, 4096u);
  EXPECT_EQ(o.quotas.memory, 2621440u);
  EXPECT_EQ(parse({"--quota-soft=memory=5"}).quotas.soft_memory, 5u);
}

TEST(Options, OtherSoftQuotasAreIgnoredWithAWarning) {
  Options o = parse({"-q", "nodes=5"});
  EXPECT_EQ(o.quotas.nodes, 1000u);
  ASSERT_EQ(o.warnings.size(), 1u);
  EXPECT_NE(o.warnings[0].find("nodes"), std::string::npos);
}

TEST(Options, UnknownSoftQuotaIsAnError) {
  EXPECT_THROW(parse({"-q", "bogus=5"}), OptionsError);
}

TEST(Options, WatchEventTimeoutIsSet) {
  EXPECT_EQ(parse({"-w", "watch-event=7"}).watch_event_timeout, 7u);
  EXPECT_EQ(parse({"--timeout=watch-event=0"}).watch_event_timeout, 0u);
}

TEST(Options, UnknownTimeoutIsAnError) {
  EXPECT_THROW(parse({"-w", "watch=7"}), OptionsError);
  EXPECT_THROW(parse({"-w", "watch-event"}), OptionsError);
}

TEST(Options, BadNumbersAreRejected) {
  for (const char* bad : {"12x", "-1", "", " 1", "1 ", "+1", "0x10", "1e3",
                          "2147483648", "99999999999999999999"}) {
    EXPECT_THROW(parse({"-E", bad}), OptionsError) << "value: " << bad;
  }
  EXPECT_NE(error_of({"-E", "12x"}).find("12x"), std::string::npos);
  EXPECT_THROW(parse({"-Q", "nodes=12x"}), OptionsError);
  EXPECT_THROW(parse({"-w", "watch-event=-3"}), OptionsError);
  EXPECT_THROW(parse({"--event", "x"}), OptionsError);
}

TEST(Options, LargestAcceptedNumberIsIntMax) {
  EXPECT_EQ(parse({"-E", "2147483647"}).quotas.nodes, 2147483647u);
  EXPECT_EQ(parse({"-E", "007"}).quotas.nodes, 7u);
}

TEST(Options, DomainAndEventOptionsAreParsed) {
  Options o = parse({"--master-domid", "3", "--priv-domid=4", "--event", "9"});
  EXPECT_EQ(o.master_domid, 3u);
  EXPECT_EQ(o.priv_domid, 4u);
  EXPECT_EQ(o.event_port, 9u);
}

TEST(Options, ReservedDomainIdIsRejected) {
  EXPECT_THROW(parse({"--master-domid", "32752"}), OptionsError);
  EXPECT_EQ(parse({"--priv-domid", "32751"}).priv_domid, 32751u);
}

TEST(Options, OwnOptionsAreParsed) {
  Options o = parse(
      {"--sim-xen", "/tmp/sim", "--socket=/tmp/s", "--log-level", "debug"});
  EXPECT_EQ(o.sim_xen_dir, "/tmp/sim");
  EXPECT_EQ(o.socket_path, "/tmp/s");
  EXPECT_EQ(o.log_level, "debug");
}

// A hot swap from C 4.17 without -c runs cxenstored with the C daemon's
// own argv plus -U: every flag of its getopt string
// "DE:F:HI::KNPS:t:A:M:Q:q:T:RVW:w:U" and its long-only options must parse.
TEST(Options, TheWholeC417OptionSetWithMinusUParses) {
  Options o = parse({"-D", "-E", "2000", "-F", "/run/xenstore.pid", "-I",
                     "-K", "-N", "-P", "-S", "4096", "-t", "20", "-A", "8",
                     "-M", "1024", "-Q", "outstanding=30", "-q",
                     "memory=1048576", "-T", "/var/log/xen/xenstored-trace.log",
                     "-R", "-V", "-W", "256", "-w", "watch-event=30",
                     "--master-domid", "0", "--priv-domid", "0", "--event",
                     "7", "--trace-control", "+io", "-U"});
  EXPECT_TRUE(o.no_fork);
  EXPECT_TRUE(o.keep_orphans);
  EXPECT_EQ(o.pid_file, "/run/xenstore.pid");
  EXPECT_EQ(o.trace_file, "/var/log/xen/xenstored-trace.log");
  EXPECT_EQ(o.quotas.nodes, 2000u);
  EXPECT_EQ(o.quotas.node_size, 4096u);
  EXPECT_EQ(o.quotas.transactions, 20u);
  EXPECT_EQ(o.quotas.node_permissions, 8u);
  EXPECT_EQ(o.quotas.path_max, 1024u);
  EXPECT_EQ(o.quotas.outstanding, 30u);
  EXPECT_EQ(o.quotas.soft_memory, 1048576u);
  EXPECT_EQ(o.quotas.watches, 256u);
  EXPECT_EQ(o.watch_event_timeout, 30u);
  EXPECT_EQ(o.master_domid, 0u);
  EXPECT_EQ(o.priv_domid, 0u);
  EXPECT_EQ(o.event_port, 7u);
  EXPECT_TRUE(o.live_update);
  EXPECT_TRUE(o.own_options.empty());
  // And the long spellings, as Debian's init script and the fixtures' argv
  // give them.
  Options l = parse({"--no-domain-init", "--entry-nb=10", "--pid-file",
                     "/p", "--internal-db", "--keep-orphans", "--no-fork",
                     "--output-pid", "--entry-size", "9", "--transaction",
                     "3", "--perm-nb", "4", "--path-max", "100", "--quota",
                     "nodes=5", "--quota-soft", "memory=6", "--trace-file",
                     "/t", "--no-recovery", "--verbose", "--watch-nb", "7",
                     "--timeout", "watch-event=8", "--live-update"});
  EXPECT_EQ(l.quotas.nodes, 5u);
  EXPECT_EQ(l.pid_file, "/p");
  EXPECT_TRUE(l.live_update);
  EXPECT_TRUE(l.own_options.empty());
}

// They would make a C daemon started with the same argv die.
TEST(Options, CxenstoredsOwnOptionsAreRecorded) {
  Options o = parse({"--sim-xen", "/tmp/sim", "-N", "--socket", "/tmp/s",
                     "--log-level=debug", "--standalone"});
  EXPECT_EQ(o.own_options,
            (std::vector<std::string>{"--sim-xen", "--socket", "--log-level",
                                      "--standalone"}));
}

TEST(Options, UnknownLogLevelIsRejected) {
  EXPECT_THROW(parse({"--log-level", "loud"}), OptionsError);
}

TEST(Options, OverlongSocketPathIsRejected) {
  std::string path = "/" + std::string(120, 'a');
  EXPECT_THROW(parse({"--socket", path.c_str()}), OptionsError);
}

TEST(Options, ObsoleteOptionsAreAcceptedWithAWarning) {
  Options o = parse({"-D", "-P", "-R", "-V", "-I"});
  ASSERT_EQ(o.warnings.size(), 5u);
  EXPECT_NE(o.warnings[0].find("--no-domain-init"), std::string::npos);
  EXPECT_NE(o.warnings[1].find("--output-pid"), std::string::npos);
  EXPECT_NE(o.warnings[2].find("--no-recovery"), std::string::npos);
  EXPECT_NE(o.warnings[3].find("--verbose"), std::string::npos);
  EXPECT_NE(o.warnings[4].find("--internal-db"), std::string::npos);
  for (const auto& w : o.warnings) {
    EXPECT_NE(w.find("obsolete"), std::string::npos) << w;
  }
}

TEST(Options, ObsoleteLongOptionsAreAcceptedWithAWarning) {
  Options o = parse({"--no-domain-init", "--output-pid", "--no-recovery",
                     "--verbose", "--internal-db=off"});
  EXPECT_EQ(o.warnings.size(), 5u);
}

TEST(Options, InternalDbSwallowsASeparateOnOrOff) {
  Options o = parse({"--internal-db", "off", "-N"});
  EXPECT_EQ(o.warnings.size(), 1u);
  EXPECT_TRUE(o.no_fork);
  EXPECT_EQ(parse({"-I", "on"}).warnings.size(), 1u);
  EXPECT_EQ(parse({"-Ioff"}).warnings.size(), 1u);
}

TEST(Options, TraceControlIsAcceptedWithAWarning) {
  EXPECT_EQ(parse({"--trace-control=+io"}).warnings.size(), 1u);
  EXPECT_THROW(parse({"--trace-control=io"}), OptionsError);
}

TEST(Options, UnknownShortOptionIsAnError) {
  std::string msg = error_of({"-X"});
  EXPECT_NE(msg.find("unknown option -X"), std::string::npos) << msg;
  msg = error_of({"-NX"});
  EXPECT_NE(msg.find("-X"), std::string::npos) << msg;
}

TEST(Options, UnknownLongOptionIsAnError) {
  std::string msg = error_of({"--frobnicate"});
  EXPECT_NE(msg.find("--frobnicate"), std::string::npos) << msg;
}

TEST(Options, MissingArgumentIsAnError) {
  std::string msg = error_of({"-E"});
  EXPECT_NE(msg.find("-E requires an argument"), std::string::npos) << msg;
  msg = error_of({"--pid-file"});
  EXPECT_NE(msg.find("--pid-file requires an argument"), std::string::npos)
      << msg;
}

TEST(Options, ArgumentToAFlagIsAnError) {
  std::string msg = error_of({"--no-fork=yes"});
  EXPECT_NE(msg.find("does not take an argument"), std::string::npos) << msg;
}

TEST(Options, PositionalArgumentIsAnError) {
  EXPECT_THROW(parse({"stray"}), OptionsError);
  EXPECT_THROW(parse({"-N", "stray"}), OptionsError);
}

TEST(Options, UniqueLongPrefixIsAccepted) {
  EXPECT_TRUE(parse({"--keep"}).keep_orphans);
}

TEST(Options, UsageListsEveryOption) {
  std::string text = usage_text();
  for (const char* opt :
       {"--pid-file",    "--no-fork",      "--trace-file",     "--help",
        "--entry-nb",    "--entry-size",   "--watch-nb",       "--transaction",
        "--perm-nb",     "--path-max",     "--quota ",         "--quota-soft",
        "--timeout",     "--keep-orphans", "--live-update",    "--master-domid",
        "--priv-domid",  "--event",        "--standalone",     "--sim-xen",
        "--socket",      "--log-level",    "--no-domain-init", "--output-pid",
        "--no-recovery", "--verbose",      "--internal-db",    "--version"}) {
    EXPECT_NE(text.find(opt), std::string::npos) << opt;
  }
}

// Restores an environment variable when the test ends.
class EnvGuard {
 public:
  explicit EnvGuard(const char* name) : name_(name) {
    const char* v = std::getenv(name);
    if (v != nullptr) old_ = v;
  }
  ~EnvGuard() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(Options, DefaultSocketPathPrefersXenstoredPath) {
  EnvGuard g1("XENSTORED_PATH"), g2("XENSTORED_RUNDIR");
  ::setenv("XENSTORED_PATH", "/tmp/xs/path-socket", 1);
  ::setenv("XENSTORED_RUNDIR", "/tmp/rundir", 1);
  EXPECT_EQ(default_socket_path(), "/tmp/xs/path-socket");
}

TEST(Options, DefaultSocketPathFallsBackToRundir) {
  EnvGuard g1("XENSTORED_PATH"), g2("XENSTORED_RUNDIR");
  ::unsetenv("XENSTORED_PATH");
  ::setenv("XENSTORED_RUNDIR", "/tmp/rundir", 1);
  EXPECT_EQ(default_socket_path(), "/tmp/rundir/socket");
}

TEST(Options, DefaultSocketPathFallsBackToVarRun) {
  EnvGuard g1("XENSTORED_PATH"), g2("XENSTORED_RUNDIR");
  ::unsetenv("XENSTORED_PATH");
  ::unsetenv("XENSTORED_RUNDIR");
  EXPECT_EQ(default_socket_path(), "/var/run/xenstored/socket");
}

}  // namespace
}  // namespace cxs::daemon

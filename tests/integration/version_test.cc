// The version the daemon reports: `--version`, the start-up log line and
// CONTROL version all name the CMake project version (the Debian package's),
// followed by `git describe` when built from a checkout.
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include <gtest/gtest.h>

#include "test_util.h"

namespace cxs::test {
namespace {

const std::string kPrefix = "cxenstored " CXS_PROJECT_VERSION;

CommandResult run_binary(const std::string& args) {
  CommandResult r;
  FILE* p = ::popen((daemon_binary() + " " + args + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) r.out += buf;
  int status = ::pclose(p);
  if (WIFEXITED(status)) r.status = WEXITSTATUS(status);
  return r;
}

// "cxenstored 0.1.0\n" or "cxenstored 0.1.0 (git 7a2e841)\n".
void expect_version_line(const std::string& text) {
  EXPECT_EQ(text.rfind(kPrefix, 0), 0u) << text;
  ASSERT_GE(text.size(), kPrefix.size() + 1) << text;
  char next = text[kPrefix.size()];
  EXPECT_TRUE(next == '\n' || next == ' ') << text;
  EXPECT_EQ(text.find('\n'), text.size() - 1) << text;
}

TEST(Version, VersionOptionPrintsTheProjectVersionAndExits) {
  CommandResult r = run_binary("--version");
  EXPECT_EQ(r.status, 0) << r.out;
  expect_version_line(r.out);
}

TEST(Version, StartUpLogAndControlVersionNameTheSameBuild) {
  std::string line = run_binary("--version").out;
  std::string version = line.substr(0, line.size() - 1);
  DaemonProcess d;
  RawClient c(d.socket_path());
  Msg m = c.request(ty(wire::MsgType::XS_CONTROL), with_nul("version"));
  ASSERT_TRUE(is_type_ok(m)) << m.payload;
  EXPECT_EQ(m.payload, with_nul(line));
  EXPECT_NE(d.log().find(version + " starting"), std::string::npos) << d.log();
  Msg extra = c.request(ty(wire::MsgType::XS_CONTROL),
                        with_nul("version") + "x" + '\0');
  EXPECT_EQ(outcome_of(extra), "EINVAL");
}

}  // namespace
}  // namespace cxs::test

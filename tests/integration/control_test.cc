// CONTROL (xenstore-control): the command table. `help` prints one line per
// command as C 4.17 does ("name\tparameters"), and a command with too few
// or too many arguments is EINVAL before it runs.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_util.h"

namespace cxs::test {
namespace {

Msg control(RawClient& c, const std::vector<std::string>& args) {
  std::string payload;
  for (const auto& a : args) (payload += a) += '\0';
  return c.request(ty(wire::MsgType::XS_CONTROL), payload);
}

TEST(Control, HelpListsEveryCommandWithItsParameters) {
  DaemonProcess d;
  RawClient c(d.socket_path());
  Msg m = control(c, {"help"});
  ASSERT_TRUE(is_type_ok(m)) << m.payload;
  std::vector<std::string> names;
  std::string text = m.payload.substr(0, m.payload.find('\0'));
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    std::string line = text.substr(at, end - at);
    at = end + 1;
    if (line.rfind("    ", 0) == 0) continue;  // a continuation line
    ASSERT_NE(line.find('\t'), std::string::npos) << line;
    names.push_back(line.substr(0, line.find('\t')));
  }
  EXPECT_EQ(names, (std::vector<std::string>{
                       "check", "log", "live-update", "logfile", "memreport",
                       "print", "quota", "quota-soft", "version", "help"}));
  EXPECT_NE(text.find("log\ton|off\n"), std::string::npos) << text;
  EXPECT_NE(text.find("print\t<string>\n"), std::string::npos) << text;
}

TEST(Control, WrongArgumentCountsAndUnknownCommandsAreEinval) {
  DaemonProcess d;
  RawClient c(d.socket_path());
  EXPECT_EQ(outcome_of(control(c, {"print"})), "EINVAL");
  EXPECT_EQ(outcome_of(control(c, {"print", "a", "b"})), "EINVAL");
  EXPECT_EQ(outcome_of(control(c, {"log", "on", "off"})), "EINVAL");
  EXPECT_EQ(outcome_of(control(c, {"log", "maybe"})), "EINVAL");
  EXPECT_EQ(outcome_of(control(c, {"quota", "set", "nodes"})), "EINVAL");
  EXPECT_EQ(outcome_of(control(c, {"quota", "set", "nodes", "5", "6"})),
            "EINVAL");
  EXPECT_EQ(outcome_of(control(c, {"quota-soft", "set", "nodes", "5"})),
            "EINVAL");
  EXPECT_EQ(outcome_of(control(c, {"version", "x"})), "EINVAL");
  EXPECT_EQ(outcome_of(control(c, {"no-such-command"})), "EINVAL");
  // The same commands with their arguments right are served.
  EXPECT_TRUE(is_type_ok(control(c, {"print", "a"})));
  EXPECT_TRUE(is_type_ok(control(c, {"log", "off"})));
  EXPECT_TRUE(is_type_ok(control(c, {"quota", "set", "nodes", "5"})));
  EXPECT_TRUE(is_type_ok(control(c, {"check"})));
}

}  // namespace
}  // namespace cxs::test

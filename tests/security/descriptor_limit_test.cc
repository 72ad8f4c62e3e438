// The daemon at its descriptor limit: more clients connect than it has
// descriptors for. accept() then fails with EMFILE while the listener stays
// readable; the daemon must neither spin on it nor log a line per attempt,
// must keep serving the clients it has, and must take the waiting ones as
// soon as descriptors free.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "security_helpers.h"

namespace cxs::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// utime + stime of `pid`, in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), {});
  // Fields after the command name, which may hold spaces: state is the
  // 3rd field, utime the 14th and stime the 15th.
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i)
    if (i >= 14) ticks += std::stod(field);
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST(Security, descriptor_limit_80_clients_at_64_fds_no_spin_no_log_flood) {
  DaemonProcess d;
  RawClient first(d.socket_path());
  ASSERT_TRUE(is_type_ok(first.write("/fd-limit", "v")));
  // As `prlimit --nofile=64` would have started it (soft and hard: the
  // daemon could not raise it back).
  rlimit low{64, 64};
  ASSERT_EQ(::prlimit(d.pid(), RLIMIT_NOFILE, &low, nullptr), 0);
  std::size_t lines_before = line_count(d.log());

  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 80; ++i) {
    clients.push_back(std::make_unique<RawClient>(d.socket_path()));
    clients.back()->send(ty(wire::MsgType::XS_READ), with_nul("/fd-limit"));
  }
  // Those the daemon could take are answered (it takes them in order);
  // the rest wait in the listener's backlog.
  std::vector<bool> waiting(clients.size(), true);
  std::size_t answered = 0;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    if (!clients[i]->recv_reply(milliseconds(i < 40 ? 5000 : 50))) continue;
    waiting[i] = false;
    ++answered;
  }
  ASSERT_GE(answered, 40u);
  EXPECT_LT(answered, 80u) << "the limit was not reached";

  double cpu0 = cpu_seconds(d.pid());
  auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(milliseconds(1500));
  double cpu = cpu_seconds(d.pid()) - cpu0;
  double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
  std::size_t lines = line_count(d.log()) - lines_before;
  std::cout << "[ fd limit ] " << answered << " of 80 clients taken; "
            << "daemon CPU " << 100 * cpu / wall << " % of " << wall << " s; "
            << lines << " log lines" << std::endl;
  ::testing::Test::RecordProperty("cpu_percent",
                                  std::to_string(100 * cpu / wall));
  ::testing::Test::RecordProperty("log_lines", std::to_string(lines));
  EXPECT_LT(cpu, 0.3 * wall) << "the daemon spins on the listener";
  EXPECT_LT(lines, 20u) << d.log().substr(0, 2000);

  // The clients it has are served as ever.
  EXPECT_EQ(first.read("/fd-limit").payload, "v");

  // Descriptors free: every waiting client, and a new one, is taken.
  for (std::size_t i = 0; i < 40; ++i) clients[i].reset();
  for (std::size_t i = 40; i < clients.size(); ++i) {
    if (!waiting[i]) continue;
    EXPECT_TRUE(clients[i]->recv_reply(seconds(5))) << i;
  }
  RawClient newcomer(d.socket_path());
  EXPECT_EQ(newcomer.read("/fd-limit").payload, "v");
  EXPECT_TRUE(d.alive());
}

}  // namespace
}  // namespace cxs::test

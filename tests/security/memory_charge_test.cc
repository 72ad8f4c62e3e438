// What a guest is charged is what the daemon holds (issue 18): guests that
// never read, each watching a node another domain writes, fill their
// queues up to their memory quota. The daemon's RSS may grow by at most
// 1.5 times what they are charged, and the memory goes back to the system
// once they are gone. (Each queued event once held about ten times what
// it was charged: 4 guests at the 2.5 MiB quota grew RSS by about 100 MB.)
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "security_helpers.h"

namespace cxs::test {
namespace {

using wire::MsgType;

constexpr std::uint32_t kFirstGuest = 5;
constexpr int kGuests = 4;
constexpr int kWatches = 100;  // per guest, one token each
constexpr int kNodes = 600;    // distinct events per watch

// The memory figure CONTROL quota <dom> reports (what the quota counts).
long charged(RawClient& dom0, std::uint32_t dom) {
  Msg m = dom0.request(ty(MsgType::XS_CONTROL),
                       with_nul("quota") + with_nul(std::to_string(dom)));
  auto at = m.payload.find("memory: ");
  if (at == std::string::npos) return -1;
  return std::stol(m.payload.substr(at + 8));
}

TEST(Security,
     memory_quota_bounds_the_rss_of_events_for_guests_that_never_read) {
  SimHost host;
  RawClient dom0(host.socket());
  ASSERT_TRUE(is_type_ok(dom0.mkdir("/pub")));
  std::vector<std::string> perms{"n0"};
  for (int g = 0; g < kGuests; ++g) {
    std::uint32_t dom = kFirstGuest + g;
    ASSERT_TRUE(is_type_ok(host.introduce(dom)));
    perms.push_back("r" + std::to_string(dom));
  }
  // (A grant to a domain that does not exist yet would be ignored.)
  ASSERT_TRUE(is_type_ok(dom0.set_perms("/pub", perms)));
  std::vector<std::unique_ptr<SimGuest>> guests;
  for (int g = 0; g < kGuests; ++g) {
    std::uint32_t dom = kFirstGuest + g;
    guests.push_back(std::make_unique<SimGuest>(host, dom));
    for (int w = 0; w < kWatches; ++w)
      ASSERT_EQ(guests.back()->outcome(
                    ty(MsgType::XS_WATCH),
                    with_nul("/pub") + with_nul("t" + std::to_string(w))),
                "XS_WATCH");
    guests.back()->drain();  // the initial events; nothing is read after
  }
  long before = host.daemon().rss_kib();
  std::string batch;
  for (int i = 0; i < kNodes; ++i) {
    batch += wire::encode_message(ty(MsgType::XS_WRITE), i + 1, 0,
                                  with_nul("/pub/n" + std::to_string(i)) + "v");
    if (batch.size() > 16384 || i == kNodes - 1) {
      dom0.send_bytes(batch);
      batch.clear();
    }
  }
  for (int i = 0; i < kNodes; ++i) ASSERT_TRUE(dom0.recv_reply()) << i;
  long peak = host.daemon().rss_kib();
  long sum = 0;
  for (int g = 0; g < kGuests; ++g) {
    long c = charged(dom0, kFirstGuest + g);
    // Each at its quota (2.5 MiB) give or take one event.
    EXPECT_GT(c, 2400 * 1024) << "dom" << kFirstGuest + g;
    sum += c;
  }
  long growth = peak - before;
  std::cout << "[ memory ] RSS " << before << " -> " << peak << " KiB (+"
            << growth << "), charged " << sum / 1024 << " KiB" << std::endl;
  EXPECT_LE(growth * 1024, sum + sum / 2) << "RSS grew past 1.5 x charged";
  // The guests go; their queues are freed and the heap trimmed.
  for (int g = 0; g < kGuests; ++g) host.kill(kFirstGuest + g);
  for (int g = 0; g < kGuests; ++g)
    ASSERT_TRUE(released(dom0, kFirstGuest + g));
  guests.clear();
  // The trim runs at most once a second (MemoryTrim::kInterval), so the
  // last of the freed memory may wait for the next one: allow a few.
  long after = host.daemon().rss_kib();
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
       after - before >= 2048 && std::chrono::steady_clock::now() < deadline;
       after = host.daemon().rss_kib())
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::cout << "[ memory ] RSS after the guests left " << after << " KiB"
            << std::endl;
  EXPECT_LT(after - before, 2048) << "freed memory not given back";
  EXPECT_TRUE(is_type_ok(dom0.read("/pub/n0")));
  report_peak_rss(host.daemon(), "4 guests at their memory quota");
}

}  // namespace
}  // namespace cxs::test

// INTRODUCE is all or nothing (docs/design.md, "A failed request changes
// nothing"): whichever allocation fails, the domain is not introduced, no
// event channel stays bound, no connection is left, and no
// @introduceDomain fires. Its hook is called directly on an in-process
// Server over the simulated hypervisor, with the Nth allocation failing
// for N = 0, 1, ... until it succeeds.
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>

#include "daemon/server.h"
#include "failing_new.h"
#include "forwarding_events.h"
#include "temp_dir.h"
#include "xen/hypervisor.h"

namespace cxs::daemon {
namespace {

// The simulated event channel, counting the bindings made and not undone.
class CountingEvents final : public test::ForwardingEvents {
 public:
  using ForwardingEvents::ForwardingEvents;

  Result<xen::Port> bind_interdomain(DomId dom,
                                     xen::Port remote) noexcept override {
    auto port = ForwardingEvents::bind_interdomain(dom, remote);
    if (port) ++bound_;
    return port;
  }
  void unbind(xen::Port local) noexcept override {
    --bound_;
    ForwardingEvents::unbind(local);
  }

  int bound() const noexcept { return bound_; }

 private:
  int bound_ = 0;
};

// The "connections: N" line of CONTROL memreport.
std::string connections_line(Server& server) {
  ops::Session dom0{ConnId{1000}, store::Caller{DomId{0}, true, std::nullopt}};
  std::vector<std::string_view> args{"memreport"};
  auto report = server.control(dom0, args);
  if (!report) return "memreport failed";
  auto at = report->find("connections:");
  return report->substr(at, report->find('\n', at) - at);
}

TEST(IntroduceNoMemory, EveryFailedAllocationLeavesNothingBehind) {
  test::TempDir dir("introduce-oom");
  xen::Hypervisor hv = xen::open_sim(dir.path());
  auto counting = std::make_unique<CountingEvents>(std::move(hv.events));
  CountingEvents* events = counting.get();
  hv.events = std::move(counting);
  Options opts;
  opts.sim_xen_dir = dir.path();
  Server server(opts, std::move(hv));
  const int bound_before = events->bound();
  const std::string connections_before = connections_line(server);

  const DomId guest{6};
  long failures = 0;
  for (long n = 0;; ++n) {
    ASSERT_LT(n, 10000) << "INTRODUCE never succeeded";
    store::EventSink fired;
    Status s;
    {
      test::FailAllocationAfter fail(n);
      s = server.introduce(guest, 0, 7, fired);
    }
    if (s) {
      ASSERT_EQ(fired.size(), 1u);
      EXPECT_EQ(fired.front().path, "@introduceDomain");
      EXPECT_TRUE(server.is_domain_introduced(guest));
      EXPECT_EQ(events->bound(), bound_before + 1);
      EXPECT_NE(connections_line(server), connections_before);
      break;
    }
    ++failures;
    // Out of memory mapping the page is "cannot map": EINVAL, as C.
    EXPECT_TRUE(s.error() == XsErr::kENOMEM || s.error() == XsErr::kEINVAL)
        << "allocation " << n;
    EXPECT_TRUE(fired.empty()) << "allocation " << n;
    EXPECT_FALSE(server.is_domain_introduced(guest)) << "allocation " << n;
    EXPECT_EQ(events->bound(), bound_before) << "allocation " << n;
    EXPECT_EQ(connections_line(server), connections_before)
        << "allocation " << n;
  }
  EXPECT_GT(failures, 3);  // the sweep went past the first allocations
}

}  // namespace
}  // namespace cxs::daemon

// Death detection on VIRQ_DOM_EXC, in process: a real Server whose event
// channel and rings are the simulated hypervisor's (a temporary directory)
// and whose domain states come from FakeDomains, which the test sets. The
// simulated backend's DIR/domains list cannot say "shut down" (only alive,
// dying, gone, as the refd conventions have it), hence the fake.
//
// The Server runs in its own thread; the test talks to it as dom0 over the
// socket and as guests over their rings. FakeDomains counts its queries, so
// the test knows when a VIRQ has been handled without guessing at timing.
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "daemon/server.h"
#include "forwarding_events.h"
#include "sim_host.h"
#include "temp_dir.h"
#include "test_util.h"
#include "xen/hypervisor.h"

namespace cxs::daemon {
namespace {

using std::chrono::milliseconds;
using test::RawClient;
using test::SimGuest;
using wire::MsgType;

using test::TempDir;

enum class Life { kRunning, kShutdown, kDying, kGone };

// Domain states as the test sets them; queried from the server's thread.
class FakeDomains final : public xen::DomainInfo {
 public:
  std::optional<xen::DomainState> query(DomId dom) noexcept override {
    std::lock_guard lock(mu_);
    ++queries_[dom.value];
    auto it = life_.find(dom.value);
    if (it == life_.end() || it->second == Life::kGone) return std::nullopt;
    return xen::DomainState{dom, it->second == Life::kDying,
                            it->second == Life::kShutdown};
  }

  void set(std::uint32_t dom, Life life) {
    std::lock_guard lock(mu_);
    life_[dom] = life;
  }

  int queries(std::uint32_t dom) {
    std::lock_guard lock(mu_);
    return queries_[dom];
  }

 private:
  std::mutex mu_;
  std::map<std::uint32_t, Life> life_{{0, Life::kRunning}};
  std::map<std::uint32_t, int> queries_;
};

// The simulated event channel, remembering which remote port each domain's
// channel was bound to (the simulated one binds 100+D whatever it is given).
class RecordingEvents final : public test::ForwardingEvents {
 public:
  using ForwardingEvents::ForwardingEvents;

  Result<xen::Port> bind_interdomain(DomId dom,
                                     xen::Port remote) noexcept override {
    {
      std::lock_guard lock(mu_);
      bound_[dom.value] = remote;
    }
    return ForwardingEvents::bind_interdomain(dom, remote);
  }

  std::optional<xen::Port> remote_of(std::uint32_t dom) {
    std::lock_guard lock(mu_);
    auto it = bound_.find(dom);
    if (it == bound_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::mutex mu_;
  std::map<std::uint32_t, xen::Port> bound_;
};

// A Server on the simulated hypervisor in `dir`, serving in its own thread.
// Built in the test's thread, which thereby blocks SIGTERM; the server
// thread inherits that mask, so a SIGTERM sent to it waits in its signalfd
// and ends run() the way the daemon ends.
class ServerThread {
 public:
  ServerThread(const Options& opts, xen::Hypervisor hv)
      : server_(opts, std::move(hv)), thread_([this] { server_.run(); }) {}
  ~ServerThread() {
    ::pthread_kill(thread_.native_handle(), SIGTERM);
    thread_.join();
  }
  const std::string& socket() const { return server_.socket_path(); }

 private:
  Server server_;
  std::thread thread_;
};

struct Hosted {
  FakeDomains* domains = nullptr;
  RecordingEvents* events = nullptr;
  xen::Hypervisor hv;
};

Hosted sim_with_fakes(const std::string& dir) {
  Hosted h;
  h.hv = xen::open_sim(dir);
  auto events = std::make_unique<RecordingEvents>(std::move(h.hv.events));
  auto domains = std::make_unique<FakeDomains>();
  h.events = events.get();
  h.domains = domains.get();
  h.hv.events = std::move(events);
  h.hv.domains = std::move(domains);
  return h;
}

Options sim_options(const std::string& dir) {
  Options o;
  o.sim_xen_dir = dir;
  return o;
}

// The toolstack's INTRODUCE, as tools/refd/README.md describes it.
void introduce(RawClient& dom0, std::uint32_t dom) {
  std::string d = std::to_string(dom);
  ASSERT_TRUE(test::is_type_ok(dom0.mkdir("/local/domain/" + d)));
  ASSERT_TRUE(
      test::is_type_ok(dom0.set_perms("/local/domain/" + d, {"n" + d})));
  test::Msg m = dom0.request(test::ty(MsgType::XS_INTRODUCE),
                             test::nul_join({d, "4096", "1"}));
  ASSERT_EQ(test::outcome_of(m), "XS_INTRODUCE") << m.shown();
}

class DomainLifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    Hosted h = sim_with_fakes(dir_.path());
    domains_ = h.domains;
    domains_->set(5, Life::kRunning);
    domains_->set(kSentinel, Life::kRunning);
    server_.emplace(sim_options(dir_.path()), std::move(h.hv));
    dom0_.emplace(server_->socket());
    ASSERT_TRUE(test::is_type_ok(dom0_->watch("@releaseDomain", "rel")));
    ASSERT_TRUE(test::is_type_ok(dom0_->watch("@releaseDomain/5", "rel5")));
    ASSERT_EQ(events(), (std::vector<std::string>{"@releaseDomain/5|rel5|",
                                                  "@releaseDomain|rel|"}));
    introduce(*dom0_, 5);
    // A domain named in a permission but never introduced is asked about
    // on every VIRQ (it may have died): the sign that a VIRQ was handled.
    ASSERT_TRUE(test::is_type_ok(dom0_->write("/sentinel", "")));
    ASSERT_TRUE(test::is_type_ok(dom0_->set_perms(
        "/sentinel", {"n0", "r" + std::to_string(kSentinel)})));
  }

  // One VIRQ_DOM_EXC, returning once the server has handled it.
  void virq() {
    int before = domains_->queries(kSentinel);
    test::raise_port(dir_.path(), test::kVirqDomExcPort);
    ASSERT_TRUE(test::eventually([&] {
      return domains_->queries(kSentinel) > before;
    })) << "the VIRQ was not handled";
  }

  // The watch events dom0 has had, sorted. A request answered after the
  // VIRQ was handled comes after any event that VIRQ caused (one socket,
  // one order): the barrier's reply ends the list.
  std::vector<std::string> events() {
    std::vector<std::string> seen;
    for (const test::Msg& e : dom0_->events_before_barrier())
      seen.push_back(e.shown());
    std::sort(seen.begin(), seen.end());
    return seen;
  }

  std::string introduced(std::uint32_t dom) {
    return dom0_
        ->request(test::ty(MsgType::XS_IS_DOMAIN_INTRODUCED),
                  test::with_nul(std::to_string(dom)))
        .shown();
  }

  static constexpr std::uint32_t kSentinel = 7;
  const std::vector<std::string> kReleased{"@releaseDomain/5|rel5|",
                                           "@releaseDomain|rel|"};
  TempDir dir_;
  FakeDomains* domains_ = nullptr;
  std::optional<ServerThread> server_;
  std::optional<RawClient> dom0_;
};

TEST_F(DomainLifecycle, ShutdownFiresReleaseDomainOnceHoweverManyVirqs) {
  SimGuest guest(dir_.path(), 5);
  ASSERT_EQ(guest.write("data/x", "1"), "XS_WRITE");
  domains_->set(5, Life::kShutdown);
  virq();
  virq();
  virq();
  EXPECT_EQ(events(), kReleased);
  // Shut down is not dead: the domain and its ring stay.
  EXPECT_EQ(introduced(5), "T|");
  EXPECT_EQ(guest.read("data/x"), "1");
  virq();
  EXPECT_EQ(events(), std::vector<std::string>{});
}

TEST_F(DomainLifecycle, ShutdownIsNotReportedAgainUntilResume) {
  domains_->set(5, Life::kShutdown);
  virq();
  ASSERT_EQ(events(), kReleased);
  // Running again and shut down again, but never resumed through xenstore.
  domains_->set(5, Life::kRunning);
  virq();
  domains_->set(5, Life::kShutdown);
  virq();
  EXPECT_EQ(events(), std::vector<std::string>{});
}

TEST_F(DomainLifecycle, ResumeRearmsTheShutdownReport) {
  domains_->set(5, Life::kShutdown);
  virq();
  ASSERT_EQ(events(), kReleased);
  test::Msg m =
      dom0_->request(test::ty(MsgType::XS_RESUME), test::with_nul("5"));
  ASSERT_EQ(test::outcome_of(m), "XS_RESUME") << m.shown();
  domains_->set(5, Life::kRunning);
  virq();
  EXPECT_EQ(events(), std::vector<std::string>{});
  domains_->set(5, Life::kShutdown);
  virq();
  virq();
  EXPECT_EQ(events(), kReleased);
}

TEST_F(DomainLifecycle, ShutdownThenDyingReleasesTheDomainOnceMore) {
  SimGuest guest(dir_.path(), 5);
  ASSERT_EQ(guest.write("data/x", "1"), "XS_WRITE");
  domains_->set(5, Life::kShutdown);
  virq();
  ASSERT_EQ(events(), kReleased);
  domains_->set(5, Life::kDying);
  virq();
  EXPECT_EQ(events(), kReleased);
  EXPECT_EQ(introduced(5), "F|");
  EXPECT_TRUE(dom0_->read("/local/domain/5").is_error("ENOENT"));
  // Released, dom5 is not asked about again: going on to "gone" (or any
  // later VIRQ) fires nothing more.
  domains_->set(5, Life::kGone);
  int before = domains_->queries(5);
  virq();
  EXPECT_EQ(events(), std::vector<std::string>{});
  EXPECT_EQ(domains_->queries(5), before);
}

// dom0's ring (xsd_kva) is bound to the port in xsd_port ("1" in the
// simulated directory), or to --event's.
TEST(Dom0Ring, BindsThePortOfXsdPort) {
  TempDir dir;
  Hosted h = sim_with_fakes(dir.path());
  RecordingEvents* events = h.events;
  ServerThread server(sim_options(dir.path()), std::move(h.hv));
  EXPECT_EQ(events->remote_of(0), std::optional<xen::Port>(1));
}

TEST(Dom0Ring, EventOptionOverridesTheXsdPort) {
  TempDir dir;
  Hosted h = sim_with_fakes(dir.path());
  RecordingEvents* events = h.events;
  Options o = sim_options(dir.path());
  o.event_port = 9;
  ServerThread server(o, std::move(h.hv));
  EXPECT_EQ(events->remote_of(0), std::optional<xen::Port>(9));
}

TEST(Dom0Ring, MasterDomidIsTheDomainOfTheXsdKvaRing) {
  TempDir dir;
  Hosted h = sim_with_fakes(dir.path());
  RecordingEvents* events = h.events;
  Options o = sim_options(dir.path());
  o.master_domid = 3;
  o.event_port = 9;
  ServerThread server(o, std::move(h.hv));
  EXPECT_EQ(events->remote_of(3), std::optional<xen::Port>(9));
  EXPECT_EQ(events->remote_of(0), std::nullopt);
}

}  // namespace
}  // namespace cxs::daemon

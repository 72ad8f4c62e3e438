// cxs-boot-storm: a burst of VM starts (issue 19), and 1000 idle guests.
//
// Storm mode. W toolstack workers (threads, one dom0 socket connection
// each) create V VMs between them, as libxl does for each:
//   1. the name check (libxl_name_to_domid): a READ of every live domain's
//      `name`, outside any transaction;
//   2. the domain-creation transaction (libxl__domain_make): RM, MKDIR and
//      SET_PERMS of /local/domain/D (n0,rD), /vm/<uuid> (n0,rD) and
//      /libxl/D (n0); `vm`; the rename (READ then WRITE `name`); the
//      guest-writable directories (nD: device, control/..., data, ...);
//      /vm/<uuid>/uuid, name; the control/platform-feature-* nodes and
//      /libxl/D/type. EAGAIN at commit: the whole transaction again,
//      counted;
//   3. the build transaction (libxl__build_post: memory/*, domid, cpu/*,
//      store/*, /vm/<uuid>/start_time), then INTRODUCE D (the ring page
//      DIR/ring-D zeroed and D listed in DIR/domains first);
//   4. one transaction per device (libxl__device_generic_add) for vif 0,
//      vbd 51712 and the console: frontend directory (nD,r0) with its
//      entries, backend directory /local/domain/0/backend/T/D/N (n0,rD)
//      with its entries, /libxl/D/device/T/N (n0);
//   5. the guest is "unpaused" (its ring handed to the guest thread) and the
//      worker waits for the vif and vbd backends' `state` to reach 4
//      (Connected), watching them.
// The guests: one thread drives every guest's ring (DIR/ring-D, kicks
// through DIR/evtchn, woken by DIR/notify) as the guest kernel's xenbus
// would: WATCH of its `device` directory; on each event a DIRECTORY of the
// device (or the enumeration of device/ and device/T); a new device reads
// `backend-id` and `backend` and watches the backend's `state`; on each
// backend state event a READ of it; at InitWait the frontend writes its
// ring references and event channel in a transaction, then switches state
// (xenbus_switch_state: a transaction that READs and WRITEs `state`): vif
// to 4 at once (netfront), vbd to 3 and to 4 once the backend is Connected
// (blkfront).
// The backends: one thread (dom0's xenwatch thread is one thread too)
// watches /local/domain/0/backend; on each event a DIRECTORY of the
// device's backend directory; a new vif or vbd reads `frontend-id` and
// `frontend`, watches the frontend's `state`, writes its features in a
// transaction, switches to InitWait and writes what the hotplug script
// would (`hotplug-status`, vbd `physical-device`); when the frontend is
// Initialised (vbd) or Connected (vif) it reads the ring references and
// switches to Connected. The console is written and not stepped
// (xenconsoled, not xenbus, serves it).
// Then every VM is destroyed by its worker: per device, a transaction
// removing the frontend, backend and libxl paths; RELEASE D; D removed from
// DIR/domains; a transaction removing /local/domain/D, /vm/<uuid> and
// /libxl/D. Every worker watches @releaseDomain from the start and must see
// exactly V events (one per release) after its first.
//
// Every reply is checked; a wrong one aborts the run with a message (that is
// the correctness check, and the ctest smoke test).
//
// Idle mode (--idle): guests 1..N introduced, each with its ring mapped;
// N dom0 connections watching @releaseDomain (a guest gets that event only
// if dom0 lets it read the special node, and one permission list cannot
// name 1000 domains within 4096 bytes); the daemon's CPU over S idle
// seconds; a READ's p50/p99 from guest 1 with only guest 1 introduced and
// with all N; RSS per idle guest; then domain N is released and every
// watcher must get exactly one @releaseDomain event: the order they are
// seen in is reported.
//
//   cxs-boot-storm [--target cxs|c|ox|ox-nolog|all|LIST] [--vms V]
//                  [--workers W] [--daemon PATH] [--smoke]
//   cxs-boot-storm --idle [--guests N] [--idle-seconds S] [--target ...]
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_main.h"
#include "boot_storm_dom0.h"
#include "boot_storm_guests.h"
#include "boot_storm_util.h"
#include "ring_load.h"

namespace cxs::bench::storm {
namespace {

struct Options {
  std::string target = "cxs";
  int vms = 100;
  int workers = 1;
  bool idle = false;
  int guests = 1000;
  double idle_seconds = 10;
  DaemonPaths paths;
  std::string workdir;
};
long rss_settled(const DaemonProcess& d) {
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return d.rss_bytes();
}

int run_storm(DaemonKind kind, const Options& o) {
  std::string dir = o.workdir + "/" + kind_name(kind);
  DaemonProcess d(daemon_options(kind, o.paths, dir));
  Counters c;
  Failure f;
  DomainList domains(d.sim_dir());
  std::vector<std::atomic<bool>> destroying(static_cast<std::size_t>(o.vms) +
                                            1);
  for (auto& b : destroying) b = false;
  std::vector<VmRecord> vms(static_cast<std::size_t>(o.vms) + 1);
  long rss0 = rss_settled(d);

  GuestDriver guests(d, c, f);
  Backends backends(d, c, f, destroying);
  Shared s{d, c, f, domains, guests, destroying, vms};
  std::vector<std::unique_ptr<Worker>> workers;
  workers.reserve(o.workers);
  for (int w = 0; w < o.workers; ++w)
    workers.push_back(std::make_unique<Worker>(s));

  auto run_workers = [&](auto&& each) {
    std::vector<std::thread> ts;
    ts.reserve(o.workers);
    for (int w = 0; w < o.workers; ++w)
      ts.emplace_back([&, w] {
        try {
          for (int v = 1 + w; v <= o.vms && !f.failed; v += o.workers)
            each(*workers[static_cast<std::size_t>(w)], v);
        } catch (...) {
          f.set(std::current_exception());
        }
      });
    for (auto& t : ts) t.join();
    if (f.first) std::rethrow_exception(f.first);
  };

  // Creation: the timed window.
  std::uint64_t req0 = c.requests;
  double cpu0 = d.cpu_seconds();
  auto t0 = Clock::now();
  run_workers([](Worker& w, int v) { w.create(v); });
  auto t1 = Clock::now();
  double cpu = d.cpu_seconds() - cpu0;
  std::uint64_t reqs = c.requests - req0;
  // Every frontend reaches Connected too (the toolstack waited for the
  // backends only).
  auto limit = Clock::now() + kPatience;
  while (c.fe_connected < 2 * o.vms) {
    if (f.first) std::rethrow_exception(f.first);
    if (Clock::now() > limit)
      throw BenchError(
          "frontends connected: " + std::to_string(c.fe_connected.load()) +
          " of " + std::to_string(2 * o.vms));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  long rss1 = rss_settled(d);
  // Watches alive now: per VM the guest's device watch, its two backend
  // state watches and the backends' two frontend state watches; the
  // workers' @releaseDomain and the backends' own.
  long watches = 5L * o.vms + o.workers + 1;

  // Memory per watch, apart: 5000 more watches from one dom0 connection.
  long per_watch = -1;
  std::string watch_note;
  {
    RawClient extra(d.socket_path());
    long before = rss_settled(d);
    constexpr int kExtra = 5000;
    std::string batch;
    for (int i = 0; i < kExtra; ++i)
      extra.append_request(
          batch, MsgType::XS_WATCH,
          nul_join({"/storm/w" + std::to_string(i), "x" + std::to_string(i)}));
    extra.send_bytes(batch);
    int refused = 0;
    std::string why;
    for (int i = 0; i < kExtra; ++i) {
      Msg m = extra.receive();
      if (m.type == ty(MsgType::XS_ERROR)) {
        ++refused;
        why = error_name(m.payload);
      }
    }
    if (refused == 0)
      per_watch = (rss_settled(d) - before) / kExtra;
    else
      watch_note = std::to_string(refused) + " refused (" + why + ")";
  }

  // Destruction.
  guests.quiesce();
  auto t2 = Clock::now();
  run_workers([](Worker& w, int v) { w.destroy(v); });
  guests.quiesce();
  auto t3 = Clock::now();
  // Every worker sees every release.
  limit = Clock::now() + std::chrono::seconds(30);
  std::vector<std::uint64_t> seen(workers.size());
  for (;;) {
    bool all = true;
    for (std::size_t i = 0; i < workers.size(); ++i) {
      seen[i] = workers[i]->releases();
      if (seen[i] > static_cast<std::uint64_t>(o.vms))
        throw BenchError("a worker saw " + std::to_string(seen[i]) +
                         " @releaseDomain events for " + std::to_string(o.vms) +
                         " releases");
      all = all && seen[i] == static_cast<std::uint64_t>(o.vms);
    }
    if (all) break;
    if (Clock::now() > limit)
      throw BenchError("a worker saw " + std::to_string(seen[0]) +
                       " @releaseDomain events of " + std::to_string(o.vms));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  guests.stop();
  backends.stop();
  if (f.first) std::rethrow_exception(f.first);

  std::vector<double> lat;
  int max_retries = 0;
  long sum_retries = 0;
  for (int v = 1; v <= o.vms; ++v) {
    lat.push_back(vms[static_cast<std::size_t>(v)].start_us);
    max_retries =
        std::max(max_retries, vms[static_cast<std::size_t>(v)].retries);
    sum_retries += vms[static_cast<std::size_t>(v)].retries;
  }
  double secs = std::chrono::duration<double>(t1 - t0).count();
  double dsecs = std::chrono::duration<double>(t3 - t2).count();
  std::printf(
      "%-16s %d VMs, %d workers: %.1f VMs/s, %.0f req/s (%.0f req/VM), "
      "EAGAIN/VM %.2f (max %d; guests %llu, backends %llu in all)\n"
      "                 start p50 %.1f ms p99 %.1f ms; daemon CPU %.1f us/req, "
      "%.2f ms/VM; RSS +%.1f KB/VM (%.1f KB per live watch, %ld); ",
      kind_name(kind), o.vms, o.workers, o.vms / secs,
      static_cast<double>(reqs) / secs, static_cast<double>(reqs) / o.vms,
      static_cast<double>(sum_retries) / o.vms, max_retries,
      static_cast<unsigned long long>(c.guest_retries.load()),
      static_cast<unsigned long long>(c.backend_retries.load()),
      percentile(lat, 0.5) / 1000, percentile(lat, 0.99) / 1000,
      cpu * 1e6 / static_cast<double>(reqs), cpu * 1e3 / o.vms,
      static_cast<double>(rss1 - rss0) / 1024 / o.vms,
      static_cast<double>(rss1 - rss0) / 1024 / static_cast<double>(watches),
      watches);
  if (per_watch >= 0)
    std::printf("%ld B per extra watch\n", per_watch);
  else
    std::printf("extra watches: %s\n", watch_note.c_str());
  std::printf(
      "                 destroy %.1f VMs/s; @releaseDomain: each of %d "
      "watchers saw %d\n",
      o.vms / dsecs, o.workers, o.vms);
  std::fflush(stdout);
  return 0;
}

// ------------------------------------------------------------------ idle --

// The reply to the request just sent (events set aside, counted).
Message ring_call(SimGuest& g, int notify_fd, MsgType t,
                  const std::string& payload, int* events = nullptr) {
  g.ring().send(ty(t), ++g.next_id, 0, payload);
  for (;;) {
    Message m = await_ring(g, notify_fd, 30);
    if (m.hdr.type == ty(MsgType::XS_WATCH_EVENT)) {
      if (events) ++*events;
      continue;
    }
    if (m.hdr.req_id != g.next_id)
      throw BenchError("ring reply with the wrong id");
    return m;
  }
}

std::pair<double, double> read_latency(SimGuest& g, int notify_fd, int n) {
  std::vector<double> lat;
  for (int i = 0; i < n; ++i) {
    auto t = Clock::now();
    Message m =
        ring_call(g, notify_fd, MsgType::XS_READ, g.home() + "/name" + '\0');
    lat.push_back(us_between(t, Clock::now()));
    if (m.payload != "vm" + std::to_string(g.dom()))
      throw BenchError("guest READ of its name: " + m.payload);
  }
  return {percentile(lat, 0.5), percentile(lat, 0.99)};
}

int run_idle(DaemonKind kind, const Options& o) {
  std::string dir = o.workdir + "/" + kind_name(kind);
  DaemonProcess d(daemon_options(kind, o.paths, dir));
  DomainList domains(d.sim_dir());
  RawClient xs(d.socket_path());
  UniqueFd evtchn = open_fifo(d.sim_dir() + "/evtchn");
  UniqueFd notify = open_fifo(d.sim_dir() + "/notify");
  std::vector<std::unique_ptr<SimGuest>> gs;
  auto introduce = [&](int g) {
    std::string ds = std::to_string(g), dp = dom_path(g);
    domains.add(g);
    xs.call(MsgType::XS_MKDIR, dp + '\0');
    xs.call(MsgType::XS_SET_PERMS, dp + '\0' + perms({"n" + ds}));
    xs.call(MsgType::XS_WRITE, dp + "/name" + '\0' + "vm" + ds);
    zero_ring(d.sim_dir(), g);
    xs.call(MsgType::XS_INTRODUCE,
            nul_join({ds, std::to_string(0x1000 + g), "1"}));
    gs.push_back(std::make_unique<SimGuest>(
        d.sim_dir(), static_cast<std::uint32_t>(g), evtchn.get()));
  };
  int reads = o.idle_seconds < 2 ? 200 : 5000;
  introduce(1);
  auto one = read_latency(*gs[0], notify.get(), reads);
  long rss1 = rss_settled(d);
  for (int g = 2; g <= o.guests; ++g) introduce(g);
  long rss_n = rss_settled(d);
  auto many = read_latency(*gs[0], notify.get(), reads);
  // N dom0 connections watch @releaseDomain (the daemons send a guest
  // that event only if it may read the special node: not by default).
  std::vector<std::unique_ptr<RawClient>> watchers;
  for (int i = 0; i < o.guests; ++i) {
    watchers.push_back(std::make_unique<RawClient>(d.socket_path()));
    watchers.back()->keep_events(false);  // only counted
    watchers.back()->call(
        MsgType::XS_WATCH,
        nul_join({"@releaseDomain", "w" + std::to_string(i)}));
  }
  long rss_w = rss_settled(d);
  for (auto& w : watchers) {
    w->read_available();
    while (w->try_receive())
      throw BenchError("a watcher got a reply to nothing");
    if (w->events_seen() != 1)
      throw BenchError("a watcher got " + std::to_string(w->events_seen()) +
                       " first events for its @releaseDomain watch");
  }

  // Idle: nobody speaks.
  double cpu0 = d.cpu_seconds();
  std::this_thread::sleep_for(
      std::chrono::milliseconds(static_cast<long>(o.idle_seconds * 1000)));
  double idle_cpu = d.cpu_seconds() - cpu0;
  auto after = read_latency(*gs[0], notify.get(), reads);

  // The release of the last domain: every watcher sees it once.
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  for (std::size_t i = 0; i < watchers.size(); ++i) {
    epoll_event e{};
    e.events = EPOLLIN | EPOLLET;
    e.data.u64 = i;
    if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, watchers[i]->fd(), &e) != 0)
      throw BenchError("epoll_ctl failed");
  }
  int victim = o.guests;
  auto t_rel = Clock::now();
  xs.call(MsgType::XS_RELEASE, std::to_string(victim) + '\0');
  domains.remove(victim);
  std::vector<std::pair<double, int>> order;  // (us after RELEASE, watcher)
  std::vector<bool> got(watchers.size(), false);
  auto limit = Clock::now() + std::chrono::seconds(30);
  // epoll's ready list keeps the order in which the sockets became
  // readable: the order the daemon wrote the event to them.
  while (order.size() < watchers.size()) {
    epoll_event evs[256];
    int n = ::epoll_wait(ep.get(), evs, 256, 100);
    auto now = Clock::now();
    for (int k = 0; k < n; ++k) {
      auto i = static_cast<std::size_t>(evs[k].data.u64);
      if (got[i]) continue;
      got[i] = true;
      order.emplace_back(us_between(t_rel, now), static_cast<int>(i));
    }
    if (Clock::now() > limit)
      throw BenchError(std::to_string(order.size()) + " of " +
                       std::to_string(watchers.size()) +
                       " watchers saw @releaseDomain");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (auto& w : watchers) {
    w->read_available();
    while (w->try_receive())
      throw BenchError("a watcher got a reply to nothing");
    if (w->events_seen() != 2)
      throw BenchError("a watcher got " + std::to_string(w->events_seen() - 1) +
                       " events for one release");
  }
  // How close the order seen is to the order the watches were set in: the
  // mean index (in that order) of the first and of the last tenth seen.
  std::size_t tenth = std::max<std::size_t>(1, order.size() / 10);
  double head = 0, tail = 0;
  for (std::size_t i = 0; i < tenth; ++i) {
    head += order[i].second;
    tail += order[order.size() - 1 - i].second;
  }
  head /= static_cast<double>(tenth);
  tail /= static_cast<double>(tenth);
  std::printf(
      "%-16s %d idle guests (a ring each), %d dom0 watchers\n"
      "                 idle %.1f s: daemon CPU %.3f ms (%.4f %%)\n"
      "                 guest 1's READ: p50 %.1f us p99 %.1f us with 1 "
      "guest; p50 %.1f us p99 %.1f us with %d (x%.2f p50); after the "
      "watchers and the idle time p50 %.1f us p99 %.1f us\n"
      "                 RSS: +%.1f KB per idle guest, +%.1f KB per dom0 "
      "connection watching @releaseDomain\n"
      "                 @releaseDomain of domain %d: each of %zu watchers got "
      "it once; seen from %.0f us to %.0f us after RELEASE; mean watch "
      "index (0..%zu, in the order set) of the first tenth seen %.0f, of the "
      "last tenth %.0f\n",
      kind_name(kind), o.guests, o.guests, o.idle_seconds, idle_cpu * 1e3,
      idle_cpu * 100 / o.idle_seconds, one.first, one.second, many.first,
      many.second, o.guests, one.first > 0 ? many.first / one.first : 0,
      after.first, after.second,
      static_cast<double>(rss_n - rss1) / 1024 / std::max(1, o.guests - 1),
      static_cast<double>(rss_w - rss_n) / 1024 / o.guests, victim,
      watchers.size(), order.front().first, order.back().first,
      watchers.size() - 1, head, tail);
  std::fflush(stdout);
  return 0;
}

Options parse(int argc, char** argv) {
  Options o;
  o.paths = default_paths();
  o.workdir = "/tmp/cxsbs." + std::to_string(::getpid());
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&] { return option_value(argc, argv, i); };
    if (a == "--target")
      o.target = val();
    else if (a == "--vms")
      o.vms = std::stoi(val());
    else if (a == "--workers")
      o.workers = std::stoi(val());
    else if (a == "--daemon")
      o.paths.cxenstored = val();
    else if (a == "--idle")
      o.idle = true;
    else if (a == "--guests")
      o.guests = std::stoi(val());
    else if (a == "--idle-seconds")
      o.idle_seconds = std::stod(val());
    else if (a == "--smoke") {
      o.vms = 10;
      o.workers = 2;
      o.guests = 10;
      o.idle_seconds = 0.2;
    } else
      throw BenchError("unknown option " + a);
  }
  if (o.vms < 1 || o.workers < 1 || o.guests < 2)
    throw BenchError("--vms and --workers at least 1, --guests at least 2");
  return o;
}

}  // namespace
}  // namespace cxs::bench::storm

int main(int argc, char** argv) {
  using namespace cxs::bench;
  using namespace cxs::bench::storm;
  return bench_main("cxs-boot-storm", [&] {
    Options o = parse(argc, argv);
    return run_targets(o.target, o.paths, o.workdir, [&](DaemonKind kind) {
      return o.idle ? run_idle(kind, o) : run_storm(kind, o);
    });
  });
}

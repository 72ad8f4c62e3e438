#include "ring_load.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "bench_main.h"
#include "guest/guest_ring.h"

namespace cxs::bench {
namespace {

constexpr std::uint32_t kPortBase = 100;
constexpr std::size_t kPage = 4096;
constexpr std::uint64_t kNodesPerGuest = 500;

std::string sys_error(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

}  // namespace

UniqueFd open_fifo(const std::string& path) {
  if (::mkfifo(path.c_str(), 0600) != 0 && errno != EEXIST)
    throw BenchError(sys_error("mkfifo " + path));
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) throw BenchError(sys_error("open " + path));
  return fd;
}

void write_file(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                     0600));
  if (!fd.valid() || ::write(fd.get(), text.data(), text.size()) !=
                         static_cast<ssize_t>(text.size()))
    throw BenchError(sys_error("write " + tmp));
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    throw BenchError(sys_error("rename " + tmp));
}

SimGuest::SimGuest(const std::string& dir, std::uint32_t dom, int evtchn_fd)
    : dom_(dom) {
  std::string path = dir + "/ring-" + std::to_string(dom);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) throw BenchError(sys_error("open " + path));
  addr_ =
      ::mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (addr_ == MAP_FAILED) throw BenchError(sys_error("mmap " + path));
  std::uint32_t port = kPortBase + dom;
  ring_ = std::make_unique<guest::GuestRing>(
      static_cast<wire::RingPage*>(addr_), [evtchn_fd, port] {
        // The FIFO is drained by the daemon; a full one drops the kick,
        // which only delays it until the next.
        ssize_t n = ::write(evtchn_fd, &port, sizeof port);
        (void)n;
      });
}

SimGuest::~SimGuest() { ::munmap(addr_, kPage); }

void introduce_guests(const DaemonProcess& d, int guests) {
  const std::string& dir = d.sim_dir();
  write_file(dir + "/domains", "0,1-" + std::to_string(guests));
  RawClient xs(d.socket_path());
  const std::string zeros(kPage, '\0');
  for (int g = 1; g <= guests; ++g) {
    std::string dom = std::to_string(g);
    std::string ring = dir + "/ring-" + dom;
    UniqueFd fd(::open(ring.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd.valid() || ::pwrite(fd.get(), zeros.data(), kPage, 0) !=
                           static_cast<ssize_t>(kPage))
      throw BenchError(sys_error("create " + ring));
    std::string home = "/local/domain/" + dom;
    xs.call(MsgType::XS_MKDIR, home + '\0');
    xs.call(MsgType::XS_SET_PERMS, home + '\0' + "n" + dom + '\0');
    xs.call(MsgType::XS_INTRODUCE,
            nul_join({dom, std::to_string(0x1000 + g), "1"}));
  }
}

Message await_ring(SimGuest& g, int notify_fd, int limit_s) {
  auto limit = Clock::now() + std::chrono::seconds(limit_s);
  for (;;) {
    g.ring().flush();
    if (auto m = g.ring().receive()) return *m;
    if (g.ring().rsp_broken() || g.ring().error())
      throw BenchError("ring of domain " + std::to_string(g.dom()) + " broken");
    if (Clock::now() > limit) throw BenchError("ring reply timeout");
    pollfd p{notify_fd, POLLIN, 0};
    ::poll(&p, 1, 1);
    char buf[4096];
    while (::read(notify_fd, buf, sizeof buf) > 0) {
    }
  }
}

struct StalledGuests::Rings {
  UniqueFd evtchn;
  UniqueFd notify;
  std::vector<std::unique_ptr<SimGuest>> guests;
};

StalledGuests::StalledGuests(const DaemonProcess& d, int guests,
                             const std::string& path, int watches)
    : rings_(std::make_unique<Rings>()) {
  if (d.sim_dir().empty())
    throw BenchError("no simulated hypervisor for the ring guests");
  rings_->evtchn = open_fifo(d.sim_dir() + "/evtchn");
  rings_->notify = open_fifo(d.sim_dir() + "/notify");
  for (int g = 1; g <= guests; ++g) {
    auto guest = std::make_unique<SimGuest>(
        d.sim_dir(), static_cast<std::uint32_t>(g), rings_->evtchn.get());
    for (int w = 0; w < watches; ++w) {
      guest->ring().send(ty(MsgType::XS_WATCH), ++guest->next_id, 0,
                         nul_join({path, "w" + std::to_string(w)}));
      // The reply; the watch's first event may come before it.
      for (;;) {
        Message m = await_ring(*guest, rings_->notify.get(), 10);
        if (m.hdr.type == ty(MsgType::XS_WATCH_EVENT)) continue;
        if (m.hdr.type != ty(MsgType::XS_WATCH))
          throw BenchError("guest watch failed: " + error_name(m.payload));
        break;
      }
    }
    rings_->guests.push_back(std::move(guest));
  }
}

StalledGuests::~StalledGuests() = default;

Result run_ring_workload(DaemonProcess& d, const Limits& lim, RingOp op,
                         int active) {
  if (d.sim_dir().empty())
    throw BenchError("no simulated hypervisor for the ring workloads");
  introduce_guests(d, lim.guests);
  UniqueFd evtchn = open_fifo(d.sim_dir() + "/evtchn");
  UniqueFd notify = open_fifo(d.sim_dir() + "/notify");
  std::vector<std::unique_ptr<SimGuest>> gs;
  for (int g = 1; g <= active; ++g)
    gs.push_back(
        std::make_unique<SimGuest>(d.sim_dir(), static_cast<std::uint32_t>(g),
                                   evtchn.get()));
  const std::string value(100, 'v');
  auto rtype = op == RingOp::kRead ? MsgType::XS_READ : MsgType::XS_WRITE;

  // Set-up through each guest's own ring: the node it will read.
  for (auto& g : gs) {
    g->ring().send(ty(MsgType::XS_WRITE), ++g->next_id, 0,
                   g->home() + "/r" + '\0' + "x");
    Message m = await_ring(*g, notify.get(), 10);
    if (m.payload != std::string("OK\0", 3))
      throw BenchError("ring set-up write failed: " + error_name(m.payload));
  }

  auto issue = [&](SimGuest& g, Clock::time_point now) {
    std::string payload =
        op == RingOp::kRead
            ? g.home() + "/r" + '\0'
            : g.home() + "/w/d" + std::to_string(g.issued % 10) + "/n" +
                  std::to_string(g.issued % kNodesPerGuest) + '\0' + value;
    ++g.issued;
    g.busy = true;
    g.sent = now;
    g.ring().send(ty(rtype), ++g.next_id, 0, payload);
  };

  Result r;
  std::vector<double> lat;
  Window w(d);
  auto deadline = Clock::now() + std::chrono::microseconds(
                                     static_cast<long>(lim.seconds * 1e6));
  std::uint64_t issued = 0, done = 0;
  auto now = Clock::now();
  for (auto& g : gs)
    if (issued < lim.max_ops) {
      issue(*g, now);
      ++issued;
    }
  auto limit = Clock::now() + std::chrono::seconds(30);
  while (done < issued) {
    pollfd p{notify.get(), POLLIN, 0};
    ::poll(&p, 1, 1);
    char buf[4096];
    while (::read(notify.get(), buf, sizeof buf) > 0) {
    }
    for (auto& g : gs) {
      if (!g->busy) continue;
      g->ring().flush();
      auto m = g->ring().receive();
      if (!m) continue;
      now = Clock::now();
      if (m->hdr.req_id != g->next_id || m->hdr.type != ty(rtype) ||
          m->payload !=
              (op == RingOp::kRead ? std::string("x") : std::string("OK\0", 3)))
        throw BenchError("ring reply of domain " + std::to_string(g->dom()) +
                         " is wrong: type " + std::to_string(m->hdr.type) +
                         " " + error_name(m->payload) + " after " +
                         std::to_string(g->issued) + " requests");
      lat.push_back(
          std::chrono::duration<double, std::micro>(now - g->sent).count());
      g->busy = false;
      ++done;
      if (now < deadline && issued < lim.max_ops) {
        issue(*g, now);
        ++issued;
      }
    }
    if (Clock::now() > limit) throw BenchError("ring workload stuck");
  }
  w.finish(r, done, lat);
  return r;
}

}  // namespace cxs::bench

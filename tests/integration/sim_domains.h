// Simulated Xen host for the integration tests: a xenstore daemon on the
// simulated hypervisor (cxenstored --sim-xen DIR, or the reference C
// xenstored under the refd LD_PRELOAD shim), the toolstack's part (the
// DIR/domains list, XS_INTRODUCE over the socket, VIRQ_DOM_EXC) and guests
// played in-process on DIR/ring-D through guest::GuestRing. A SimGuest must
// not outlive its SimHost. Conventions: tools/refd/README.md (shared).
// Header-only: the integration CMakeLists builds every *_test.cc and
// nothing else.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cxenstored/unique_fd.h"
#include "guest/guest_ring.h"
#include "integration_helpers.h"
#include "wire/header.h"

namespace cxs::test {

inline constexpr std::uint32_t kVirqDomExcPort = 1;
inline constexpr std::uint32_t kGuestPortBase = 100; // dom D kicks 100+D
inline constexpr std::size_t kRingFileBytes = 4096;

[[noreturn]] inline void sim_fail(const std::string &what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// "EACCES" for an XS_ERROR message, the type name otherwise.
inline std::string outcome_of(const wire::Message &m) {
  if (m.hdr.type == ty(wire::MsgType::XS_ERROR))
    return m.payload.substr(0, m.payload.find('\0'));
  return std::string(wire::msg_type_name(m.hdr.type));
}
inline std::string outcome_of(const Msg &m) {
  if (m.type == ty(wire::MsgType::XS_ERROR))
    return m.payload.substr(0, m.payload.find('\0'));
  return std::string(wire::msg_type_name(m.type));
}

// Where the reference daemons' shim lives: $CXS_REFD_DIR, else
// <source>/../shared/tools/refd. Empty when it (or the C daemon) is absent;
// the project never needs it to build or to pass.
inline std::string refd_dir() {
  const char *env = std::getenv("CXS_REFD_DIR");
#ifdef CXS_REFD_DEFAULT
  std::string dir = env ? env : CXS_REFD_DEFAULT;
#else
  std::string dir = env ? env : "";
#endif
  if (dir.empty() || !file_executable(dir + "/start-peer.sh") ||
      !file_executable(dir + "/stop-peer.sh") ||
      !file_executable("/usr/lib/xen-4.17/bin/xenstored"))
    return "";
  return dir;
}

enum class Peer { kCxenstored, kReferenceC };

inline const char *peer_name(Peer p) {
  return p == Peer::kCxenstored ? "cxenstored" : "C xenstored 4.17";
}

// One daemon on a simulated hypervisor rooted at dir(); socket dir()/socket.
class SimHost {
public:
  explicit SimHost(Peer peer = Peer::kCxenstored,
                   std::vector<std::string> extra_args = {})
      : peer_(peer) {
    if (peer == Peer::kCxenstored) {
      cxs_.emplace(SimXen{}, std::move(extra_args));
      dir_ = cxs_->dir();
    } else {
      start_reference(extra_args);
    }
    socket_ = dir_ + "/socket";
    domains_[0] = false;
    write_domains();
  }
  ~SimHost() {
    if (ref_pid_ > 0) {
      std::string cmd = "'" + refd_ + "/stop-peer.sh' " +
                        std::to_string(ref_pid_) + " >/dev/null 2>&1";
      int rc = std::system(cmd.c_str());
      (void)rc;
      cmd = "rm -rf '" + dir_ + "'";
      rc = std::system(cmd.c_str());
      (void)rc;
    }
  }
  SimHost(const SimHost &) = delete;
  SimHost &operator=(const SimHost &) = delete;

  Peer peer() const noexcept { return peer_; }
  const std::string &dir() const noexcept { return dir_; }
  const std::string &socket() const noexcept { return socket_; }
  std::string log() const { return read_file(dir_ + "/daemon.log"); }
  bool alive() const {
    if (cxs_)
      return cxs_->alive();
    return ::access(("/proc/" + std::to_string(ref_pid_)).c_str(), F_OK) == 0;
  }

  // The hypervisor's view: D exists, is dying, or is gone.
  void set_alive(std::uint32_t dom) { domains_[dom] = false, write_domains(); }
  void set_dying(std::uint32_t dom) { domains_[dom] = true, write_domains(); }
  void set_gone(std::uint32_t dom) { domains_.erase(dom), write_domains(); }
  // Writes a port into DIR/evtchn (port 1 = VIRQ_DOM_EXC).
  void raise(std::uint32_t port) const {
    std::string p = dir_ + "/evtchn";
    UniqueFd fd(::open(p.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid())
      sim_fail("open " + p);
    if (::write(fd.get(), &port, sizeof port) != sizeof port)
      sim_fail("write " + p);
  }
  void kill(std::uint32_t dom) { set_dying(dom), raise(kVirqDomExcPort); }
  void destroy(std::uint32_t dom) { set_gone(dom), raise(kVirqDomExcPort); }

  // The toolstack: D exists, ring-D is zeroed, /local/domain/D is owned by
  // D, then XS_INTRODUCE D|gfn|port|. Returns the INTRODUCE reply.
  Msg introduce(std::uint32_t dom, std::uint32_t port = 1) {
    set_alive(dom);
    zero_ring(dom);
    RawClient xs(socket_);
    std::string d = std::to_string(dom);
    std::string home = "/local/domain/" + d;
    Msg m = xs.mkdir(home);
    if (m.type == ty(wire::MsgType::XS_ERROR))
      return m;
    m = xs.set_perms(home, {"n" + d});
    if (m.type == ty(wire::MsgType::XS_ERROR))
      return m;
    return xs.request(
        ty(wire::MsgType::XS_INTRODUCE),
        nul_join({d, std::to_string(0x1000 + dom), std::to_string(port)}));
  }

  void zero_ring(std::uint32_t dom) const {
    std::string p = dir_ + "/ring-" + std::to_string(dom);
    UniqueFd fd(::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd.valid())
      sim_fail("open " + p);
    std::string zeros(kRingFileBytes, '\0');
    if (::pwrite(fd.get(), zeros.data(), zeros.size(), 0) !=
        static_cast<ssize_t>(zeros.size()))
      sim_fail("write " + p);
  }

private:
  void start_reference(const std::vector<std::string> &extra_args) {
    refd_ = refd_dir();
    if (refd_.empty())
      throw std::runtime_error("refd shim not available");
    char tmpl[] = "/tmp/cxs-ref-XXXXXX";
    if (!::mkdtemp(tmpl))
      sim_fail("mkdtemp");
    dir_ = tmpl;
    std::string cmd = "'" + refd_ + "/start-peer.sh' c '" + dir_ + "'";
    for (const auto &a : extra_args)
      cmd += " '" + a + "'";
    std::FILE *p = ::popen(cmd.c_str(), "r");
    if (!p)
      sim_fail("popen start-peer.sh");
    std::array<char, 64> buf{};
    std::string out;
    while (std::fgets(buf.data(), buf.size(), p))
      out += buf.data();
    int status = ::pclose(p);
    ref_pid_ = std::atoi(out.c_str());
    if (status != 0 || ref_pid_ <= 0)
      throw std::runtime_error("start-peer.sh c failed: " + out);
  }

  void write_domains() const {
    std::string text;
    for (auto [dom, dying] : domains_) {
      if (!text.empty())
        text += ',';
      if (dying)
        text += '-';
      text += std::to_string(dom);
    }
    std::string tmp = dir_ + "/domains.tmp";
    {
      UniqueFd fd(
          ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      if (!fd.valid())
        sim_fail("create " + tmp);
      if (::write(fd.get(), text.data(), text.size()) !=
          static_cast<ssize_t>(text.size()))
        sim_fail("write " + tmp);
    }
    // Replaced whole: the daemon reads the old list or the new one.
    if (::rename(tmp.c_str(), (dir_ + "/domains").c_str()) != 0)
      sim_fail("rename " + tmp);
  }

  Peer peer_;
  std::optional<DaemonProcess> cxs_;
  std::string refd_;
  pid_t ref_pid_ = -1;
  std::string dir_;
  std::string socket_;
  std::map<std::uint32_t, bool> domains_; // domid -> dying
};

// Domain D's guest kernel: its side of DIR/ring-D, kicking port 100+D.
class SimGuest {
public:
  SimGuest(SimHost &host, std::uint32_t dom)
      : host_(host), dom_(dom), map_(map_ring()),
        ring_(static_cast<transport::RingPage *>(map_),
              [this] { host_.raise(kGuestPortBase + dom_); }) {}
  ~SimGuest() { ::munmap(map_, kRingFileBytes); }
  SimGuest(const SimGuest &) = delete;
  SimGuest &operator=(const SimGuest &) = delete;

  std::uint32_t send(std::uint32_t type, std::string_view payload,
                     std::uint32_t tx = 0) {
    std::uint32_t id = next_req_++;
    ring_.send(type, id, tx, payload);
    return id;
  }
  // The reply to `req_id`; nullopt on timeout or once the ring is in error.
  std::optional<wire::Message>
  await(std::uint32_t req_id,
        std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      pump();
      auto it = replies_.find(req_id);
      if (it != replies_.end()) {
        wire::Message m = std::move(it->second);
        replies_.erase(it);
        return m;
      }
      if (ring_.error() != 0 || ring_.rsp_broken() ||
          std::chrono::steady_clock::now() >= deadline)
        return std::nullopt;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  std::optional<wire::Message>
  request(wire::MsgType type, std::string_view payload, std::uint32_t tx = 0) {
    return await(send(ty(type), payload, tx));
  }
  // "XS_READ", "EACCES", ... or "timeout".
  std::string outcome(wire::MsgType type, std::string_view payload,
                      std::uint32_t tx = 0) {
    auto m = request(type, payload, tx);
    return m ? outcome_of(*m) : "timeout";
  }
  // The value read, or the error name.
  std::string read(std::string_view path, std::uint32_t tx = 0) {
    auto m = request(wire::MsgType::XS_READ, with_nul(path), tx);
    if (!m)
      return "timeout";
    return m->hdr.type == ty(wire::MsgType::XS_READ) ? m->payload
                                                     : outcome_of(*m);
  }
  std::string write(std::string_view path, std::string_view value,
                    std::uint32_t tx = 0) {
    std::string p(path);
    p += '\0';
    p += value;
    return outcome(wire::MsgType::XS_WRITE, p, tx);
  }
  std::uint32_t start_transaction() {
    auto m = request(wire::MsgType::XS_TRANSACTION_START, with_nul(""));
    if (!m || m->hdr.type != ty(wire::MsgType::XS_TRANSACTION_START))
      return 0;
    return static_cast<std::uint32_t>(
        std::strtoul(m->payload.c_str(), nullptr, 10));
  }
  // The next watch event's path|token, or nullopt.
  std::optional<std::string>
  next_event(std::chrono::milliseconds timeout = std::chrono::seconds(3)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      pump();
      if (!events_.empty()) {
        std::string e = events_.front();
        events_.pop_front();
        return e;
      }
      if (std::chrono::steady_clock::now() >= deadline)
        return std::nullopt;
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  }
  // Every event that arrives within `quiet` of the previous one.
  std::vector<std::string> drain_events(
      std::chrono::milliseconds quiet = std::chrono::milliseconds(300)) {
    std::vector<std::string> out;
    while (auto e = next_event(quiet))
      out.push_back(*e);
    return out;
  }
  // Forgets replies and events received so far (after a reconnection).
  void forget() {
    events_.clear();
    replies_.clear();
    ring_.reset_local();
  }

  guest::GuestRing &ring() noexcept { return ring_; }
  std::uint32_t dom() const noexcept { return dom_; }

private:
  void *map_ring() const {
    std::string p = host_.dir() + "/ring-" + std::to_string(dom_);
    UniqueFd fd(::open(p.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd.valid())
      sim_fail("open " + p);
    void *addr = ::mmap(nullptr, kRingFileBytes, PROT_READ | PROT_WRITE,
                        MAP_SHARED, fd.get(), 0);
    if (addr == MAP_FAILED)
      sim_fail("mmap " + p);
    return addr;
  }
  void pump() {
    ring_.flush();
    while (auto m = ring_.receive()) {
      if (m->hdr.type == ty(wire::MsgType::XS_WATCH_EVENT)) {
        std::string shown = m->payload;
        for (char &c : shown)
          if (c == '\0')
            c = '|';
        events_.push_back(shown);
      } else {
        replies_[m->hdr.req_id] = std::move(*m);
      }
    }
  }

  SimHost &host_;
  std::uint32_t dom_;
  void *map_;
  guest::GuestRing ring_;
  std::uint32_t next_req_ = 1;
  std::deque<std::string> events_; // payloads with NULs shown as '|'
  std::map<std::uint32_t, wire::Message> replies_;
};

} // namespace cxs::test

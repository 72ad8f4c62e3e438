#include "sim_host.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "cxenstored/unique_fd.h"

namespace cxs::test {
namespace {

constexpr std::size_t kRingFileBytes = 4096;

[[noreturn]] void sys_fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

std::string ring_file(const std::string& dir, std::uint32_t dom) {
  return dir + "/ring-" + std::to_string(dom);
}

void* map_ring(const std::string& dir, std::uint32_t dom) {
  std::string p = ring_file(dir, dom);
  UniqueFd fd(::open(p.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) sys_fail("open " + p);
  void* addr = ::mmap(nullptr, kRingFileBytes, PROT_READ | PROT_WRITE,
                      MAP_SHARED, fd.get(), 0);
  if (addr == MAP_FAILED) sys_fail("mmap " + p);
  return addr;
}

// The daemon on the simulated hypervisor: cxenstored, or the C daemon.
harness::DaemonOptions host_options(Peer peer, std::vector<std::string> args) {
  harness::DaemonOptions o = harness::cxs_options(true, std::move(args));
  if (peer == Peer::kReferenceC) o.kind = harness::DaemonKind::kC;
  return o;
}

}  // namespace

// ---- SimHost ----------------------------------------------------------------

SimHost::SimHost(Peer peer, std::vector<std::string> extra_args)
    : peer_(peer),
      daemon_(host_options(peer, std::move(extra_args))),
      dir_(daemon_.dir()),
      socket_(daemon_.socket_path()) {
  domains_[0] = false;
  write_domains();
}

DaemonProcess& SimHost::daemon() {
  if (peer_ != Peer::kCxenstored)
    throw std::logic_error("the reference daemon is not ours");
  return daemon_;
}

void SimHost::write_domains() const {
  std::string text;
  for (auto [dom, dying] : domains_) {
    if (!text.empty()) text += ',';
    if (dying) text += '-';
    text += std::to_string(dom);
  }
  std::string tmp = dir_ + "/domains.tmp";
  {
    UniqueFd fd(
        ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) sys_fail("create " + tmp);
    if (::write(fd.get(), text.data(), text.size()) !=
        static_cast<ssize_t>(text.size()))
      sys_fail("write " + tmp);
  }
  // Replaced whole: the daemon reads the old list or the new one.
  if (::rename(tmp.c_str(), (dir_ + "/domains").c_str()) != 0)
    sys_fail("rename " + tmp);
}

void SimHost::set_alive(std::uint32_t dom) {
  domains_[dom] = false;
  write_domains();
}

void SimHost::set_dying(std::uint32_t dom) {
  domains_[dom] = true;
  write_domains();
}

void SimHost::set_gone(std::uint32_t dom) {
  domains_.erase(dom);
  write_domains();
}

void raise_port(const std::string& dir, std::uint32_t port) {
  std::string p = dir + "/evtchn";
  UniqueFd fd(::open(p.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) sys_fail("open " + p);
  if (::write(fd.get(), &port, sizeof port) != sizeof port)
    sys_fail("write " + p);
}

void SimHost::kill(std::uint32_t dom) {
  set_dying(dom);
  raise(kVirqDomExcPort);
}

void SimHost::destroy(std::uint32_t dom) {
  set_gone(dom);
  raise(kVirqDomExcPort);
}

void SimHost::zero_ring(std::uint32_t dom) const {
  std::string p = ring_file(dir_, dom);
  UniqueFd fd(::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) sys_fail("open " + p);
  std::string zeros(kRingFileBytes, '\0');
  if (::pwrite(fd.get(), zeros.data(), zeros.size(), 0) !=
      static_cast<ssize_t>(zeros.size()))
    sys_fail("write " + p);
}

Msg SimHost::introduce(std::uint32_t dom, std::uint32_t port) {
  set_alive(dom);
  zero_ring(dom);
  RawClient xs(socket_);
  std::string d = std::to_string(dom);
  std::string home = "/local/domain/" + d;
  Msg m = xs.mkdir(home);
  if (!is_type_ok(m)) return m;
  m = xs.set_perms(home, {"n" + d});
  if (!is_type_ok(m)) return m;
  return xs.request(
      ty(wire::MsgType::XS_INTRODUCE),
      nul_join({d, std::to_string(0x1000 + dom), std::to_string(port)}));
}

// ---- SimGuest ---------------------------------------------------------------

SimGuest::SimGuest(const std::string& dir, std::uint32_t dom,
                   std::uint32_t ring_file_dom, std::uint32_t port)
    : dir_(dir),
      dom_(dom),
      port_(port),
      map_(map_ring(dir, ring_file_dom)),
      ring_(static_cast<wire::RingPage*>(map_),
            [this] { raise_port(dir_, port_); }) {}

SimGuest::~SimGuest() { ::munmap(map_, kRingFileBytes); }

std::uint32_t SimGuest::send(std::uint32_t type, std::string_view payload,
                             std::uint32_t tx) {
  std::uint32_t id = next_req_++;
  ring_.send(type, id, tx, payload);
  return id;
}

void SimGuest::pump() {
  ring_.flush();
  while (auto m = ring_.receive()) {
    if (m->hdr.type == ty(wire::MsgType::XS_WATCH_EVENT))
      events_.push_back(std::move(*m));
    else
      replies_[m->hdr.req_id] = std::move(*m);
  }
}

std::optional<wire::Message> SimGuest::await(std::uint32_t req_id,
                                             milliseconds timeout) {
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

std::optional<wire::Message> SimGuest::request(std::uint32_t type,
                                               std::string_view payload,
                                               std::uint32_t tx,
                                               milliseconds timeout) {
  return await(send(type, payload, tx), timeout);
}

std::string SimGuest::outcome(std::uint32_t type, std::string_view payload,
                              std::uint32_t tx) {
  auto m = request(type, payload, tx);
  return m ? outcome_of(*m) : "timeout";
}

std::string SimGuest::read(std::string_view path, std::uint32_t tx) {
  auto m = request(wire::MsgType::XS_READ, with_nul(path), tx);
  if (!m) return "timeout";
  return m->hdr.type == ty(wire::MsgType::XS_READ) ? m->payload
                                                   : outcome_of(*m);
}

std::string SimGuest::write(std::string_view path, std::string_view value,
                            std::uint32_t tx) {
  std::string p(path);
  p += '\0';
  p += value;
  return outcome(wire::MsgType::XS_WRITE, p, tx);
}

std::uint32_t SimGuest::start_transaction() {
  auto m = request(wire::MsgType::XS_TRANSACTION_START, with_nul(""));
  if (!m || m->hdr.type != ty(wire::MsgType::XS_TRANSACTION_START)) return 0;
  return static_cast<std::uint32_t>(
      std::strtoul(m->payload.c_str(), nullptr, 10));
}

std::optional<wire::Message> SimGuest::next_event(milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    pump();
    if (!events_.empty()) {
      wire::Message m = std::move(events_.front());
      events_.pop_front();
      return m;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
}

std::optional<std::string> SimGuest::next_event_text(milliseconds timeout) {
  auto m = next_event(timeout);
  if (!m) return std::nullopt;
  std::string shown = m->payload;
  for (char& c : shown)
    if (c == '\0') c = '|';
  return shown;
}

std::vector<std::string> SimGuest::events_before_barrier() {
  if (!request(wire::MsgType::XS_GET_DOMAIN_PATH, with_nul("0")))
    throw std::runtime_error("no reply to the barrier on dom" +
                             std::to_string(dom_) + "'s ring");
  std::vector<std::string> out;
  for (wire::Message& m : events_) {
    for (char& c : m.payload)
      if (c == '\0') c = '|';
    out.push_back(std::move(m.payload));
  }
  events_.clear();
  return out;
}

void SimGuest::forget() {
  events_.clear();
  replies_.clear();
  ring_.reset_local();
}

}  // namespace cxs::test

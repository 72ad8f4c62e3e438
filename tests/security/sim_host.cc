#include "sim_host.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <iostream>
#include <thread>

#include <gtest/gtest.h>

#include "cxenstored/unique_fd.h"

namespace cxs::test {
namespace {

constexpr std::uint32_t kDomExcPort = 1;
constexpr std::uint32_t kDomPortBase = 100;
constexpr std::size_t kPageSize = 4096;

[[noreturn]] void sys_fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void zero_ring(const std::string& dir, std::uint32_t dom) {
  std::string p = dir + "/ring-" + std::to_string(dom);
  UniqueFd fd(::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) sys_fail("open " + p);
  std::string zeros(kPageSize, '\0');
  if (::pwrite(fd.get(), zeros.data(), zeros.size(), 0) !=
      static_cast<ssize_t>(zeros.size()))
    sys_fail("write " + p);
}

void* map_ring(const std::string& dir, std::uint32_t dom) {
  std::string p = dir + "/ring-" + std::to_string(dom);
  UniqueFd fd(::open(p.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) sys_fail("open " + p);
  void* addr = ::mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED,
                      fd.get(), 0);
  if (addr == MAP_FAILED) sys_fail("mmap " + p);
  return addr;
}

}  // namespace

std::string error_of(const wire::Message& m) {
  if (m.hdr.type != ty(wire::MsgType::XS_ERROR)) return "";
  return m.payload.substr(0, m.payload.find('\0'));
}

void report_peak_rss(const DaemonProcess& d, const std::string& what) {
  long peak = d.peak_rss_kib();
  std::cout << "[ peak RSS ] " << what << ": " << peak << " KiB (VmHWM)"
            << std::endl;
  ::testing::Test::RecordProperty("peak_rss_kib", std::to_string(peak));
}

// ---- SimHost ----------------------------------------------------------------

SimHost::SimHost(std::vector<std::string> extra_args)
    : d_(SimXen{}, std::move(extra_args)) {
  domains_[0] = false;
  write_domains();
}

void SimHost::write_domains() const {
  std::string text;
  for (auto [dom, dying] : domains_) {
    if (!text.empty()) text += ',';
    if (dying) text += '-';
    text += std::to_string(dom);
  }
  std::string tmp = dir() + "/domains.tmp";
  {
    UniqueFd fd(
        ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) sys_fail("create " + tmp);
    if (::write(fd.get(), text.data(), text.size()) !=
        static_cast<ssize_t>(text.size()))
      sys_fail("write " + tmp);
  }
  // Replaced whole: the daemon sees the old list or the new one.
  if (::rename(tmp.c_str(), (dir() + "/domains").c_str()) != 0)
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

void SimHost::raise(std::uint32_t port) const {
  std::string p = dir() + "/evtchn";
  if (::mkfifo(p.c_str(), 0600) != 0 && errno != EEXIST) sys_fail("mkfifo");
  UniqueFd fd(::open(p.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) sys_fail("open " + p);
  if (::write(fd.get(), &port, sizeof port) != sizeof port)
    sys_fail("write " + p);
}

void SimHost::kill(std::uint32_t dom) {
  set_dying(dom);
  raise(kDomExcPort);
}

void SimHost::destroy(std::uint32_t dom) {
  set_gone(dom);
  raise(kDomExcPort);
}

Msg SimHost::introduce(std::uint32_t dom) {
  set_alive(dom);
  zero_ring(dir(), dom);
  RawClient xs(socket());
  std::string d = std::to_string(dom);
  std::string home = "/local/domain/" + d;
  Msg m = xs.mkdir(home);
  if (m.type == ty(wire::MsgType::XS_ERROR)) return m;
  m = xs.set_perms(home, {"n" + d});
  if (m.type == ty(wire::MsgType::XS_ERROR)) return m;
  std::string gfn = std::to_string(0x1000 + dom);
  return xs.request(ty(wire::MsgType::XS_INTRODUCE),
                    d + '\0' + gfn + '\0' + "1" + '\0');
}

// ---- SimGuest ---------------------------------------------------------------

SimGuest::SimGuest(SimHost& host, std::uint32_t dom)
    : host_(host),
      dom_(dom),
      map_(map_ring(host.dir(), dom)),
      ring_(static_cast<transport::RingPage*>(map_),
            [this] { host_.raise(kDomPortBase + dom_); }) {}

SimGuest::~SimGuest() { ::munmap(map_, kPageSize); }

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

void SimGuest::drain() { pump(); }

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
  if (!m) return "timeout";
  if (m->hdr.type == ty(wire::MsgType::XS_ERROR)) return error_of(*m);
  return std::string(wire::msg_type_name(m->hdr.type));
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

std::uint32_t SimGuest::start_transaction() {
  auto m = request(ty(wire::MsgType::XS_TRANSACTION_START), with_nul(""));
  if (!m || m->hdr.type != ty(wire::MsgType::XS_TRANSACTION_START)) return 0;
  return static_cast<std::uint32_t>(std::stoul(m->payload));
}

}  // namespace cxs::test

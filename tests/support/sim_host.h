// A whole simulated Xen host for the tests. SimHost runs one xenstore daemon
// on the simulated hypervisor (cxenstored --sim-xen DIR, or the reference C
// xenstored 4.17 under the refd LD_PRELOAD shim) and plays the toolstack:
// the DIR/domains list, XS_INTRODUCE over the socket, domain death through
// VIRQ_DOM_EXC (port 1 in DIR/evtchn). SimGuest plays domain D's kernel on
// its ring page DIR/ring-D through guest::GuestRing; it must not outlive the
// directory (its SimHost, or the test that made it). Conventions:
// shared/tools/refd/README.md.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon_process.h"
#include "guest/guest_ring.h"
#include "raw_client.h"
#include "test_util.h"
#include "wire/header.h"

namespace cxs::test {

using std::chrono::milliseconds;

inline constexpr std::uint32_t kVirqDomExcPort = 1;
inline constexpr std::uint32_t kGuestPortBase = 100;  // dom D kicks 100+D

using harness::refd_dir;

// Writes a port into DIR/evtchn, as the hypervisor does when a guest kicks
// its channel (or, for port 1, when a domain changes state).
void raise_port(const std::string& dir, std::uint32_t port);

enum class Peer { kCxenstored, kReferenceC };

inline const char* peer_name(Peer p) {
  return p == Peer::kCxenstored ? "cxenstored" : "C xenstored 4.17";
}

class SimHost {
 public:
  explicit SimHost(Peer peer = Peer::kCxenstored,
                   std::vector<std::string> extra_args = {});
  explicit SimHost(std::vector<std::string> extra_args)
      : SimHost(Peer::kCxenstored, std::move(extra_args)) {}
  SimHost(const SimHost&) = delete;
  SimHost& operator=(const SimHost&) = delete;

  Peer peer() const noexcept { return peer_; }
  const std::string& dir() const noexcept { return dir_; }
  const std::string& socket() const noexcept { return socket_; }
  // The cxenstored process; throws std::logic_error for the reference.
  DaemonProcess& daemon();
  // The daemon's pid, whichever it is (a live update keeps it).
  pid_t pid() const { return daemon_.pid(); }
  std::string log() const { return daemon_.log(); }
  bool alive() const { return daemon_.alive(); }

  // The toolstack's part: D exists in the hypervisor, ring-D is zeroed,
  // /local/domain/D is owned by D, then XS_INTRODUCE D|gfn|port|. Returns
  // the INTRODUCE reply (or the first refusal on the way).
  Msg introduce(std::uint32_t dom, std::uint32_t port = 1);
  // The hypervisor side only: D exists (alive), or is dying, or is gone.
  void set_alive(std::uint32_t dom);
  void set_dying(std::uint32_t dom);
  void set_gone(std::uint32_t dom);
  // Writes a port into DIR/evtchn (port 1 = VIRQ_DOM_EXC).
  void raise(std::uint32_t port) const { raise_port(dir_, port); }
  // set_dying + VIRQ; set_gone + VIRQ.
  void kill(std::uint32_t dom);
  void destroy(std::uint32_t dom);
  void zero_ring(std::uint32_t dom) const;

 private:
  void write_domains() const;

  Peer peer_;
  DaemonProcess daemon_;  // cxenstored, or the C daemon under refd
  std::string dir_;
  std::string socket_;
  std::map<std::uint32_t, bool> domains_;  // domid -> dying
};

class SimGuest {
 public:
  SimGuest(SimHost& host, std::uint32_t dom)
      : SimGuest(host.dir(), dom, dom, kGuestPortBase + dom) {}
  // Domain `dom` on the ring page DIR/ring-<ring_file_dom>, kicking `port`:
  // the master domain (--master-domid M) has ring-0 (xsd_kva) and port 100+M.
  SimGuest(const std::string& dir, std::uint32_t dom,
           std::uint32_t ring_file_dom, std::uint32_t port);
  SimGuest(const std::string& dir, std::uint32_t dom)
      : SimGuest(dir, dom, dom, kGuestPortBase + dom) {}
  ~SimGuest();
  SimGuest(const SimGuest&) = delete;
  SimGuest& operator=(const SimGuest&) = delete;

  // Queues a request (written as ring space allows) and returns its req_id.
  std::uint32_t send(std::uint32_t type, std::string_view payload,
                     std::uint32_t tx = 0);
  // The reply to `req_id`; nullopt on timeout or once the ring is in error.
  // Events seen meanwhile are kept for next_event(), other replies for
  // later await calls.
  std::optional<wire::Message> await(std::uint32_t req_id,
                                     milliseconds timeout = milliseconds(5000));
  std::optional<wire::Message> request(
      std::uint32_t type, std::string_view payload, std::uint32_t tx = 0,
      milliseconds timeout = milliseconds(5000));
  std::optional<wire::Message> request(wire::MsgType type,
                                       std::string_view payload,
                                       std::uint32_t tx = 0) {
    return request(ty(type), payload, tx);
  }
  // The reply type name or the error name ("XS_READ", "EACCES", "timeout").
  std::string outcome(std::uint32_t type, std::string_view payload,
                      std::uint32_t tx = 0);
  std::string outcome(wire::MsgType type, std::string_view payload,
                      std::uint32_t tx = 0) {
    return outcome(ty(type), payload, tx);
  }
  // The value read, or the outcome name.
  std::string read(std::string_view path, std::uint32_t tx = 0);
  std::string write(std::string_view path, std::string_view value,
                    std::uint32_t tx = 0);
  std::uint32_t start_transaction();  // 0 on failure

  // The next watch event, or nullopt after `timeout`.
  std::optional<wire::Message> next_event(
      milliseconds timeout = milliseconds(3000));
  // The same as "path|token" text.
  std::optional<std::string> next_event_text(
      milliseconds timeout = milliseconds(3000));
  // The ordering barrier of RawClient::events_before_barrier on the ring:
  // sends GET_DOMAIN_PATH 0 and returns, as text, every event read up to
  // its reply (and any read with it), which includes every event queued
  // before the barrier. Throws std::runtime_error when no reply comes.
  std::vector<std::string> events_before_barrier();
  // Takes everything the daemon has written so far (replies and events).
  void drain() { pump(); }
  std::size_t events_seen() const noexcept { return events_.size(); }
  // Forgets replies and events received so far (after a reconnection).
  void forget();

  guest::GuestRing& ring() noexcept { return ring_; }
  std::uint32_t dom() const noexcept { return dom_; }

 private:
  void pump();

  std::string dir_;
  std::uint32_t dom_;
  std::uint32_t port_;
  void* map_ = nullptr;
  guest::GuestRing ring_;
  std::uint32_t next_req_ = 1;
  std::deque<wire::Message> events_;
  std::map<std::uint32_t, wire::Message> replies_;
};

}  // namespace cxs::test

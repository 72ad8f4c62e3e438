// SimHost and SimGuest: a whole simulated Xen host for the security tests.
// SimHost owns a cxenstored running with --sim-xen on a temporary directory
// and plays the toolstack (DIR/domains, XS_INTRODUCE over the socket, domain
// death via VIRQ_DOM_EXC = port 1 in DIR/evtchn). SimGuest plays domain D on
// its ring page DIR/ring-D through guest::GuestRing; it must not outlive its
// SimHost. Conventions: shared/tools/refd/README.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <string_view>
#include <thread>
#include <vector>

#include "cxenstored/limits.h"
#include "daemon_process.h"
#include "guest/guest_ring.h"
#include "raw_client.h"
#include "wire/header.h"
#include "wire/message_type.h"

namespace cxs::test {

using std::chrono::milliseconds;

constexpr std::uint32_t ty(wire::MsgType m) {
  return static_cast<std::uint32_t>(m);
}

inline std::string with_nul(std::string_view s) {
  std::string out(s);
  out += '\0';
  return out;
}

// "E2BIG" for an XS_ERROR message, "" otherwise.
std::string error_of(const wire::Message& m);

// A reply that is not XS_ERROR.
inline bool is_type_ok(const Msg& m) {
  return m.type != ty(wire::MsgType::XS_ERROR);
}

// Polls `pred` every 10 ms until it holds or `timeout` passes.
template <typename Pred>
bool eventually_true(Pred pred, milliseconds timeout = milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return pred();
}

// Prints the daemon's peak RSS (VmHWM) and records it as a test property.
void report_peak_rss(const DaemonProcess& d, const std::string& what);

class SimHost {
 public:
  explicit SimHost(std::vector<std::string> extra_args = {});

  DaemonProcess& daemon() noexcept { return d_; }
  const std::string& dir() const noexcept { return d_.dir(); }
  const std::string& socket() const noexcept { return d_.socket_path(); }

  // The toolstack's part: D exists in the hypervisor, /local/domain/D is
  // owned by D, ring-D is zeroed, XS_INTRODUCE. Returns the reply to
  // INTRODUCE (XS_INTRODUCE or an XS_ERROR).
  Msg introduce(std::uint32_t dom);
  // The hypervisor side only: D exists (alive), or is dying, or is gone.
  void set_alive(std::uint32_t dom);
  void set_dying(std::uint32_t dom);
  void set_gone(std::uint32_t dom);
  // Writes a port into DIR/evtchn (port 1 = VIRQ_DOM_EXC).
  void raise(std::uint32_t port) const;
  // set_dying + VIRQ; set_gone + VIRQ.
  void kill(std::uint32_t dom);
  void destroy(std::uint32_t dom);

 private:
  void write_domains() const;

  DaemonProcess d_;
  std::map<std::uint32_t, bool> domains_;  // domid -> dying
};

class SimGuest {
 public:
  SimGuest(SimHost& host, std::uint32_t dom);
  ~SimGuest();
  SimGuest(const SimGuest&) = delete;
  SimGuest& operator=(const SimGuest&) = delete;

  // Queues a request (written as ring space allows) and returns its req_id.
  std::uint32_t send(std::uint32_t type, std::string_view payload,
                     std::uint32_t tx = 0);
  // The reply to `req_id`, or nullopt on timeout; events seen meanwhile are
  // kept for next_event(), other replies are kept for later await calls.
  std::optional<wire::Message> await(std::uint32_t req_id,
                                     milliseconds timeout = milliseconds(5000));
  std::optional<wire::Message> request(
      std::uint32_t type, std::string_view payload, std::uint32_t tx = 0,
      milliseconds timeout = milliseconds(5000));
  // Convenience: the reply type name or the error name ("XS_READ", "EACCES",
  // "timeout").
  std::string outcome(std::uint32_t type, std::string_view payload,
                      std::uint32_t tx = 0);
  std::optional<wire::Message> next_event(
      milliseconds timeout = milliseconds(2000));
  // Takes everything the daemon has written so far (replies and events).
  void drain();
  std::size_t events_seen() const noexcept { return events_.size(); }
  std::uint32_t start_transaction();  // 0 on failure

  guest::GuestRing& ring() noexcept { return ring_; }
  std::uint32_t dom() const noexcept { return dom_; }

 private:
  void pump();

  SimHost& host_;
  std::uint32_t dom_;
  void* map_ = nullptr;
  guest::GuestRing ring_;
  std::uint32_t next_req_ = 1;
  std::deque<wire::Message> events_;
  std::map<std::uint32_t, wire::Message> replies_;
};

// IS_DOMAIN_INTRODUCED over the socket; released() waits for "F".
inline bool introduced(RawClient& dom0, std::uint32_t dom) {
  Msg m = dom0.request(ty(wire::MsgType::XS_IS_DOMAIN_INTRODUCED),
                       with_nul(std::to_string(dom)));
  return m.payload.substr(0, 1) == "T";
}
inline bool released(RawClient& dom0, std::uint32_t dom) {
  return eventually_true([&] { return !introduced(dom0, dom); });
}

// Creates nodes DIR/n0, DIR/n1... until refused (or `limit`); returns how
// many were created and the refusal ("none" if none came).
inline std::pair<int, std::string> fill_nodes(SimGuest& g,
                                              const std::string& dir,
                                              int limit) {
  for (int i = 0; i < limit; ++i) {
    std::string r = g.outcome(ty(wire::MsgType::XS_WRITE),
                              dir + "/n" + std::to_string(i) + '\0' + "v");
    if (r != "XS_WRITE") return {i, r};
  }
  return {limit, "none"};
}

}  // namespace cxs::test

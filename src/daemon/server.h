// Server: the reactor. It owns everything the daemon runs on (the event
// loop, the store and watch index, the connection table (clients.h), the
// domain table (domains.h), the quotas and admission policy
// (admission.h), the listening socket, signals and the trace) and runs
// the loop turn and a request's path through them (docs/design.md, "The
// daemon's parts"). Single-threaded; one loop turn visits only the ready
// fds, then reaps the connections marked closing.
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "cxenstored/unique_fd.h"
#include "daemon/accept_pause.h"
#include "daemon/admission.h"
#include "daemon/clients.h"
#include "daemon/domain_ring.h"
#include "daemon/domains.h"
#include "daemon/event_loop.h"
#include "daemon/live_update.h"
#include "daemon/memory_trim.h"
#include "daemon/options.h"
#include "daemon/reply.h"
#include "daemon/trace.h"
#include "daemon/write_limit.h"
#include "ops/context.h"
#include "store/store.h"
#include "store/watches.h"
#include "transport/connection.h"
#include "transport/socket/unix_listener.h"
#include "xen/hypervisor.h"

namespace cxs::migrate {
struct Stream;
}
namespace cxs::daemon {
struct RestoredConn;
struct RestoredDomain;
}  // namespace cxs::daemon

namespace cxs::daemon {

class Server final : public ops::DaemonHooks {
 public:
  // Opens the socket and the signal fd and, with a hypervisor, binds
  // VIRQ_DOM_EXC and introduces dom0's ring; throws std::runtime_error.
  Server(const Options& opts, std::optional<xen::Hypervisor> hv);
  // Live update (-U): takes over the state the daemon before wrote (the
  // stream's bytes, read as they are restored), with the sockets and event
  // channel it left open (state_restore.cc). Throws std::runtime_error
  // naming what could not be restored.
  Server(const Options& opts, std::optional<xen::Hypervisor> hv,
         std::string_view state);
  ~Server() override;

  // The whole state as a migration stream (state_dump.cc); with a session,
  // the requester's pending output ends with the "OK" to its -s.
  // The stream leaves through `out` in pieces of about a megabyte (false
  // from `out` stops it: dump_state returns false).
  using StateOut = std::function<bool(std::string_view)>;
  // `buffers`, when given, are written in (see DumpBuffers).
  bool dump_state(std::uint32_t version, const LiveUpdateSession* session,
                  const StateOut& out, DumpBuffers* buffers = nullptr) const;

  // After daemonise(): an epoll registration of a signalfd follows the
  // process that made it, so the child must register it anew.
  void after_fork();

  // Serves until SIGTERM/SIGINT or stop(). Returns the exit status.
  int run();
  void stop() noexcept { stopping_ = true; }

  const std::string& socket_path() const noexcept { return listener_.path(); }

  // DaemonHooks
  bool is_domain_introduced(DomId dom) const noexcept override;
  bool domain_exists(DomId dom) const noexcept override;
  Status introduce(DomId dom, std::uint64_t gfn, std::uint32_t port,
                   store::EventSink& events) noexcept override;
  Status release(DomId dom, store::EventSink& events) noexcept override;
  Status resume(DomId dom) noexcept override;
  Status set_target(DomId dom, DomId target) noexcept override;
  Result<std::size_t> get_quota(std::optional<DomId> dom,
                                std::string_view name) noexcept override;
  Status set_quota(std::optional<DomId> dom, std::string_view name,
                   std::size_t value) noexcept override;
  Result<std::uint32_t> get_feature(std::optional<DomId> dom) noexcept override;
  Status set_feature(DomId dom, std::uint32_t value) noexcept override;
  Result<std::string> control(
      const ops::Session& s,
      const std::vector<std::string_view>& args) noexcept override;

 private:
  // The epoll token of a live update's target check (its report pipe).
  static constexpr std::uint64_t kLiveUpdateCheckToken = ~std::uint64_t{0} - 3;

  void turn(int timeout_ms);
  int wait_timeout() const noexcept;
  void accept_clients();
  void add_socket_client(UniqueFd fd);
  void pause_accepting(const char* why);
  void resume_accepting();
  void retry_accept(bool fd_freed);
  void on_signal();
  // Reads and answers a client's requests; serve() then sends the replies,
  // turn() sends them once every ready client is served (send_served).
  void serve(Client& c);
  bool serve_requests(Client& c);
  void send_served();
  // `held`: what the memory quota charges the connection before it.
  void handle(Client& c, const wire::MessageView& msg, std::size_t held);
  void deliver(const store::EventSink& events);
  void note_transactions(Client& c);
  void update_interest(Client& c);
  void close_client(Client& c, std::string_view why);
  bool reap();
  // Admission (admission.h) over the client's figures, read now: all of
  // them (load_of), or all but the write credit, which event_bound does
  // not read (memory_load: no clock read per event delivered).
  ConnLoad load_of(const Client& c) const noexcept;
  ConnLoad memory_load(const Client& c) const noexcept;
  const store::Quota& quota_for(const Client& c) const noexcept;
  bool may_read_more(const Client& c) const noexcept;
  std::size_t event_bound_of(const Client& c) const noexcept;
  std::size_t memory_held(const Client& c) const noexcept;
  std::string check_store() const;
  void flush(Client& c);

  // CONTROL's commands (control.h) read and change what the server holds.
  friend class Control;
  // Live update (live_update_flow.cc).
  Result<std::string> live_update_control(
      const ops::Session& s, const std::vector<std::string_view>& args);
  bool hold_for_live_update(Client& c, const wire::MessageView& msg);
  void advance_live_update();
  std::optional<std::string> live_update_blocked(
      LiveUpdateSession::Clock::time_point now) const;
  // Writes in the session's DumpBuffers.
  int write_state_file(const std::string& path, LiveUpdateSession& session);
  void start_target_check();
  [[noreturn]] void run_target_check(const std::string& path, int report_fd);
  void finish_target_check();
  void activate_live_update();
  // Whether the target may take over (live_update_flow.cc).
  struct TargetCheck {
    std::optional<std::string> refusal;
    bool cxenstored = false;  // it said so in its --help
    std::string summary;      // the dry run's last line
  };
  TargetCheck check_live_update_target(const std::vector<std::string>& argv,
                                       const std::string& state_path) const;
  std::optional<std::string> foreign_target_refusal(
      const std::string& binary) const;
  void advertise_features(bool ours) noexcept;
  void end_live_update(std::optional<std::string> reply);
  void set_fds_inherited(bool inherited) noexcept;
  // Restoring (state_restore.cc).
  void restore_state(std::string_view state);
  Client* restore_ring(const RestoredConn& rc, const RestoredDomain& d);
  void start_up();

  // The server's side of domains (server_domains.cc).
  void init_hypervisor();
  void on_event_channel();
  void on_ring_kick(Client& c);
  void check_domains(bool live_update = false);
  Status attach_domain(DomId dom, std::unique_ptr<xen::MappedRing> ring,
                       xen::Port remote);
  // A domain whose event channel is bound already (`local`); the ring is
  // null when it could not be mapped (the domain is known, not served).
  void attach_bound_domain(DomId dom, std::unique_ptr<xen::MappedRing> ring,
                           xen::Port local, std::uint32_t features,
                           std::optional<ConnId> id = std::nullopt);
  void detach_domain(DomId dom, store::EventSink& events);
  void fire_special(std::string_view base, std::optional<DomId> dom,
                    store::EventSink& events);
  store::Event special_event(std::string_view base,
                             std::optional<DomId> dom) const;
  void run_kicks();
  void expire_events();
  void give_back_memory();
  void debit_write(Client& c, const wire::MessageView& msg);
  void note_soft_memory(Client& c, const ConnLoad& load);
  void retry_throttled();
  Client* client_of(const Domain& d) noexcept;

  Options opts_;
  // Before the connections: a domain's ring connection owns its mapping,
  // which must go before the hypervisor interface that made it.
  std::optional<xen::Hypervisor> hv_;
  Domains domains_;
  // Every connection's read buffer and spare reply buffer (before the
  // connections, which use it to the last).
  transport::SharedBuffers io_buffers_;
  EventLoop loop_;
  transport::UnixListener listener_;
  AcceptPause accept_pause_;  // the listener's, at the descriptor limit
  MemoryTrim trim_;           // the heap back to the system after a flood
  UniqueFd signal_fd_;
  Trace trace_;
  ReplySender sender_{&trace_};
  store::Store store_;
  store::WatchIndex watches_;
  QuotaTable quotas_;
  Clients clients_;
  std::optional<xen::Port> virq_port_;
  DomId priv_domid_{0};
  DomId master_domid_{0};
  bool stopping_ = false;
  // The live update under way, if any, and the request being handled
  // (a -s is answered later, by the new daemon).
  std::optional<LiveUpdateSession> lu_;
  const wire::Header* handling_ = nullptr;
  bool reply_deferred_ = false;
  std::chrono::steady_clock::time_point last_expiry_{};
};

}  // namespace cxs::daemon

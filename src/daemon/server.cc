#include "daemon/server.h"

#include <signal.h>
#include <sys/signalfd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <spdlog/spdlog.h>

#include "daemon/state_restore.h"
#include "migrate/reader.h"
#include "ops/dispatch.h"
#include "store/path.h"
#include "transport/socket/socket_transport.h"
#include "wire/message_type.h"

namespace cxs::daemon {
namespace {

constexpr std::uint64_t kListenerToken = ~std::uint64_t{0};
constexpr std::uint64_t kSignalToken = ~std::uint64_t{0} - 1;
constexpr std::uint64_t kEventChannelToken = ~std::uint64_t{0} - 2;

UniqueFd make_signal_fd() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0)
    throw std::runtime_error("sigprocmask failed");
  ::signal(SIGPIPE, SIG_IGN);
  UniqueFd fd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!fd.valid())
    throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
  return fd;
}

// --socket wins; a simulated host keeps its socket beside its ring files.
std::string socket_path_for(const Options& o) {
  if (o.socket_path) return *o.socket_path;
  if (o.sim_xen_dir) return *o.sim_xen_dir + "/socket";
  return default_socket_path();
}

}  // namespace

Server::Server(const Options& opts, std::optional<xen::Hypervisor> hv)
    : opts_(opts),
      hv_(std::move(hv)),
      domains_(hv_ ? hv_->events.get() : nullptr),
      listener_(socket_path_for(opts)),
      signal_fd_(make_signal_fd()),
      quotas_(opts.quotas) {
  start_up();
  if (hv_) init_hypervisor();
}

namespace {
// The listening socket the daemon before left open, or a new one.
transport::UnixListener listener_for(const Options& o, int inherited_fd) {
  if (inherited_fd < 0) return transport::UnixListener(socket_path_for(o));
  return transport::UnixListener(socket_path_for(o), UniqueFd(inherited_fd));
}
}  // namespace

Server::Server(const Options& opts, std::optional<xen::Hypervisor> hv,
               std::string_view state)
    : opts_(opts),
      hv_(std::move(hv)),
      domains_(hv_ ? hv_->events.get() : nullptr),
      listener_(listener_for(opts, read_global_record(state).socket_fd)),
      signal_fd_(make_signal_fd()),
      quotas_(opts.quotas) {
  start_up();
  if (hv_) {
    // The daemon before unbound it (it was its last act); dom0's ring and
    // the domains' channels come from the state.
    auto virq = hv_->events->bind_dom_exc_virq();
    if (!virq) throw std::runtime_error("cannot bind VIRQ_DOM_EXC");
    virq_port_ = *virq;
  }
  restore_state(state);
  // Domains that died while the daemons changed places are released now.
  if (hv_) check_domains(/*live_update=*/true);
}

void Server::start_up() {
  if (opts_.master_domid) master_domid_ = DomId{*opts_.master_domid};
  priv_domid_ = opts_.priv_domid ? DomId{*opts_.priv_domid} : master_domid_;
  if (opts_.trace_file) trace_.open(*opts_.trace_file);
  // Start-up: a refusal here stops the daemon before it serves anyone.
  if (!loop_.add(listener_.fd(), kListenerToken, true, false) ||
      !loop_.add(signal_fd_.get(), kSignalToken, true, false) ||
      (hv_ && !loop_.add(hv_->events->fd(), kEventChannelToken, true, false)))
    throw std::runtime_error("cannot register the daemon's fds with epoll");
}

Server::~Server() = default;

void Server::after_fork() {
  listener_.note_owner();
  loop_.remove(signal_fd_.get());
  if (!loop_.add(signal_fd_.get(), kSignalToken, true, false))
    throw std::runtime_error("cannot register the signal fd with epoll");
}

int Server::run() {
  spdlog::info("cxenstored serving on {}", listener_.path());
  // With guests about, wake at least once a second to expire the watch
  // events of guests that do not read them.
  while (!stopping_) turn(wait_timeout());
  spdlog::info("cxenstored stopping");
  return 0;
}

// How long the next turn may sleep (-1: until something is ready).
int Server::wait_timeout() const noexcept {
  int ms = clients_.kicks_pending()                          ? 0
           : clients_.any_throttled()                        ? 5
           : hv_ || (lu_ && lu_->started) || trim_.pending() ? 1000
                                                             : -1;
  if (!accept_pause_.paused()) return ms;
  auto left = std::chrono::ceil<std::chrono::milliseconds>(
                  accept_pause_.retry_at() - AcceptPause::Clock::now())
                  .count();
  int retry = static_cast<int>(std::max<decltype(left)>(left, 0));
  return ms < 0 ? retry : std::min(ms, retry);
}

void Server::turn(int timeout_ms) {
  for (const Ready& r : loop_.wait(timeout_ms)) {
    if (r.token == kListenerToken) {
      accept_clients();
      continue;
    }
    if (r.token == kSignalToken) {
      on_signal();
      continue;
    }
    if (r.token == kEventChannelToken) {
      on_event_channel();
      continue;
    }
    if (r.token == kLiveUpdateCheckToken) {
      finish_target_check();
      continue;
    }
    Client* open = clients_.find_open(ConnId{r.token});
    if (!open) continue;
    Client& c = *open;
    if (r.events & EPOLLOUT) {
      if (!c.conn->flush()) {
        close_client(c, transport::fault_name(c.conn->fault()));
        continue;
      }
    }
    if ((r.events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) ||
        c.conn->has_buffered_input()) {
      if (serve_requests(c)) clients_.served(c.conn->id());
    } else {
      update_interest(c);
    }
  }
  send_served();
  run_kicks();
  retry_throttled();
  expire_events();
  bool freed = reap();
  retry_accept(freed);
  advance_live_update();
  give_back_memory();
}

// Watches and transactions freed with their connections are counted in
// reap(); the out queues, the largest by far in a flood, here.
void Server::give_back_memory() {
  trim_.freed(io_buffers_.take_freed_bytes());
  trim_.run(MemoryTrim::Clock::now());
}

// XSA-206: while transactions are open, an unprivileged domain's changes
// are rate-limited (see write_limit.h).
void Server::debit_write(Client& c, const wire::MessageView& msg) {
  if (c.session.caller.privileged || !ops::changes_store(msg.hdr.type) ||
      !store_.has_open_transactions())
    return;
  c.writes.debit(WriteLimit::Clock::now());
}

// The soft memory quota (-q memory=N): see SoftMemoryNotice.
void Server::note_soft_memory(Client& c, const ConnLoad& load) {
  if (load.privileged) return;
  std::size_t soft = quota_for(c).soft_memory;
  if (c.soft_memory.crossed(load.used, soft))
    spdlog::warn("dom{} uses {} bytes, over its soft memory quota of {}",
                 c.session.caller.dom.value, load.used, soft);
}

void Server::retry_throttled() {
  if (!clients_.any_throttled()) return;
  auto now = WriteLimit::Clock::now();
  for (ConnId id : clients_.take_throttled()) {
    Client* c = clients_.find_open(id);
    if (!c) continue;
    if (!c->writes.has_credit(now))
      clients_.throttle(id);
    else if (c->ring)
      clients_.kick(id);
    else
      serve(*c);
  }
  run_kicks();
}

// The watch-event quota (-w watch-event=SECONDS): events a guest has left
// unread that long are dropped, so a guest that never reads cannot make
// the daemon hold events without bound.
void Server::expire_events() {
  auto now = std::chrono::steady_clock::now();
  if (opts_.watch_event_timeout == 0 ||
      now - last_expiry_ < std::chrono::seconds(1))
    return;
  last_expiry_ = now;
  auto cutoff = now - std::chrono::seconds(opts_.watch_event_timeout);
  for (auto& [id, c] : clients_) {
    if (c.session.caller.privileged || !c.conn->has_output()) continue;
    if (std::size_t n = c.conn->drop_events_before(cutoff))
      spdlog::warn("conn {} (dom {}): {} unread watch events expired",
                   id.value, c.session.caller.dom.value, n);
  }
}

void Server::accept_clients() {
  for (;;) {
    transport::Accepted a = listener_.accept();
    switch (a.status) {
      case transport::AcceptStatus::kAccepted:
        add_socket_client(std::move(a.fd));
        continue;
      case transport::AcceptStatus::kClientGone:
        continue;
      case transport::AcceptStatus::kNoneWaiting:
        resume_accepting();
        return;
      case transport::AcceptStatus::kNoResource:
        pause_accepting(a.reason);
        return;
    }
  }
}

void Server::add_socket_client(UniqueFd fd) {
  int raw = fd.get();
  ConnId id = clients_.new_id();
  auto transport = std::make_unique<transport::SocketTransport>(std::move(fd));
  // A socket peer is the toolstack in the control domain: privileged.
  Client c{std::make_unique<transport::Connection>(id, std::move(transport),
                                                   io_buffers_),
           ops::Session{id, store::Caller{master_domid_, true, std::nullopt}}};
  // Refused (ENOSPC past fs.epoll.max_user_watches, ENOMEM): the client
  // could never be served, so it goes now, closed with its Connection.
  if (!loop_.add(raw, id.value, true, false)) {
    spdlog::warn("conn {}: socket connection closed: cannot be polled",
                 id.value);
    return;
  }
  clients_.add(std::move(c));
  if (trace_.active()) trace_.note(id, "new socket connection");
  spdlog::debug("conn {}: socket connected", id.value);
}

// Out of descriptors: the waiting clients keep the listener readable, so
// it leaves the poll set until retry_accept() finds room (accept_pause.h).
void Server::pause_accepting(const char* why) {
  if (!accept_pause_.paused()) loop_.remove(listener_.fd());
  auto line = accept_pause_.failed(listener_.path(), why ? why : "?",
                                   AcceptPause::Clock::now());
  if (line) spdlog::warn("{}", *line);
}

void Server::resume_accepting() {
  if (!accept_pause_.paused()) return;
  // Still out of the poll set if this fails: the timed retries go on.
  if (!loop_.add(listener_.fd(), kListenerToken, true, false)) return;
  auto line =
      accept_pause_.resumed(listener_.path(), AcceptPause::Clock::now());
  if (line) spdlog::info("{}", *line);
}

// While paused: as soon as a connection has gone (its descriptor is free),
// else every AcceptPause::kRetry for descriptors freed elsewhere.
void Server::retry_accept(bool fd_freed) {
  if (!accept_pause_.paused()) return;
  if (fd_freed || AcceptPause::Clock::now() >= accept_pause_.retry_at())
    accept_clients();
}

void Server::on_signal() {
  signalfd_siginfo si;
  while (::read(signal_fd_.get(), &si, sizeof si) == sizeof si) {
    if (si.ssi_signo == SIGHUP) {
      spdlog::info("SIGHUP: reopening trace file");
      trace_.reopen();
    } else {
      spdlog::info("signal {}: shutting down", si.ssi_signo);
      stopping_ = true;
    }
  }
}

void Server::serve(Client& c) {
  if (serve_requests(c)) update_interest(c);
}

// The replies of every connection served in a turn leave after all of them
// are served: each send wakes a client, and a client woken while the daemon
// still has others to serve preempts it. Measured with 8 clients sharing
// the daemon's CPU: 0.38 involuntary context switches per request when each
// client's replies left as soon as it was served, 0.15 now (the echo server,
// sending as it goes: 0.25), and 6.3 -> 5.4 us of daemon CPU per request.
void Server::send_served() {
  for (ConnId id : clients_.served_list())
    if (Client* c = clients_.find_open(id)) update_interest(*c);
  clients_.clear_served();
}

bool Server::serve_requests(Client& c) {
  transport::Connection& conn = *c.conn;
  if (c.stalled || c.holding) return false;
  conn.new_turn();
  // The connection's figures are taken once per request, after it: the
  // soft quota's notice, the gate and the next request's memory check all
  // use them.
  ConnLoad load = load_of(c);
  while (!conn.closing() && daemon::may_read_more(load, quota_for(c))) {
    auto msg = conn.next_request();
    if (!msg) break;
    if (hold_for_live_update(c, *msg)) break;
    handle(c, *msg, load.held);
    debit_write(c, *msg);
    load = load_of(c);
    note_soft_memory(c, load);
  }
  if (!c.session.caller.privileged &&
      !c.writes.has_credit(WriteLimit::Clock::now()))
    clients_.throttle(conn.id());
  transport::Fault fault = conn.fault();
  if (fault == transport::Fault::kProtocol ||
      fault == transport::Fault::kRingIndex ||
      fault == transport::Fault::kNoMemory) {
    flush(c);
    spdlog::warn("conn {} ({}, dom {}): {}: connection no longer served",
                 conn.id().value, conn.transport().kind(),
                 c.session.caller.dom.value, transport::fault_name(fault));
    if (conn.transport().on_protocol_fault(fault))
      close_client(c, transport::fault_name(fault));
    else
      c.stalled = true;
    return false;
  }
  if (fault != transport::Fault::kNone) {
    close_client(c, transport::fault_name(fault));
    return false;
  }
  return true;
}

// Writes what can go now; a ring kicks its guest once for the batch.
void Server::flush(Client& c) {
  transport::Connection& conn = *c.conn;
  bool ok = conn.flush();
  conn.transport().end_batch();
  if (!ok) {
    if (c.ring) {
      if (!conn.transport().on_protocol_fault(conn.fault())) c.stalled = true;
      return;
    }
    close_client(c, transport::fault_name(conn.fault()));
  }
}

void Server::handle(Client& c, const wire::MessageView& msg, std::size_t held) {
  if (trace_.active()) trace_.request(c.conn->id(), msg.hdr, msg.payload);
  if (!c.session.caller.privileged) c.session.caller.held_bytes = held;
  ops::Ctx ctx{store_, watches_, c.session, quota_for(c), this};
  ops::Request req{msg.hdr, msg.payload};
  handling_ = &msg.hdr;
  reply_deferred_ = false;
  Result<ops::Reply> result = ops::dispatch(ctx, req);
  handling_ = nullptr;
  if (msg.hdr.type ==
          static_cast<std::uint32_t>(wire::MsgType::XS_TRANSACTION_START) ||
      msg.hdr.type ==
          static_cast<std::uint32_t>(wire::MsgType::XS_TRANSACTION_END))
    note_transactions(c);
  if (!result)
    spdlog::debug("conn {}: {} req {} -> {}", c.conn->id().value,
                  wire::msg_type_name(msg.hdr.type), msg.hdr.req_id,
                  xs_error_name(result.error()));
  // The events a request causes are queued before its reply (C's order).
  if (!ctx.events.empty()) deliver(ctx.events);
  // A live update's -s is answered by the daemon that takes over.
  if (reply_deferred_ && result) return;
  sender_.send_reply(*c.conn, msg.hdr, result);
  for (const auto& ev : ctx.direct_events)
    sender_.send_event(*c.conn, ev.path, ev.token, event_bound_of(c));
}

// Since when a connection has had a transaction open (see Client::ta_start).
void Server::note_transactions(Client& c) {
  bool open = store_.transaction_count(c.conn->id()) != 0;
  if (!open)
    c.ta_start.reset();
  else if (!c.ta_start)
    c.ta_start = std::chrono::steady_clock::now();
}

// Every event is queued first and each connection written once at the
// end: a write firing 1000 watches on 10 connections makes 10 sends, not
// 1000.
void Server::deliver(const store::EventSink& events) {
  std::vector<Client*> written;
  for (const store::Event& ev : events) {
    watches_.match(ev, [&](const store::WatchRecord& w, std::string_view path) {
      Client* open = clients_.find_open(w.conn());
      if (!open) return;
      Client& target = *open;
      if (target.stalled || !store::may_see(target.session.caller, ev)) return;
      if (!sender_.send_event(*target.conn, path, w.token(),
                              event_bound_of(target)))
        return;
      if (!target.has_new_events) written.push_back(&target);
      target.has_new_events = true;
    });
  }
  for (Client* target : written) {
    target->has_new_events = false;
    if (!target->want_write) update_interest(*target);
  }
}

std::size_t Server::event_bound_of(const Client& c) const noexcept {
  return event_bound(memory_load(c), quota_for(c));
}

std::size_t Server::memory_held(const Client& c) const noexcept {
  return charged_to(*c.conn, store_, watches_);
}

ConnLoad Server::memory_load(const Client& c) const noexcept {
  return daemon::memory_load(*c.conn, c.session.caller, store_, watches_);
}

ConnLoad Server::load_of(const Client& c) const noexcept {
  ConnLoad load = memory_load(c);
  if (!load.privileged)
    load.has_write_credit = c.writes.has_credit(WriteLimit::Clock::now());
  return load;
}

const store::Quota& Server::quota_for(const Client& c) const noexcept {
  // Privileged callers are held to no quota.
  if (c.session.caller.privileged) return quotas_.defaults();
  return quotas_.of(c.session.caller.dom);
}

bool Server::may_read_more(const Client& c) const noexcept {
  return daemon::may_read_more(load_of(c), quota_for(c));
}

void Server::update_interest(Client& c) {
  transport::Connection& conn = *c.conn;
  if (conn.closing() || c.stalled) return;
  if (conn.has_output()) {
    flush(c);
    if (conn.closing() || c.stalled) return;
  }
  // A connection holding a TRANSACTION_START for a live update is not
  // read until the update happens or is given up (end_live_update).
  bool want_read = !c.holding && may_read_more(c);
  bool want_write = conn.has_output();
  // Requests already read off the fd while flow control held them: no
  // readiness will come for those bytes, so once there is room again ask
  // for the next turn to serve them (a socket is writable at once; a ring
  // is kicked).
  if (want_read && conn.has_buffered_input()) {
    if (c.ring)
      clients_.kick(conn.id());
    else
      want_write = true;
  }
  if (want_read == c.want_read && want_write == c.want_write) return;
  c.want_read = want_read;
  c.want_write = want_write;
  int fd = conn.transport().poll_fd();
  // A connection whose interest cannot change would wait for readiness
  // that never comes (or spin on readiness it cannot clear): close it.
  if (fd >= 0 && !loop_.modify(fd, conn.id().value, want_read, want_write)) {
    spdlog::warn("conn {} (dom {}): closed: cannot change its poll interest",
                 conn.id().value, c.session.caller.dom.value);
    close_client(c, "epoll_ctl failed");
  }
}

void Server::close_client(Client& c, std::string_view why) {
  if (!clients_.mark_closing(c)) return;
  spdlog::debug("conn {}: closing ({})", c.conn->id().value, why);
  if (trace_.active()) trace_.note(c.conn->id(), why);
}

// Destroys the connections marked closing, with their watches and
// transactions, at the end of the loop turn (nothing refers to them then).
// True if any went.
bool Server::reap() {
  std::vector<ConnId> closing = clients_.take_closing();
  for (ConnId id : closing) {
    Client* c = clients_.find(id);
    if (!c) continue;
    // As in C, the session belongs to the requester's connection.
    if (lu_ && lu_->owner == id) {
      spdlog::info("live update: requester gone, session closed");
      end_live_update(std::nullopt);
    }
    int fd = c->conn->transport().poll_fd();
    if (fd >= 0) loop_.remove(fd);
    trim_.freed(watches_.bytes(id) + store_.transaction_bytes(id));
    watches_.remove_all(id);
    store_.drop_transactions(id);
    clients_.erase(id);
  }
  return !closing.empty();
}


}  // namespace cxs::daemon

// The server's side of domains: INTRODUCE, RELEASE and the other domain
// requests (ops::DaemonHooks), connecting a domain's ring, and death
// detection on VIRQ_DOM_EXC. The table itself is Domains (domains.h); a
// domain's ring connection is a Client like a socket's (clients.h), owning its
// DomainRing, and the domain's record names it by ConnId.
#include <new>

#include <spdlog/spdlog.h>

#include "cxenstored/features.h"
#include "daemon/server.h"
#include "store/path.h"

namespace cxs::daemon {
void Server::init_hypervisor() {
  auto virq = hv_->events->bind_dom_exc_virq();
  if (!virq) throw std::runtime_error("cannot bind VIRQ_DOM_EXC");
  virq_port_ = *virq;
  auto ring = hv_->rings->map_dom0();
  std::optional<xen::Port> port =
      opts_.event_port ? std::optional<xen::Port>(*opts_.event_port)
                       : hv_->rings->dom0_port();
  if (!ring || !port) {
    spdlog::warn("no ring for dom0 (xsd_kva/xsd_port): dom0 uses the socket");
    return;
  }
  Status s = attach_domain(master_domid_, std::move(ring), *port);
  if (!s) throw std::runtime_error("cannot connect dom0's ring");
  // A local-xenstored dom0 kernel defers its xenbus probe (backend drivers,
  // control/feature-* nodes) until the first event on this port, as the C
  // daemon's dom0_init() knows: tell it the store is up.
  domains_.notify(master_domid_);
  spdlog::info("dom{} introduced from its xsd_kva ring", master_domid_.value);
}

// All or nothing: if the domain cannot be connected (out of memory), its
// channel is unbound again and its ring unmapped.
Status Server::attach_domain(DomId dom, std::unique_ptr<xen::MappedRing> ring,
                             xen::Port remote) {
  auto port = domains_.bind(dom, remote);
  if (!port) return port.error();
  // What the domain may use is kept here, not read back from its page: a
  // guest can write any bits into its own server_features field.
  std::uint32_t features = domains_.preset_features(dom);
  ring->page()->server_features = features;
  try {
    attach_bound_domain(dom, std::move(ring), *port, features);
  } catch (const std::bad_alloc&) {
    domains_.unbind(*port);
    throw;
  }
  return {};
}

// All or nothing: what allocates comes before anything is registered.
// (A new id is taken even if this fails: ids need not be dense.)
void Server::attach_bound_domain(DomId dom,
                                 std::unique_ptr<xen::MappedRing> ring,
                                 xen::Port local, std::uint32_t features,
                                 std::optional<ConnId> id) {
  ConnId conn = id ? *id : clients_.new_id();
  auto transport = std::make_unique<DomainRing>(
      std::move(ring), [this, dom] { domains_.notify(dom); });
  DomainRing* raw = transport.get();
  bool privileged = dom == priv_domid_ || dom == master_domid_;
  Client c{std::make_unique<transport::Connection>(conn, std::move(transport),
                                                   io_buffers_),
           ops::Session{conn, store::Caller{dom, privileged, std::nullopt}}};
  c.want_read = false;  // rings have no fd in epoll
  c.ring = raw;
  c.stalled = !raw->mapped();
  clients_.reserve_kick();
  bool fresh = clients_.add(std::move(c)).second;
  try {
    domains_.add(Domain{dom, local, conn, false, features});
  } catch (const std::bad_alloc&) {
    if (fresh) clients_.erase(conn);
    throw;
  }
  if (raw->mapped())
    clients_.kick(conn);  // the guest may have written before we looked
  if (trace_.active()) trace_.note(conn, "domain ring connected");
  spdlog::info("dom{}: ring connected (conn {}, port {})", dom.value,
               conn.value, local);
}

Client* Server::client_of(const Domain& d) noexcept {
  return clients_.find(d.conn);
}

bool Server::is_domain_introduced(DomId dom) const noexcept {
  if (!hv_) return dom == master_domid_;
  return domains_.known(dom);
}

bool Server::domain_exists(DomId dom) const noexcept {
  if (!hv_ || dom == master_domid_ || dom == priv_domid_ || domains_.known(dom))
    return true;
  auto state = hv_->domains->query(dom);
  return state && !state->dying;
}

Status Server::introduce(DomId dom, std::uint64_t gfn, std::uint32_t port,
                         store::EventSink& events) noexcept {
  // No exception may leave this hook (noexcept): out of memory is a
  // refusal.
  try {
    if (!hv_) return XsErr::kEINVAL;  // standalone: no hypervisor to map rings
    if (Domain* known = domains_.find(dom)) {
      // Known domain: only the event channel is re-bound (after resume).
      clients_.reserve_kick();
      domains_.rebind(*known, port);
      clients_.kick(known->conn);
      return {};
    }
    auto ring = hv_->rings->map_domain(dom, gfn);
    if (!ring) {
      spdlog::warn("dom{}: cannot map ring (gfn {})", dom.value, gfn);
      return XsErr::kEINVAL;
    }
    // The event and room for it first: once the domain is connected
    // nothing may fail (as detach_domain does for @releaseDomain).
    store::Event introduced = special_event("@introduceDomain", std::nullopt);
    events.reserve(events.size() + 1);
    CXS_TRY(attach_domain(dom, std::move(ring), port));
    domains_.find(dom)->gfn = gfn;
    events.push_back(std::move(introduced));
    return {};
  } catch (const std::bad_alloc&) {
    return XsErr::kENOMEM;
  }
}

Status Server::release(DomId dom, store::EventSink& events) noexcept {
  if (!hv_ || !domains_.known(dom) || dom == master_domid_)
    return XsErr::kENOENT;
  try {
    detach_domain(dom, events);
  } catch (const std::bad_alloc&) {
    return XsErr::kENOMEM;  // detach_domain changed nothing
  }
  return {};
}

Status Server::resume(DomId dom) noexcept {
  Domain* d = domains_.find(dom);
  if (!d) return XsErr::kENOENT;
  d->shutdown_reported = false;
  return {};
}

Status Server::set_target(DomId dom, DomId target) noexcept {
  Domain* d = domains_.find(dom);
  if (!d || !domains_.known(target)) return XsErr::kENOENT;
  if (Client* c = client_of(*d)) c->session.caller.target = target;
  return {};
}

// The domain's connection goes (with its watches and transactions), the
// nodes it owns go (or pass to dom0 with -K), and @releaseDomain fires.
// All or nothing: what can fail (allocations) comes first, the store's
// part being all or nothing itself; std::bad_alloc leaves all as it was.
void Server::detach_domain(DomId dom, store::EventSink& events) {
  Domain* d = domains_.find(dom);
  if (!d) return;
  store::Event released = special_event("@releaseDomain", dom);
  clients_.reserve_closing();
  std::optional<DomId> heir;
  if (opts_.keep_orphans) heir = priv_domid_;
  store_.forget_domain(dom, heir, events);  // leaves room for one event
  if (Client* c = client_of(*d)) close_client(*c, "domain released");
  domains_.remove(dom);
  quotas_.forget(dom);  // a later domain with this id starts afresh
  events.push_back(std::move(released));
  spdlog::info("dom{}: released", dom.value);
}

// "@introduceDomain", or "@releaseDomain/<domid>" (watchers of the bare
// path see the bare path; see WatchIndex::match).
void Server::fire_special(std::string_view base, std::optional<DomId> dom,
                          store::EventSink& events) {
  events.push_back(special_event(base, dom));
}

store::Event Server::special_event(std::string_view base,
                                   std::optional<DomId> dom) const {
  std::string path(base);
  if (dom) {
    // Two appends: GCC 12 at -O3 misreads `"/" + to_string()` (-Wrestrict).
    path += '/';
    path += std::to_string(dom->value);
  }
  store::NodeView holder = store_.tree().find(base);
  store::SharedPerms perms = holder ? holder.perms() : store::SharedPerms{};
  return store::Event{std::move(path), false, std::move(perms), {}};
}

void Server::on_event_channel() {
  for (xen::Port port : hv_->events->take_pending()) {
    if (virq_port_ && port == *virq_port_) {
      check_domains();
      continue;
    }
    if (Domain* d = domains_.by_port(port))
      if (Client* c = client_of(*d)) on_ring_kick(*c);
  }
}

void Server::on_ring_kick(Client& c) {
  if (c.conn->closing()) return;
  if (c.ring && c.ring->reconnect_requested() &&
      (domains_.features_of(c.session.caller.dom) & kFeatureReconnection)) {
    // Reset on a packet boundary: nothing of the old session survives.
    watches_.remove_all(c.conn->id());
    store_.drop_transactions(c.conn->id());
    c.conn->reset_io();
    c.stalled = false;
    c.ring->finish_reconnect();
    spdlog::info("dom{}: ring reconnected", c.session.caller.dom.value);
    return;
  }
  flush(c);
  serve(c);
}

namespace {

// Whether `dom` owns a node or has a permission entry not marked ignored:
// what it could use if another domain were given its id.
bool granted_anything(const store::Tree& tree, DomId dom) {
  bool found = false;
  tree.for_each_node([&](store::NodeView n, const auto&) {
    if (found) return;
    const PermList& perms = n.perms().list();
    for (std::size_t i = 0; i < perms.size() && !found; ++i)
      found =
          perms[i].dom == dom && (i == 0 || !(perms[i].bits & kPermIgnored));
  });
  return found;
}

}  // namespace

// VIRQ_DOM_EXC says some domain changed state; ask about each known one.
// Around a live update (before the dump, after the restore), a domain named
// only by ignored entries (it did not exist when they were set) is left
// alone: they grant nothing, and the update must not change what GET_PERMS
// lists.
void Server::check_domains(bool live_update) {
  store::EventSink events;
  std::vector<DomId> gone;
  domains_.for_each([&](Domain& d) {
    if (d.id == master_domid_) return;
    auto state = hv_->domains->query(d.id);
    if (!state || state->dying) {
      gone.push_back(d.id);
    } else if (state->shutdown && !d.shutdown_reported) {
      d.shutdown_reported = true;
      fire_special("@releaseDomain", d.id, events);
    }
  });
  // Out of memory, a dead domain stays until the next VIRQ_DOM_EXC asks
  // again (nothing of it has changed): the daemon goes on.
  for (DomId dom : gone) {
    try {
      detach_domain(dom, events);
    } catch (const std::bad_alloc&) {
      spdlog::error("dom{}: out of memory releasing it; tried again later",
                    dom.value);
    }
  }
  // Domains named in permissions that were never introduced die too; what
  // they were granted must not pass to a later domain with their id
  // (XSA-322/417).
  std::optional<DomId> heir;
  if (opts_.keep_orphans) heir = priv_domid_;
  for (DomId dom : store_.tree().referenced_domains()) {
    if (domains_.known(dom) || dom == master_domid_ || dom == priv_domid_ ||
        dom.value >= kDomidFirstReserved)
      continue;
    auto state = hv_->domains->query(dom);
    if (state && !state->dying) continue;
    if (live_update && !granted_anything(store_.tree(), dom)) continue;
    try {
      store_.forget_domain(dom, heir, events);
    } catch (const std::bad_alloc&) {
      spdlog::error("dom{}: out of memory forgetting it; tried again later",
                    dom.value);
    }
  }
  deliver(events);
}

Result<std::size_t> Server::get_quota(std::optional<DomId> dom,
                                      std::string_view name) noexcept {
  if (dom && !is_domain_introduced(*dom)) return XsErr::kENOENT;
  return quotas_.get(dom, name);
}

Status Server::set_quota(std::optional<DomId> dom, std::string_view name,
                         std::size_t value) noexcept {
  if (dom && !is_domain_introduced(*dom)) return XsErr::kENOENT;
  // No exception may leave this hook (noexcept): out of memory is a
  // refusal.
  try {
    CXS_TRY(quotas_.set(dom, name, value));
    spdlog::info("quota {} set to {} for {}", name, value,
                 dom ? "dom" + std::to_string(dom->value) : "all domains");
    return {};
  } catch (const std::bad_alloc&) {
    return XsErr::kENOMEM;
  }
}

Result<std::uint32_t> Server::get_feature(std::optional<DomId> dom) noexcept {
  if (!dom) return kServerFeatures;
  return domains_.features_of(*dom);
}

// Only before INTRODUCE: a ring's advertised features never shrink.
Status Server::set_feature(DomId dom, std::uint32_t value) noexcept {
  // No exception may leave this hook (noexcept): out of memory is a
  // refusal.
  try {
    return domains_.preset(dom, value);
  } catch (const std::bad_alloc&) {
    return XsErr::kENOMEM;
  }
}

void Server::run_kicks() {
  for (ConnId id : clients_.take_kicks())
    if (Client* c = clients_.find(id)) on_ring_kick(*c);
}

}  // namespace cxs::daemon

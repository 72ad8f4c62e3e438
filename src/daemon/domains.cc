// Domains: the rings of introduced guests (and dom0's own), their event
// channels, and death detection on VIRQ_DOM_EXC. A domain's ring connection
// lives in clients_ like a socket's; a domain record names it by ConnId.
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
  hv_->events->notify(domains_[master_domid_].port);
  spdlog::info("dom{} introduced from its xsd_kva ring", master_domid_.value);
}

Status Server::attach_domain(DomId dom, std::unique_ptr<xen::MappedRing> ring,
                             xen::Port remote) {
  auto port = hv_->events->bind_interdomain(dom, remote);
  if (!port) {
    spdlog::warn("dom{}: cannot bind event channel {}", dom.value, remote);
    return XsErr::kEINVAL;
  }
  // What the domain may use is kept here, not read back from its page: a
  // guest can write any bits into its own server_features field.
  std::uint32_t features = preset_features(dom);
  ring->page()->server_features = features;
  attach_bound_domain(dom, std::move(ring), *port, features);
  return {};
}

ConnId Server::attach_bound_domain(DomId dom,
                                   std::unique_ptr<xen::MappedRing> ring,
                                   xen::Port local, std::uint32_t features,
                                   std::optional<ConnId> id) {
  ConnId conn = id ? *id : ConnId{next_conn_++};
  std::unique_ptr<transport::Transport> transport;
  transport::RingTransport* raw = nullptr;
  if (ring) {
    auto rt = std::make_unique<transport::RingTransport>(
        ring->page(), [this, dom] {
          auto it = domains_.find(dom);
          if (it != domains_.end() && it->second.port)
            hv_->events->notify(it->second.port);
        });
    raw = rt.get();
    transport = std::move(rt);
  } else {
    transport = std::make_unique<transport::UnmappedRing>();
  }
  bool privileged = dom == priv_domid_ || dom == master_domid_;
  Client c{std::make_unique<transport::Connection>(conn, std::move(transport)),
           ops::Session{conn, store::Caller{dom, privileged, std::nullopt}}};
  c.want_read = false;  // rings have no fd in epoll
  c.ring = raw;
  c.stalled = raw == nullptr;
  clients_.emplace(conn, std::move(c));
  Domain d{dom, local, std::move(ring), conn, false, features};
  domains_[dom] = std::move(d);
  if (local) by_port_[local] = dom;
  if (raw) kicks_.push_back(conn);  // the guest may have written before we looked
  if (trace_.active()) trace_.note(conn, "domain ring connected");
  spdlog::info("dom{}: ring connected (conn {}, port {})", dom.value,
               conn.value, local);
  return conn;
}

Server::Client* Server::client_of(const Domain& d) noexcept {
  auto it = clients_.find(d.conn);
  return it == clients_.end() ? nullptr : &it->second;
}

bool Server::is_domain_introduced(DomId dom) const noexcept {
  if (!hv_) return dom == master_domid_;
  return domains_.count(dom) != 0;
}

bool Server::domain_exists(DomId dom) const noexcept {
  if (!hv_ || dom == master_domid_ || dom == priv_domid_ ||
      domains_.count(dom))
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
    auto it = domains_.find(dom);
    if (it != domains_.end()) {
      // Known domain: only the event channel is re-bound (after resume).
      Domain& d = it->second;
      by_port_.erase(d.port);
      hv_->events->unbind(d.port);
      auto bound = hv_->events->bind_interdomain(dom, port);
      d.port = bound ? *bound : 0;
      if (bound) by_port_[*bound] = dom;
      kicks_.push_back(d.conn);
      return {};
    }
    auto ring = hv_->rings->map_domain(dom, gfn);
    if (!ring) {
      spdlog::warn("dom{}: cannot map ring (gfn {})", dom.value, gfn);
      return XsErr::kEINVAL;
    }
    CXS_TRY(attach_domain(dom, std::move(ring), port));
    domains_[dom].gfn = gfn;
    fire_special("@introduceDomain", std::nullopt, events);
    return {};
  } catch (const std::bad_alloc&) {
    return XsErr::kENOMEM;
  }
}

Status Server::release(DomId dom, store::EventSink& events) noexcept {
  if (!hv_ || !domains_.count(dom) || dom == master_domid_)
    return XsErr::kENOENT;
  try {
    detach_domain(dom, events);
  } catch (const std::bad_alloc&) {
    return XsErr::kENOMEM;  // detach_domain changed nothing
  }
  return {};
}

Status Server::resume(DomId dom) noexcept {
  auto it = domains_.find(dom);
  if (it == domains_.end()) return XsErr::kENOENT;
  it->second.shutdown_reported = false;
  return {};
}

Status Server::set_target(DomId dom, DomId target) noexcept {
  auto it = domains_.find(dom);
  if (it == domains_.end() || !domains_.count(target)) return XsErr::kENOENT;
  if (Client* c = client_of(it->second)) c->session.caller.target = target;
  return {};
}

// The domain's connection goes (with its watches and transactions), the
// nodes it owns go (or pass to dom0 with -K), and @releaseDomain fires.
// All or nothing: what can fail (allocations) comes first, the store's
// part being all or nothing itself; std::bad_alloc leaves all as it was.
void Server::detach_domain(DomId dom, store::EventSink& events) {
  auto it = domains_.find(dom);
  if (it == domains_.end()) return;
  store::Event released = special_event("@releaseDomain", dom);
  closing_.reserve(closing_.size() + 1);
  std::optional<DomId> heir;
  if (opts_.keep_orphans) heir = priv_domid_;
  store_.forget_domain(dom, heir, events);  // leaves room for one event
  Domain& d = it->second;
  if (Client* c = client_of(d)) close_client(*c, "domain released");
  by_port_.erase(d.port);
  if (d.port) hv_->events->unbind(d.port);
  domains_.erase(it);
  quotas_.forget(dom);
  preset_features_.erase(dom);
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
    auto it = by_port_.find(port);
    if (it == by_port_.end()) continue;
    auto d = domains_.find(it->second);
    if (d == domains_.end()) continue;
    if (Client* c = client_of(d->second)) on_ring_kick(*c);
  }
}

void Server::on_ring_kick(Client& c) {
  if (c.conn->closing()) return;
  if (c.ring && c.ring->reconnect_requested() &&
      (domain_features(c.session.caller.dom) & kFeatureReconnection)) {
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
      found = perms[i].dom == dom &&
              (i == 0 || !(perms[i].bits & kPermIgnored));
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
  for (auto& [dom, d] : domains_) {
    if (dom == master_domid_) continue;
    auto state = hv_->domains->query(dom);
    if (!state || state->dying) {
      gone.push_back(dom);
    } else if (state->shutdown && !d.shutdown_reported) {
      d.shutdown_reported = true;
      fire_special("@releaseDomain", dom, events);
    }
  }
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
    if (domains_.count(dom) || dom == master_domid_ || dom == priv_domid_ ||
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
  return domain_features(*dom);
}

// What a domain was given, never what its page says (the guest writes it).
std::uint32_t Server::domain_features(DomId dom) const noexcept {
  auto it = domains_.find(dom);
  return it != domains_.end() ? it->second.features : preset_features(dom);
}

std::uint32_t Server::preset_features(DomId dom) const noexcept {
  auto preset = preset_features_.find(dom);
  return preset == preset_features_.end() ? kServerFeatures : preset->second;
}

// Only before INTRODUCE: a ring's advertised features never shrink.
Status Server::set_feature(DomId dom, std::uint32_t value) noexcept {
  // No exception may leave this hook (noexcept): out of memory is a
  // refusal.
  try {
    if (value & ~kServerFeatures) return XsErr::kEINVAL;
    if (domains_.count(dom)) return XsErr::kEBUSY;
    preset_features_[dom] = value;
    return {};
  } catch (const std::bad_alloc&) {
    return XsErr::kENOMEM;
  }
}

void Server::run_kicks() {
  std::vector<ConnId> kicks;
  kicks.swap(kicks_);
  for (ConnId id : kicks) {
    auto it = clients_.find(id);
    if (it != clients_.end()) on_ring_kick(it->second);
  }
}

}  // namespace cxs::daemon

#include "daemon/domains.h"

#include <new>

#include <spdlog/spdlog.h>

namespace cxs::daemon {

Domain* Domains::find(DomId dom) noexcept {
  auto it = table_.find(dom);
  return it == table_.end() ? nullptr : &it->second;
}

const Domain* Domains::find(DomId dom) const noexcept {
  auto it = table_.find(dom);
  return it == table_.end() ? nullptr : &it->second;
}

Domain* Domains::by_port(xen::Port port) noexcept {
  auto it = by_port_.find(port);
  return it == by_port_.end() ? nullptr : find(it->second);
}

Result<xen::Port> Domains::bind(DomId dom, xen::Port remote) noexcept {
  if (!events_) return XsErr::kEINVAL;
  auto port = events_->bind_interdomain(dom, remote);
  if (!port) {
    spdlog::warn("dom{}: cannot bind event channel {}", dom.value, remote);
    return XsErr::kEINVAL;
  }
  return *port;
}

void Domains::unbind(xen::Port local) noexcept {
  if (events_ && local) events_->unbind(local);
}

void Domains::notify(DomId dom) noexcept {
  const Domain* d = find(dom);
  if (events_ && d && d->port) events_->notify(d->port);
}

Domain& Domains::add(const Domain& d) {
  auto [it, fresh] = table_.insert_or_assign(d.id, d);
  if (!d.port) return it->second;
  try {
    by_port_[d.port] = d.id;
  } catch (const std::bad_alloc&) {
    if (fresh) table_.erase(it);
    throw;
  }
  return it->second;
}

void Domains::rebind(Domain& d, xen::Port remote) noexcept {
  // The old binding is dead after a resume: it goes first, so that the
  // guest's new port can be bound even where it is the same number.
  by_port_.erase(d.port);
  unbind(d.port);
  d.port = 0;
  auto local = bind(d.id, remote);
  if (!local) return;
  try {
    by_port_[*local] = d.id;
    d.port = *local;
  } catch (const std::bad_alloc&) {
    spdlog::error("dom{}: out of memory rebinding its event channel",
                  d.id.value);
    unbind(*local);
  }
}

void Domains::remove(DomId dom) noexcept {
  auto it = table_.find(dom);
  if (it != table_.end()) {
    by_port_.erase(it->second.port);
    unbind(it->second.port);
    table_.erase(it);
  }
  presets_.erase(dom);
}

std::uint32_t Domains::features_of(DomId dom) const noexcept {
  const Domain* d = find(dom);
  return d ? d->features : preset_features(dom);
}

std::uint32_t Domains::preset_features(DomId dom) const noexcept {
  auto it = presets_.find(dom);
  return it == presets_.end() ? kServerFeatures : it->second;
}

Status Domains::preset(DomId dom, std::uint32_t features) {
  if (features & ~kServerFeatures) return XsErr::kEINVAL;
  if (known(dom)) return XsErr::kEBUSY;
  presets_[dom] = features;
  return {};
}

}  // namespace cxs::daemon

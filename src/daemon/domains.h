// Domains: the table of domains the daemon knows (introduced, or dom0 at
// start-up), by id and by the local port of their event channel, and the
// ring features each was given or will be given (SET_FEATURE before
// INTRODUCE). It binds and unbinds the event channels; the ring
// connections themselves are the server's, named here by ConnId (a
// connection outlives its domain's record until the end of the loop turn;
// see DomainRing).
#pragma once

#include <cstdint>
#include <unordered_map>

#include "cxenstored/features.h"
#include "cxenstored/ids.h"
#include "cxenstored/result.h"
#include "xen/hypervisor.h"

namespace cxs::daemon {

struct Domain {
  DomId id;
  xen::Port port = 0;  // our end of its event channel (0: none bound)
  ConnId conn{0};      // its ring connection
  bool shutdown_reported = false;  // @releaseDomain fired for a shutdown
  std::uint32_t features = 0;      // the ring features it was given
  std::uint64_t gfn = 0;           // INTRODUCE's ring frame (mapping fallback)
};

class Domains {
 public:
  // `events` is null without a hypervisor (no channel is ever bound then).
  explicit Domains(xen::EventChannel* events) noexcept : events_(events) {}
  Domains(const Domains&) = delete;
  Domains& operator=(const Domains&) = delete;

  Domain* find(DomId dom) noexcept;
  const Domain* find(DomId dom) const noexcept;
  // The domain whose channel fired on `port`, if any.
  Domain* by_port(xen::Port port) noexcept;
  bool known(DomId dom) const noexcept { return find(dom) != nullptr; }
  std::size_t size() const noexcept { return table_.size(); }

  // Binds our end of `dom`'s channel to its `remote` port.
  Result<xen::Port> bind(DomId dom, xen::Port remote) noexcept;
  void unbind(xen::Port local) noexcept;
  // Kicks the domain's channel (a ring's notify).
  void notify(DomId dom) noexcept;

  // Registers `d`, whose channel is bound already (d.port, or 0). All or
  // nothing: std::bad_alloc leaves the table as it was (the caller still
  // owns the port then).
  Domain& add(const Domain& d);
  // INTRODUCE of a known domain (after resume): its channel is bound anew
  // to `remote`; d.port is 0 if that fails (logged; as C, INTRODUCE still
  // succeeds: the domain is known, its ring mapped).
  void rebind(Domain& d, xen::Port remote) noexcept;
  // Forgets `dom`: unbinds its channel, drops what SET_FEATURE preset.
  void remove(DomId dom) noexcept;

  // The features `dom` was given, or will be given when introduced.
  std::uint32_t features_of(DomId dom) const noexcept;
  std::uint32_t preset_features(DomId dom) const noexcept;
  // SET_FEATURE: only before INTRODUCE (EBUSY), only known bits (EINVAL).
  // May throw std::bad_alloc, changing nothing.
  Status preset(DomId dom, std::uint32_t features);
  // Live update: a preset the daemon before kept, as it was.
  void restore_preset(DomId dom, std::uint32_t features) {
    presets_[dom] = features;
  }

  template <typename Fn>
  void for_each(Fn&& fn) {
    for (auto& [dom, d] : table_) fn(d);
  }
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const auto& [dom, d] : table_) fn(d);
  }
  // Presets of domains not introduced (the live-update stream's).
  template <typename Fn>
  void for_each_preset(Fn&& fn) const {
    for (const auto& [dom, features] : presets_)
      if (!known(dom)) fn(dom, features);
  }

 private:
  xen::EventChannel* events_;
  std::unordered_map<DomId, Domain> table_;
  std::unordered_map<xen::Port, DomId> by_port_;
  std::unordered_map<DomId, std::uint32_t> presets_;
};

}  // namespace cxs::daemon

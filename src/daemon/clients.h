// Clients: the connection table. Every connection the daemon serves (a
// socket peer, a domain's ring) is a Client, found by its ConnId, which is
// all that anything kept across loop turns holds of it. A connection is
// destroyed only at the end of a loop turn: mark_closing() lists it, the
// server's reap() takes the list (nothing refers to it then).
//
// It also keeps the turn's work lists, each of ConnIds: rings kicked (to
// serve at the end of the turn), connections served (their replies leave
// once every ready one is served) and connections out of write credit (to
// serve again once they have some).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cxenstored/ids.h"
#include "daemon/admission.h"
#include "daemon/domain_ring.h"
#include "daemon/write_limit.h"
#include "ops/context.h"
#include "transport/connection.h"

namespace cxs::daemon {

struct Client {
  std::unique_ptr<transport::Connection> conn;
  ops::Session session;
  bool want_read = true;  // registered interest, to skip needless epoll_ctl
  bool want_write = false;
  // A domain's ring connection: its own transport (else null).
  DomainRing* ring = nullptr;
  bool stalled = false;  // ring in error: not served until reconnection
  WriteLimit writes{};   // XSA-206 rate limit (unprivileged only)
  SoftMemoryNotice soft_memory{};  // -q memory=N crossed, logged once
  bool has_new_events = false;     // queued by the deliver() under way
  bool holding = false;            // a TRANSACTION_START held for a live update
  // Since when it has had a transaction open (none open: unset); a live
  // update waits for these (as C's ta_start_time).
  std::optional<std::chrono::steady_clock::time_point> ta_start{};
};

class Clients {
 public:
  using Map = std::unordered_map<ConnId, Client>;

  // An id never given before (ids are not reused while the daemon runs).
  ConnId new_id() noexcept { return ConnId{next_id_++}; }
  // Live update: the stream's connections took the ids up to `last`.
  void ids_taken_up_to(std::uint64_t last) noexcept { next_id_ = last + 1; }

  Client* find(ConnId id) noexcept {
    auto it = map_.find(id);
    return it == map_.end() ? nullptr : &it->second;
  }
  // The client, unless it is gone or closing.
  Client* find_open(ConnId id) noexcept {
    Client* c = find(id);
    return c && !c->conn->closing() ? c : nullptr;
  }
  // Under its connection's id; if one is there already, that one stays
  // (second: false). May throw std::bad_alloc, changing nothing.
  std::pair<Client*, bool> add(Client c) {
    ConnId id = c.conn->id();
    auto [it, fresh] = map_.emplace(id, std::move(c));
    return {&it->second, fresh};
  }
  void erase(ConnId id) noexcept { map_.erase(id); }
  std::size_t size() const noexcept { return map_.size(); }
  Map::iterator begin() noexcept { return map_.begin(); }
  Map::iterator end() noexcept { return map_.end(); }
  Map::const_iterator begin() const noexcept { return map_.begin(); }
  Map::const_iterator end() const noexcept { return map_.end(); }

  // Marks `c` closing; false if it was already. Room for it can be made
  // beforehand (reserve_closing) where this must not throw.
  bool mark_closing(Client& c) {
    if (c.conn->closing()) return false;
    closing_.push_back(c.conn->id());
    c.conn->mark_closing();
    return true;
  }
  void reserve_closing() { closing_.reserve(closing_.size() + 1); }
  std::vector<ConnId> take_closing() noexcept {
    return std::exchange(closing_, {});
  }

  // A ring to serve at the end of this turn.
  void kick(ConnId id) { kicks_.push_back(id); }
  void reserve_kick() { kicks_.reserve(kicks_.size() + 1); }
  bool kicks_pending() const noexcept { return !kicks_.empty(); }
  std::vector<ConnId> take_kicks() noexcept {
    return std::exchange(kicks_, {});
  }

  // Served in this turn, its replies not yet sent. (The list keeps its
  // capacity from turn to turn: most turns serve someone.)
  void served(ConnId id) { served_.push_back(id); }
  const std::vector<ConnId>& served_list() const noexcept { return served_; }
  void clear_served() noexcept { served_.clear(); }

  // Out of write credit: served again once it has some (listed once).
  void throttle(ConnId id);
  bool any_throttled() const noexcept { return !throttled_.empty(); }
  std::vector<ConnId> take_throttled() noexcept {
    return std::exchange(throttled_, {});
  }

 private:
  Map map_;
  std::uint64_t next_id_ = 1;
  std::vector<ConnId> closing_;
  std::vector<ConnId> kicks_;
  std::vector<ConnId> served_;
  std::vector<ConnId> throttled_;
};

inline void Clients::throttle(ConnId id) {
  for (ConnId t : throttled_)
    if (t == id) return;
  throttled_.push_back(id);
}

}  // namespace cxs::daemon

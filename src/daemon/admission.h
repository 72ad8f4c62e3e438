// Admission: whether the server reads another request from a connection
// now, and how much output it may queue for it. Flow control, never an
// error reply: a client over a bound is simply not read until it catches
// up (its unsent output drains, its write credit returns, ...).
//
// The policy is pure: it reads a ConnLoad, the figures the server takes
// of a connection once per request (memory_load reads them from the
// connection, the store and the watch index), and the quotas in force
// (QuotaTable). It is tested without sockets, rings or threads
// (tests/unit/daemon/admission_test.cc).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "cxenstored/ids.h"
#include "cxenstored/result.h"
#include "store/quota.h"
#include "store/store.h"
#include "store/watches.h"
#include "transport/connection.h"

namespace cxs::daemon {

// A client whose unsent output passes this stops being read until it
// drains: a slow reader cannot make the daemon queue unbounded replies.
inline constexpr std::size_t kReadPauseBytes = std::size_t{64} * 1024;
// Events are dropped (and logged) for a privileged client once its queue
// holds this much (allocation sizes, as the memory quota counts); the
// memory quota bounds unprivileged ones.
inline constexpr std::size_t kPrivilegedQueueBound = std::size_t{64} << 20;

// The quotas in force: the defaults (command line, CONTROL quota set,
// SET_QUOTA without a domain) and each domain's own (SET_QUOTA with one).
class QuotaTable {
 public:
  using Own = std::unordered_map<DomId, store::Quota>;

  explicit QuotaTable(const store::Quota& defaults) : defaults_(defaults) {}

  const store::Quota& defaults() const noexcept { return defaults_; }
  void set_soft_memory(std::size_t bytes) noexcept {
    defaults_.soft_memory = bytes;
  }
  // A domain's own quotas, else the defaults.
  const store::Quota& of(DomId dom) const noexcept {
    // Most requests come from dom0's connections, which own no quota: no
    // hash and division for them while no domain has its own.
    if (own_.empty()) return defaults_;
    auto it = own_.find(dom);
    return it == own_.end() ? defaults_ : it->second;
  }
  // GET_QUOTA / SET_QUOTA by name (EINVAL: no such quota). Without a
  // domain, the defaults. A domain's own quotas start from the defaults
  // in force when the first of them is set; set() may throw bad_alloc
  // then, changing nothing.
  Result<std::size_t> get(std::optional<DomId> dom,
                          std::string_view name) const noexcept;
  Status set(std::optional<DomId> dom, std::string_view name,
             std::size_t value);
  // A released domain's quotas go with it: a later domain with its id
  // starts from the defaults.
  void forget(DomId dom) noexcept { own_.erase(dom); }

  const Own& own() const noexcept { return own_; }
  // Live update: what the daemon before had in force.
  void restore(const store::Quota& defaults, Own own) noexcept {
    defaults_ = defaults;
    own_ = std::move(own);
  }

 private:
  store::Quota defaults_;
  Own own_;
};

// What admission reads of a connection. For a privileged connection only
// `privileged` and `queued_bytes` matter (no quota applies), and the
// memory figures, each a few hash lookups, are left at 0.
struct ConnLoad {
  bool privileged = false;
  std::size_t queued_bytes = 0;     // output not yet written
  std::size_t queued_messages = 0;  // replies and events not yet written
  bool has_output = false;
  // What the connection makes the daemon hold for its queues and input
  // buffers (Connection::held_bytes)...
  std::size_t output_held = 0;
  // ...plus its watches and open transactions: what the memory quota
  // charges the connection itself...
  std::size_t held = 0;
  // ...plus the nodes its domain owns: what the memory quota counts.
  std::size_t used = 0;
  bool has_write_credit = true;  // XSA-206 (write_limit.h)
};

// What the memory quota charges a connection itself, besides the nodes
// its domain owns: its watches, open transactions, queues and buffers,
// each at what it holds (allocation sizes, not payload sizes).
std::size_t charged_to(const transport::Connection& c, const store::Store& st,
                       const store::WatchIndex& watches) noexcept;

// A connection's figures, all but the write credit (left full: where it
// gates reads, the caller reads the clock for it; event_bound does not
// need it).
ConnLoad memory_load(const transport::Connection& c,
                     const store::Caller& caller, const store::Store& st,
                     const store::WatchIndex& watches) noexcept;

// May the server read the connection's next request now? Not while its
// unsent output is over kReadPauseBytes; for an unprivileged domain, not
// while it is out of write credit, at its memory quota with output still
// queued, or with `outstanding` answers it has not taken.
bool may_read_more(const ConnLoad& load, const store::Quota& q) noexcept;

// At or over its hard memory quota with output still queued, a domain is
// not read until it takes its output (which frees memory). Without queued
// output it is read: its requests can free memory (RM, UNWATCH, a
// transaction's end) and those that need more get ENOMEM.
bool over_memory_with_output(const ConnLoad& load,
                             const store::Quota& q) noexcept;

// The most output (Connection::held_bytes) the connection may hold after
// an event is queued: what the memory quota leaves once its nodes,
// watches and transactions are counted. An event past it is dropped (as
// C does), so no one can push a domain over its quota by firing its
// watches. Never 0 (which Connection::queue_event reads as no bound).
std::size_t event_bound(const ConnLoad& load, const store::Quota& q) noexcept;

// The soft memory quota refuses nothing: crossing it is logged once, and
// again only after the domain has come back under it.
class SoftMemoryNotice {
 public:
  // True when `used` has just gone over `soft` (0: no soft quota).
  bool crossed(std::size_t used, std::size_t soft) noexcept {
    bool over = soft != 0 && used > soft;
    bool fresh = over && !over_;
    over_ = over;
    return fresh;
  }

 private:
  bool over_ = false;
};

}  // namespace cxs::daemon

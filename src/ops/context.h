// What a request handler sees: the request, the caller's identity, the store,
// the watch index, the limits in force, and two outboxes (store events to
// match against watches, and events for the caller alone, such as WATCH's
// first event). Handlers never touch a connection; the daemon delivers
// everything after the handler returns. Borrowed for one request only.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "cxenstored/ids.h"
#include "store/event.h"
#include "store/permissions.h"
#include "store/store.h"
#include "store/watches.h"
#include "wire/header.h"
#include "wire/message_type.h"

namespace cxs::ops {

struct Request {
  wire::Header hdr;
  std::string_view payload;
};

// A successful answer; refusals travel as XsErr in Result<Reply>.
struct Reply {
  std::string payload;
};

// Per-domain (and per-connection) limits; 0 disables a limit. Privileged
// callers are exempt from all of them.
struct Limits {
  std::size_t transactions = 10;       // open per connection
  std::size_t transaction_nodes = 1024;
  std::size_t watches = 128;
};

// Who is asking, fixed for the life of a connection (or until SET_TARGET).
struct Session {
  ConnId conn;
  store::Caller caller;
};

// An event for the calling connection only, sent after the reply.
struct DirectEvent {
  std::string path;
  std::string token;
};

// Operations the daemon answers itself (domains, CONTROL); handlers reach
// them through this interface so that ops does not depend on the daemon.
class DaemonHooks {
 public:
  virtual ~DaemonHooks() = default;
  virtual bool is_domain_introduced(DomId dom) const noexcept = 0;
  // INTRODUCE, RELEASE, RESUME, SET_TARGET (arguments already parsed);
  // special-path events they cause go to `events`.
  virtual Status introduce(DomId dom, std::uint64_t gfn, std::uint32_t port,
                           store::EventSink& events) noexcept = 0;
  virtual Status release(DomId dom, store::EventSink& events) noexcept = 0;
  virtual Status resume(DomId dom) noexcept = 0;
  virtual Status set_target(DomId dom, DomId target) noexcept = 0;
  // CONTROL <command> [args...]: reply payload or a refusal.
  virtual Result<std::string> control(const Session& s,
                                      const std::vector<std::string_view>& args)
      noexcept = 0;
};

struct Ctx {
  Ctx(store::Store& st, store::WatchIndex& w, const Session& s,
      const Limits& l, DaemonHooks* d = nullptr) noexcept
      : store(st), watches(w), session(s), limits(l), daemon(d) {}

  store::Store& store;
  store::WatchIndex& watches;
  const Session& session;
  const Limits& limits;
  DaemonHooks* daemon = nullptr;
  store::Transaction* tx = nullptr;  // resolved by dispatch from tx_id
  store::EventSink events;
  std::vector<DirectEvent> direct_events;

  const store::Caller& caller() const noexcept { return session.caller; }
  bool privileged() const noexcept { return session.caller.privileged; }
};

}  // namespace cxs::ops

// What a request handler sees: the request, the caller's identity, the store,
// the watch index, the limits in force, and two outboxes (store events to
// match against watches, and events for the caller alone, such as WATCH's
// first event). Handlers never touch a connection; the daemon delivers
// everything after the handler returns. Borrowed for one request only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cxenstored/ids.h"
#include "store/event.h"
#include "store/permissions.h"
#include "store/quota.h"
#include "store/store.h"
#include "store/watches.h"
#include "wire/header.h"
#include "wire/message_type.h"

namespace cxs::ops {

struct Request {
  wire::Header hdr;
  std::string_view payload;
};

// A successful answer; refusals travel as XsErr in Result<Reply>. Either
// owns its bytes or borrows them (a READ's value from the store, a constant
// "OK"): a borrowed reply is valid until the store next changes, which is
// after the daemon has queued it.
class Reply {
 public:
  Reply() noexcept = default;
  explicit Reply(std::string owned) noexcept : owned_(std::move(owned)) {}
  static Reply borrowing(std::string_view bytes) noexcept {
    Reply r;
    r.borrowed_ = bytes.data();
    r.borrowed_len_ = bytes.size();
    return r;
  }
  std::string_view payload() const noexcept {
    return borrowed_ ? std::string_view(borrowed_, borrowed_len_)
                     : std::string_view(owned_);
  }

 private:
  std::string owned_;
  const char* borrowed_ = nullptr;
  std::size_t borrowed_len_ = 0;
};

// The quotas of the calling domain (see store/quota.h).
using Limits = store::Quota;

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
  // May a permission list name `dom` as owner? (Only existing domains may
  // own nodes, XSA-322; without a hypervisor the daemon cannot tell.)
  virtual bool domain_exists(DomId) const noexcept { return true; }
  // INTRODUCE, RELEASE, RESUME, SET_TARGET (arguments already parsed);
  // special-path events they cause go to `events`.
  virtual Status introduce(DomId dom, std::uint64_t gfn, std::uint32_t port,
                           store::EventSink& events) noexcept = 0;
  virtual Status release(DomId dom, store::EventSink& events) noexcept = 0;
  virtual Status resume(DomId dom) noexcept = 0;
  virtual Status set_target(DomId dom, DomId target) noexcept = 0;
  // GET/SET_QUOTA: a domain's quota, or the global defaults without one.
  virtual Result<std::size_t> get_quota(std::optional<DomId> dom,
                                        std::string_view name) noexcept = 0;
  virtual Status set_quota(std::optional<DomId> dom, std::string_view name,
                           std::size_t value) noexcept = 0;
  // GET/SET_FEATURE: ring feature bits (supported ones without a domain).
  virtual Result<std::uint32_t> get_feature(
      std::optional<DomId> dom) noexcept = 0;
  virtual Status set_feature(DomId dom, std::uint32_t value) noexcept = 0;
  // CONTROL <command> [args...]: reply payload or a refusal.
  virtual Result<std::string> control(const Session& s,
                                      const std::vector<std::string_view>& args)
      noexcept = 0;
};

struct Ctx {
  Ctx(store::Store& st, store::WatchIndex& w, const Session& s,
      const Limits& l, DaemonHooks* d = nullptr) noexcept
      : store(st), watches(w), session(s), limits(l), daemon(d),
        caller_(s.caller) {
    if (!caller_.privileged) caller_.quota = &limits;
  }

  store::Store& store;
  store::WatchIndex& watches;
  const Session& session;
  const Limits& limits;
  DaemonHooks* daemon = nullptr;
  store::Transaction* tx = nullptr;  // resolved by dispatch from tx_id
  store::EventSink events;
  std::vector<DirectEvent> direct_events;

  // The caller with its quotas attached (none when privileged).
  const store::Caller& caller() const noexcept { return caller_; }
  bool privileged() const noexcept { return session.caller.privileged; }

 private:
  store::Caller caller_;
};

}  // namespace cxs::ops

// The choke point (XSA-72): every message that leaves the daemon goes through
// send_reply or send_event. A reply payload over kPayloadMax becomes
// XS_ERROR "E2BIG" and the connection goes on; an event over the limit is
// dropped (XSA-324). Refusals become XS_ERROR "E...\0". req_id and tx_id are
// echoed from the request header.
#pragma once

#include <string>
#include <string_view>

#include "cxenstored/result.h"
#include "ops/context.h"
#include "transport/connection.h"
#include "wire/header.h"

namespace cxs::daemon {

class Trace;

// The payload of a reply that is text (CONTROL's answers, a live update's
// reasons): the text and its NUL, as the C daemon sends them.
inline std::string reply_text(std::string_view text) {
  std::string out(text);
  out += '\0';
  return out;
}

struct ReplyStats {
  std::uint64_t replies = 0;
  std::uint64_t errors = 0;
  std::uint64_t too_big = 0;       // replies turned into E2BIG
  std::uint64_t events = 0;
  std::uint64_t events_dropped = 0;  // oversized or over the queue bound
};

class ReplySender {
 public:
  explicit ReplySender(Trace* trace) noexcept : trace_(trace) {}

  void send_reply(transport::Connection& conn, const wire::Header& request,
                  const Result<ops::Reply>& result);
  void send_error(transport::Connection& conn, const wire::Header& request,
                  XsErr err);
  // false if the event was not queued (oversized, duplicate or over bound).
  bool send_event(transport::Connection& conn, std::string_view path,
                  std::string_view token, std::size_t queue_bound);

  const ReplyStats& stats() const noexcept { return stats_; }

 private:
  void queue(transport::Connection& conn, std::uint32_t type,
             const wire::Header& request, std::string_view payload);
  void note_over_limit(const transport::Connection& conn,
                       std::string_view path, std::size_t queue_bound);
  Trace* trace_;
  ReplyStats stats_;
  std::string event_scratch_;
};

}  // namespace cxs::daemon

#include "daemon/reply.h"

#include <spdlog/spdlog.h>

#include "cxenstored/limits.h"
#include "daemon/trace.h"
#include "wire/message_type.h"

namespace cxs::daemon {

using wire::MsgType;

// Inlined into both callers (LTO left it a call): its frame cost about 25
// instructions per reply.
[[gnu::always_inline]] inline void ReplySender::queue(
    transport::Connection& conn, std::uint32_t type,
    const wire::Header& request, std::string_view payload) {
  wire::Header out{type, request.req_id, request.tx_id,
                   static_cast<std::uint32_t>(payload.size())};
  if (trace_ && trace_->active()) [[unlikely]]
    trace_->reply(conn.id(), out, payload);
  conn.queue_reply(out, payload);
}

void ReplySender::send_reply(transport::Connection& conn,
                             const wire::Header& request,
                             const Result<ops::Reply>& result) {
  if (!result) {
    send_error(conn, request, result.error());
    return;
  }
  std::string_view payload = result->payload();
  if (payload.size() > kPayloadMax) {
    ++stats_.too_big;
    spdlog::warn("conn {}: reply to {} req {} is {} bytes, over {}: E2BIG",
                 conn.id().value, wire::msg_type_name(request.type),
                 request.req_id, payload.size(), kPayloadMax);
    send_error(conn, request, XsErr::kE2BIG);
    return;
  }
  ++stats_.replies;
  queue(conn, request.type, request, payload);
}

void ReplySender::send_error(transport::Connection& conn,
                             const wire::Header& request, XsErr err) {
  ++stats_.errors;
  std::string payload(xs_error_name(err));
  payload += '\0';
  queue(conn, static_cast<std::uint32_t>(MsgType::XS_ERROR), request, payload);
}

// A client that never reads loses events once its queue is full; the log
// says so at the 1st, 2nd, 4th, 8th... loss, enough to see it without
// letting that client flood the log.
void ReplySender::note_over_limit(const transport::Connection& conn,
                                  std::string_view path,
                                  std::size_t queue_bound) {
  ++stats_.events_dropped;
  std::uint64_t lost = conn.events_over_limit();
  if ((lost & (lost - 1)) != 0) return;
  spdlog::warn(
      "conn {}: output queue over {} bytes: watch event for {} dropped "
      "({} lost so far)",
      conn.id().value, queue_bound, path.substr(0, 64), lost);
}

bool ReplySender::send_event(transport::Connection& conn, std::string_view path,
                             std::string_view token, std::size_t queue_bound) {
  std::size_t len = path.size() + token.size() + 2;
  if (len > kPayloadMax) {
    ++stats_.events_dropped;
    spdlog::warn("conn {}: watch event for {} ({} bytes) over {}: dropped",
                 conn.id().value, path.substr(0, 64), len, kPayloadMax);
    return false;
  }
  // Encoded in a buffer kept for the next event: the connection copies what
  // it queues, so a fan-out to 1000 watches builds no string per event.
  wire::Header hdr{static_cast<std::uint32_t>(MsgType::XS_WATCH_EVENT), 0, 0,
                   static_cast<std::uint32_t>(len)};
  std::string& msg = event_scratch_;
  msg.resize(kHeaderSize);
  wire::encode_header(hdr, msg.data());
  msg.append(path).push_back('\0');
  msg.append(token).push_back('\0');
  switch (conn.queue_event(msg, queue_bound)) {
    case transport::Connection::EventQueued::kYes:
      break;
    case transport::Connection::EventQueued::kDuplicate:
      return false;
    case transport::Connection::EventQueued::kOverLimit:
      note_over_limit(conn, path, queue_bound);
      return false;
  }
  ++stats_.events;
  if (trace_ && trace_->active()) trace_->event(conn.id(), path, token);
  return true;
}

}  // namespace cxs::daemon

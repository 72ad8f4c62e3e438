// RawClient: the one blocking wire-protocol client of the tests and the
// benchmarks. It speaks xsd_sockmsg directly over a Unix socket, so it can
// send what libxenstore never would (bad paths, split frames, oversize
// headers, unknown types) and pipeline (several requests in one write,
// replies taken as they come). Watch events are set aside from replies:
// kept for recv_event() (the default) or only counted (keep_events(false),
// for load that must not grow the client). It owns its socket; nothing
// must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "cxenstored/unique_fd.h"
#include "wire/header.h"
#include "wire/message_type.h"

namespace cxs::harness {

// A session that cannot go on meaningfully: no connection, no reply in
// time, a reply to another request, a daemon that went away.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr std::uint32_t ty(wire::MsgType m) {
  return static_cast<std::uint32_t>(m);
}

// Text of an XS_ERROR payload ("EAGAIN\0" -> "EAGAIN").
std::string error_name(std::string_view payload);

struct Msg {
  std::uint32_t type = 0;
  std::uint32_t req_id = 0;
  std::uint32_t tx_id = 0;
  std::string payload;

  // Payload with NULs shown as '|', for assertions and messages.
  std::string shown() const;
  bool is_error(std::string_view name) const;
  // "EAGAIN" for an XS_ERROR, "" for anything else.
  std::string error_name() const;
};

class RawClient {
 public:
  // Connects to a Unix socket; throws Error on failure.
  explicit RawClient(const std::string& socket_path);

  // ---- Sending ----
  // Sends one message; returns its req_id (auto-numbered unless given).
  std::uint32_t send(std::uint32_t type, std::string_view payload,
                     std::uint32_t tx_id = 0,
                     std::optional<std::uint32_t> req_id = std::nullopt);
  std::uint32_t send(wire::MsgType type, std::string_view payload,
                     std::uint32_t tx_id = 0) {
    return send(ty(type), payload, tx_id);
  }
  // Appends one encoded request to `out`, to be sent with send_bytes (a
  // pipeline in one system call); returns its req_id.
  std::uint32_t append_request(std::string& out, wire::MsgType type,
                               std::string_view payload,
                               std::uint32_t tx_id = 0);
  void send_bytes(std::string_view bytes);
  std::uint32_t next_req_id() const noexcept { return next_req_; }

  // ---- Receiving, nullopt when nothing came in time or the peer closed ----
  // The next message not yet set aside, of any type.
  std::optional<Msg> recv(
      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Next message that is not a WATCH_EVENT (events are set aside).
  std::optional<Msg> recv_reply(
      std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Next WATCH_EVENT (set-aside ones first; replies are kept for later).
  std::optional<Msg> recv_event(
      std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // ---- Receiving, Error after timeout() ----
  Msg receive();     // the next reply
  Msg next_event();  // the next watch event
  void set_timeout(std::chrono::milliseconds t) noexcept { timeout_ = t; }
  std::chrono::milliseconds timeout() const noexcept { return timeout_; }

  // ---- Without waiting ----
  // Reads what the socket holds now and sets aside every whole message in
  // it (replies for receive(), events as keep_events says); returns the
  // bytes read. Error when the daemon has closed the connection.
  std::size_t read_available();
  // A reply already read, if any.
  std::optional<Msg> try_receive();

  // ---- Request and reply ----
  // send + the next reply; Error when none comes within timeout() or it
  // answers another request.
  Msg request(std::uint32_t type, std::string_view payload,
              std::uint32_t tx_id = 0);
  Msg request(wire::MsgType type, std::string_view payload,
              std::uint32_t tx_id = 0) {
    return request(ty(type), payload, tx_id);
  }
  // request(), and the reply's payload; an XS_ERROR reply becomes an Error
  // naming the request.
  std::string call(wire::MsgType type, std::string_view payload,
                   std::uint32_t tx_id = 0);

  // ---- The ordering barrier ----
  // Every WATCH_EVENT queued for this connection so far, in order: a
  // request sent now is answered after all of them (a daemon queues a
  // change's events before the reply to the request that made it, and
  // sends one connection's messages in the order it queues them), so the
  // events read before its reply are all there are. "No event" is then an
  // empty vector, decided exactly, where waiting for a quiet spell would
  // be a guess and slow. The barrier request (GET_DOMAIN_PATH 0) touches
  // no node and fires no watch. Needs keep_events (the default).
  std::vector<Msg> events_before_barrier();

  // True once the daemon has closed the connection (reads EOF in time;
  // what arrives meanwhile is dropped).
  bool closed_by_peer(
      std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // Events set aside are kept (true, the default) or only counted.
  void keep_events(bool keep) noexcept { keep_events_ = keep; }
  // Watch events read so far, kept, returned or only counted.
  std::uint64_t events_seen() const noexcept { return events_seen_; }

  // ---- Convenience wrappers; payload conventions as on the wire ----
  Msg read(std::string_view path, std::uint32_t tx = 0);
  Msg write(std::string_view path, std::string_view value,
            std::uint32_t tx = 0);
  Msg mkdir(std::string_view path, std::uint32_t tx = 0);
  Msg rm(std::string_view path, std::uint32_t tx = 0);
  Msg directory(std::string_view path, std::uint32_t tx = 0);
  Msg watch(std::string_view path, std::string_view token);
  Msg unwatch(std::string_view path, std::string_view token);
  std::uint32_t start_transaction();  // 0 on failure
  Msg end_transaction(std::uint32_t tx, bool commit);
  Msg set_perms(std::string_view path, const std::vector<std::string>& perms,
                std::uint32_t tx = 0);
  Msg get_perms(std::string_view path, std::uint32_t tx = 0);

  int fd() const noexcept { return fd_.get(); }

 private:
  enum class Read { kData, kNothing, kClosed };
  using TimePoint = std::chrono::steady_clock::time_point;

  // One recv() into the buffer, waiting until `deadline` for data.
  Read read_some(TimePoint deadline);
  // Takes one whole message out of the buffer, if there is one; Error for
  // a length past 4096.
  bool take(Msg& out);
  // Counts an event and keeps it, or not.
  void set_aside_event(Msg&& event);

  UniqueFd fd_;
  std::string in_;
  std::size_t in_off_ = 0;
  std::deque<Msg> replies_;
  std::deque<Msg> events_;
  bool keep_events_ = true;
  std::uint64_t events_seen_ = 0;
  std::uint32_t next_req_ = 1;
  std::chrono::milliseconds timeout_{10000};
};

// "a" "b" -> "a\0b\0".
std::string nul_join(std::initializer_list<std::string_view> parts);
std::string nul_join(const std::vector<std::string>& parts);
// "a\0b\0" -> {"a", "b"}.
std::vector<std::string> nul_split(std::string_view payload);

}  // namespace cxs::harness

// XsConn: a minimal xenstore wire client over a Unix socket, for the load
// generator. It speaks the protocol directly so it can pipeline: send() only
// queues and writes, receive() returns the next whole reply in order, and
// watch events are set aside (counted, optionally kept) rather than mistaken
// for replies. Blocking I/O with a deadline; any failure throws BenchError.
// It owns its socket; nothing must outlive it.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "cxenstored/unique_fd.h"
#include "wire/header.h"
#include "wire/message_type.h"

namespace cxs::bench {

using Clock = std::chrono::steady_clock;
using wire::Message;
using wire::MsgType;

// Anything that makes a measurement meaningless: a wrong reply, a timeout,
// a daemon that went away. Ends the workload (or the smoke test) loudly.
struct BenchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline std::uint32_t type_of(MsgType t) { return static_cast<std::uint32_t>(t); }

// Text of an XS_ERROR payload ("EAGAIN\0" -> "EAGAIN").
std::string error_name(std::string_view payload);

class XsConn {
 public:
  explicit XsConn(const std::string& socket_path);

  // Queues and writes one request; returns its req_id.
  std::uint32_t send(MsgType type, std::string_view payload,
                     std::uint32_t tx = 0);
  // Writes several requests in one system call (the caller encoded them).
  void send_raw(std::string_view bytes);
  // Appends one encoded request to `out` (to be sent with send_raw);
  // returns its req_id.
  std::uint32_t append_request(std::string& out, MsgType type,
                               std::string_view payload, std::uint32_t tx = 0);
  // The next reply (never a watch event). Throws after `timeout`.
  Message receive();
  // A reply already read, if any; never waits.
  std::optional<Message> try_receive();
  // The next watch event, waiting at most `timeout`.
  Message next_event();
  // Blocks until at least one message has been read (or throws).
  void pump_once();

  // One request and its reply; XS_ERROR becomes a BenchError naming `what`.
  std::string call(MsgType type, std::string_view payload,
                   std::uint32_t tx = 0);
  // Request and reply, XS_ERROR returned as is.
  Message request(MsgType type, std::string_view payload,
                  std::uint32_t tx = 0);

  // When false (the default) events are only counted, not stored.
  void keep_events(bool keep) noexcept { keep_events_ = keep; }
  std::uint64_t events_seen() const noexcept { return events_seen_; }
  void set_timeout(std::chrono::milliseconds t) noexcept { timeout_ = t; }
  int fd() const noexcept { return fd_.get(); }
  std::uint32_t next_req_id() const noexcept { return req_ + 1; }

  // Reads what the socket holds now (non-blocking); returns bytes read.
  std::size_t read_available();
  // Takes one whole message out of the input buffer, if there is one.
  bool take(Message& out);

 private:
  void fill_blocking();

  UniqueFd fd_;
  std::string in_;
  std::size_t in_off_ = 0;
  std::deque<Message> replies_;
  std::deque<Message> events_;
  bool keep_events_ = false;
  std::uint64_t events_seen_ = 0;
  std::uint32_t req_ = 0;
  std::chrono::milliseconds timeout_{10000};
};

// Payload helpers: "a\0b\0" from pieces.
std::string nul_join(std::initializer_list<std::string_view> parts);

}  // namespace cxs::bench

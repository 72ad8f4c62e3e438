// RawClient: a blocking wire-protocol client for tests and benchmarks. It
// speaks xsd_sockmsg directly, so it can send what libxenstore never would
// (bad paths, split frames, oversize headers, unknown types, pipelines).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cxenstored/unique_fd.h"
#include "wire/header.h"

namespace cxs::test {

struct Msg {
  std::uint32_t type = 0;
  std::uint32_t req_id = 0;
  std::uint32_t tx_id = 0;
  std::string payload;

  // Payload with NULs shown as '|', for assertions and messages.
  std::string shown() const;
  bool is_error(std::string_view name) const;
};

class RawClient {
 public:
  // Connects to a Unix socket; throws std::runtime_error on failure.
  explicit RawClient(const std::string& socket_path);

  // Sends one message; returns its req_id (auto-numbered unless given).
  std::uint32_t send(std::uint32_t type, std::string_view payload,
                     std::uint32_t tx_id = 0,
                     std::optional<std::uint32_t> req_id = std::nullopt);
  void send_bytes(std::string_view bytes);
  // Next message, or nullopt on timeout or when the daemon closed the socket.
  std::optional<Msg> recv(std::chrono::milliseconds timeout =
                              std::chrono::seconds(5));
  // Next message that is not a WATCH_EVENT (events are kept for later).
  std::optional<Msg> recv_reply(std::chrono::milliseconds timeout =
                                    std::chrono::seconds(5));
  // Next WATCH_EVENT (queued ones first).
  std::optional<Msg> recv_event(std::chrono::milliseconds timeout =
                                    std::chrono::seconds(5));
  // send + recv_reply.
  Msg request(std::uint32_t type, std::string_view payload,
              std::uint32_t tx_id = 0);
  // Every WATCH_EVENT queued for this connection so far, in order: a
  // request sent now is answered after all of them (a daemon sends one
  // connection's messages in the order it queues them, and queues a
  // change's events while it makes the change), so those read before its
  // reply are all there are. An ordering barrier, exact where waiting for
  // a quiet spell is a guess and slow.
  std::vector<Msg> queued_events();
  // True once the daemon has closed the connection (reads EOF in time).
  bool closed_by_peer(std::chrono::milliseconds timeout =
                          std::chrono::seconds(5));

  // Convenience wrappers; payload conventions as on the wire.
  Msg read(std::string_view path, std::uint32_t tx = 0);
  Msg write(std::string_view path, std::string_view value, std::uint32_t tx = 0);
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
  bool fill(std::size_t want, std::chrono::steady_clock::time_point deadline);

  UniqueFd fd_;
  std::string buf_;
  std::vector<Msg> pending_events_;
  std::vector<Msg> pending_replies_;
  std::uint32_t next_req_ = 1;
};

// "a" "b" -> "a\0b\0".
std::string nul_join(const std::vector<std::string>& parts);
// "a\0b\0" -> {"a", "b"}.
std::vector<std::string> nul_split(std::string_view payload);

}  // namespace cxs::test

// Connection: one client of the daemon (a socket peer or a domain's ring).
// Owns its Transport, the framer that reassembles its requests, and its
// out queue of encoded replies and events. The Server owns connections; what
// is kept across loop turns refers to them by ConnId only.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "cxenstored/heap_cost.h"
#include "cxenstored/ids.h"
#include "transport/byte_buffer.h"
#include "transport/shared_buffers.h"
#include "transport/transport.h"
#include "wire/framer.h"

namespace cxs::transport {

class Connection {
 public:
  // `shared` (the read buffer, the spare reply buffer) outlives it.
  Connection(ConnId id, std::unique_ptr<Transport> transport,
             SharedBuffers& shared);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  ConnId id() const noexcept { return id_; }
  Transport& transport() noexcept { return *transport_; }

  // The next complete request, reading from the transport as needed;
  // nullopt when none is complete yet or on a fault (see fault()). A
  // request that arrived whole in one read is handed out in place, its
  // payload borrowed from the read buffer; one split across reads is
  // reassembled by the framer. The view is valid until the next call on
  // this connection, or on any other (they share the read buffer), or
  // reset_io(). Within one turn (see new_turn) the transport is not read
  // again once a read came back short: it had nothing more, and the read
  // that would say so again is a wasted system call per request.
  std::optional<wire::MessageView> next_request() noexcept;
  // A new wake-up (readiness, a kick, flow control lifted): reading may
  // find more.
  void new_turn() noexcept { drained_ = false; }
  Fault fault() const noexcept { return fault_; }

  // Queue a reply, encoded onto the tail of the queue: consecutive replies
  // share one buffer (up to 16 KiB), so pipelined replies cost no
  // allocation each. Events are deduplicated while pending: an identical
  // event not yet wholly written is not queued twice (one half written
  // counts: its reader has it only after the change that fired the
  // second, so it loses nothing).
  void queue_reply(const wire::Header& hdr, std::string_view payload);
  // An already encoded reply (tests, raw bytes).
  void queue_reply(std::string_view msg);
  // An event is queued, or not: an identical one is already pending (no
  // loss), or queued output would pass `hard_limit` (lost; 0: no limit).
  enum class EventQueued { kYes, kDuplicate, kOverLimit };
  EventQueued queue_event(std::string_view msg, std::size_t hard_limit);
  // Events lost to the hard limit over this connection's life.
  std::uint64_t events_over_limit() const noexcept { return over_limit_; }

  // Write what the transport takes now. false on a fault.
  bool flush() noexcept;
  bool has_output() const noexcept { return !out_.empty(); }
  // Bytes of messages queued and not yet written (flow control).
  std::size_t queued_bytes() const noexcept { return out_bytes_; }
  // What the connection makes the daemon hold, as the memory quota counts
  // it: every block of its out queue at its allocation size, the queue's
  // slots, the de-duplication index, and its input buffers. Events are
  // refused past a bound on this figure, not on queued_bytes().
  std::size_t held_bytes() const noexcept {
    return out_held_ + string_heap_bytes(in_) + framer_.held_bytes() +
           (put_back_ ? string_heap_bytes(put_back_->payload) : 0);
  }
  // What queue_event would add to held_bytes() for a `size`-byte event.
  static std::size_t event_cost(std::size_t size) noexcept;
  std::size_t queued_messages() const noexcept { return out_messages_; }
  // Bytes already read but not yet framed into a request.
  bool has_buffered_input() const noexcept {
    return src_pos_ < src_len_ || framer_.has_message() || put_back_;
  }

  // Drops queued events not yet started that were queued before `cutoff`
  // (watch-event timeout for a guest that does not read); returns how many.
  std::size_t drop_events_before(
      std::chrono::steady_clock::time_point cutoff) noexcept;

  void mark_closing() noexcept { closing_ = true; }
  bool closing() const noexcept { return closing_; }

  // Drop partial input and all queued output (ring reconnection).
  void reset_io() noexcept;

  // Live update (see daemon/live_update.h).
  // A request taken but not handled (a TRANSACTION_START held while an
  // update is pending): next_request() hands it out again first.
  void put_back(const wire::MessageView& msg);
  bool has_put_back() const noexcept { return put_back_.has_value(); }
  // Every byte received and not yet handled, in arrival order: a request
  // put back, a message received in part, bytes read but not yet framed.
  std::string unprocessed_input() const;
  // Such bytes from the previous daemon, framed before anything read next.
  void preload_input(std::string bytes);
  // Everything queued and not yet written. `partial` is how many leading
  // bytes finish a message already partly written (no header of theirs
  // follows): the migration stream's out-resp-len.
  struct PendingOutput {
    std::string bytes;
    std::size_t partial = 0;
  };
  PendingOutput pending_output() const;
  // Queues the previous daemon's pending output: the first `partial` bytes
  // as they are, then whole messages (watch events as events, so they are
  // de-duplicated and expire as before). Returns false if the bytes after
  // `partial` do not split into whole messages (the rest is queued raw).
  bool preload_output(std::string_view bytes, std::size_t partial);

 private:
  void consume_output(std::size_t bytes) noexcept;
  // Input: the bytes being framed come from `src_` (the shared read buffer
  // or in_). Before another connection reads into the shared buffer, the
  // bytes this one has not framed yet move to its own in_.
  void claim_read_buffer() noexcept;
  void keep_unread() noexcept;
  // No bytes to frame, and the shared buffer no longer this one's.
  void forget_read_buffer() noexcept;
  void set_source(const char* data, std::size_t len) noexcept {
    src_ = data;
    src_len_ = len;
    src_pos_ = 0;
  }

  // Room for one reply of `n` bytes at the end of the queue: in the last
  // buffer, or a new one past the coalescing size or after an event.
  char* extend_reply(std::size_t n);
  struct Out;
  Out& new_reply_out();
  // Out entries leave the queue only through here, which keeps the held
  // figure and the event index in step.
  void forget_out(const Out& o) noexcept;
  static std::size_t out_cost(const Out& o) noexcept;
  // Replies are appended to the last queued buffer while it is smaller.
  static constexpr std::size_t kCoalesceMax = 16384;

  // 40 bytes, a deque slot each: an event is one slot, one exact block and
  // one index entry (about 160 bytes for a 40-byte event; 440 before).
  struct Out {
    ByteBuffer bytes;
    std::chrono::steady_clock::time_point queued_at{};  // events only
    std::uint32_t messages = 0;  // replies coalesced into `bytes`
    bool is_event = false;
  };

  ConnId id_;
  std::unique_ptr<Transport> transport_;
  SharedBuffers& shared_;
  wire::Framer framer_;
  std::string in_;  // unframed bytes kept across turns
  const char* src_ = nullptr;
  std::size_t src_len_ = 0;
  std::size_t src_pos_ = 0;
  std::deque<Out> out_;
  // The last queued entry while it is a reply buffer, else null. (A deque
  // keeps references across push_back and pop_front of other entries.)
  Out* tail_ = nullptr;
  std::size_t out_off_ = 0;  // bytes of out_.front() already written
  std::size_t out_bytes_ = 0;
  std::size_t out_messages_ = 0;
  std::size_t out_held_ = 0;  // out_cost() summed over out_
  // The events queued and not yet wholly written (the front one may be
  // half written), by their bytes: each key views
  // the queued event's own block (no second copy), so it is erased before
  // that entry leaves the queue.
  std::unordered_set<std::string_view> pending_events_;
  std::uint64_t over_limit_ = 0;
  std::optional<wire::Message> put_back_;
  wire::Message handed_out_;  // the put-back request handed out last
  Fault fault_ = Fault::kNone;
  bool closing_ = false;
  bool drained_ = false;  // a read this turn came back short
};

}  // namespace cxs::transport

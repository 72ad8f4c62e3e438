// Incremental reassembly of messages from a byte stream. Bytes arrive in any
// split (a header cut at byte 3, a body over several reads); each complete
// message is handed out whole. A header announcing more than kPayloadMax
// bytes is a protocol fault: the framer refuses to go on, and the caller
// closes the socket or marks the ring in error.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "cxenstored/heap_cost.h"
#include "wire/header.h"

namespace cxs::wire {

class Framer {
 public:
  // kFault: a header announced too long a payload; kNoMemory: the room
  // for a payload could not be had (bad_alloc). Either way the stream
  // cannot be followed from there.
  enum class State { kOk, kFault, kNoMemory };

  // Consumes up to `len` bytes; returns how many were taken. It stops early
  // once a message is complete (so the caller can apply flow control before
  // taking more) or on a fault.
  std::size_t feed(const char* data, std::size_t len) noexcept;

  // The completed message, if any; taking it makes room for the next one.
  std::optional<Message> take() noexcept;
  // The next message from `data` (`used`: the bytes consumed). One found
  // whole there is handed out in place, its payload borrowed from `data`
  // (no copy per request); one cut short is gathered across calls and
  // valid until the next call. nullopt when more bytes are needed or on a
  // fault (state()).
  // (Inline: it runs once per request.)
  std::optional<MessageView> next(const char* data, std::size_t len,
                                  std::size_t& used) noexcept {
    if (have_ == 0 && !complete_ && !fault_ && len >= kHeaderSize) {
      Header h = decode_header(data);
      if (h.len <= kPayloadMax && len - kHeaderSize >= h.len) {
        used = kHeaderSize + h.len;
        return MessageView{h, std::string_view(data + kHeaderSize, h.len)};
      }
    }
    return gather(data, len, used);
  }
  bool has_message() const noexcept { return complete_; }
  // The message next() gathered last is no longer borrowed: its block goes
  // (it is charged to the connection while kept; see held_bytes()).
  void drop_gathered() noexcept {
    // (Not `= std::string()`: a moved-in short string keeps the block.)
    if (gathered_.payload.capacity() > 15)
      std::string().swap(gathered_.payload);
  }

  State state() const noexcept {
    if (!fault_) return State::kOk;
    return no_memory_ ? State::kNoMemory : State::kFault;
  }
  // The length field of the offending header, for the log.
  std::uint32_t fault_len() const noexcept { return fault_len_; }

  // True while part of a message has been received but not all of it.
  bool mid_message() const noexcept { return have_ > 0 && !complete_; }
  // Drop any partial message (ring reconnection).
  void reset() noexcept;
  // The bytes of the message received so far (header bytes, then body), as
  // they arrived: a live update hands them to the next daemon, which frames
  // them again ahead of what it reads next.
  std::string partial_bytes() const;
  // The heap its buffers hold (a message gathered across reads), for the
  // memory quota: at most two payloads.
  std::size_t held_bytes() const noexcept {
    return string_heap_bytes(body_) + string_heap_bytes(gathered_.payload);
  }

 private:
  // next() for a message not whole in `data` (or a header refused).
  std::optional<MessageView> gather(const char* data, std::size_t len,
                                    std::size_t& used) noexcept;
  // false, and the framer in fault, if `h` announces too long a payload.
  bool accept(const Header& h) noexcept;

  char hdr_bytes_[kHeaderSize] = {};
  bool no_memory_ = false;  // the fault is a failed allocation
  std::size_t have_ = 0;  // bytes of the current message received so far
  Header hdr_{};
  std::string body_;
  bool complete_ = false;
  bool fault_ = false;
  std::uint32_t fault_len_ = 0;
  Message gathered_;  // the last message next() put together
};

}  // namespace cxs::wire

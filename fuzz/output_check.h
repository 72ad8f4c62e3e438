// The connection fuzzer's reader of what one peer received: the frames the
// daemon's side was told to send (each reply with the request it answers,
// each watch event queued) in order, and the bytes that arrived, parsed
// frame by frame as they come. A frame must be a well-formed xsd_sockmsg
// (len <= 4096), a reply must echo its request's req_id and tx_id with the
// request's type or XS_ERROR and a known E-name, an event must be
// XS_WATCH_EVENT "path\0token\0" with zero ids, and each must be the next
// one expected. Any difference aborts, naming the peer.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>

#include "cxenstored/result.h"
#include "fuzz_failure.h"
#include "ops/context.h"
#include "wire/header.h"

namespace cxs::fuzz {

class OutputCheck {
 public:
  explicit OutputCheck(std::string name) : name_(std::move(name)) {}

  // The daemon's side queued a reply to `request` (send_reply's contract:
  // errors as XS_ERROR, payloads over 4096 as E2BIG). Returns the size of
  // the frame expected.
  std::size_t expect_reply(const wire::Header& request,
                           const Result<ops::Reply>& result);
  void expect_event(std::string_view path, std::string_view token);
  // Bytes the peer received, in order.
  void received(const char* data, std::size_t n);
  // The connection's pending output must be the expected bytes not yet
  // received, less `in_flight` bytes written and not yet received.
  void check_pending(std::string_view pending, std::size_t in_flight) const;
  // The frame the connection has written part of, `in_flight` bytes of it
  // not yet received; empty if it is between frames.
  std::string_view frame_being_sent(std::size_t in_flight) const;
  // Nothing expected that has not arrived (after a full drain).
  void check_all_received() const;
  // A new session (reconnection, a new socket): nothing more is owed.
  void reset();

  std::size_t frames() const noexcept { return frames_; }
  std::size_t errors() const noexcept { return errors_; }
  std::size_t events() const noexcept { return events_; }

 private:
  enum class Kind { kReply, kError, kEvent };
  struct Expect {
    Kind kind;
    std::string frame;  // the exact bytes, header included
  };
  std::size_t expect(Kind kind, const wire::Header& hdr,
                     std::string_view payload);
  void check_frame(std::string_view frame);

  std::string name_;
  std::deque<Expect> expect_;
  std::string expected_bytes_;  // expect_'s frames, in order
  std::size_t received_ = 0;    // of expected_bytes_, in whole frames
  std::string partial_;         // the start of a frame not yet whole
  std::size_t frames_ = 0;
  std::size_t errors_ = 0;
  std::size_t events_ = 0;
};

}  // namespace cxs::fuzz

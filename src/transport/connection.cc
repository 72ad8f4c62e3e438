#include "transport/connection.h"

#include <array>

namespace cxs::transport {

std::string_view fault_name(Fault f) noexcept {
  switch (f) {
    case Fault::kNone: return "none";
    case Fault::kClosed: return "closed by peer";
    case Fault::kIo: return "I/O error";
    case Fault::kRingIndex: return "bad ring index";
    case Fault::kProtocol: return "oversized request";
  }
  return "?";
}

namespace {
constexpr std::size_t kReadChunk = 16384;
}  // namespace

Connection::Connection(ConnId id, std::unique_ptr<Transport> transport)
    : id_(id), transport_(std::move(transport)) {}

std::optional<wire::Message> Connection::next_request() noexcept {
  // One scratch buffer for every connection (single-threaded daemon); only
  // bytes left over after a complete request are kept per connection.
  // (It is not zero-filled: clearing 16 KiB per read once cost three
  // quarters of a READ's instructions.)
  static char scratch[kReadChunk];
  for (;;) {
    if (framer_.has_message()) return framer_.take();
    if (fault_ != Fault::kNone) return std::nullopt;
    if (in_pos_ < in_.size()) {
      in_pos_ += framer_.feed(in_.data() + in_pos_, in_.size() - in_pos_);
      if (in_pos_ == in_.size()) {
        in_.clear();
        in_pos_ = 0;
      }
    } else {
      IoResult r = transport_->read(scratch, sizeof scratch);
      if (r.fault != Fault::kNone) fault_ = r.fault;
      if (r.bytes == 0) return std::nullopt;
      std::size_t used = framer_.feed(scratch, r.bytes);
      if (used < r.bytes) in_.assign(scratch + used, r.bytes - used);
    }
    if (framer_.state() == wire::Framer::State::kFault) {
      fault_ = Fault::kProtocol;
      return std::nullopt;
    }
  }
}

void Connection::queue_reply(std::string msg) {
  out_bytes_ += msg.size();
  out_.push_back(Out{std::move(msg), false, {}});
}

bool Connection::queue_event(std::string msg, std::size_t hard_limit) {
  if (hard_limit != 0 && out_bytes_ + msg.size() > hard_limit) return false;
  int& pending = pending_events_[msg];
  if (pending > 0) return false;
  ++pending;
  out_bytes_ += msg.size();
  out_.push_back(Out{std::move(msg), true, std::chrono::steady_clock::now()});
  return true;
}

bool Connection::flush() noexcept {
  while (!out_.empty()) {
    Out& front = out_.front();
    IoResult r = transport_->write(front.bytes.data() + out_off_,
                                   front.bytes.size() - out_off_);
    if (r.fault != Fault::kNone) {
      fault_ = r.fault;
      return false;
    }
    if (r.bytes == 0) return true;
    out_off_ += r.bytes;
    if (out_off_ < front.bytes.size()) continue;
    // Once it starts leaving, an event no longer absorbs duplicates.
    if (front.is_event) {
      auto it = pending_events_.find(front.bytes);
      if (it != pending_events_.end() && --it->second == 0)
        pending_events_.erase(it);
    }
    out_bytes_ -= front.bytes.size();
    out_off_ = 0;
    out_.pop_front();
  }
  return true;
}

std::size_t Connection::drop_events_before(
    std::chrono::steady_clock::time_point cutoff) noexcept {
  std::size_t dropped = 0;
  // The front may be half written: it stays, whatever it is.
  auto first = out_.begin() + (out_off_ > 0 && !out_.empty() ? 1 : 0);
  for (auto it = first; it != out_.end();) {
    if (!it->is_event || it->queued_at >= cutoff) {
      ++it;
      continue;
    }
    auto pending = pending_events_.find(it->bytes);
    if (pending != pending_events_.end() && --pending->second == 0)
      pending_events_.erase(pending);
    out_bytes_ -= it->bytes.size();
    it = out_.erase(it);
    ++dropped;
  }
  return dropped;
}

void Connection::reset_io() noexcept {
  framer_.reset();
  in_.clear();
  in_pos_ = 0;
  out_.clear();
  out_off_ = 0;
  out_bytes_ = 0;
  pending_events_.clear();
  fault_ = Fault::kNone;
}

}  // namespace cxs::transport

#include "transport/connection.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <new>

#include "wire/message_type.h"

namespace cxs::transport {

std::string_view fault_name(Fault f) noexcept {
  switch (f) {
    case Fault::kNone:
      return "none";
    case Fault::kClosed:
      return "closed by peer";
    case Fault::kIo:
      return "I/O error";
    case Fault::kRingIndex:
      return "bad ring index";
    case Fault::kProtocol:
      return "oversized request";
    case Fault::kNoMemory:
      return "out of memory for its input";
  }
  return "?";
}

namespace {
// Messages handed to the transport per gathered write (IOV_MAX is 1024).
constexpr std::size_t kGatherMax = 64;
}  // namespace

IoResult Transport::write_gather(const ConstBuf* bufs, std::size_t n) noexcept {
  IoResult total;
  for (std::size_t i = 0; i < n; ++i) {
    IoResult r = write(bufs[i].data, bufs[i].len);
    total.bytes += r.bytes;
    if (r.fault != Fault::kNone) return {total.bytes, r.fault};
    if (r.bytes < bufs[i].len) break;
  }
  return total;
}

Connection::Connection(ConnId id, std::unique_ptr<Transport> transport,
                       SharedBuffers& shared)
    : id_(id), transport_(std::move(transport)), shared_(shared) {}

Connection::~Connection() {
  forget_read_buffer();
  shared_.freed_ += out_held_;
}

void Connection::forget_read_buffer() noexcept {
  set_source(nullptr, 0);
  if (shared_.read_user_ == this) shared_.read_user_ = nullptr;
}

void Connection::claim_read_buffer() noexcept {
  Connection*& user = shared_.read_user_;
  if (user == this || user == nullptr) return;
  user->keep_unread();
  user = nullptr;
}

// Copies the unframed rest of the shared buffer into in_ (it may be
// overwritten by another connection's read).
// Out of memory, the bytes are lost: the connection cannot go on.
void Connection::keep_unread() noexcept {
  if (src_ != shared_.read_) return;
  try {
    in_.assign(src_ + src_pos_, src_len_ - src_pos_);
    set_source(in_.data(), in_.size());
  } catch (const std::bad_alloc&) {
    set_source(nullptr, 0);
    fault_ = Fault::kNoMemory;
  }
}

std::optional<wire::MessageView> Connection::next_request() noexcept {
  claim_read_buffer();
  framer_.drop_gathered();  // the request handed out before is done with
  if (put_back_) {
    handed_out_ = std::move(*put_back_);
    put_back_.reset();
    return wire::MessageView{handed_out_.hdr, handed_out_.payload};
  }
  for (;;) {
    if (fault_ != Fault::kNone) return std::nullopt;
    if (src_pos_ < src_len_) {
      std::size_t used = 0;
      auto msg = framer_.next(src_ + src_pos_, src_len_ - src_pos_, used);
      src_pos_ += used;
      if (framer_.state() != wire::Framer::State::kOk) {
        fault_ = framer_.state() == wire::Framer::State::kNoMemory
                     ? Fault::kNoMemory
                     : Fault::kProtocol;
        return std::nullopt;
      }
      if (msg) return msg;
      continue;  // a message cut short: everything buffered is in the framer
    }
    // Everything buffered is framed: read more, if this turn may. (in_
    // gives its block back: it is charged to the connection.)
    if (in_.capacity() > 15) std::string().swap(in_);
    set_source(nullptr, 0);
    if (drained_) return std::nullopt;
    IoResult r = transport_->read(shared_.read_, sizeof shared_.read_);
    if (r.fault != Fault::kNone) fault_ = r.fault;
    drained_ = r.bytes < sizeof shared_.read_;
    if (r.bytes == 0) return std::nullopt;
    set_source(shared_.read_, r.bytes);
    shared_.read_user_ = this;
  }
}

// What one queue entry holds: its deque slot (a 512-byte block per 12),
// its buffer's heap block, and an event's index entry (with up to two
// bucket pointers: the table doubles as it grows). A reply buffer counts
// as grown for its own bytes: it may be the spare a bigger batch of
// replies left (up to 64 KiB, one in the daemon), which the connection
// that happens to take it did not make.
std::size_t Connection::out_cost(const Out& o) noexcept {
  constexpr std::size_t kSlot = 512 / (512 / sizeof(Out));
  constexpr std::size_t kIndexEntry =
      hash_entry_bytes(sizeof(std::string_view)) + 8;
  std::size_t cap = o.bytes.capacity();
  if (!o.is_event)
    cap = std::min(cap,
                   std::max<std::size_t>(256, std::bit_ceil(o.bytes.size())));
  return kSlot + (cap ? heap_block_bytes(cap) : 0) +
         (o.is_event ? kIndexEntry : 0);
}

std::size_t Connection::event_cost(std::size_t size) noexcept {
  Out o;
  o.is_event = true;
  return out_cost(o) + heap_block_bytes(size);
}

Connection::Out& Connection::new_reply_out() {
  out_.push_back(Out{shared_.take_spare()});
  out_held_ += out_cost(out_.back());
  return out_.back();
}

char* Connection::extend_reply(std::size_t n) {
  if (!tail_ || tail_->bytes.size() >= kCoalesceMax) tail_ = &new_reply_out();
  std::size_t before = out_cost(*tail_);
  char* at = tail_->bytes.extend(n);
  out_held_ += out_cost(*tail_) - before;
  ++tail_->messages;
  ++out_messages_;
  out_bytes_ += n;
  return at;
}

void Connection::queue_reply(const wire::Header& hdr,
                             std::string_view payload) {
  char* at = extend_reply(kHeaderSize + payload.size());
  wire::encode_header(hdr, at);
  copy_bytes(at + kHeaderSize, payload.data(), payload.size());
}

void Connection::queue_reply(std::string_view msg) {
  if (msg.empty()) return;
  copy_bytes(extend_reply(msg.size()), msg.data(), msg.size());
}

Connection::EventQueued Connection::queue_event(std::string_view msg,
                                                std::size_t hard_limit) {
  if (pending_events_.count(msg)) return EventQueued::kDuplicate;
  if (hard_limit != 0 && held_bytes() + event_cost(msg.size()) > hard_limit) {
    ++over_limit_;
    return EventQueued::kOverLimit;
  }
  // Strong guarantee: an allocation failing leaves the queue as it was.
  out_.push_back(
      Out{ByteBuffer(msg), std::chrono::steady_clock::now(), 1, true});
  try {
    pending_events_.insert(out_.back().bytes.view());
  } catch (...) {
    out_.pop_back();
    throw;
  }
  out_held_ += out_cost(out_.back());
  out_bytes_ += msg.size();
  ++out_messages_;
  tail_ = nullptr;
  return EventQueued::kYes;
}

void Connection::forget_out(const Out& o) noexcept {
  if (o.is_event) {
    pending_events_.erase(o.bytes.view());
    // A flood's index would keep its bucket array for the connection's
    // life: a fresh one holds none.
    if (pending_events_.empty() && pending_events_.bucket_count() > 64)
      pending_events_ = {};
  }
  out_bytes_ -= o.bytes.size();
  out_messages_ -= o.messages;
  out_held_ -= out_cost(o);
  shared_.freed_ += out_cost(o);
}

// Pipelined replies leave in one system call: 32 replies written one by one
// cost 32 sends, which was most of a pipelined READ's time.
bool Connection::flush() noexcept {
  while (!out_.empty()) {
    std::array<ConstBuf, kGatherMax> bufs;
    std::size_t n = 0;
    std::size_t wanted = 0;
    for (auto it = out_.begin(); it != out_.end() && n < bufs.size(); ++it) {
      std::size_t skip = n == 0 ? out_off_ : 0;
      bufs[n++] = ConstBuf{it->bytes.data() + skip, it->bytes.size() - skip};
      wanted += it->bytes.size() - skip;
    }
    IoResult r = transport_->write_gather(bufs.data(), n);
    consume_output(r.bytes);
    if (r.fault != Fault::kNone) {
      fault_ = r.fault;
      return false;
    }
    if (r.bytes < wanted) return true;  // the peer is full: wait
  }
  return true;
}

// Drops `bytes` written from the front of the queue.
void Connection::consume_output(std::size_t bytes) noexcept {
  while (bytes > 0) {
    Out& front = out_.front();
    std::size_t left = front.bytes.size() - out_off_;
    if (bytes < left) {
      out_off_ += bytes;
      return;
    }
    bytes -= left;
    forget_out(front);
    out_off_ = 0;
    if (!front.is_event) shared_.give_back(std::move(front.bytes));
    if (tail_ == &front) tail_ = nullptr;
    out_.pop_front();
  }
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
    forget_out(*it);
    it = out_.erase(it);
    tail_ = nullptr;  // erasing inside a deque moves the others
    ++dropped;
  }
  return dropped;
}

void Connection::reset_io() noexcept {
  framer_.reset();
  in_.clear();
  forget_read_buffer();
  out_.clear();
  tail_ = nullptr;
  out_off_ = 0;
  out_bytes_ = 0;
  out_messages_ = 0;
  shared_.freed_ += out_held_;
  out_held_ = 0;
  pending_events_ = {};
  fault_ = Fault::kNone;
}

void Connection::put_back(const wire::MessageView& msg) {
  put_back_ = msg.owned();
}

std::string Connection::unprocessed_input() const {
  std::string out;
  if (put_back_) {
    char hdr[kHeaderSize];
    wire::encode_header(put_back_->hdr, hdr);
    out.append(hdr, kHeaderSize);
    out += put_back_->payload;
  }
  // A message cut short took every buffered byte into the framer, so at
  // most one of these two is non-empty; either way this is arrival order.
  out += framer_.partial_bytes();
  if (src_pos_ < src_len_) out.append(src_ + src_pos_, src_len_ - src_pos_);
  return out;
}

void Connection::preload_input(std::string bytes) {
  in_ = std::move(bytes);
  set_source(in_.data(), in_.size());
}

namespace {
// Where the message that `offset` falls in ends, within a buffer of whole
// messages (`offset` itself at a boundary); the buffer's size if its
// headers do not add up.
std::size_t message_end_after(std::string_view buf, std::size_t offset) {
  std::size_t pos = 0;
  while (buf.size() - pos >= kHeaderSize) {
    if (pos == offset) return offset;
    std::size_t end =
        pos + kHeaderSize + wire::decode_header(buf.data() + pos).len;
    if (end > buf.size()) break;
    if (end > offset) return end;
    pos = end;
  }
  return buf.size();
}
}  // namespace

Connection::PendingOutput Connection::pending_output() const {
  PendingOutput p;
  p.bytes.reserve(out_bytes_ - out_off_);
  for (const Out& o : out_) p.bytes.append(o.bytes.view());
  if (out_off_ > 0 && !out_.empty()) {
    std::string_view front = out_.front().bytes.view();
    p.partial = message_end_after(front, out_off_) - out_off_;
    p.bytes.erase(0, out_off_);
  }
  return p;
}

bool Connection::preload_output(std::string_view bytes, std::size_t partial) {
  if (partial > bytes.size()) partial = bytes.size();
  if (partial > 0) queue_reply(bytes.substr(0, partial));
  std::string_view rest = bytes.substr(partial);
  while (!rest.empty()) {
    std::size_t len = rest.size() < kHeaderSize
                          ? rest.size() + 1
                          : kHeaderSize + wire::decode_header(rest.data()).len;
    if (len > rest.size()) {
      queue_reply(rest);
      return false;
    }
    std::string_view msg = rest.substr(0, len);
    if (wire::decode_header(msg.data()).type ==
        static_cast<std::uint32_t>(wire::MsgType::XS_WATCH_EVENT))
      queue_event(msg, 0);
    else
      queue_reply(msg);
    rest.remove_prefix(len);
  }
  return true;
}

}  // namespace cxs::transport

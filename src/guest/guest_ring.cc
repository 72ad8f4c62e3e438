#include "guest/guest_ring.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "cxenstored/limits.h"

namespace cxs::guest {
namespace {

using wire::kRingBytes;

// Shared words are read and written with single accesses; ordering against
// the data comes from the explicit fences at each use (as in xenbus).
std::uint32_t load(const std::uint32_t& word) noexcept {
  return __atomic_load_n(&word, __ATOMIC_RELAXED);
}
void store(std::uint32_t& word, std::uint32_t v) noexcept {
  __atomic_store_n(&word, v, __ATOMIC_RELAXED);
}

void copy_in(char* ring, std::uint32_t idx, const char* src,
             std::size_t n) noexcept {
  std::size_t off = idx & (kRingBytes - 1);
  std::size_t first = std::min<std::size_t>(n, kRingBytes - off);
  std::memcpy(ring + off, src, first);
  std::memcpy(ring, src + first, n - first);
}

void copy_out(char* dst, const char* ring, std::uint32_t idx,
              std::size_t n) noexcept {
  std::size_t off = idx & (kRingBytes - 1);
  std::size_t first = std::min<std::size_t>(n, kRingBytes - off);
  std::memcpy(dst, ring + off, first);
  std::memcpy(dst + first, ring, n - first);
}

}  // namespace

GuestRing::GuestRing(wire::RingPage* page, std::function<void()> kick)
    : page_(page), kick_(std::move(kick)) {}

bool GuestRing::send(std::uint32_t type, std::uint32_t req_id,
                     std::uint32_t tx_id, std::string_view payload) {
  out_ += wire::encode_message(type, req_id, tx_id, payload);
  return flush();
}

bool GuestRing::send_bytes(std::string_view bytes) {
  out_.append(bytes);
  return flush();
}

bool GuestRing::flush() {
  if (out_.empty()) return true;
  std::uint32_t cons = load(page_->req_cons);
  std::uint32_t prod = load(page_->req_prod);
  // The daemon's reads of req[] must be complete before we overwrite them.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  std::uint32_t used = prod - cons;
  if (used > kRingBytes) return false;  // broken indexes: nothing is safe
  std::size_t n = std::min<std::size_t>(out_.size(), kRingBytes - used);
  if (n == 0) return false;
  copy_in(page_->req, prod, out_.data(), n);
  std::atomic_thread_fence(std::memory_order_release);  // data before index
  store(page_->req_prod, prod + static_cast<std::uint32_t>(n));
  out_.erase(0, n);
  kick();
  return out_.empty();
}

std::optional<wire::Message> GuestRing::receive() {
  if (rsp_broken_) return std::nullopt;
  std::uint32_t cons = load(page_->rsp_cons);
  std::uint32_t prod = load(page_->rsp_prod);
  std::atomic_thread_fence(std::memory_order_acquire);  // index before data
  std::uint32_t avail = prod - cons;
  if (avail > kRingBytes) {
    rsp_broken_ = true;
    return std::nullopt;
  }
  if (avail > 0) {
    std::size_t old = in_.size();
    in_.resize(old + avail);
    copy_out(in_.data() + old, page_->rsp, cons, avail);
    // Our copy is complete before the daemon may reuse the space.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    store(page_->rsp_cons, prod);
    kick();
  }
  if (in_.size() < kHeaderSize) return std::nullopt;
  wire::Header h = wire::decode_header(in_.data());
  if (h.len > kPayloadMax) {
    rsp_broken_ = true;
    return std::nullopt;
  }
  if (in_.size() < kHeaderSize + h.len) return std::nullopt;
  wire::Message m{h, in_.substr(kHeaderSize, h.len)};
  in_.erase(0, kHeaderSize + h.len);
  return m;
}

void GuestRing::request_reconnect() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  store(page_->connection, wire::kReconnect);
  kick();
}

void GuestRing::reset_local() noexcept {
  out_.clear();
  in_.clear();
  rsp_broken_ = false;
}

std::uint32_t GuestRing::req_cons() const noexcept {
  return load(page_->req_cons);
}
std::uint32_t GuestRing::req_prod() const noexcept {
  return load(page_->req_prod);
}
std::uint32_t GuestRing::rsp_cons() const noexcept {
  return load(page_->rsp_cons);
}
std::uint32_t GuestRing::rsp_prod() const noexcept {
  return load(page_->rsp_prod);
}
std::uint32_t GuestRing::connection() const noexcept {
  return load(page_->connection);
}
std::uint32_t GuestRing::error() const noexcept { return load(page_->error); }
std::uint32_t GuestRing::server_features() const noexcept {
  return load(page_->server_features);
}

void GuestRing::set_req_cons(std::uint32_t v) noexcept {
  store(page_->req_cons, v);
}
void GuestRing::set_req_prod(std::uint32_t v) noexcept {
  std::atomic_thread_fence(std::memory_order_release);
  store(page_->req_prod, v);
}
void GuestRing::set_rsp_cons(std::uint32_t v) noexcept {
  store(page_->rsp_cons, v);
}
void GuestRing::set_rsp_prod(std::uint32_t v) noexcept {
  store(page_->rsp_prod, v);
}
void GuestRing::set_all_indexes(std::uint32_t v) noexcept {
  set_req_cons(v);
  set_req_prod(v);
  set_rsp_cons(v);
  set_rsp_prod(v);
}

void GuestRing::write_raw(std::uint32_t idx, std::string_view bytes) noexcept {
  // A stream of more than a ring's worth overwrites itself, as a hostile
  // guest's would; only the last kRingBytes matter.
  if (bytes.size() > kRingBytes) {
    idx += static_cast<std::uint32_t>(bytes.size() - kRingBytes);
    bytes.remove_prefix(bytes.size() - kRingBytes);
  }
  copy_in(page_->req, idx, bytes.data(), bytes.size());
}

void GuestRing::push_raw(std::string_view bytes) noexcept {
  std::uint32_t prod = load(page_->req_prod);
  write_raw(prod, bytes);
  set_req_prod(prod + static_cast<std::uint32_t>(bytes.size()));
}

}  // namespace cxs::guest

#include "transport/ring/ring_transport.h"

#include <algorithm>
#include <atomic>
#include <cstring>

namespace cxs::transport {

using wire::kConnected;
using wire::kErrorComm;
using wire::kErrorNone;
using wire::kErrorProto;
using wire::kErrorRingIdx;
using wire::kReconnect;
using wire::kRingBytes;
using wire::RingPage;

namespace {

// The guest may change these at any time: every access is a single load or
// store of the shared word, ordered with explicit fences.
std::uint32_t load(const std::uint32_t& word) noexcept {
  return __atomic_load_n(&word, __ATOMIC_RELAXED);
}
void store(std::uint32_t& word, std::uint32_t v) noexcept {
  __atomic_store_n(&word, v, __ATOMIC_RELAXED);
}

bool indexes_sane(std::uint32_t prod, std::uint32_t cons) noexcept {
  return prod - cons <= kRingBytes;
}

// Copies `n` bytes out of a ring starting at free-running index `idx`.
void copy_out(char* dst, const char* ring, std::uint32_t idx,
              std::size_t n) noexcept {
  std::size_t off = idx & (kRingBytes - 1);
  std::size_t first = std::min(n, kRingBytes - off);
  std::memcpy(dst, ring + off, first);
  std::memcpy(dst + first, ring, n - first);
}

void copy_in(char* ring, std::uint32_t idx, const char* src,
             std::size_t n) noexcept {
  std::size_t off = idx & (kRingBytes - 1);
  std::size_t first = std::min(n, kRingBytes - off);
  std::memcpy(ring + off, src, first);
  std::memcpy(ring, src + first, n - first);
}

}  // namespace

RingTransport::RingTransport(RingPage* page,
                             std::function<void()> notify) noexcept
    : page_(page), notify_(std::move(notify)) {}

IoResult RingTransport::read(char* buf, std::size_t len) noexcept {
  if (broken_) return {0, Fault::kRingIndex};
  std::uint32_t cons = load(page_->req_cons);
  std::uint32_t prod = load(page_->req_prod);
  std::atomic_thread_fence(std::memory_order_acquire);  // indexes before data
  if (!indexes_sane(prod, cons)) return {0, Fault::kRingIndex};
  std::size_t n = std::min<std::size_t>(len, prod - cons);
  if (n == 0) return {0, Fault::kNone};
  copy_out(buf, page_->req, cons, n);
  std::atomic_thread_fence(std::memory_order_seq_cst);  // data before index
  store(page_->req_cons, cons + static_cast<std::uint32_t>(n));
  progressed_ = true;
  return {n, Fault::kNone};
}

IoResult RingTransport::write(const char* buf, std::size_t len) noexcept {
  if (broken_) return {0, Fault::kRingIndex};
  std::uint32_t cons = load(page_->rsp_cons);
  std::uint32_t prod = load(page_->rsp_prod);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!indexes_sane(prod, cons)) return {0, Fault::kRingIndex};
  std::size_t space = kRingBytes - (prod - cons);
  std::size_t n = std::min(len, space);
  if (n == 0) return {0, Fault::kNone};
  copy_in(page_->rsp, prod, buf, n);
  std::atomic_thread_fence(std::memory_order_release);  // data before index
  store(page_->rsp_prod, prod + static_cast<std::uint32_t>(n));
  progressed_ = true;
  return {n, Fault::kNone};
}

bool RingTransport::on_protocol_fault(Fault f) noexcept {
  broken_ = true;
  std::uint32_t error = f == Fault::kProtocol    ? kErrorProto
                        : f == Fault::kRingIndex ? kErrorRingIdx
                                                 : kErrorComm;
  store(page_->error, error);
  std::atomic_thread_fence(std::memory_order_release);
  notify_();
  return false;  // the domain stays known until it dies
}

void RingTransport::end_batch() noexcept {
  if (!progressed_) return;
  progressed_ = false;
  notify_();
}

bool RingTransport::reconnect_requested() const noexcept {
  return load(page_->connection) == kReconnect;
}

void RingTransport::finish_reconnect() noexcept {
  store(page_->req_cons, 0);
  store(page_->req_prod, 0);
  store(page_->rsp_cons, 0);
  store(page_->rsp_prod, 0);
  store(page_->error, kErrorNone);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  store(page_->connection, kConnected);
  broken_ = false;
  progressed_ = false;
  notify_();
}

}  // namespace cxs::transport

#include "ring_page_fuzz.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cxenstored/features.h"
#include "cxenstored/limits.h"
#include "fuzz_failure.h"
#include "fuzz_input.h"
#include "transport/connection.h"
#include "transport/ring/ring_transport.h"
#include "wire/header.h"

namespace cxs::fuzz {
namespace {

using transport::Fault;
using transport::IoResult;
using wire::kRingBytes;
using wire::RingPage;

constexpr unsigned char kGuard = 0xa5;
constexpr unsigned char kCanary = 0xc3;
constexpr std::size_t kMaxSteps = 3000;
constexpr std::size_t kRingArea = std::size_t{2} * kRingBytes;  // req, rsp

[[noreturn]] void fail(const std::string& what) {
  fuzz_failure("ring page", what);
}

// The page between guard bytes: a write outside the page's own fields
// shows in them.
struct Guarded {
  std::array<unsigned char, 64> before;
  RingPage page;
  std::array<unsigned char, 64> after;
};

bool same(const Guarded& a, const Guarded& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

// The RingTransport under test, behind a Transport that rewrites the page
// from the input before each call and checks the call against the page
// as it was.
class HostileRing final : public transport::Transport {
 public:
  HostileRing(Guarded& g, FuzzInput& in, RingPageRunStats& stats)
      : g_(g), in_(in), stats_(stats), ring_(&g.page, [this] { ++kicks_; }) {}

  IoResult read(char* buf, std::size_t len) noexcept override;
  IoResult write(const char* buf, std::size_t len) noexcept override;
  bool on_protocol_fault(Fault f) noexcept override;
  void end_batch() noexcept override;
  const char* kind() const noexcept override { return "hostile ring"; }

  // Server::on_ring_kick's reconnection, checked; false if not asked for.
  bool reconnect() noexcept;
  std::size_t reads() const noexcept { return reads_; }
  std::size_t writes() const noexcept { return writes_; }

 private:
  void rewrite() noexcept;
  std::uint32_t word(std::uint32_t now) noexcept;
  void check_fault(const Guarded& pre, const IoResult& r, const char* call);

  Guarded& g_;
  FuzzInput& in_;
  RingPageRunStats& stats_;
  transport::RingTransport ring_;
  std::size_t kicks_ = 0;
  std::size_t reads_ = 0;
  std::size_t writes_ = 0;
  bool faulted_ = false;     // on_protocol_fault, until a reconnection
  bool progressed_ = false;  // bytes moved since the last kick
};

// An index value: any, small, near the wrap at 2^32, or near its own.
std::uint32_t HostileRing::word(std::uint32_t now) noexcept {
  std::uint8_t how = in_.byte();
  switch (how % 4) {
    case 0:
      return in_.u32();
    case 1:
      return in_.byte();
    case 2:
      return 0xffffffffu - in_.byte();
    default:
      return now +
             static_cast<std::uint32_t>(static_cast<std::int8_t>(in_.byte()));
  }
}

void HostileRing::rewrite() noexcept {
  std::uint8_t mask = in_.byte();
  RingPage& p = g_.page;
  if (mask & 1) p.req_cons = word(p.req_cons);
  if (mask & 2) p.req_prod = word(p.req_prod);
  if (mask & 4) p.rsp_cons = word(p.rsp_cons);
  if (mask & 8) p.rsp_prod = word(p.rsp_prod);
  if (mask & 16) p.connection = in_.byte() % 3 == 0 ? word(0) : in_.byte() & 1;
  if (mask & 32) p.error = word(p.error);
  if (mask & 64) {  // ring bytes, req[] and rsp[] being one run
    std::size_t off = in_.u16() % kRingArea;
    std::string_view b = in_.bytes(in_.byte() % 64);
    std::size_t n = std::min(b.size(), kRingArea - off);
    std::memcpy(p.req + off, b.data(), n);
  }
  if (mask & 128) {
    p.req_prod = p.req_cons + in_.u16() % (kRingBytes + 64);
    p.rsp_cons = p.rsp_prod - in_.u16() % (kRingBytes + 64);
  }
}

void HostileRing::check_fault(const Guarded& pre, const IoResult& r,
                              const char* call) {
  if (!(r.bytes == 0 && r.fault == Fault::kRingIndex))
    fail(std::string(call) +
         " on impossible indexes or after a fault "
         "did not give the ring-index fault");
  if (!same(pre, g_)) fail(std::string(call) + " changed a faulted page");
  ++stats_.index_faults;
}

IoResult HostileRing::read(char* buf, std::size_t len) noexcept {
  rewrite();
  Guarded pre = g_;
  std::size_t canary = std::min(len, kRingArea);
  std::memset(buf, kCanary, canary);
  IoResult r = ring_.read(buf, len);
  ++reads_;
  ++stats_.calls;
  std::uint32_t cons = pre.page.req_cons;
  std::uint32_t avail = pre.page.req_prod - cons;
  if (faulted_ || avail > kRingBytes) {
    check_fault(pre, r, "read");
    if (!(std::all_of(buf, buf + canary,
                      [](char c) { return c == static_cast<char>(kCanary); })))
      fail("a refused read wrote to its buffer");
    return r;
  }
  std::size_t n = std::min<std::size_t>(len, avail);
  if (!(r.fault == Fault::kNone && r.bytes == n))
    fail("read " + std::to_string(r.bytes) + " bytes of " + std::to_string(n) +
         " available");
  for (std::size_t i = 0; i < n; ++i)
    if (buf[i] != pre.page.req[(cons + i) & (kRingBytes - 1)])
      fail("read a byte from outside req[cons, prod)");
  for (std::size_t i = n; i < canary; ++i)
    if (buf[i] != static_cast<char>(kCanary))
      fail("read wrote past the bytes it handed out");
  Guarded want = pre;
  want.page.req_cons = cons + static_cast<std::uint32_t>(n);
  if (!same(want, g_)) fail("read changed more than req_cons");
  if (n) progressed_ = true;
  stats_.bytes_read += n;
  return r;
}

IoResult HostileRing::write(const char* buf, std::size_t len) noexcept {
  rewrite();
  Guarded pre = g_;
  IoResult r = ring_.write(buf, len);
  ++writes_;
  ++stats_.calls;
  std::uint32_t prod = pre.page.rsp_prod;
  std::uint32_t used = prod - pre.page.rsp_cons;
  if (faulted_ || used > kRingBytes) {
    check_fault(pre, r, "write");
    return r;
  }
  std::size_t n = std::min<std::size_t>(len, kRingBytes - used);
  if (!(r.fault == Fault::kNone && r.bytes == n))
    fail("wrote " + std::to_string(r.bytes) + " bytes into " +
         std::to_string(kRingBytes - used) + " free");
  Guarded want = pre;
  for (std::size_t i = 0; i < n; ++i)
    want.page.rsp[(prod + i) & (kRingBytes - 1)] = buf[i];
  want.page.rsp_prod = prod + static_cast<std::uint32_t>(n);
  if (!same(want, g_))
    fail(
        "write changed more than rsp[prod, cons + 1024) "
        "and rsp_prod");
  if (n) progressed_ = true;
  stats_.bytes_written += n;
  return r;
}

bool HostileRing::on_protocol_fault(Fault f) noexcept {
  Guarded pre = g_;
  std::size_t kicks = kicks_;
  bool destroy = ring_.on_protocol_fault(f);
  ++stats_.calls;
  if (destroy) fail("a ring's fault destroys its connection");
  if (!ring_.in_error()) fail("not in error after its fault");
  Guarded want = pre;
  want.page.error = f == Fault::kProtocol    ? wire::kErrorProto
                    : f == Fault::kRingIndex ? wire::kErrorRingIdx
                                             : wire::kErrorComm;
  if (!same(want, g_)) fail("a fault changed more than the error field");
  if (kicks_ != kicks + 1) fail("a fault did not kick the guest once");
  faulted_ = true;
  return destroy;
}

void HostileRing::end_batch() noexcept {
  rewrite();
  Guarded pre = g_;
  std::size_t kicks = kicks_;
  ring_.end_batch();
  ++stats_.calls;
  if (!same(pre, g_)) fail("end_batch changed the page");
  if (kicks_ != kicks + (progressed_ ? 1 : 0))
    fail("end_batch kicked other than once after progress");
  progressed_ = false;
}

bool HostileRing::reconnect() noexcept {
  bool asked = g_.page.connection == wire::kReconnect;
  if (ring_.reconnect_requested() != asked)
    fail("reconnect_requested disagrees with the connection field");
  if (!asked) return false;
  Guarded pre = g_;
  std::size_t kicks = kicks_;
  ring_.finish_reconnect();
  ++stats_.calls;
  Guarded want = pre;
  want.page.req_cons = want.page.req_prod = 0;
  want.page.rsp_cons = want.page.rsp_prod = 0;
  want.page.error = wire::kErrorNone;
  want.page.connection = wire::kConnected;
  if (!same(want, g_)) fail("a reconnection left the page otherwise");
  if (!(kicks_ == kicks + 1 && !ring_.in_error()))
    fail("a reconnection did not clear the error and kick once");
  faulted_ = progressed_ = false;
  return true;
}

// The Connection's reads: each next_request reads at most once (a ring
// read is always short, so the turn is drained), and once the connection
// has faulted it hands out nothing and reads nothing.
void connection_reads(transport::Connection& conn, HostileRing& ring,
                      RingPageRunStats& stats) {
  conn.new_turn();
  bool was_faulted = conn.fault() != Fault::kNone;
  for (int i = 0; i < 64; ++i) {
    std::size_t reads = ring.reads();
    auto msg = conn.next_request();
    if (ring.reads() - reads > 1) fail("next_request read more than once");
    if (was_faulted)
      if (msg || ring.reads() != reads)
        fail("a faulted connection read or handed out a request");
    if (!msg) break;
    if (msg->hdr.len > kPayloadMax || msg->payload.size() != msg->hdr.len)
      fail("a request handed out with a bad length");
    ++stats.requests;
  }
  if (!was_faulted && conn.fault() != Fault::kNone)
    (void)conn.transport().on_protocol_fault(conn.fault());
}

// Queues replies and flushes them as Server::flush does; every write of
// the flush takes a whole message or ends it, so their number is bounded
// by the messages queued.
void connection_flush(transport::Connection& conn, HostileRing& ring,
                      FuzzInput& in) {
  int replies = in.byte() % 4;
  for (int i = 0; i < replies; ++i) {
    std::size_t len = in.u16() % (kPayloadMax + 1);
    conn.queue_reply(
        wire::Header{2, in.byte(), 0, static_cast<std::uint32_t>(len)},
        std::string(len, static_cast<char>('a' + i)));
  }
  std::size_t messages = conn.queued_messages();
  std::size_t writes = ring.writes();
  bool ok = conn.flush();
  if (ring.writes() - writes > 2 * messages + 2)
    fail("flush wrote " + std::to_string(ring.writes() - writes) +
         " times for " + std::to_string(messages) + " messages");
  conn.transport().end_batch();
  if (!ok) (void)conn.transport().on_protocol_fault(conn.fault());
}

}  // namespace

RingPageRunStats run_ring_page_input(const std::uint8_t* data,
                                     std::size_t size) {
  FuzzInput in(data, size);
  RingPageRunStats stats;
  auto g = std::make_unique<Guarded>();
  g->before.fill(kGuard);
  g->after.fill(kGuard);
  std::memset(&g->page, 0, sizeof g->page);
  g->page.server_features = kServerFeatures;
  auto owned = std::make_unique<HostileRing>(*g, in, stats);
  HostileRing& ring = *owned;
  transport::SharedBuffers buffers;
  transport::Connection conn(ConnId{1}, std::move(owned), buffers);
  std::vector<char> buf;
  for (std::size_t step = 0; step < kMaxSteps && !in.done(); ++step) {
    switch (in.byte() % kRingStepCount) {
      case kRingRead: {
        std::size_t len = in.u16() % (kRingBytes + 512);
        buf.assign(len + 64, static_cast<char>(kCanary));
        (void)ring.read(buf.data(), len);
        if (!(std::all_of(
                buf.begin() + static_cast<std::ptrdiff_t>(len), buf.end(),
                [](char c) { return c == static_cast<char>(kCanary); })))
          fail("read wrote past its length");
        break;
      }
      case kRingWrite: {
        std::size_t len = in.u16() % (kRingBytes + 512);
        buf.assign(len, static_cast<char>(in.byte()));
        (void)ring.write(buf.data(), len);
        break;
      }
      case kRingGather: {
        std::array<std::string, 3> pieces;
        std::array<transport::ConstBuf, 3> bufs;
        std::size_t n = 1 + in.byte() % 3;
        std::size_t total = 0;
        for (std::size_t i = 0; i < n; ++i) {
          pieces[i].assign(in.u16() % 700, static_cast<char>('A' + i));
          bufs[i] = {pieces[i].data(), pieces[i].size()};
          total += pieces[i].size();
        }
        IoResult r = ring.write_gather(bufs.data(), n);
        if (r.bytes > total) fail("a gathered write took more than given");
        break;
      }
      case kRingEndBatch:
        ring.end_batch();
        break;
      case kRingFault: {
        static constexpr std::array<Fault, 4> kFaults = {
            Fault::kProtocol, Fault::kRingIndex, Fault::kIo, Fault::kNoMemory};
        (void)ring.on_protocol_fault(kFaults[in.byte() % kFaults.size()]);
        break;
      }
      case kRingReconnect:
        if (in.byte() & 1) g->page.connection = wire::kReconnect;
        if (g->page.connection == wire::kReconnect) conn.reset_io();
        (void)ring.reconnect();
        break;
      case kConnRead:
        connection_reads(conn, ring, stats);
        break;
      default:
        connection_flush(conn, ring, in);
        break;
    }
  }
  return stats;
}

}  // namespace cxs::fuzz

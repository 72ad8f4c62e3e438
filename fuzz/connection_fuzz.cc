#include "connection_fuzz.h"

#include <array>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "cxenstored/features.h"
#include "daemon/admission.h"
#include "daemon/reply.h"
#include "fake_peers.h"
#include "fuzz_hooks.h"
#include "fuzz_input.h"
#include "ops/dispatch.h"
#include "output_check.h"
#include "request_fuzz.h"
#include "store/shared_perms.h"
#include "transport/connection.h"
#include "transport/ring/ring_transport.h"
#include "wire/message_type.h"

namespace cxs::fuzz {
namespace {

using transport::Connection;
using transport::Fault;

// As server.cc: a client with this much unsent output is not read, and a
// privileged one's events are dropped past the second bound.
using daemon::kReadPauseBytes;
// With nothing queued, a connection holds at most its input buffers: a
// read's unframed rest and up to two payloads in the framer.
constexpr std::size_t kIdleHeldMax = std::size_t{40} * 1024;
constexpr std::size_t kMaxSteps = 4000;
constexpr std::size_t kAll = std::numeric_limits<std::size_t>::max() / 2;

// One client: its far end and, while connected, its Connection. Does not
// move (the peers point at its OutputCheck).
struct Slot {
  Slot(std::string n, store::Caller c, bool ring)
      : name(std::move(n)), caller(c), on_ring(ring), out(name) {}
  std::string name;
  store::Caller caller;
  bool on_ring;
  OutputCheck out;
  StreamPeer peer;                   // a socket's far end
  std::unique_ptr<RingGuest> guest;  // a ring's
  // Destroyed before the peers it points at.
  std::unique_ptr<Connection> conn;  // null: a socket closed
  transport::RingTransport* ring = nullptr;
  ops::Session session{};
  bool stalled = false;  // ring in error, as Server::Client::stalled
  bool closing = false;
  bool want_write = false;  // output left after its last flush
  // Of the bytes the client sent (its peer's input), those framed so far:
  // each request handed out must be the next message of that stream,
  // unless a ring guest garbled its ring.
  std::size_t framed = 0;
  bool garbled = false;
  std::uint32_t rsp_prod_at_fault = 0;
};

class World {
 public:
  explicit World(std::uint8_t flavours);
  void step(FuzzInput& in);
  void finish();
  ConnectionRunStats stats() const;

 private:
  void open(Slot& s);
  void serve(Slot& s, std::size_t budget);
  void after_serve(Slot& s);
  void check_framing(Slot& s, const wire::MessageView* msg);
  void handle(Slot& s, const wire::MessageView& msg);
  void deliver(const store::EventSink& events);
  void send_event(Slot& t, std::string_view path, std::string_view token);
  void flush(Slot& s);
  void kick(Slot& s);
  void turn(std::size_t first);
  void break_peer(Slot& s, std::uint8_t arg);
  void stall(Slot& s);
  void close(Slot& s);
  void reap();
  void check(const Slot& s) const;
  Slot* slot_of(ConnId id) noexcept;
  bool may_read_more(const Slot& s) const noexcept;
  daemon::ConnLoad load_of(const Slot& s) const noexcept;
  std::size_t event_bound(const Slot& s) const noexcept;
  const store::Quota& quota(const Slot& s) const noexcept {
    return s.caller.privileged ? root_limits_ : guest_limits_;
  }

  store::Store st_;
  store::WatchIndex watches_;
  transport::SharedBuffers buffers_;  // before the slots' connections
  FuzzHooks hooks_;
  store::Quota root_limits_;
  store::Quota guest_limits_ = guest_quota();
  daemon::ReplySender sender_{nullptr};
  std::array<std::unique_ptr<Slot>, 3> slots_;
  std::uint64_t next_conn_ = 1;
  std::size_t dispatched_ = 0;
  std::size_t faults_ = 0;
  std::size_t reconnects_ = 0;
};

World::World(std::uint8_t flavours) {
  guest_limits_.outstanding = 4;  // flow control stops guests mid-buffer
  make_guest_home(st_);
  slots_[0] = std::make_unique<Slot>(
      "dom0 socket", store::Caller{DomId{0}, true, std::nullopt}, false);
  slots_[1] = std::make_unique<Slot>(
      (flavours & 1) ? "dom5 ring" : "dom5 socket",
      store::Caller{DomId{5}, false, std::nullopt}, (flavours & 1) != 0);
  slots_[2] = std::make_unique<Slot>(
      (flavours & 2) ? "dom6 ring" : "dom6 socket",
      store::Caller{DomId{6}, false, DomId{5}}, (flavours & 2) != 0);
  for (auto& s : slots_) open(*s);
}

void World::open(Slot& s) {
  ConnId id{next_conn_++};
  s.out.reset();
  s.stalled = s.closing = s.want_write = s.garbled = false;
  s.framed = 0;
  std::unique_ptr<transport::Transport> t;
  if (s.on_ring) {
    s.guest = std::make_unique<RingGuest>();
    s.guest->out = &s.out;
    RingGuest* g = s.guest.get();
    auto ring = std::make_unique<transport::RingTransport>(&g->page,
                                                           [g] { ++g->kicks; });
    s.ring = ring.get();
    t = std::move(ring);
  } else {
    s.peer = StreamPeer{};
    s.peer.out = &s.out;
    s.peer.room = 4096;
    t = std::make_unique<StreamTransport>(s.peer);
  }
  s.conn = std::make_unique<Connection>(id, std::move(t), buffers_);
  s.session = ops::Session{id, s.caller};
}

Slot* World::slot_of(ConnId id) noexcept {
  for (auto& s : slots_)
    if (s->conn && s->conn->id() == id) return s.get();
  return nullptr;
}

// Server::serve_requests, without the live update hold and the XSA-206
// write credit (a clock's).
void World::serve(Slot& s, std::size_t budget) {
  if (!s.conn || s.closing) return;
  Connection& c = *s.conn;
  if (s.stalled) {
    if (c.next_request())
      fuzz_failure(s.name, "a request handed out after its fault");
    return;
  }
  c.new_turn();
  std::size_t served = 0;
  while (!s.closing && may_read_more(s) && (budget == 0 || served < budget)) {
    auto msg = c.next_request();
    if (!msg) break;
    ++served;
    check_framing(s, &*msg);
    handle(s, *msg);
  }
  after_serve(s);
}

void World::after_serve(Slot& s) {
  if (s.closing) return;
  Connection& c = *s.conn;
  Fault f = c.fault();
  if (f == Fault::kProtocol || f == Fault::kRingIndex ||
      f == Fault::kNoMemory) {
    if (f == Fault::kProtocol) check_framing(s, nullptr);
    flush(s);
    if (c.transport().on_protocol_fault(f))
      close(s);
    else
      stall(s);
    return;
  }
  if (f != Fault::kNone) close(s);
}

// A request handed out (or, null, a protocol fault) against what the
// client sent: whatever the reads' sizes and whichever connections read in
// between, the requests are the stream's messages in order, and the fault
// comes at a header announcing more than 4096 bytes.
void World::check_framing(Slot& s, const wire::MessageView* msg) {
  if (s.garbled) return;
  const std::string& sent = s.guest ? s.guest->input : s.peer.input;
  std::string_view rest = std::string_view(sent).substr(s.framed);
  if (rest.size() < kHeaderSize)
    fuzz_failure(s.name, "a request or fault with no header sent");
  wire::Header h = wire::decode_header(rest.data());
  if (!msg) {
    if (h.len <= kPayloadMax)
      fuzz_failure(s.name, "a protocol fault at a header of " +
                               std::to_string(h.len) + " bytes");
    return;
  }
  std::string frame(kHeaderSize, '\0');
  wire::encode_header(msg->hdr, frame.data());
  frame += msg->payload;
  if (rest.substr(0, frame.size()) != frame)
    fuzz_failure(s.name, "request " + std::to_string(msg->hdr.req_id) +
                             " is not the next message sent (at byte " +
                             std::to_string(s.framed) + ")");
  s.framed += frame.size();
}

// Server::handle: events the request causes go out before its reply, the
// caller's own (WATCH's first) after it.
void World::handle(Slot& s, const wire::MessageView& msg) {
  Connection& c = *s.conn;
  if (!s.caller.privileged)
    s.session.caller.held_bytes = daemon::charged_to(*s.conn, st_, watches_);
  ops::Ctx ctx{st_, watches_, s.session, quota(s), &hooks_};
  Result<ops::Reply> result =
      ops::dispatch(ctx, ops::Request{msg.hdr, msg.payload});
  ++dispatched_;
  if (!ctx.events.empty()) deliver(ctx.events);
  std::size_t before = c.queued_bytes();
  sender_.send_reply(c, msg.hdr, result);
  std::size_t frame = s.out.expect_reply(msg.hdr, result);
  if (c.queued_bytes() != before + frame)
    fuzz_failure(s.name, "a reply queued " +
                             std::to_string(c.queued_bytes() - before) +
                             " bytes, its frame is " + std::to_string(frame));
  for (const auto& ev : ctx.direct_events) send_event(s, ev.path, ev.token);
}

// Server::deliver: a target with no output waiting is written at once.
void World::deliver(const store::EventSink& events) {
  std::array<bool, 3> written{};
  for (const store::Event& ev : events) {
    watches_.match(ev, [&](const store::WatchRecord& w, std::string_view path) {
      Slot* t = slot_of(w.conn());
      if (!t || t->closing || t->stalled ||
          !store::may_see(t->session.caller, ev))
        return;
      std::size_t before = t->conn->queued_messages();
      send_event(*t, path, w.token());
      for (std::size_t i = 0; i < slots_.size(); ++i)
        if (slots_[i].get() == t && t->conn->queued_messages() != before)
          written[i] = true;
    });
  }
  for (std::size_t i = 0; i < slots_.size(); ++i)
    if (written[i] && !slots_[i]->want_write) flush(*slots_[i]);
}

// Whether `msg` is among the messages queued and not yet started (the one
// being written is OutputCheck::frame_being_sent).
bool pending_message(const Connection& c, std::string_view msg) {
  Connection::PendingOutput p = c.pending_output();
  std::string_view rest = std::string_view(p.bytes).substr(p.partial);
  while (rest.size() >= kHeaderSize) {
    std::size_t len = kHeaderSize + wire::decode_header(rest.data()).len;
    if (rest.substr(0, len) == msg) return true;
    rest.remove_prefix(std::min(len, rest.size()));
  }
  return false;
}

// ReplySender::send_event's contract: an event is queued unless it is
// oversized, an identical one is pending (queued and not wholly written:
// one half written counts, its reader sees it whole after this change), or
// it would take the queue past its bound; a queued one adds its bytes and its
// event_cost exactly.
void World::send_event(Slot& t, std::string_view path, std::string_view token) {
  Connection& c = *t.conn;
  std::size_t held = c.held_bytes();
  std::size_t queued = c.queued_bytes();
  std::size_t bound = event_bound(t);
  std::size_t len = path.size() + token.size() + 2;
  std::size_t size = kHeaderSize + len;
  std::string msg(kHeaderSize, '\0');
  wire::encode_header(
      wire::Header{static_cast<std::uint32_t>(wire::MsgType::XS_WATCH_EVENT), 0,
                   0, static_cast<std::uint32_t>(len)},
      msg.data());
  ((msg += path) += '\0') += token;
  msg += '\0';
  // (What is pending is known while the peer's output is checked.)
  bool known = !(t.guest && t.guest->confused) && queued <= kReadPauseBytes;
  bool duplicate =
      known && (pending_message(c, msg) ||
                t.out.frame_being_sent(t.guest ? t.guest->in_flight() : 0) ==
                    std::string_view(msg));
  bool may = len <= kPayloadMax && held + Connection::event_cost(size) <= bound;
  if (!sender_.send_event(c, path, token, bound)) {
    if (c.held_bytes() != held || c.queued_bytes() != queued)
      fuzz_failure(t.name, "an event refused changed the queue");
    if (known && may && !duplicate)
      fuzz_failure(t.name, "an event refused within its bound, not pending");
    return;
  }
  if (duplicate) fuzz_failure(t.name, "an event queued twice while pending");
  if (!may) fuzz_failure(t.name, "an event queued past its bound or size");
  t.out.expect_event(path, token);
  if (c.queued_bytes() != queued + size)
    fuzz_failure(t.name, "an event queued a wrong number of bytes");
  if (c.held_bytes() != held + Connection::event_cost(size))
    fuzz_failure(t.name, "an event held other than its event_cost");
}

// Server::flush: what can go now, one kick for the batch.
void World::flush(Slot& s) {
  if (!s.conn || s.closing) return;
  Connection& c = *s.conn;
  bool ok = c.flush();
  c.transport().end_batch();
  s.want_write = c.has_output();
  if (ok) return;
  if (s.ring) {
    if (!c.transport().on_protocol_fault(c.fault())) stall(s);
    return;
  }
  close(s);
}

// Server::on_ring_kick.
void World::kick(Slot& s) {
  if (!s.conn || s.closing) return;
  if (s.ring && s.ring->reconnect_requested() &&
      (kServerFeatures & kFeatureReconnection)) {
    ConnId id = s.conn->id();
    watches_.remove_all(id);
    st_.drop_transactions(id);
    s.conn->reset_io();
    s.stalled = false;
    s.ring->finish_reconnect();
    s.out.reset();
    s.guest->input.clear();
    s.guest->input_pos = 0;
    s.guest->confused = false;
    s.garbled = false;
    s.framed = 0;
    ++reconnects_;
    if (s.conn->has_output() || s.conn->has_buffered_input() ||
        s.conn->fault() != Fault::kNone || s.conn->queued_bytes() != 0)
      fuzz_failure(s.name, "state left after a reconnection");
    return;
  }
  flush(s);
  serve(s, 0);
}

// One loop turn with every client ready: each served in turn (the others'
// unframed input moving out of the shared read buffer), then written.
void World::turn(std::size_t first) {
  for (std::size_t i = 0; i < slots_.size(); ++i)
    serve(*slots_[(first + i) % slots_.size()], 0);
  for (auto& s : slots_) flush(*s);
}

void World::break_peer(Slot& s, std::uint8_t arg) {
  if (!s.on_ring) {
    switch (arg % 3) {
      case 0:
        s.peer.write_fault = Fault::kIo;
        break;
      case 1:
        s.peer.write_fault = Fault::kClosed;
        break;
      default:
        s.peer.read_fault = Fault::kClosed;
        break;
    }
    return;
  }
  wire::RingPage& p = s.guest->page;
  if (arg % 6 != 3) s.garbled = true;  // the request stream is not as sent
  switch (arg % 6) {
    case 0:  // past the ring
      p.req_prod = p.req_cons + wire::kRingBytes + 1 + arg;
      break;
    case 1:  // backwards
      p.req_prod -= 1 + arg % 4;
      break;
    case 2:  // the daemon's own index
      p.req_cons += arg;
      break;
    case 3:  // skips responses, or claims some not written
      p.rsp_cons += 1 + arg * 8u;
      s.guest->confused = true;
      break;
    case 4:  // rewrites bytes it has written
      p.req[(p.req_prod - 1 - arg) & (wire::kRingBytes - 1)] ^= 0x5a;
      break;
    default:  // publishes bytes it never wrote
      p.req_prod += arg;
      break;
  }
}

void World::stall(Slot& s) {
  if (!s.stalled) ++faults_;
  s.stalled = true;
  if (s.guest) s.rsp_prod_at_fault = s.guest->page.rsp_prod;
}

void World::close(Slot& s) {
  if (s.closing) return;
  s.closing = true;
  ++faults_;
}

// Server::reap.
void World::reap() {
  for (auto& s : slots_) {
    if (!s->closing) continue;
    ConnId id = s->conn->id();
    watches_.remove_all(id);
    st_.drop_transactions(id);
    s->conn.reset();
    s->ring = nullptr;
    s->closing = false;
    s->out.reset();
  }
}

// The daemon's admission policy (daemon/admission.h) on this slot's
// figures, read as the server reads them. The write credit is left full:
// the fuzzer plays no clock.
daemon::ConnLoad World::load_of(const Slot& s) const noexcept {
  return daemon::memory_load(*s.conn, s.session.caller, st_, watches_);
}

std::size_t World::event_bound(const Slot& s) const noexcept {
  return daemon::event_bound(load_of(s), quota(s));
}

bool World::may_read_more(const Slot& s) const noexcept {
  return daemon::may_read_more(load_of(s), quota(s));
}

void World::check(const Slot& s) const {
  if (!s.conn) return;
  const Connection& c = *s.conn;
  if (c.has_output() != (c.queued_bytes() > 0) ||
      c.has_output() != (c.queued_messages() > 0))
    fuzz_failure(s.name, "queued bytes, messages and has_output disagree");
  if (!c.has_output() && c.held_bytes() > kIdleHeldMax)
    fuzz_failure(s.name, "holds " + std::to_string(c.held_bytes()) +
                             " bytes with nothing queued");
  if (s.stalled) {
    if (c.fault() == Fault::kNone)
      fuzz_failure(s.name, "stalled without a fault");
    if (s.guest && s.guest->page.rsp_prod != s.rsp_prod_at_fault)
      fuzz_failure(s.name, "written to after its fault");
    return;
  }
  if (s.guest && s.guest->confused) return;
  if (c.queued_bytes() <= kReadPauseBytes)
    s.out.check_pending(c.pending_output().bytes,
                        s.guest ? s.guest->in_flight() : 0);
}

void World::step(FuzzInput& in) {
  std::size_t dispatched = dispatched_;
  std::uint8_t head = in.byte();
  std::uint8_t arg = in.byte();
  std::size_t index = (head >> 4) % slots_.size();
  Slot& s = *slots_[index];
  switch (head & 15) {
    case kSend: {
      std::size_t n = arg + 256u * (in.byte() & 7u) + 1;
      std::string_view bytes = in.bytes(n);
      if (!s.conn) break;
      if (s.guest) {
        s.guest->input.append(bytes);
        s.guest->push(kAll);
      } else {
        s.peer.input.append(bytes);
      }
      break;
    }
    case kTune:
      if (s.guest) {
        s.guest->push(arg + 1u);
      } else if (arg < 4) {
        s.peer.stalls = arg + 1u;
      } else if (arg == 4) {
        s.peer.read_fault = Fault::kIo;
      } else {
        s.peer.chunk = arg - 5u;
      }
      break;
    case kServe:
      serve(s, arg % 8u);
      if (arg & 8) flush(s);
      break;
    case kKick:
      if (s.guest) {
        kick(s);
      } else {  // Server::turn on EPOLLOUT
        flush(s);
        if (s.conn && s.conn->has_buffered_input()) serve(s, 0);
      }
      break;
    case kDrain:
      if (s.guest)
        s.guest->consume(arg * 16u + 1);
      else
        s.peer.room += arg * 16u + 1;
      break;
    case kBreak:
      if (s.conn) break_peer(s, arg);
      break;
    case kReconnect:
      if (s.guest) {
        s.guest->page.connection = wire::kReconnect;
        kick(s);
      } else if (!s.conn) {
        open(s);
      } else {
        s.peer.hung_up = true;
      }
      break;
    case kTurn:
      turn(index);
      break;
    default:
      serve(s, 0);
      flush(s);
      break;
  }
  reap();
  for (const auto& slot : slots_) check(*slot);
  // (A walk of the whole tree: once a step, if the step changed anything.)
  if (dispatched_ != dispatched) check_store(st_);
}

// Every client reads all its output and sends nothing more, until nothing
// moves; then everything each was sent must have arrived.
void World::finish() {
  bool busy = true;
  for (int round = 0; round < 1024 && busy; ++round) {
    busy = false;
    for (auto& s : slots_) {
      if (!s->conn || s->stalled) continue;
      if (s->guest) {
        s->guest->consume(kAll);
        s->guest->push(kAll);
        kick(*s);
      } else {
        s->peer.room = kAll;
        s->peer.chunk = 0;
        s->peer.stalls = 0;
        flush(*s);
        serve(*s, 0);
        flush(*s);
      }
      reap();
    }
    // Once every client has had its go: serving one may have sent the
    // others events.
    for (auto& s : slots_) {
      if (!s->conn || s->stalled) continue;
      busy = busy || s->conn->has_output() ||
             (s->guest && s->guest->in_flight() != 0) ||
             s->conn->has_buffered_input();
    }
  }
  for (auto& s : slots_) {
    if (!s->conn || s->stalled || (s->guest && s->guest->confused) || busy)
      continue;
    check(*s);
    s->out.check_all_received();
  }
  for (auto& s : slots_) {
    if (!s->conn) continue;
    watches_.remove_all(s->conn->id());
    st_.drop_transactions(s->conn->id());
  }
  check_store(st_);
}

ConnectionRunStats World::stats() const {
  ConnectionRunStats r;
  r.dispatched = dispatched_;
  r.faults = faults_;
  r.reconnects = reconnects_;
  for (const auto& s : slots_) {
    r.frames += s->out.frames();
    r.errors += s->out.errors();
    r.events += s->out.events();
  }
  return r;
}

}  // namespace

ConnectionRunStats run_connection_input(const std::uint8_t* data,
                                        std::size_t size) {
  spdlog::set_level(spdlog::level::off);  // E2BIG and dropped events log
  FuzzInput in(data, size);
  World world(in.byte());
  for (std::size_t i = 0; i < kMaxSteps && !in.done(); ++i) world.step(in);
  world.finish();
  return world.stats();
}

}  // namespace cxs::fuzz

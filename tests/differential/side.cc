#include "side.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <thread>

#include "cxenstored/unique_fd.h"
#include "guest/guest_ring.h"
#include "test_util.h"
#include "wire/message_type.h"

namespace cxs::diff {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using wire::MsgType;

namespace {

constexpr std::uint32_t kEvent = test::ty(MsgType::XS_WATCH_EVENT);
constexpr std::uint32_t kError = test::ty(MsgType::XS_ERROR);
// A daemon that answers at all answers within milliseconds; this only
// bounds how long a crashed or silent one is waited for.
constexpr milliseconds kReplyTimeout{3000};
// How long a protocol fault is given to show (socket closed, ring error).
constexpr milliseconds kFaultTimeout{1000};

}  // namespace

// A connection an actor speaks on, in arrival order (replies and events
// interleaved, as the daemon wrote them).
class Channel {
 public:
  virtual ~Channel() = default;
  virtual void send(std::string_view bytes) = 0;
  // The next whole message, or nullopt at the deadline or on a fault.
  virtual std::optional<wire::Message> recv(Clock::time_point deadline) = 0;
  // "closed", "ring error N", or "" while the channel works.
  virtual std::string fault() = 0;
};

namespace {

class SocketChannel : public Channel {
 public:
  explicit SocketChannel(const std::string& path) {
    fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (!fd_.valid() ||
        ::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr))
      throw std::runtime_error("connect " + path);
  }

  void send(std::string_view bytes) override {
    if (closed_) return;
    if (::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(bytes.size()))
      closed_ = true;
  }

  std::optional<wire::Message> recv(Clock::time_point deadline) override {
    for (;;) {
      if (auto m = take()) return m;
      if (closed_ || !pump(deadline)) return std::nullopt;
    }
  }

  // Looks for the end of the stream without taking a message.
  std::string fault() override {
    while (!closed_ && pump(Clock::now())) {
    }
    return closed_ ? "closed" : "";
  }

 private:
  // Reads what has arrived by `deadline` into buf_; false if nothing did.
  bool pump(Clock::time_point deadline) {
    auto left =
        std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::max<long>(0, left.count()))) <= 0)
      return false;
    char tmp[65536];
    ssize_t n = ::recv(fd_.get(), tmp, sizeof tmp, 0);
    if (n <= 0) {
      closed_ = n == 0 || errno != EINTR;
      return false;
    }
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }

  std::optional<wire::Message> take() {
    if (buf_.size() < kHeaderSize) return std::nullopt;
    wire::Header h = wire::decode_header(buf_.data());
    if (buf_.size() < kHeaderSize + h.len) return std::nullopt;
    wire::Message m{h, buf_.substr(kHeaderSize, h.len)};
    buf_.erase(0, kHeaderSize + h.len);
    return m;
  }

  UniqueFd fd_;
  std::string buf_;
  bool closed_ = false;
};

class RingChannel : public Channel {
 public:
  RingChannel(const std::string& dir, std::uint32_t dom)
      : dir_(dir), port_(test::kGuestPortBase + dom) {
    std::string p = dir + "/ring-" + std::to_string(dom);
    UniqueFd fd(::open(p.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd.valid()) throw std::runtime_error("open " + p);
    map_ =
        ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
    if (map_ == MAP_FAILED) throw std::runtime_error("mmap " + p);
    ring_.emplace(static_cast<wire::RingPage*>(map_),
                  [this] { test::raise_port(dir_, port_); });
  }
  ~RingChannel() override { ::munmap(map_, 4096); }

  void send(std::string_view bytes) override { ring_->send_bytes(bytes); }

  std::optional<wire::Message> recv(Clock::time_point deadline) override {
    for (;;) {
      ring_->flush();
      if (auto m = ring_->receive()) return m;
      if (!fault().empty() || Clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }

  std::string fault() override {
    if (ring_->error() != 0)
      return "ring error " + std::to_string(ring_->error());
    return ring_->rsp_broken() ? "ring broken" : "";
  }

  // Writes a header announcing more than a message may carry.
  void oversize() {
    wire::Header h{test::ty(MsgType::XS_READ), 1, 0, 5000};
    std::string bytes(kHeaderSize, '\0');
    wire::encode_header(h, bytes.data());
    ring_->push_raw(bytes);
    ring_->kick();
  }

 private:
  std::string dir_;
  std::uint32_t port_;
  void* map_ = nullptr;
  std::optional<guest::GuestRing> ring_;
};

std::string shown_reply(const wire::Message& m) {
  if (m.hdr.type == kError) return "error " + test::error_of(m);
  std::string name = type_name(m.hdr.type);
  std::string payload = m.payload;
  if (m.hdr.type == test::ty(MsgType::XS_TRANSACTION_START)) {
    payload = "<tx>";
  } else if (m.hdr.type == test::ty(MsgType::XS_DIRECTORY_PART)) {
    // The generation is each daemon's own counter.
    std::size_t nul = payload.find('\0');
    payload = "<gen>" + payload.substr(nul == std::string::npos ? 0 : nul);
  } else if (payload == std::string("OK", 3)) {
    return name + " OK";
  }
  return name + " \"" + escape(payload) + "\"";
}

bool is_guest(Actor a) { return a >= 2; }

}  // namespace

std::string Observation::text() const {
  if (skipped) return "skipped";
  std::string out = reply;
  for (const auto& [chan, evs] : events)
    for (const auto& e : evs) out += "; " + chan + " event \"" + e + "\"";
  return out;
}

Side::Side(test::Peer peer, const std::vector<std::string>& daemon_args)
    : host_(peer, daemon_args) {
  set_up();
}

Side::~Side() = default;

std::string Side::log_tail() const {
  std::string log = host_.peer() == test::Peer::kCxenstored
                        ? const_cast<test::SimHost&>(host_).daemon().log()
                        : host_.log();
  return log.size() > 2000 ? log.substr(log.size() - 2000) : log;
}

// The state every run starts from: /t (dom0's, readable by nobody else),
// /t/shared (anyone may read and write), guests 5, 6 and 7 introduced,
// domain 8 existing but not introduced, domain 9 absent.
void Side::set_up() {
  {
    test::RawClient xs(host_.socket());
    xs.mkdir("/t");
    xs.mkdir("/t/shared");
    xs.set_perms("/t/shared", {"b0"});
  }
  for (std::uint32_t d : kGuests) {
    test::Msg m = host_.introduce(d);
    if (!test::is_type_ok(m))
      throw std::runtime_error("set-up: INTRODUCE " + std::to_string(d) + ": " +
                               m.shown());
  }
  host_.set_alive(kUnintroduced);
  channels_[kSockA] = std::make_unique<SocketChannel>(host_.socket());
  channels_[kSockB] = std::make_unique<SocketChannel>(host_.socket());
  for (std::uint32_t d : kGuests)
    channels_[static_cast<Actor>(d)] =
        std::make_unique<RingChannel>(host_.dir(), d);
}

Channel& Side::channel(Actor a) { return *channels_.at(a); }

std::uint32_t Side::tx_id(Actor a, int slot) const {
  if (slot == kNoTx) return 0;
  if (slot == kBogusTx) return kBogusTxId;
  auto it = tx_.find(a);
  std::uint32_t id = it == tx_.end() ? 0 : it->second[slot];
  return id ? id : kBogusTxId;
}

std::string Side::await_reply(Channel& c, std::uint32_t req_id,
                              std::vector<std::string>* events,
                              wire::Message* raw) {
  auto deadline = Clock::now() + kReplyTimeout;
  for (;;) {
    auto m = c.recv(std::min(deadline, Clock::now() + milliseconds(50)));
    if (m && m->hdr.type == kEvent) {
      if (events) events->push_back(escape(m->payload));
      continue;
    }
    if (m && m->hdr.req_id == req_id) {
      if (raw) *raw = *m;
      return shown_reply(*m);
    }
    if (m) {
      if (events) events->push_back("stray reply " + shown_reply(*m));
      continue;
    }
    if (!alive()) return "crashed";
    if (std::string f = c.fault(); !f.empty()) return f;
    if (Clock::now() >= deadline) return "no reply";
  }
}

Observation Side::run(const Op& op, const HostModel& model) {
  Observation o;
  if (op.kind == OpKind::kRequest)
    request(op, o);
  else if (op.kind == OpKind::kOversize)
    oversize(op, o);
  else
    host_op(op, model, o);
  if (o.reply == "crashed") return o;
  // A new watch's first event follows the WATCH reply: wait for it too.
  HostModel with_actor = model;
  if (op.kind == OpKind::kRequest && op.type == test::ty(MsgType::XS_WATCH))
    with_actor.watching.insert(op.actor);
  // A dead domain's ring is not served any more.
  if (op.kind == OpKind::kKill || op.kind == OpKind::kDestroy)
    with_actor.introduced.erase(op.domid);
  sync_watchers(with_actor, o);
  return o;
}

void Side::request(const Op& op, Observation& o) {
  Channel& c = channel(op.actor);
  std::uint32_t tx =
      op.type == test::ty(MsgType::XS_TRANSACTION_START) && op.tx >= 0
          ? 0
          : tx_id(op.actor, op.tx);
  std::uint32_t id = next_req_++;
  c.send(wire::encode_message(op.type, id, tx, op.payload));
  wire::Message raw;
  o.reply = await_reply(c, id, &o.events[actor_name(op.actor)], &raw);
  note_transaction(op, o, raw);
}

// Keeps the transaction ids this daemon gave out in the actor's slots (the
// two daemons number them differently; the ops name slots).
void Side::note_transaction(const Op& op, const Observation& o,
                            const wire::Message& reply) {
  if (op.tx < 0) return;
  auto& slots = tx_[op.actor];
  if (op.type == test::ty(MsgType::XS_TRANSACTION_START)) {
    if (reply.hdr.type == op.type)
      slots[op.tx] = static_cast<std::uint32_t>(
          std::strtoul(reply.payload.c_str(), nullptr, 10));
    return;
  }
  bool ended = op.type == test::ty(MsgType::XS_TRANSACTION_END) &&
               o.reply != "error EINVAL" && o.reply != "error ENOENT";
  if (ended) slots[op.tx] = 0;
}

void Side::oversize(const Op& op, Observation& o) {
  Channel& c = channel(op.actor);
  if (is_guest(op.actor)) {
    static_cast<RingChannel&>(c).oversize();
  } else {
    wire::Header h{test::ty(MsgType::XS_READ), next_req_++, 0, 5000};
    std::string bytes(kHeaderSize, '\0');
    wire::encode_header(h, bytes.data());
    c.send(bytes);
  }
  auto deadline = Clock::now() + kFaultTimeout;
  while (Clock::now() < deadline && c.fault().empty() && alive())
    std::this_thread::sleep_for(milliseconds(2));
  o.reply = alive() ? (c.fault().empty() ? "no fault" : c.fault()) : "crashed";
}

// VIRQ_DOM_EXC and guest kicks share one FIFO; once the daemon has taken
// every port from it, a request sent now is read after the VIRQ was handled
// (the daemon handles an event completely before it polls again).
void Side::wait_evtchn_drained() const {
  std::string p = host_.dir() + "/evtchn";
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  auto deadline = Clock::now() + kReplyTimeout;
  int pending = 0;
  while (fd.valid() && ::ioctl(fd.get(), FIONREAD, &pending) == 0 &&
         pending > 0 && Clock::now() < deadline)
    std::this_thread::sleep_for(milliseconds(1));
}

// A daemon may take the VIRQ from the FIFO and handle the death later in
// its loop turn: the death is done once the domain is no longer
// introduced.
void Side::wait_released(std::uint32_t dom) const {
  test::RawClient xs(host_.socket());
  // C never releases a domain that is a target: do not wait long for it.
  auto deadline = Clock::now() + kFaultTimeout;
  std::string d = std::to_string(dom);
  while (Clock::now() < deadline) {
    test::Msg m =
        xs.request(test::ty(MsgType::XS_IS_DOMAIN_INTRODUCED), d + '\0');
    if (m.payload == std::string("F", 2)) return;
    std::this_thread::sleep_for(milliseconds(1));
  }
}

void Side::host_op(const Op& op, const HostModel& model, Observation& o) {
  Actor g = static_cast<Actor>(op.domid);
  switch (op.kind) {
    case OpKind::kCreate:
      host_.set_alive(op.domid);
      o.reply = "done";
      return;
    case OpKind::kKill:
    case OpKind::kDestroy:
      if (op.kind == OpKind::kKill)
        host_.kill(op.domid);
      else
        host_.destroy(op.domid);
      wait_evtchn_drained();
      if (model.introduced.count(op.domid)) wait_released(op.domid);
      o.reply = "done";
      return;
    case OpKind::kIntroduce: {
      if (model.introduced.count(op.domid)) {
        o.skipped = true;
        return;
      }
      channels_.erase(g);
      test::Msg m = host_.introduce(op.domid);
      o.reply = test::is_type_ok(m) ? "OK" : "error " + test::outcome_of(m);
      return;
    }
    default:
      return;
  }
}

void Side::sync_watchers(const HostModel& model, Observation& o) {
  for (Actor a : model.watching) {
    auto it = channels_.find(a);
    if (it == channels_.end() || !it->second->fault().empty()) continue;
    if (is_guest(a) && !model.introduced.count(static_cast<std::uint32_t>(a)))
      continue;
    std::uint32_t id = next_req_++;
    it->second->send(wire::encode_message(test::ty(MsgType::XS_GET_DOMAIN_PATH),
                                          id, 0, std::string("0", 2)));
    std::vector<std::string>& evs = o.events[actor_name(a)];
    std::string r = await_reply(*it->second, id, &evs);
    if (r.rfind("GET_DOMAIN_PATH", 0) != 0) evs.push_back("sync: " + r);
  }
  for (auto it = o.events.begin(); it != o.events.end();)
    it = it->second.empty() ? o.events.erase(it) : std::next(it);
}

// Brings the channels in line with the model after an op: a socket the
// daemon closed is opened again (a new dom0 client), a guest whose ring is
// no longer served forgets its channel and its transactions (a RELEASE by
// dom0 too: a stale id would name another transaction in C, which numbers
// them per connection), a guest introduced again gets a fresh channel.
void Side::after(const Op&, const HostModel& model) {
  for (Actor a : {kSockA, kSockB}) {
    auto& c = channels_[a];
    if (c && !c->fault().empty()) {
      c = std::make_unique<SocketChannel>(host_.socket());
      tx_.erase(a);
    }
  }
  for (std::uint32_t d : {5u, 6u, 7u, kUnintroduced}) {
    auto a = static_cast<Actor>(d);
    if (!model.introduced.count(d)) {
      channels_.erase(a);
      tx_.erase(a);
    } else if (!channels_.count(a)) {
      channels_[a] = std::make_unique<RingChannel>(host_.dir(), d);
    }
  }
}

}  // namespace cxs::diff

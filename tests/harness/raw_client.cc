#include "raw_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <iterator>

#include "cxenstored/limits.h"

namespace cxs::harness {

using wire::MsgType;
using Clock = std::chrono::steady_clock;

namespace {

std::optional<Msg> pop_front(std::deque<Msg>& q) {
  if (q.empty()) return std::nullopt;
  Msg m = std::move(q.front());
  q.pop_front();
  return m;
}

}  // namespace

std::string Msg::shown() const {
  std::string s = payload;
  for (char& c : s)
    if (c == '\0') c = '|';
  return s;
}

bool Msg::is_error(std::string_view name) const {
  return type == ty(MsgType::XS_ERROR) &&
         payload == std::string(name) + std::string(1, '\0');
}

std::string error_name(std::string_view payload) {
  return std::string(payload.substr(0, payload.find('\0')));
}

std::string Msg::error_name() const {
  if (type != ty(MsgType::XS_ERROR)) return "";
  return harness::error_name(payload);
}

std::string nul_join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) {
    out += p;
    out += '\0';
  }
  return out;
}

std::string nul_join(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) {
    out += p;
    out += '\0';
  }
  return out;
}

std::vector<std::string> nul_split(std::string_view payload) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < payload.size()) {
    std::size_t nul = payload.find('\0', start);
    if (nul == std::string_view::npos) nul = payload.size();
    out.emplace_back(payload.substr(start, nul - start));
    start = nul + 1;
  }
  return out;
}

RawClient::RawClient(const std::string& socket_path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path)
    throw Error("socket path too long: " + socket_path);
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) throw Error(std::string("socket: ") + std::strerror(errno));
  if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr))
    throw Error("connect " + socket_path + ": " + std::strerror(errno));
}

// ---- Sending
// -----------------------------------------------------------------

void RawClient::send_bytes(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw Error(std::string("send: ") + std::strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::uint32_t RawClient::send(std::uint32_t type, std::string_view payload,
                              std::uint32_t tx_id,
                              std::optional<std::uint32_t> req_id) {
  std::uint32_t id = req_id ? *req_id : next_req_++;
  send_bytes(wire::encode_message(type, id, tx_id, payload));
  return id;
}

std::uint32_t RawClient::append_request(std::string& out, MsgType type,
                                        std::string_view payload,
                                        std::uint32_t tx_id) {
  std::uint32_t id = next_req_++;
  wire::Header h{ty(type), id, tx_id,
                 static_cast<std::uint32_t>(payload.size())};
  char hdr[kHeaderSize];
  wire::encode_header(h, hdr);
  out.append(hdr, sizeof hdr);
  out.append(payload);
  return id;
}

// ---- The input buffer
// ----------------------------------------------------------

RawClient::Read RawClient::read_some(TimePoint deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    pollfd p{fd_.get(), POLLIN, 0};
    int rc =
        ::poll(&p, 1, left.count() > 0 ? static_cast<int>(left.count()) : 0);
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return Read::kNothing;
    char tmp[65536];
    ssize_t n = ::recv(fd_.get(), tmp, sizeof tmp, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return Read::kClosed;
    if (in_off_ > 0 && in_off_ == in_.size()) {
      in_.clear();
      in_off_ = 0;
    }
    in_.append(tmp, static_cast<std::size_t>(n));
    return Read::kData;
  }
}

bool RawClient::take(Msg& out) {
  std::size_t have = in_.size() - in_off_;
  if (have < kHeaderSize) return false;
  wire::Header h = wire::decode_header(in_.data() + in_off_);
  if (h.len > kPayloadMax)
    throw Error("the daemon sent a message longer than 4096: " +
                std::to_string(h.len));
  if (have < kHeaderSize + h.len) return false;
  out = {h.type, h.req_id, h.tx_id, in_.substr(in_off_ + kHeaderSize, h.len)};
  in_off_ += kHeaderSize + h.len;
  return true;
}

void RawClient::set_aside_event(Msg&& event) {
  ++events_seen_;
  if (keep_events_) events_.push_back(std::move(event));
}

// ---- Receiving
// -----------------------------------------------------------------

std::optional<Msg> RawClient::recv(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    Msg m;
    if (take(m)) {
      if (m.type == ty(MsgType::XS_WATCH_EVENT)) ++events_seen_;
      return m;
    }
    if (read_some(deadline) != Read::kData) return std::nullopt;
  }
}

std::optional<Msg> RawClient::recv_reply(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto m = try_receive()) return m;
    if (read_some(deadline) != Read::kData) return std::nullopt;
  }
}

std::optional<Msg> RawClient::recv_event(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto m = pop_front(events_)) return m;
    Msg m;
    while (take(m)) {
      if (m.type == ty(MsgType::XS_WATCH_EVENT)) {
        ++events_seen_;
        return m;
      }
      replies_.push_back(std::move(m));
    }
    if (read_some(deadline) != Read::kData) return std::nullopt;
  }
}

Msg RawClient::receive() {
  if (auto m = recv_reply(timeout_)) return std::move(*m);
  throw Error("no reply from the daemon within " +
              std::to_string(timeout_.count()) + " ms");
}

Msg RawClient::next_event() {
  if (auto m = recv_event(timeout_)) return std::move(*m);
  throw Error("no watch event within " + std::to_string(timeout_.count()) +
              " ms");
}

std::size_t RawClient::read_available() {
  std::size_t before = in_.size() - in_off_;
  switch (read_some(Clock::now())) {
    case Read::kClosed:
      throw Error("the daemon closed the connection");
    case Read::kNothing:
      return 0;
    case Read::kData:
      break;
  }
  std::size_t got = in_.size() - in_off_ - before;
  Msg m;
  while (take(m)) {
    if (m.type == ty(MsgType::XS_WATCH_EVENT))
      set_aside_event(std::move(m));
    else
      replies_.push_back(std::move(m));
  }
  return got;
}

std::optional<Msg> RawClient::try_receive() {
  if (auto m = pop_front(replies_)) return m;
  Msg m;
  while (take(m)) {
    if (m.type != ty(MsgType::XS_WATCH_EVENT)) return m;
    set_aside_event(std::move(m));
  }
  return std::nullopt;
}

Msg RawClient::request(std::uint32_t type, std::string_view payload,
                       std::uint32_t tx_id) {
  std::uint32_t id = send(type, payload, tx_id);
  auto m = recv_reply(timeout_);
  if (!m) throw Error("no reply to request " + std::to_string(id));
  if (m->req_id != id)
    throw Error("reply for request " + std::to_string(m->req_id) +
                ", expected " + std::to_string(id));
  return std::move(*m);
}

std::string RawClient::call(MsgType type, std::string_view payload,
                            std::uint32_t tx_id) {
  Msg m = request(type, payload, tx_id);
  if (m.type == ty(MsgType::XS_ERROR))
    throw Error(std::string(wire::msg_type_name(ty(type))) + " " +
                std::string(payload.substr(0, payload.find('\0'))) + ": " +
                m.error_name());
  return std::move(m.payload);
}

std::vector<Msg> RawClient::events_before_barrier() {
  // GET_DOMAIN_PATH 0: answered OK for anyone, and touches no node.
  request(MsgType::XS_GET_DOMAIN_PATH, std::string_view("0\0", 2));
  std::vector<Msg> out(std::make_move_iterator(events_.begin()),
                       std::make_move_iterator(events_.end()));
  events_.clear();
  return out;
}

bool RawClient::closed_by_peer(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    switch (read_some(deadline)) {
      case Read::kClosed:
        return true;
      case Read::kNothing:
        return false;
      case Read::kData:
        in_.clear();
        in_off_ = 0;
        break;
    }
  }
}

// ---- Convenience wrappers
// ------------------------------------------------------

Msg RawClient::read(std::string_view path, std::uint32_t tx) {
  return request(MsgType::XS_READ, std::string(path) + '\0', tx);
}
Msg RawClient::write(std::string_view path, std::string_view value,
                     std::uint32_t tx) {
  std::string p(path);
  p += '\0';
  p += value;
  return request(MsgType::XS_WRITE, p, tx);
}
Msg RawClient::mkdir(std::string_view path, std::uint32_t tx) {
  return request(MsgType::XS_MKDIR, std::string(path) + '\0', tx);
}
Msg RawClient::rm(std::string_view path, std::uint32_t tx) {
  return request(MsgType::XS_RM, std::string(path) + '\0', tx);
}
Msg RawClient::directory(std::string_view path, std::uint32_t tx) {
  return request(MsgType::XS_DIRECTORY, std::string(path) + '\0', tx);
}
Msg RawClient::watch(std::string_view path, std::string_view token) {
  return request(MsgType::XS_WATCH, nul_join({path, token}));
}
Msg RawClient::unwatch(std::string_view path, std::string_view token) {
  return request(MsgType::XS_UNWATCH, nul_join({path, token}));
}
std::uint32_t RawClient::start_transaction() {
  Msg m = request(MsgType::XS_TRANSACTION_START, std::string(1, '\0'));
  if (m.type != ty(MsgType::XS_TRANSACTION_START)) return 0;
  return static_cast<std::uint32_t>(std::stoul(m.payload));
}
Msg RawClient::end_transaction(std::uint32_t tx, bool commit) {
  return request(MsgType::XS_TRANSACTION_END,
                 std::string(commit ? "T" : "F") + '\0', tx);
}
Msg RawClient::set_perms(std::string_view path,
                         const std::vector<std::string>& perms,
                         std::uint32_t tx) {
  std::vector<std::string> parts{std::string(path)};
  parts.insert(parts.end(), perms.begin(), perms.end());
  return request(MsgType::XS_SET_PERMS, nul_join(parts), tx);
}
Msg RawClient::get_perms(std::string_view path, std::uint32_t tx) {
  return request(MsgType::XS_GET_PERMS, std::string(path) + '\0', tx);
}

}  // namespace cxs::harness

#include "xs_conn.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cxenstored/limits.h"

namespace cxs::bench {

std::string error_name(std::string_view payload) {
  return std::string(payload.substr(0, payload.find('\0')));
}

std::string nul_join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) {
    out += p;
    out += '\0';
  }
  return out;
}

XsConn::XsConn(const std::string& socket_path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path)
    throw BenchError("socket path too long: " + socket_path);
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) throw BenchError(std::string("socket: ") + strerror(errno));
  if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) !=
      0)
    throw BenchError("connect " + socket_path + ": " + strerror(errno));
}

std::uint32_t XsConn::send(MsgType type, std::string_view payload,
                           std::uint32_t tx) {
  std::string msg = wire::encode_message(type_of(type), ++req_, tx, payload);
  send_raw(msg);
  return req_;
}

std::uint32_t XsConn::append_request(std::string& out, MsgType type,
                                     std::string_view payload,
                                     std::uint32_t tx) {
  wire::Header h{type_of(type), ++req_, tx,
                 static_cast<std::uint32_t>(payload.size())};
  char hdr[kHeaderSize];
  wire::encode_header(h, hdr);
  out.append(hdr, sizeof hdr);
  out.append(payload);
  return req_;
}

void XsConn::send_raw(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw BenchError(std::string("socket write: ") + strerror(errno));
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::size_t XsConn::read_available() {
  char buf[65536];
  ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  if (n < 0) throw BenchError(std::string("socket read: ") + strerror(errno));
  if (n == 0) throw BenchError("the daemon closed the connection");
  if (in_off_ > 0 && in_off_ == in_.size()) {
    in_.clear();
    in_off_ = 0;
  }
  in_.append(buf, static_cast<std::size_t>(n));
  return static_cast<std::size_t>(n);
}

bool XsConn::take(Message& out) {
  for (;;) {
    std::size_t have = in_.size() - in_off_;
    if (have < kHeaderSize) return false;
    wire::Header h = wire::decode_header(in_.data() + in_off_);
    if (h.len > kPayloadMax)
      throw BenchError("the daemon sent a reply longer than 4096");
    if (have < kHeaderSize + h.len) return false;
    std::string payload(in_.data() + in_off_ + kHeaderSize, h.len);
    in_off_ += kHeaderSize + h.len;
    if (h.type == type_of(MsgType::XS_WATCH_EVENT)) {
      ++events_seen_;
      if (keep_events_) events_.push_back({h, std::move(payload)});
      continue;
    }
    out = {h, std::move(payload)};
    return true;
  }
}

void XsConn::fill_blocking() {
  auto deadline = Clock::now() + timeout_;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    pollfd pfd{fd_.get(), POLLIN, 0};
    if (left.count() <= 0 ||
        ::poll(&pfd, 1, static_cast<int>(left.count())) == 0)
      throw BenchError("timeout waiting for the daemon");
    if (read_available() > 0) return;
  }
}

void XsConn::pump_once() {
  fill_blocking();
  Message m;
  while (take(m)) replies_.push_back(std::move(m));
}

Message XsConn::receive() {
  for (;;) {
    if (!replies_.empty()) {
      Message m = std::move(replies_.front());
      replies_.pop_front();
      return m;
    }
    Message m;
    if (take(m)) return m;
    pump_once();
  }
}

std::optional<Message> XsConn::try_receive() {
  if (!replies_.empty()) {
    Message m = std::move(replies_.front());
    replies_.pop_front();
    return m;
  }
  Message m;
  if (take(m)) return m;
  return std::nullopt;
}

Message XsConn::next_event() {
  bool was = keep_events_;
  keep_events_ = true;
  while (events_.empty()) pump_once();
  keep_events_ = was;
  Message m = std::move(events_.front());
  events_.pop_front();
  return m;
}

Message XsConn::request(MsgType type, std::string_view payload,
                        std::uint32_t tx) {
  std::uint32_t id = send(type, payload, tx);
  Message m = receive();
  if (m.hdr.req_id != id)
    throw BenchError("reply for request " + std::to_string(m.hdr.req_id) +
                     ", expected " + std::to_string(id));
  return m;
}

std::string XsConn::call(MsgType type, std::string_view payload,
                         std::uint32_t tx) {
  Message m = request(type, payload, tx);
  if (m.hdr.type == type_of(MsgType::XS_ERROR))
    throw BenchError(std::string(wire::msg_type_name(type_of(type))) + " " +
                     std::string(payload.substr(0, payload.find('\0'))) +
                     ": " + error_name(m.payload));
  return m.payload;
}

}  // namespace cxs::bench

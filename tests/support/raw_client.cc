#include "raw_client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "wire/message_type.h"

namespace cxs::test {

using wire::MsgType;
using Clock = std::chrono::steady_clock;

namespace {
constexpr auto t(MsgType m) { return static_cast<std::uint32_t>(m); }
}  // namespace

std::string Msg::shown() const {
  std::string s = payload;
  for (char& c : s)
    if (c == '\0') c = '|';
  return s;
}

bool Msg::is_error(std::string_view name) const {
  return type == t(MsgType::XS_ERROR) &&
         payload == std::string(name) + std::string(1, '\0');
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
  fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) throw std::runtime_error("socket failed");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path)
    throw std::runtime_error("socket path too long");
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr))
    throw std::runtime_error("connect " + socket_path + ": " +
                             std::strerror(errno));
}

void RawClient::send_bytes(std::string_view bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n = ::send(fd_.get(), bytes.data() + off, bytes.size() - off,
                       MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    }
    off += static_cast<std::size_t>(n);
  }
}

std::uint32_t RawClient::send(std::uint32_t type, std::string_view payload,
                              std::uint32_t tx_id,
                              std::optional<std::uint32_t> req_id) {
  std::uint32_t id = req_id ? *req_id : next_req_++;
  send_bytes(wire::encode_message(type, id, tx_id, payload));
  return id;
}

bool RawClient::fill(std::size_t want, Clock::time_point deadline) {
  while (buf_.size() < want) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    if (left.count() < 0) return false;
    pollfd p{fd_.get(), POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0) return false;
    char tmp[65536];
    ssize_t n = ::recv(fd_.get(), tmp, sizeof tmp, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<std::size_t>(n));
  }
  return true;
}

std::optional<Msg> RawClient::recv(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  if (!fill(kHeaderSize, deadline)) return std::nullopt;
  wire::Header h = wire::decode_header(buf_.data());
  if (!fill(kHeaderSize + h.len, deadline)) return std::nullopt;
  Msg m{h.type, h.req_id, h.tx_id, buf_.substr(kHeaderSize, h.len)};
  buf_.erase(0, kHeaderSize + h.len);
  return m;
}

std::optional<Msg> RawClient::recv_reply(std::chrono::milliseconds timeout) {
  if (!pending_replies_.empty()) {
    Msg m = std::move(pending_replies_.front());
    pending_replies_.erase(pending_replies_.begin());
    return m;
  }
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    auto m = recv(left.count() > 0 ? left : std::chrono::milliseconds(0));
    if (!m) return std::nullopt;
    if (m->type != t(MsgType::XS_WATCH_EVENT)) return m;
    pending_events_.push_back(std::move(*m));
  }
}

std::optional<Msg> RawClient::recv_event(std::chrono::milliseconds timeout) {
  if (!pending_events_.empty()) {
    Msg m = std::move(pending_events_.front());
    pending_events_.erase(pending_events_.begin());
    return m;
  }
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    auto m = recv(left.count() > 0 ? left : std::chrono::milliseconds(0));
    if (!m) return std::nullopt;
    if (m->type == t(MsgType::XS_WATCH_EVENT)) return m;
    pending_replies_.push_back(std::move(*m));
  }
}

Msg RawClient::request(std::uint32_t type, std::string_view payload,
                       std::uint32_t tx_id) {
  std::uint32_t id = send(type, payload, tx_id);
  auto m = recv_reply();
  if (!m) throw std::runtime_error("no reply to request " + std::to_string(id));
  return *m;
}

std::vector<Msg> RawClient::queued_events() {
  // GET_DOMAIN_PATH 0: answered OK for anyone, and touches no node.
  request(static_cast<std::uint32_t>(wire::MsgType::XS_GET_DOMAIN_PATH),
          std::string_view("0\0", 2));
  std::vector<Msg> out;
  out.swap(pending_events_);
  return out;
}

bool RawClient::closed_by_peer(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - Clock::now());
    if (left.count() < 0) return false;
    pollfd p{fd_.get(), POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc <= 0) return false;
    char tmp[4096];
    ssize_t n = ::recv(fd_.get(), tmp, sizeof tmp, 0);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
    if (n < 0) return false;
  }
}

Msg RawClient::read(std::string_view path, std::uint32_t tx) {
  return request(t(MsgType::XS_READ), std::string(path) + '\0', tx);
}
Msg RawClient::write(std::string_view path, std::string_view value,
                     std::uint32_t tx) {
  std::string p(path);
  p += '\0';
  p += value;
  return request(t(MsgType::XS_WRITE), p, tx);
}
Msg RawClient::mkdir(std::string_view path, std::uint32_t tx) {
  return request(t(MsgType::XS_MKDIR), std::string(path) + '\0', tx);
}
Msg RawClient::rm(std::string_view path, std::uint32_t tx) {
  return request(t(MsgType::XS_RM), std::string(path) + '\0', tx);
}
Msg RawClient::directory(std::string_view path, std::uint32_t tx) {
  return request(t(MsgType::XS_DIRECTORY), std::string(path) + '\0', tx);
}
Msg RawClient::watch(std::string_view path, std::string_view token) {
  return request(t(MsgType::XS_WATCH),
                 nul_join({std::string(path), std::string(token)}));
}
Msg RawClient::unwatch(std::string_view path, std::string_view token) {
  return request(t(MsgType::XS_UNWATCH),
                 nul_join({std::string(path), std::string(token)}));
}
std::uint32_t RawClient::start_transaction() {
  Msg m = request(t(MsgType::XS_TRANSACTION_START), std::string(1, '\0'));
  if (m.type != t(MsgType::XS_TRANSACTION_START)) return 0;
  return static_cast<std::uint32_t>(std::stoul(m.payload));
}
Msg RawClient::end_transaction(std::uint32_t tx, bool commit) {
  return request(t(MsgType::XS_TRANSACTION_END),
                 std::string(commit ? "T" : "F") + '\0', tx);
}
Msg RawClient::set_perms(std::string_view path,
                         const std::vector<std::string>& perms,
                         std::uint32_t tx) {
  std::vector<std::string> parts{std::string(path)};
  parts.insert(parts.end(), perms.begin(), perms.end());
  return request(t(MsgType::XS_SET_PERMS), nul_join(parts), tx);
}
Msg RawClient::get_perms(std::string_view path, std::uint32_t tx) {
  return request(t(MsgType::XS_GET_PERMS), std::string(path) + '\0', tx);
}

}  // namespace cxs::test

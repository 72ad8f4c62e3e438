// One trace line per message:
//   2026-11-22 07:00:00.123456 IN  conn 3 XS_READ req 7 tx 0 /tool/xenstored
//   2026-11-22 07:00:00.123470 OUT conn 3 XS_ERROR req 7 tx 0 ENOENT
//   2026-11-22 07:00:00.123480 EVT conn 4 XS_WATCH_EVENT req 0 tx 0 /a tok
//   2026-11-22 07:00:00.123490 --- conn 4 closed
// NULs print as spaces (so the lines above really end in one); other bytes
// outside printable ASCII print as \xNN, so a line never breaks or carries
// control characters from a guest. Only the first kPayloadShown bytes show.
#include "daemon/trace.h"

#include <spdlog/spdlog.h>

#include <ctime>
#include <filesystem>
#include <system_error>

#include "wire/message_type.h"

namespace cxs::daemon {
namespace {

constexpr std::size_t kPayloadShown = 256;

void append_timestamp(std::string& out) {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  std::tm tm{};
  ::localtime_r(&ts.tv_sec, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  out.append(buf, n);
  n = static_cast<std::size_t>(std::snprintf(
      buf, sizeof buf, ".%06ld ", static_cast<long>(ts.tv_nsec / 1000)));
  out.append(buf, n);
}

void append_payload(std::string& out, std::string_view payload) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string_view shown = payload.substr(0, kPayloadShown);
  for (char c : shown) {
    auto u = static_cast<unsigned char>(c);
    if (u == 0) {
      out += ' ';
    } else if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  if (payload.size() > kPayloadShown) out += "...";
}

void append_type(std::string& out, std::uint32_t type) {
  std::string_view name = wire::msg_type_name(type);
  if (name.empty()) {
    out += "TYPE(" + std::to_string(type) + ")";
  } else {
    out += name;
  }
}

// Relative paths are resolved once, at open: the daemon chdirs to "/" when
// it daemonises, and reopen() must find the same file afterwards.
std::string absolute_path(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  return ec ? path : abs.string();
}

}  // namespace

Trace::~Trace() {
  if (file_ != nullptr) std::fclose(file_);
}

bool Trace::open(const std::string& path) {
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
  path_ = absolute_path(path);
  // "e": O_CLOEXEC, the trace must not leak into anything we exec.
  file_ = std::fopen(path_.c_str(), "ae");
  if (file_ == nullptr) {
    spdlog::error("cannot open trace file {}: {}", path_,
                  std::generic_category().message(errno));
    return false;
  }
  return true;
}

void Trace::reopen() {
  if (path_.empty()) return;
  // A failure leaves tracing off (and logged) rather than stopping the
  // daemon: the trace is a debugging aid.
  open(path_);
}

void Trace::request(ConnId conn, const wire::Header& hdr,
                    std::string_view payload) noexcept {
  line('I', conn, hdr.type, hdr.req_id, hdr.tx_id, payload);
}

void Trace::reply(ConnId conn, const wire::Header& hdr,
                  std::string_view payload) noexcept {
  line('O', conn, hdr.type, hdr.req_id, hdr.tx_id, payload);
}

void Trace::event(ConnId conn, std::string_view path,
                  std::string_view token) noexcept {
  if (file_ == nullptr) return;
  try {
    // Laid out as the XS_WATCH_EVENT payload is on the wire: path\0token\0.
    std::string payload;
    payload.reserve(path.size() + token.size() + 2);
    payload.append(path);
    payload += '\0';
    payload.append(token);
    payload += '\0';
    line('E', conn, static_cast<std::uint32_t>(wire::MsgType::XS_WATCH_EVENT),
         0, 0, payload);
  } catch (...) {
    // Out of memory: dropping a trace line is the right trade.
  }
}

void Trace::note(ConnId conn, std::string_view what) noexcept {
  if (file_ == nullptr) return;
  try {
    std::string out;
    append_timestamp(out);
    out += "--- conn " + std::to_string(conn.value) + ' ';
    append_payload(out, what);
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), file_);
    std::fflush(file_);
  } catch (...) {
  }
}

void Trace::line(char dir, ConnId conn, std::uint32_t type,
                 std::uint32_t req_id, std::uint32_t tx_id,
                 std::string_view payload) noexcept {
  if (file_ == nullptr) return;
  try {
    std::string out;
    out.reserve(96 + kPayloadShown);
    append_timestamp(out);
    switch (dir) {
      case 'I':
        out += "IN  ";
        break;
      case 'O':
        out += "OUT ";
        break;
      case 'E':
        out += "EVT ";
        break;
      default:
        out += "--- ";
        break;
    }
    out += "conn " + std::to_string(conn.value) + ' ';
    append_type(out, type);
    out +=
        " req " + std::to_string(req_id) + " tx " + std::to_string(tx_id) + ' ';
    append_payload(out, payload);
    out += '\n';
    // Flushed line by line: the trace is read while chasing a live problem,
    // and a crash must not eat the last requests.
    std::fwrite(out.data(), 1, out.size(), file_);
    std::fflush(file_);
  } catch (...) {
  }
}

}  // namespace cxs::daemon

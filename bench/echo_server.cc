// cxs-bench-echo: the physical limit of a xenstore round trip over a Unix
// socket. It frames requests exactly as a daemon must and keeps no store:
// READ gets the 1-byte value "x", DIRECTORY the 100 names the dir-100
// workload creates, TRANSACTION_START the id "1", everything else "OK\0"
// (same type, same req_id and tx_id), so the closed-loop workloads
// (reads, directory, transactions) show what a round trip alone costs.
// One thread, epoll, non-blocking sockets, replies written straight away
// (the rest queued): the loop a daemon cannot beat.
// Usage: cxs-bench-echo SOCKET_PATH.
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>

#include "cxenstored/limits.h"
#include "cxenstored/unique_fd.h"
#include "dir100.h"
#include "wire/header.h"
#include "wire/message_type.h"

namespace {

using cxs::UniqueFd;

struct Conn {
  UniqueFd fd;
  std::string in;
  std::string out;
  bool want_out = false;  // EPOLLOUT registered
};

volatile sig_atomic_t g_stop = 0;

void on_signal(int) { g_stop = 1; }

// The children dir-100 writes under /bench/d, each NUL-terminated.
const std::string& hundred_names() {
  static const std::string names = [] {
    std::string n;
    for (int i = 0; i < cxs::bench::kDir100Children; ++i)
      n += cxs::bench::dir100_child(i) + '\0';
    return n;
  }();
  return names;
}

std::string_view canned_reply(std::uint32_t type) {
  using cxs::wire::MsgType;
  switch (static_cast<MsgType>(type)) {
    case MsgType::XS_READ: return {"x", 1};
    case MsgType::XS_DIRECTORY: return hundred_names();
    case MsgType::XS_TRANSACTION_START: return {"1\0", 2};
    default: return {"OK\0", 3};
  }
}

// Answers every whole request in c.in; false on a protocol fault.
bool serve(Conn& c) {
  std::size_t off = 0;
  while (c.in.size() - off >= cxs::kHeaderSize) {
    cxs::wire::Header h = cxs::wire::decode_header(c.in.data() + off);
    if (h.len > cxs::kPayloadMax) return false;
    if (c.in.size() - off < cxs::kHeaderSize + h.len) break;
    off += cxs::kHeaderSize + h.len;
    std::string_view body = canned_reply(h.type);
    h.len = static_cast<std::uint32_t>(body.size());
    char hdr[cxs::kHeaderSize];
    cxs::wire::encode_header(h, hdr);
    c.out.append(hdr, sizeof hdr);
    c.out.append(body);
  }
  c.in.erase(0, off);
  return true;
}

// Writes what it can; false when the peer is gone.
bool flush(Conn& c) {
  while (!c.out.empty()) {
    ssize_t n = ::send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    if (n <= 0) return false;
    c.out.erase(0, static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s SOCKET_PATH\n", argv[0]);
    return 2;
  }
  ::signal(SIGTERM, on_signal);
  ::signal(SIGINT, on_signal);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (std::strlen(argv[1]) >= sizeof addr.sun_path) {
    std::fprintf(stderr, "socket path too long\n");
    return 1;
  }
  std::strcpy(addr.sun_path, argv[1]);
  ::unlink(argv[1]);
  UniqueFd lfd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!lfd.valid() ||
      ::bind(lfd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(lfd.get(), 1024) != 0) {
    std::perror("listen");
    return 1;
  }
  UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lfd.get();
  ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, lfd.get(), &ev);
  std::unordered_map<int, std::unique_ptr<Conn>> conns;
  epoll_event evs[64];
  while (!g_stop) {
    int n = ::epoll_wait(ep.get(), evs, 64, 500);
    for (int i = 0; i < n; ++i) {
      int fd = evs[i].data.fd;
      if (fd == lfd.get()) {
        for (;;) {
          int c = ::accept4(lfd.get(), nullptr, nullptr,
                            SOCK_NONBLOCK | SOCK_CLOEXEC);
          if (c < 0) break;
          auto conn = std::make_unique<Conn>();
          conn->fd.reset(c);
          epoll_event cev{};
          cev.events = EPOLLIN;
          cev.data.fd = c;
          ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, c, &cev);
          conns[c] = std::move(conn);
        }
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      Conn& c = *it->second;
      bool alive = true;
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        char buf[65536];
        ssize_t r = ::recv(fd, buf, sizeof buf, 0);
        if (r > 0) {
          c.in.append(buf, static_cast<std::size_t>(r));
          alive = serve(c);
        } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
          alive = false;
        }
      }
      alive = alive && flush(c);
      if (alive && c.want_out != !c.out.empty()) {
        c.want_out = !c.out.empty();
        epoll_event cev{};
        cev.events = EPOLLIN | (c.out.empty() ? 0u : EPOLLOUT);
        cev.data.fd = fd;
        ::epoll_ctl(ep.get(), EPOLL_CTL_MOD, fd, &cev);
      } else if (!alive) {
        ::epoll_ctl(ep.get(), EPOLL_CTL_DEL, fd, nullptr);
        conns.erase(it);
      }
    }
  }
  ::unlink(argv[1]);
  return 0;
}

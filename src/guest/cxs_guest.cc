// cxs-guest: plays guest domain D against a xenstore daemon running on the
// simulated hypervisor (cxenstored --sim-xen DIR, or a reference daemon under
// tools/refd: same conventions). It maps DIR/ring-D, writes requests into
// req[], kicks by writing port 100+D into the FIFO DIR/evtchn, and polls
// rsp_prod for replies. With --introduce it first does the toolstack's part
// over the daemon's Unix socket. Usage: cxs-guest --help.
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cxenstored/ids.h"
#include "cxenstored/limits.h"
#include "cxenstored/unique_fd.h"
#include "guest/guest_ring.h"
#include "wire/header.h"
#include "wire/message_type.h"
#include "xen/domain_list.h"

namespace {

using cxs::UniqueFd;
using cxs::guest::GuestRing;
using cxs::wire::Message;
using cxs::wire::MsgType;
using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kDomExcPort = 1;
constexpr std::uint32_t kDomPortBase = 100;
constexpr std::size_t kPageSize = 4096;

const char kUsage[] =
    "usage: cxs-guest DIR DOMID [options] [COMMAND [ARGS...]]\n"
    "Plays guest domain DOMID against a xenstore daemon on the simulated\n"
    "hypervisor in DIR (cxenstored --sim-xen DIR, or a refd reference).\n"
    "\n"
    "options:\n"
    "  --introduce      first do the toolstack's part over the socket:\n"
    "                   mkdir /local/domain/D owned by D, add D to\n"
    "                   DIR/domains, zero DIR/ring-D, XS_INTRODUCE\n"
    "  --socket PATH    the daemon's socket (default DIR/socket)\n"
    "  --timeout SECS   how long to wait for each reply or event (5)\n"
    "  --part           ls pages with XS_DIRECTORY_PART\n"
    "\n"
    "commands (over the ring):\n"
    "  read PATH | write PATH VALUE | ls PATH | rm PATH | mkdir PATH\n"
    "  watch PATH TOKEN [COUNT]   print COUNT events (default 1), unwatch\n"
    "  tx-demo [PATH]             start, write PATH (data/tx-demo), commit\n"
    "  raw TYPE PAYLOAD           TYPE a number or name; \\0 \\n \\\\ \\xHH\n"
    "  reconnect                  ask for a ring reconnection\n"
    "  hostile bad-index          req_prod = req_cons + 5000, kick\n"
    "  hostile oversize           a header with len 5000, kick\n"
    "  kill                       mark D dying in DIR/domains, kick port 1\n"
    "  gone                       remove D from DIR/domains, kick port 1\n"
    "\n"
    "Errors print \"error: ENOENT\" (etc.) on stderr and exit 1.\n";

// A refusal or failure that ends the run with "error: ..." and status 1.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string sys_error(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

std::string type_name(std::uint32_t type) {
  std::string_view n = cxs::wire::msg_type_name(type);
  return n.empty() ? "type " + std::to_string(type) : std::string(n);
}

std::string shown(std::string_view payload) {
  std::string out;
  for (char c : payload) {
    if (c == '\0')
      out += "\\0";
    else if (c == '\\')
      out += "\\\\";
    else
      out += c;
  }
  return out;
}

std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    if (c == '0')
      out += '\0';
    else if (c == 'n')
      out += '\n';
    else if (c == '\\')
      out += '\\';
    else if (c == 'x' && i + 2 < s.size()) {
      out += static_cast<char>(
          std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += '\\';
      out += c;
    }
  }
  return out;
}

std::uint32_t parse_type(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos)
    return static_cast<std::uint32_t>(std::stoul(s));
  for (std::uint32_t t = 0; t < 0x10000; ++t) {
    std::string_view n = cxs::wire::msg_type_name(t);
    if (n.empty()) continue;
    if (n == s || n.substr(3) == s) return t;
  }
  throw Failure("unknown message type " + s);
}

// "ENOENT\0" -> "ENOENT".
std::string error_name(const std::string& payload) {
  return payload.substr(0, payload.find('\0'));
}

// ---- the simulated hypervisor, seen from the guest and the toolstack ------

struct SimDir {
  std::string dir;
  std::uint32_t dom;

  std::string path(const std::string& name) const { return dir + "/" + name; }

  // Writes one port into the daemon's event FIFO (creating it if the daemon
  // has not yet: the bytes wait there).
  void raise(std::uint32_t port) const {
    std::string p = path("evtchn");
    if (::mkfifo(p.c_str(), 0600) != 0 && errno != EEXIST)
      throw Failure(sys_error("mkfifo " + p));
    UniqueFd fd(::open(p.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) throw Failure(sys_error("open " + p));
    if (::write(fd.get(), &port, sizeof port) != sizeof port)
      throw Failure(sys_error("write " + p));
  }

  cxs::xen::SimDomainList read_domains() const {
    std::string text = "0";
    UniqueFd fd(::open(path("domains").c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.valid()) {
      text.clear();
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd.get(), buf, sizeof buf)) > 0)
        text.append(buf, static_cast<std::size_t>(n));
    }
    return cxs::xen::parse_domain_list(text);
  }

  // Replaced whole with rename(), so a daemon reading it meanwhile sees the
  // old list or the new one, never half of one.
  void write_domains(const cxs::xen::SimDomainList& list) const {
    std::string tmp = path("domains.tmp." + std::to_string(::getpid()));
    std::string text = cxs::xen::format_domain_list(list);
    {
      UniqueFd fd(
          ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
      if (!fd.valid()) throw Failure(sys_error("create " + tmp));
      if (::write(fd.get(), text.data(), text.size()) !=
          static_cast<ssize_t>(text.size()))
        throw Failure(sys_error("write " + tmp));
    }
    if (::rename(tmp.c_str(), path("domains").c_str()) != 0)
      throw Failure(sys_error("rename " + tmp));
  }

  void zero_ring() const {
    std::string p = path("ring-" + std::to_string(dom));
    UniqueFd fd(::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd.valid()) throw Failure(sys_error("open " + p));
    std::string zeros(kPageSize, '\0');
    if (::pwrite(fd.get(), zeros.data(), zeros.size(), 0) !=
        static_cast<ssize_t>(zeros.size()))
      throw Failure(sys_error("write " + p));
  }
};

// DIR/ring-D mapped shared, unmapped on destruction.
class RingMapping {
 public:
  explicit RingMapping(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd.valid())
      throw Failure(sys_error("open " + path) +
                    " (is the domain introduced? try --introduce)");
    struct stat st;
    if (::fstat(fd.get(), &st) != 0 ||
        static_cast<std::size_t>(st.st_size) < kPageSize)
      throw Failure(path + " is not a 4096-byte ring page");
    addr_ = ::mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED,
                   fd.get(), 0);
    if (addr_ == MAP_FAILED) throw Failure(sys_error("mmap " + path));
  }
  ~RingMapping() { ::munmap(addr_, kPageSize); }
  RingMapping(const RingMapping&) = delete;
  RingMapping& operator=(const RingMapping&) = delete;

  cxs::wire::RingPage* page() {
    return static_cast<cxs::wire::RingPage*>(addr_);
  }

 private:
  void* addr_ = nullptr;
};

// ---- the toolstack's socket ------------------------------------------------

class SocketClient {
 public:
  SocketClient(const std::string& path, std::chrono::milliseconds timeout)
      : timeout_(timeout) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
      throw Failure("socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd_.valid()) throw Failure(sys_error("socket"));
    if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) !=
        0)
      throw Failure(sys_error("connect " + path));
  }

  // One request, its reply; XS_ERROR becomes a Failure naming `what`.
  std::string call(MsgType type, const std::string& payload,
                   const std::string& what) {
    std::string msg = cxs::wire::encode_message(
        static_cast<std::uint32_t>(type), ++req_, 0, payload);
    for (std::size_t off = 0; off < msg.size();) {
      ssize_t n = ::write(fd_.get(), msg.data() + off, msg.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw Failure(sys_error("socket write"));
      off += static_cast<std::size_t>(n);
    }
    for (;;) {
      Message m = receive();
      if (m.hdr.type == static_cast<std::uint32_t>(MsgType::XS_WATCH_EVENT))
        continue;
      if (m.hdr.type == static_cast<std::uint32_t>(MsgType::XS_ERROR))
        throw Failure(error_name(m.payload) + " (" + what + ")");
      return m.payload;
    }
  }

 private:
  void fill(char* p, std::size_t n) {
    auto deadline = Clock::now() + timeout_;
    while (n > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - Clock::now());
      pollfd pfd{fd_.get(), POLLIN, 0};
      if (left.count() <= 0 ||
          ::poll(&pfd, 1, static_cast<int>(left.count())) == 0)
        throw Failure("timeout waiting for the daemon on its socket");
      ssize_t r = ::read(fd_.get(), p, n);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw Failure(sys_error("socket read"));
      if (r == 0) throw Failure("the daemon closed the socket");
      p += r;
      n -= static_cast<std::size_t>(r);
    }
  }

  Message receive() {
    char hdr[cxs::kHeaderSize];
    fill(hdr, sizeof hdr);
    Message m{cxs::wire::decode_header(hdr), {}};
    if (m.hdr.len > cxs::kPayloadMax)
      throw Failure("the daemon sent an oversized reply");
    m.payload.resize(m.hdr.len);
    fill(m.payload.data(), m.payload.size());
    return m;
  }

  UniqueFd fd_;
  std::chrono::milliseconds timeout_;
  std::uint32_t req_ = 0;
};

void introduce(const SimDir& sim, const std::string& socket_path,
               std::chrono::milliseconds timeout) {
  // The domain exists in the hypervisor first: the C daemon refuses
  // (ENOENT) permissions naming a domain that does not exist.
  auto domains = sim.read_domains();
  domains[sim.dom] = cxs::xen::SimDomState::kAlive;
  sim.write_domains(domains);
  sim.zero_ring();
  SocketClient xs(socket_path, timeout);
  std::string d = std::to_string(sim.dom);
  std::string home = "/local/domain/" + d;
  xs.call(MsgType::XS_MKDIR, home + '\0', "mkdir " + home);
  // Owned by the domain, nothing for others (dom0 is privileged anyway).
  xs.call(MsgType::XS_SET_PERMS, home + '\0' + "n" + d + '\0',
          "set perms of " + home);
  // Any gfn will do: the simulated mapper maps ring-D whatever it is. The
  // remote port is 1; the simulated daemon binds local port 100+D.
  std::string gfn = std::to_string(0x1000 + sim.dom);
  xs.call(MsgType::XS_INTRODUCE, d + '\0' + gfn + '\0' + "1" + '\0',
          "introduce");
}

// ---- the guest's ring ------------------------------------------------------

class Guest {
 public:
  Guest(const SimDir& sim, std::chrono::milliseconds timeout)
      : sim_(sim),
        map_(sim.path("ring-" + std::to_string(sim.dom))),
        ring_(map_.page(), [this] { sim_.raise(kDomPortBase + sim_.dom); }),
        timeout_(timeout),
        next_req_((static_cast<std::uint32_t>(::getpid()) & 0xffff) << 16) {
    // Whatever is complete in rsp[] now answers some earlier run: drop it.
    while (ring_.receive()) {
    }
  }

  GuestRing& ring() { return ring_; }

  std::uint32_t send(std::uint32_t type, const std::string& payload,
                     std::uint32_t tx = 0) {
    std::uint32_t id = ++next_req_;
    ring_.send(type, id, tx, payload);
    return id;
  }

  // The reply to `req_id`; events meanwhile are kept for next_event().
  Message await_reply(std::uint32_t req_id) {
    return wait_for([&](const Message& m) { return m.hdr.req_id == req_id; },
                    "reply");
  }

  Message request(std::uint32_t type, const std::string& payload,
                  std::uint32_t tx = 0) {
    return await_reply(send(type, payload, tx));
  }

  // Like request(), with XS_ERROR turned into a Failure.
  std::string call(MsgType type, const std::string& payload,
                   std::uint32_t tx = 0) {
    // A well-behaved guest never sends this (the daemon would mark the
    // ring in error); "raw" and "hostile" still can.
    if (payload.size() > cxs::kPayloadMax)
      throw Failure("request payload of " + std::to_string(payload.size()) +
                    " bytes is over 4096 (not sent)");
    Message m = request(static_cast<std::uint32_t>(type), payload, tx);
    if (m.hdr.type == static_cast<std::uint32_t>(MsgType::XS_ERROR))
      throw Failure(error_name(m.payload));
    return m.payload;
  }

  Message next_event() {
    if (!events_.empty()) {
      Message m = std::move(events_.front());
      events_.pop_front();
      return m;
    }
    return wait_for(
        [](const Message& m) {
          return m.hdr.type ==
                 static_cast<std::uint32_t>(MsgType::XS_WATCH_EVENT);
        },
        "watch event");
  }

  // Polls until `done` holds or the timeout passes; returns the error field.
  template <typename Pred>
  std::uint32_t wait_until(Pred done) {
    auto deadline = Clock::now() + timeout_;
    while (!done()) {
      if (Clock::now() >= deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return ring_.error();
  }

 private:
  template <typename Pred>
  Message wait_for(Pred wanted, const char* what) {
    auto deadline = Clock::now() + timeout_;
    for (;;) {
      ring_.flush();
      while (auto m = ring_.receive()) {
        if (wanted(*m)) return std::move(*m);
        if (m->hdr.type == static_cast<std::uint32_t>(MsgType::XS_WATCH_EVENT))
          events_.push_back(std::move(*m));
        // Anything else answers no request of this run: dropped.
      }
      if (ring_.rsp_broken())
        throw Failure("the daemon's rsp indexes are broken (rsp_cons " +
                      std::to_string(ring_.rsp_cons()) + ", rsp_prod " +
                      std::to_string(ring_.rsp_prod()) + ")");
      if (std::uint32_t e = ring_.error())
        throw Failure("ring error " + std::to_string(e) + " set by the daemon");
      if (Clock::now() >= deadline)
        throw Failure(std::string("timeout waiting for ") + what);
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  const SimDir& sim_;
  RingMapping map_;
  GuestRing ring_;
  std::chrono::milliseconds timeout_;
  std::uint32_t next_req_;
  std::deque<Message> events_;
};

// ---- commands
// ----------------------------------------------------------------

void print_nul_list(const std::string& payload) {
  std::size_t start = 0;
  while (start < payload.size()) {
    std::size_t end = payload.find('\0', start);
    if (end == std::string::npos) end = payload.size();
    std::printf("%s\n", payload.substr(start, end - start).c_str());
    start = end + 1;
  }
}

std::string ls_paged(Guest& g, const std::string& path) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::string all, gen;
    bool restart = false;
    for (std::size_t offset = 0;;) {
      std::string reply = g.call(MsgType::XS_DIRECTORY_PART,
                                 path + '\0' + std::to_string(offset) + '\0');
      std::size_t nul = reply.find('\0');
      if (nul == std::string::npos)
        throw Failure("malformed DIRECTORY_PART reply: " + shown(reply));
      std::string this_gen = reply.substr(0, nul);
      std::string slice = reply.substr(nul + 1);
      if (offset == 0) gen = this_gen;
      if (this_gen != gen) {  // changed under us: start again
        restart = true;
        break;
      }
      // The last slice ends with an extra NUL (just "\0" when empty).
      bool last = slice.empty() || slice == std::string(1, '\0') ||
                  (slice.size() >= 2 && slice.ends_with(std::string(2, '\0')));
      if (last) {
        if (!slice.empty()) slice.pop_back();
        all += slice;
        return all;
      }
      all += slice;
      offset += slice.size();
    }
    if (!restart) break;
  }
  throw Failure("directory kept changing while paging");
}

int run_command(const SimDir& sim, std::chrono::milliseconds timeout, bool part,
                std::vector<std::string> args) {
  const std::string cmd = args[0];
  auto need = [&](std::size_t lo, std::size_t hi) {
    if (args.size() - 1 < lo || args.size() - 1 > hi)
      throw std::invalid_argument("wrong number of arguments for " + cmd);
  };

  if (cmd == "kill" || cmd == "gone") {
    need(0, 0);
    auto domains = sim.read_domains();
    if (cmd == "kill")
      domains[sim.dom] = cxs::xen::SimDomState::kDying;
    else
      domains.erase(sim.dom);
    sim.write_domains(domains);
    sim.raise(kDomExcPort);
    return 0;
  }

  Guest g(sim, timeout);
  if (cmd == "read") {
    need(1, 1);
    std::string v = g.call(MsgType::XS_READ, args[1] + '\0');
    std::fwrite(v.data(), 1, v.size(), stdout);
    std::fputc('\n', stdout);
  } else if (cmd == "write") {
    need(2, 2);
    g.call(MsgType::XS_WRITE, args[1] + '\0' + args[2]);
  } else if (cmd == "ls") {
    if (args.size() > 1 && args[1] == "--part") {
      part = true;
      args.erase(args.begin() + 1);
    }
    need(1, 1);
    print_nul_list(part ? ls_paged(g, args[1])
                        : g.call(MsgType::XS_DIRECTORY, args[1] + '\0'));
  } else if (cmd == "rm") {
    need(1, 1);
    g.call(MsgType::XS_RM, args[1] + '\0');
  } else if (cmd == "mkdir") {
    need(1, 1);
    g.call(MsgType::XS_MKDIR, args[1] + '\0');
  } else if (cmd == "watch") {
    need(2, 3);
    int count = args.size() > 3 ? std::stoi(args[3]) : 1;
    std::string spec = args[1] + '\0' + args[2] + '\0';
    g.call(MsgType::XS_WATCH, spec);
    std::optional<Failure> failed;
    for (int i = 0; i < count; ++i) {
      try {
        Message ev = g.next_event();
        std::string p = ev.payload;
        if (!p.empty() && p.back() == '\0') p.pop_back();
        for (char& c : p)
          if (c == '\0') c = ' ';
        std::printf("%s\n", p.c_str());
        std::fflush(stdout);
      } catch (const Failure& f) {
        failed.emplace(f);
        break;
      }
    }
    // The ring connection outlives this process: leave no watch behind.
    if (!failed || g.ring().error() == 0) g.call(MsgType::XS_UNWATCH, spec);
    if (failed) throw *failed;
  } else if (cmd == "tx-demo") {
    need(0, 1);
    std::string path = args.size() > 1 ? args[1] : "data/tx-demo";
    std::string t = g.call(MsgType::XS_TRANSACTION_START, std::string(1, '\0'));
    t = t.substr(0, t.find('\0'));
    std::uint32_t tx = static_cast<std::uint32_t>(std::stoul(t));
    std::printf("transaction %u\n", tx);
    g.call(MsgType::XS_WRITE, path + '\0' + "written in transaction " + t, tx);
    g.call(MsgType::XS_TRANSACTION_END, std::string("T") + '\0', tx);
    std::printf("committed; %s = %s\n", path.c_str(),
                g.call(MsgType::XS_READ, path + '\0').c_str());
  } else if (cmd == "raw") {
    need(1, 2);
    std::uint32_t type = parse_type(args[1]);
    Message m = g.request(type, args.size() > 2 ? unescape(args[2]) : "");
    std::printf("%s %s\n", type_name(m.hdr.type).c_str(),
                shown(m.payload).c_str());
  } else if (cmd == "reconnect") {
    need(0, 0);
    if (!(g.ring().server_features() & cxs::wire::kFeatureReconnection))
      std::fprintf(stderr,
                   "warning: the daemon does not advertise "
                   "ring reconnection\n");
    g.ring().request_reconnect();
    g.wait_until(
        [&] { return g.ring().connection() == cxs::wire::kConnected; });
    if (g.ring().connection() != cxs::wire::kConnected) {
      // Leave the ring as we found it rather than stuck half-way.
      g.ring().page()->connection = cxs::wire::kConnected;
      throw Failure("timeout waiting for the reconnection");
    }
    g.ring().reset_local();
    std::printf("reconnected\n");
  } else if (cmd == "hostile") {
    need(1, 1);
    if (args[1] == "bad-index") {
      g.ring().set_req_prod(g.ring().req_cons() + 5000);
      g.ring().kick();
    } else if (args[1] == "oversize") {
      cxs::wire::Header h{static_cast<std::uint32_t>(MsgType::XS_READ), 1, 0,
                          5000};
      char bytes[cxs::kHeaderSize];
      cxs::wire::encode_header(h, bytes);
      g.ring().send_bytes(std::string_view(bytes, sizeof bytes));
    } else {
      throw std::invalid_argument("hostile bad-index|oversize");
    }
    std::uint32_t e = g.wait_until([&] { return g.ring().error() != 0; });
    if (e == 0) throw Failure("no ring error set by the daemon");
    std::printf("ring error %u\n", e);
  } else {
    throw std::invalid_argument("unknown command " + cmd);
  }
  return 0;
}

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args.size() < 2) throw std::invalid_argument("DIR and DOMID needed");
  SimDir sim{args[0], 0};
  std::size_t used = 0;
  unsigned long dom = std::stoul(args[1], &used);
  if (used != args[1].size() || dom == 0 || dom >= cxs::kDomidFirstReserved)
    throw std::invalid_argument("DOMID must be a guest domain id");
  sim.dom = static_cast<std::uint32_t>(dom);

  bool do_introduce = false, part = false;
  std::string socket_path = sim.path("socket");
  std::chrono::milliseconds timeout(5000);
  std::size_t i = 2;
  for (; i < args.size() && args[i].starts_with("--"); ++i) {
    const std::string& o = args[i];
    if (o == "--introduce") {
      do_introduce = true;
    } else if (o == "--part") {
      part = true;
    } else if ((o == "--socket" || o == "--timeout") && i + 1 < args.size()) {
      if (o == "--socket")
        socket_path = args[++i];
      else
        timeout = std::chrono::milliseconds(
            static_cast<long>(std::stod(args[++i]) * 1000));
    } else {
      throw std::invalid_argument("unknown option " + o);
    }
  }
  if (do_introduce) introduce(sim, socket_path, timeout);
  if (i == args.size()) {
    if (!do_introduce) throw std::invalid_argument("no command");
    return 0;
  }
  return run_command(sim, timeout, part,
                     std::vector<std::string>(args.begin() + i, args.end()));
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const Failure& f) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", f.what());
    return 1;
  } catch (const std::logic_error& e) {  // bad usage, bad numbers
    std::fprintf(stderr, "cxs-guest: %s\n\n%s", e.what(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

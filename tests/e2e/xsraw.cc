// xsraw: a raw xenstore wire-protocol client for the Xen end-to-end suite.
// It writes struct xsd_sockmsg + payload straight to /dev/xen/xenbus (inside
// a guest: kernel xenbus driver -> shared ring page + event channel ->
// cxenstored in dom0) or to a unix socket, so every reply's exact type is
// visible: libxenstore hides an XS_DIRECTORY E2BIG by silently retrying with
// XS_DIRECTORY_PART, which is precisely what the XSA-72 check must see.
//
// Deliberately self-contained (no cxs_wire): a client that shares the
// daemon's framing code would share its bugs. Built static, because the
// guest initramfs has no C++ runtime of its own.
//
//   xsraw [-d DEV | -u SOCK] [-t SECS] OP ARGS...
//     read PATH | write PATH VALUE | mkdir PATH | rm PATH | getperms PATH
//     dir PATH              one XS_DIRECTORY
//     dirall PATH           the XS_DIRECTORY_PART loop, counts the entries
//     watch PATH N          XS_WATCH, then print N events ("EVENT <path>")
//     fill PATH N           writes PATH/entry00000..N-1 = "v", pipelined:
//                           all N requests go out before the first reply is
//                           read (under emulation N round trips cost seconds);
//                           sockets only: the xenbus device takes one message
//                           per write()
//
// Output: "OK <op> len=<n> [entries=<n>] value=<text>" or "ERR <op> <EXXX>".
// Exit:   0 reply, 2 XS_ERROR reply, 1 I/O or protocol failure, 3 timeout.
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

// xs_wire.h numbering (20, XS_RESTRICT, is retired).
enum MsgType : std::uint32_t {
  kDirectory = 1,
  kRead = 2,
  kGetPerms = 3,
  kWatch = 4,
  kWrite = 11,
  kMkdir = 12,
  kRm = 13,
  kWatchEvent = 15,
  kError = 16,
  kDirectoryPart = 22,
};

constexpr std::uint32_t kPayloadMax = 4096;
// A broken daemon may send more than kPayloadMax; read up to this much so the
// violation is reported instead of desynchronising the stream.
constexpr std::uint32_t kReceiveMax = 65536;

struct Header {
  std::uint32_t type, req_id, tx_id, len;
};

struct Reply {
  std::uint32_t type = 0;
  std::string body;
};

int g_fd = -1;
std::uint32_t g_next_req = 1;

void on_alarm(int) {
  static const char kMsg[] = "TIMEOUT no reply\n";
  ssize_t ignored = ::write(STDOUT_FILENO, kMsg, sizeof kMsg - 1);
  (void)ignored;
  _exit(3);
}

bool write_all(const char* p, std::size_t len) {
  while (len > 0) {
    ssize_t n = ::write(g_fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

bool read_all(char* p, std::size_t len) {
  while (len > 0) {
    ssize_t n = ::read(g_fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

// Reads the next message, whatever its type.
bool receive(Reply& out) {
  Header h;
  if (!read_all(reinterpret_cast<char*>(&h), sizeof h)) {
    std::perror("xsraw: read header");
    return false;
  }
  if (h.len > kReceiveMax) {
    std::fprintf(stderr, "xsraw: reply length %u is absurd\n", h.len);
    return false;
  }
  if (h.len > kPayloadMax)
    std::fprintf(stderr, "xsraw: WARNING reply payload %u > %u\n", h.len,
                 kPayloadMax);
  out.type = h.type;
  out.body.assign(h.len, '\0');
  if (h.len > 0 && !read_all(out.body.data(), h.len)) {
    std::perror("xsraw: read body");
    return false;
  }
  return true;
}

void print_event(const Reply& r) {
  // "path\0token\0"
  std::printf("EVENT %s\n", r.body.c_str());
  std::fflush(stdout);
}

// Sends one request and returns its reply. Watch events that arrive first are
// printed (if *events) and counted, else skipped: the Linux xenbus device may
// queue a watch's first firing ahead of the XS_WATCH reply. The device wants
// header and payload in one write().
bool request(std::uint32_t type, const std::string& payload, Reply& out,
             int* events = nullptr) {
  Header h{type, g_next_req++, 0, static_cast<std::uint32_t>(payload.size())};
  std::string msg(reinterpret_cast<const char*>(&h), sizeof h);
  msg += payload;
  if (!write_all(msg.data(), msg.size())) {
    std::perror("xsraw: write");
    return false;
  }
  for (;;) {
    if (!receive(out)) return false;
    if (out.type != kWatchEvent) return true;
    if (events) {
      print_event(out);
      ++*events;
    }
  }
}

// "a\0b\0" -- or, with last_nul false, "a\0b" (XS_WRITE's value).
std::string join(const std::vector<std::string>& args, bool last_nul) {
  std::string s;
  for (std::size_t i = 0; i < args.size(); ++i) {
    s += args[i];
    if (i + 1 < args.size() || last_nul) s += '\0';
  }
  return s;
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) {
    auto u = static_cast<unsigned char>(c);
    out += u == 0 ? ' ' : (u < 32 || u > 126) ? '.' : c;
  }
  return out;
}

int report(const char* op, bool io_ok, std::uint32_t want, const Reply& r) {
  if (!io_ok) {
    std::printf("FAILIO %s\n", op);
    return 1;
  }
  if (r.type == kError) {
    std::printf("ERR %s %s\n", op, r.body.c_str());
    return 2;
  }
  if (r.type != want) {
    std::printf("BADTYPE %s got=%u want=%u\n", op, r.type, want);
    return 1;
  }
  std::printf("OK %s len=%zu", op, r.body.size());
  if (want == kDirectory) {
    std::size_t n = 0;
    for (char c : r.body) n += c == '\0';
    std::printf(" entries=%zu", n);
  }
  std::printf(" value=%s\n", printable(r.body).c_str());
  return 0;
}

// libxenstore's xs_directory_part() loop: "PATH\0OFFSET\0" -> "GEN\0name\0..."
// with an extra "\0" on the last chunk; a changed generation restarts.
int dirall(const std::string& path) {
  std::string generation;
  std::size_t offset = 0;
  std::size_t total = 0;
  for (int chunk = 0; chunk < 1000; ++chunk) {
    Reply r;
    bool ok = request(kDirectoryPart, join({path, std::to_string(offset)}, true),
                      r);
    if (!ok || r.type != kDirectoryPart)
      return report("dirall", ok, kDirectoryPart, r);
    std::size_t gen_end = r.body.find('\0');
    if (gen_end == std::string::npos) {
      std::printf("BADFORMAT dirall no generation\n");
      return 1;
    }
    std::string gen = r.body.substr(0, gen_end);
    if (!generation.empty() && gen != generation) {
      generation = gen;
      offset = total = 0;
      continue;
    }
    generation = gen;
    std::size_t p = gen_end + 1;
    while (p < r.body.size()) {
      if (r.body[p] == '\0') {
        std::printf("OK dirall entries=%zu\n", total);
        return 0;
      }
      std::size_t end = r.body.find('\0', p);
      if (end == std::string::npos) end = r.body.size();
      ++total;
      offset += end - p + 1;
      p = end + 1;
    }
  }
  std::printf("BADFORMAT dirall too many chunks\n");
  return 1;
}

// Registers a watch and prints the first `count` events, the firing at
// registration included (so "watch P 2" means: one real change seen).
int watch(const std::string& path, int count) {
  Reply r;
  int seen = 0;
  bool ok = request(kWatch, join({path, "e2e"}, true), r, &seen);
  if (!ok || r.type != kWatch) return report("watch", ok, kWatch, r);
  std::printf("OK watch\n");
  std::fflush(stdout);
  while (seen < count) {
    if (!receive(r)) return 1;
    if (r.type != kWatchEvent) continue;
    print_event(r);
    ++seen;
  }
  return 0;
}

int fill(const std::string& path, int count) {
  std::string batch;
  for (int i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/entry%05d", i);
    std::string payload = path + name + '\0' + 'v';
    Header h{kWrite, g_next_req++, 0, static_cast<std::uint32_t>(payload.size())};
    batch.append(reinterpret_cast<const char*>(&h), sizeof h);
    batch += payload;
  }
  if (!write_all(batch.data(), batch.size())) {
    std::perror("xsraw: write");
    return 1;
  }
  Reply r;
  for (int i = 0; i < count; ++i) {
    if (!receive(r)) return report("fill", false, kWrite, r);
    if (r.type == kWatchEvent) {
      --i;
      continue;
    }
    if (r.type != kWrite) return report("fill", true, kWrite, r);
  }
  std::printf("OK fill entries=%d\n", count);
  return 0;
}

bool open_device(const char* dev) {
  g_fd = ::open(dev, O_RDWR | O_CLOEXEC);
  if (g_fd < 0) std::perror(dev);
  return g_fd >= 0;
}

bool open_socket(const char* path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path, sizeof a.sun_path - 1);
  g_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (g_fd < 0 ||
      ::connect(g_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) {
    std::perror(path);
    return false;
  }
  return true;
}

struct SimpleOp {
  const char* name;
  std::uint32_t type;
  std::size_t nargs;
  bool last_nul;
};

constexpr SimpleOp kOps[] = {
    {"read", kRead, 1, true},       {"write", kWrite, 2, false},
    {"mkdir", kMkdir, 1, true},     {"rm", kRm, 1, true},
    {"getperms", kGetPerms, 1, true}, {"dir", kDirectory, 1, true},
};

}  // namespace

int main(int argc, char** argv) {
  const char* dev = "/dev/xen/xenbus";
  const char* sock = nullptr;
  unsigned timeout = 10;
  int opt;
  while ((opt = ::getopt(argc, argv, "+d:u:t:")) != -1) {
    switch (opt) {
      case 'd':
        dev = optarg;
        break;
      case 'u':
        sock = optarg;
        break;
      case 't':
        timeout = static_cast<unsigned>(std::atoi(optarg));
        break;
      default:
        return 1;
    }
  }
  if (optind >= argc) {
    std::fprintf(stderr, "usage: xsraw [-d DEV|-u SOCK] [-t SECS] OP ARGS...\n");
    return 1;
  }
  std::string op = argv[optind];
  std::vector<std::string> args(argv + optind + 1, argv + argc);

  ::signal(SIGALRM, on_alarm);
  ::alarm(timeout);
  if (!(sock ? open_socket(sock) : open_device(dev))) return 1;

  if (op == "dirall" && args.size() == 1) return dirall(args[0]);
  if (op == "fill" && args.size() == 2)
    return fill(args[0], std::atoi(args[1].c_str()));
  if (op == "watch" && args.size() == 2)
    return watch(args[0], std::atoi(args[1].c_str()));
  for (const SimpleOp& o : kOps) {
    if (op != o.name || args.size() != o.nargs) continue;
    Reply r;
    bool ok = request(o.type, join(args, o.last_nul), r);
    return report(o.name, ok, o.type, r);
  }
  std::fprintf(stderr, "xsraw: unknown op or wrong argument count: %s\n",
               op.c_str());
  return 1;
}

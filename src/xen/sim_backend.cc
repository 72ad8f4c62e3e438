// The simulated hypervisor: the interfaces of hypervisor.h over files and
// FIFOs in one directory, with the conventions of the reference daemons'
// LD_PRELOAD shim (tools/refd), so that the same guest harness drives both:
//
//   DIR/ring-D    domain D's ring page, 4096 bytes, mapped shared
//   DIR/ring-0    dom0's ring (xsd_kva); DIR/xsd_port holds "1" (no newline)
//   DIR/domains   "0,3,5-9,-4": existing domains, '-' = dying; re-read on
//                 every query; a missing file means "0"
//   DIR/evtchn    FIFO into the daemon: native-endian uint32 local ports.
//                 Port 1 is VIRQ_DOM_EXC; domain D's channel is port 100+D
//   DIR/notify    FIFO out of the daemon: uint32 port 100+D per kick,
//                 dropped when the FIFO is full
//
// Both FIFOs are opened O_RDWR: such an open never blocks waiting for the
// other end, and the daemon never reads EOF when a writer goes away.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "cxenstored/unique_fd.h"
#include "xen/domain_list.h"
#include "xen/hypervisor.h"

namespace cxs::xen {
namespace {

constexpr Port kDomExcPort = 1;
constexpr Port kDomPortBase = 100;
constexpr std::size_t kPageSize = 4096;
static_assert(sizeof(wire::RingPage) <= kPageSize);

std::string errno_text(int err) { return std::strerror(err); }

[[noreturn]] void fail(const std::string& what, const std::string& path,
                       int err) {
  throw std::runtime_error("sim-xen: " + what + " " + path + ": " +
                           errno_text(err));
}

// Creates the FIFO if it is missing and opens it O_RDWR | O_NONBLOCK.
UniqueFd open_fifo(const std::string& path) {
  if (::mkfifo(path.c_str(), 0600) != 0 && errno != EEXIST)
    fail("cannot create FIFO", path, errno);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) fail("cannot open FIFO", path, errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISFIFO(st.st_mode))
    throw std::runtime_error("sim-xen: " + path + " exists and is no FIFO");
  return fd;
}

// The evtchn FIFO of the daemon this one replaced: kept open across the
// exec, so the ports guests wrote meanwhile are still in it (a FIFO drops
// its contents when its last reader closes). Anything else is refused: the
// number came from a state file.
UniqueFd adopt_fifo(int fd, const std::string& path) {
  struct stat st;
  struct stat named;
  if (::fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode) ||
      ::stat(path.c_str(), &named) != 0 || st.st_dev != named.st_dev ||
      st.st_ino != named.st_ino) {
    spdlog::warn("sim-xen: inherited event channel fd {} is not {}; "
                 "opening it again",
                 fd, path);
    return open_fifo(path);
  }
  if (!make_own(fd)) fail("cannot set up inherited FIFO", path, errno);
  return UniqueFd(fd);
}

// Reads a small file whole. Returns 0, or the errno of the failure.
int read_small_file(const std::string& path, std::string& out) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return errno;
  out.clear();
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > (1u << 20)) return 0;  // more than any sane list
  }
}

// ---- event channels ------------------------------------------------------

class SimEventChannel final : public EventChannel {
 public:
  SimEventChannel(const std::string& dir, int inherited_fd)
      : in_(inherited_fd >= 0 ? adopt_fifo(inherited_fd, dir + "/evtchn")
                              : open_fifo(dir + "/evtchn")),
        out_(open_fifo(dir + "/notify")) {}

  int fd() const noexcept override { return in_.get(); }

  Result<Port> bind_interdomain(DomId dom, Port remote) noexcept override {
    if (dom.value >= kDomidFirstReserved) return XsErr::kEINVAL;
    spdlog::debug("sim-xen: bind dom{} remote port {} -> local {}", dom.value,
                  remote, kDomPortBase + dom.value);
    return kDomPortBase + dom.value;
  }

  Result<Port> bind_dom_exc_virq() noexcept override { return kDomExcPort; }

  void unbind(Port) noexcept override {}

  void notify(Port local) noexcept override {
    std::uint32_t p = local;
    ssize_t n = ::write(out_.get(), &p, sizeof p);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      spdlog::debug("sim-xen: notify port {}: {}", local, errno_text(errno));
    // Short of space (EAGAIN): the kick is dropped, as on the shim; a
    // guest polls its indexes anyway.
  }

  std::vector<Port> take_pending() noexcept override {
    std::vector<Port> ports;
    // Out of memory, the ports read so far are reported; the rest stay in
    // the FIFO (or carry_) for the next call.
    try {
      read_pending(ports);
    } catch (const std::bad_alloc&) {
      spdlog::error("sim-xen: out of memory reading pending ports");
    }
    return ports;
  }

 private:
  void read_pending(std::vector<Port>& ports) {
    std::unordered_set<Port> seen;
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(in_.get(), buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
          spdlog::warn("sim-xen: reading evtchn: {}", errno_text(errno));
        break;
      }
      if (n == 0) break;
      carry_.append(buf, static_cast<std::size_t>(n));
      std::size_t whole = carry_.size() - carry_.size() % sizeof(Port);
      for (std::size_t i = 0; i < whole; i += sizeof(Port)) {
        Port p;
        std::memcpy(&p, carry_.data() + i, sizeof p);
        // Like a real channel, a port pending twice fires once.
        if (seen.insert(p).second) ports.push_back(p);
      }
      carry_.erase(0, whole);
      // A short read emptied the FIFO: asking again would only say EAGAIN
      // (the loop polls the FIFO level-triggered, so later ports wake it).
      if (static_cast<std::size_t>(n) < sizeof buf) break;
    }
  }

  UniqueFd in_;   // DIR/evtchn, polled by the daemon
  UniqueFd out_;  // DIR/notify
  // A port split across reads (not expected: writes of 4 < PIPE_BUF bytes
  // are atomic).
  std::string carry_;
};

// ---- ring pages ------------------------------------------------------------

class SimMappedRing final : public MappedRing {
 public:
  explicit SimMappedRing(void* addr) noexcept : addr_(addr) {}
  ~SimMappedRing() override { ::munmap(addr_, kPageSize); }
  SimMappedRing(const SimMappedRing&) = delete;
  SimMappedRing& operator=(const SimMappedRing&) = delete;

  wire::RingPage* page() noexcept override {
    return static_cast<wire::RingPage*>(addr_);
  }

 private:
  void* addr_;
};

// Opens (creating, zero-filled, if missing) a page file and maps it shared.
std::unique_ptr<MappedRing> map_page_file(const std::string& path) noexcept {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    spdlog::error("sim-xen: cannot open {}: {}", path, errno_text(errno));
    return nullptr;
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    spdlog::error("sim-xen: cannot stat {}: {}", path, errno_text(errno));
    return nullptr;
  }
  if (static_cast<std::size_t>(st.st_size) < kPageSize &&
      ::ftruncate(fd.get(), kPageSize) != 0) {
    spdlog::error("sim-xen: cannot size {}: {}", path, errno_text(errno));
    return nullptr;
  }
  void* p = ::mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED,
                   fd.get(), 0);
  if (p == MAP_FAILED) {
    spdlog::error("sim-xen: cannot map {}: {}", path, errno_text(errno));
    return nullptr;
  }
  try {
    return std::make_unique<SimMappedRing>(p);
  } catch (const std::bad_alloc&) {
    ::munmap(p, kPageSize);
    return nullptr;
  }
}

class SimRingMapper final : public RingMapper {
 public:
  explicit SimRingMapper(std::string dir) : dir_(std::move(dir)) {}

  std::unique_ptr<MappedRing> map_domain(DomId dom,
                                         std::uint64_t gfn) noexcept override {
    spdlog::debug("sim-xen: map ring of dom{} (gfn {:#x})", dom.value, gfn);
    // Out of memory for the file's name: no mapping, as on a real host.
    try {
      return map_page_file(dir_ + "/ring-" + std::to_string(dom.value));
    } catch (const std::bad_alloc&) {
      return nullptr;
    }
  }

  std::unique_ptr<MappedRing> map_dom0() noexcept override {
    try {
      return map_page_file(dir_ + "/ring-0");
    } catch (const std::bad_alloc&) {
      return nullptr;
    }
  }

  std::optional<Port> dom0_port() noexcept override {
    std::string text;
    try {
      if (read_small_file(dir_ + "/xsd_port", text) != 0) return std::nullopt;
    } catch (const std::bad_alloc&) {
      return std::nullopt;
    }
    std::size_t p = 0;
    while (p < text.size() && (text[p] == ' ' || text[p] == '\t')) ++p;
    Port port = 0;
    std::size_t digits = 0;
    for (; p < text.size() && text[p] >= '0' && text[p] <= '9'; ++p) {
      if (++digits > 9) return std::nullopt;
      port = port * 10 + static_cast<Port>(text[p] - '0');
    }
    if (digits == 0) return std::nullopt;
    return port;
  }

 private:
  std::string dir_;
};

// ---- domain state ----------------------------------------------------------

class SimDomainInfo final : public DomainInfo {
 public:
  explicit SimDomainInfo(std::string dir)
      : path_(std::move(dir) + "/domains") {}

  std::optional<DomainState> query(DomId dom) noexcept override {
    std::string text;
    int err = 0;
    try {
      err = read_small_file(path_, text);
    } catch (const std::bad_alloc&) {
      err = ENOMEM;
    }
    if (err == 0) {
      last_ = std::move(text);
    } else if (err == ENOENT) {
      last_ = "0";
    } else {
      // A transient failure must not look like every domain dying: keep
      // the last list we could read.
      spdlog::warn("sim-xen: reading {}: {}", path_, errno_text(err));
    }
    SimDomainList list;
    try {
      list = parse_domain_list(last_);
    } catch (const std::bad_alloc&) {
      return DomainState{dom};  // cannot tell: assume it still exists
    }
    auto it = list.find(dom.value);
    if (it == list.end()) return std::nullopt;
    return DomainState{dom, it->second == SimDomState::kDying, false};
  }

 private:
  std::string path_;
  std::string last_ = "0";
};

// Start-up: creates what is missing, as the shim does for the references.
void prepare_dir(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    fail("cannot create directory", dir, errno);
  std::string port = dir + "/xsd_port";
  UniqueFd fd(
      ::open(port.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.valid()) {
    if (::write(fd.get(), "1", 1) != 1) fail("cannot write", port, errno);
  } else if (errno != EEXIST) {
    fail("cannot create", port, errno);
  }
}

}  // namespace

Hypervisor open_sim(const std::string& dir, int inherited_evtchn_fd) {
  prepare_dir(dir);
  Hypervisor h;
  h.events = std::make_unique<SimEventChannel>(dir, inherited_evtchn_fd);
  h.rings = std::make_unique<SimRingMapper>(dir);
  // dom0's ring exists (zeroed) from the start, like /proc/xen/xsd_kva.
  if (!h.rings->map_dom0())
    throw std::runtime_error("sim-xen: cannot create " + dir + "/ring-0");
  h.domains = std::make_unique<SimDomainInfo>(dir);
  spdlog::info("sim-xen: simulated hypervisor in {}", dir);
  return h;
}

}  // namespace cxs::xen

// The real hypervisor: the interfaces of hypervisor.h over libxenevtchn,
// libxengnttab, libxenctrl and libxentoollog. This is the only file that
// includes libxen headers (xenctrl.h needs GNU extensions: the cxs_xen target
// builds with -std=gnu++20).
//
// Design notes:
// - Event channels. libxenevtchn opens /dev/xen/evtchn blocking, and
//   xenevtchn_pending() is a read() of one port. We switch the fd to
//   O_NONBLOCK so that take_pending() can drain every pending port in one
//   wake (read until EAGAIN) instead of one port per loop turn. The kernel
//   masks a port when it delivers it, so the drain ends: a port cannot come
//   back until we unmask it, which we do only after the drain. Unmasking
//   before the caller handles the ports loses nothing: an event arriving
//   after the unmask is queued again and wakes the loop once more.
// - Ring mappings. A guest's ring is grant reference 1
//   (GNTTAB_RESERVED_XENSTORE), mapped through gntdev; where that fails
//   (no gntdev, or a toolstack that did not grant the page) we fall back to
//   a foreign mapping of the INTRODUCE gfn, as older C xenstored did. A grant
//   mapping must be released through its gntdev handle, so the handle lives
//   in a small shared block that the last of the mapper and its rings closes
//   (the daemon may destroy the mapper before its connections at exit).
//   dom0's ring is /proc/xen/xsd_kva, mapped shared, exactly as the C
//   daemon does; its remote port is the decimal in /proc/xen/xsd_port.
// - Domain state: xc_domain_getinfo() (4.17 has no xc_domain_getinfo_single)
//   returns the first domain whose id is >= the one asked for, so the id is
//   checked. Only ESRCH means "no such domain"; any other failure keeps the
//   domain alive, since a false "gone" would tear down a live guest.
// - Library messages go to spdlog through a custom xentoollog logger.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

#include <spdlog/spdlog.h>

#include "cxenstored/unique_fd.h"
#include "xen/hypervisor.h"

extern "C" {
// xc_map_foreign_range() is a compat interface that must be opted into.
#define XC_WANT_COMPAT_MAP_FOREIGN_API
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xentoollog.h>
#include <xen/io/xs_wire.h>
}

namespace cxs::xen {
namespace {

constexpr std::size_t kPageSize = XC_PAGE_SIZE;
static_assert(sizeof(wire::RingPage) <= kPageSize);
static_assert(sizeof(xenstore_domain_interface) == sizeof(wire::RingPage));
static_assert(offsetof(xenstore_domain_interface, req_cons) ==
              offsetof(wire::RingPage, req_cons));
static_assert(offsetof(xenstore_domain_interface, error) ==
              offsetof(wire::RingPage, error));

constexpr const char* kEvtchnDev = "/dev/xen/evtchn";
constexpr const char* kXsdKva = "/proc/xen/xsd_kva";
constexpr const char* kXsdPort = "/proc/xen/xsd_port";
// take_pending() stops after this many ports in one call; the rest stay
// queued in the kernel and the fd stays readable.
constexpr int kMaxPendingPerCall = 4096;

std::string errno_text(int err) { return std::strerror(err); }

// errno from a library call -> the refusal a client gets. Like C xenstored,
// an errno that has no xenstore name becomes EINVAL.
XsErr xs_err_from_errno(int err) noexcept {
  switch (err) {
    case EACCES:
      return XsErr::kEACCES;
    case EEXIST:
      return XsErr::kEEXIST;
    case EISDIR:
      return XsErr::kEISDIR;
    case ENOENT:
      return XsErr::kENOENT;
    case ENOMEM:
      return XsErr::kENOMEM;
    case ENOSPC:
      return XsErr::kENOSPC;
    case EIO:
      return XsErr::kEIO;
    case ENOTEMPTY:
      return XsErr::kENOTEMPTY;
    case ENOSYS:
      return XsErr::kENOSYS;
    case EROFS:
      return XsErr::kEROFS;
    case EBUSY:
      return XsErr::kEBUSY;
    case EAGAIN:
      return XsErr::kEAGAIN;
    case EISCONN:
      return XsErr::kEISCONN;
    case E2BIG:
      return XsErr::kE2BIG;
    case EPERM:
      return XsErr::kEPERM;
    default:
      return XsErr::kEINVAL;
  }
}

// ---- libxentoollog -> spdlog ---------------------------------------------

spdlog::level::level_enum spdlog_level(xentoollog_level level) noexcept {
  switch (level) {
    case XTL_DEBUG:
      return spdlog::level::trace;
    case XTL_VERBOSE:
    case XTL_DETAIL:
      return spdlog::level::debug;
    case XTL_PROGRESS:
    case XTL_INFO:
    case XTL_NOTICE:
      return spdlog::level::info;
    case XTL_WARN:
      return spdlog::level::warn;
    case XTL_ERROR:
      return spdlog::level::err;
    case XTL_CRITICAL:
      return spdlog::level::critical;
    default:
      return spdlog::level::debug;
  }
}

__attribute__((format(printf, 5, 0))) void xtl_to_spdlog(
    xentoollog_logger*, xentoollog_level level, int errnoval,
    const char* context, const char* format, va_list args) {
  // Called from C: nothing may escape.
  try {
    auto lvl = spdlog_level(level);
    if (!spdlog::should_log(lvl)) return;
    char buf[1024];
    int n = std::vsnprintf(buf, sizeof buf, format, args);
    if (n < 0) return;
    if (errnoval >= 0) {
      spdlog::log(lvl, "{}: {}: {}", context ? context : "xen", buf,
                  errno_text(errnoval));
    } else {
      spdlog::log(lvl, "{}: {}", context ? context : "xen", buf);
    }
  } catch (...) {
  }
}

void xtl_destroy_noop(xentoollog_logger*) {}

// Stateless, so one static instance serves every handle and outlives them.
xentoollog_logger g_xtl_logger = {xtl_to_spdlog, nullptr, xtl_destroy_noop};

// ---- RAII for library handles ----------------------------------------------

struct EvtchnCloser {
  void operator()(xenevtchn_handle* h) const noexcept { xenevtchn_close(h); }
};
struct XcCloser {
  void operator()(xc_interface* h) const noexcept { xc_interface_close(h); }
};
using EvtchnHandle = std::unique_ptr<xenevtchn_handle, EvtchnCloser>;
using XcHandle = std::unique_ptr<xc_interface, XcCloser>;

[[noreturn]] void fail_open(const std::string& what, int err) {
  throw std::runtime_error("xen: cannot open " + what + ": " + errno_text(err) +
                           " (is this a Xen dom0 and are we root? Use "
                           "--standalone to run without Xen)");
}

XcHandle open_xc() {
  XcHandle xch(xc_interface_open(&g_xtl_logger, &g_xtl_logger, 0));
  if (!xch) fail_open("the hypervisor interface (libxenctrl, privcmd)", errno);
  return xch;
}

// ---- event channels
// ----------------------------------------------------------

class XenEventChannel final : public EventChannel {
 public:
  explicit XenEventChannel(int inherited_fd) {
    if (inherited_fd >= 0) {
      // xenevtchn_fdopen wants open_flags 0 and leaves FD_CLOEXEC alone.
      xce_.reset(xenevtchn_fdopen(&g_xtl_logger, inherited_fd, 0));
      if (!xce_)
        throw std::runtime_error("xen: cannot adopt the inherited event "
                                 "channel fd " + std::to_string(inherited_fd) +
                                 ": " + errno_text(errno));
      ::fcntl(inherited_fd, F_SETFD, FD_CLOEXEC);
    } else {
      xce_.reset(xenevtchn_open(&g_xtl_logger, 0));
    }
    if (!xce_)
      fail_open(std::string("the event channel device ") + kEvtchnDev, errno);
    int fd = xenevtchn_fd(xce_.get());
    int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
      throw std::runtime_error("xen: cannot make " + std::string(kEvtchnDev) +
                               " non-blocking: " + errno_text(errno));
  }

  int fd() const noexcept override { return xenevtchn_fd(xce_.get()); }

  Result<Port> bind_interdomain(DomId dom, Port remote) noexcept override {
    if (dom.value >= kDomidFirstReserved) return XsErr::kEINVAL;
    xenevtchn_port_or_error_t rc =
        xenevtchn_bind_interdomain(xce_.get(), dom.value, remote);
    if (rc < 0) {
      int err = errno;
      spdlog::warn("xen: binding dom{} remote port {}: {}", dom.value, remote,
                   errno_text(err));
      return xs_err_from_errno(err);
    }
    return static_cast<Port>(rc);
  }

  Result<Port> bind_dom_exc_virq() noexcept override {
    xenevtchn_port_or_error_t rc =
        xenevtchn_bind_virq(xce_.get(), VIRQ_DOM_EXC);
    if (rc < 0) {
      int err = errno;
      // VIRQ_DOM_EXC is global: only one process can hold it.
      spdlog::error("xen: binding VIRQ_DOM_EXC: {}{}", errno_text(err),
                    err == EEXIST ? " (is another xenstored running?)" : "");
      return xs_err_from_errno(err);
    }
    return static_cast<Port>(rc);
  }

  void unbind(Port local) noexcept override {
    if (xenevtchn_unbind(xce_.get(), local) < 0)
      spdlog::warn("xen: unbinding port {}: {}", local, errno_text(errno));
  }

  void notify(Port local) noexcept override {
    if (xenevtchn_notify(xce_.get(), local) < 0)
      spdlog::debug("xen: notify port {}: {}", local, errno_text(errno));
  }

  std::vector<Port> take_pending() noexcept override {
    std::vector<Port> ports;
    try {
      for (int i = 0; i < kMaxPendingPerCall; ++i) {
        xenevtchn_port_or_error_t p = xenevtchn_pending(xce_.get());
        if (p < 0) {
          if (errno == EINTR) continue;
          if (errno != EAGAIN && errno != EWOULDBLOCK)
            spdlog::error("xen: reading {}: {}", kEvtchnDev, errno_text(errno));
          break;
        }
        ports.push_back(static_cast<Port>(p));
      }
    } catch (const std::bad_alloc&) {
      // Ports read so far are still unmasked below; they are reported too.
    }
    for (Port p : ports) {
      if (xenevtchn_unmask(xce_.get(), p) < 0)
        spdlog::error("xen: unmasking port {}: {}", p, errno_text(errno));
    }
    return ports;
  }

 private:
  EvtchnHandle xce_;
};

// ---- ring pages
// ----------------------------------------------------------------

// The gntdev handle, owned by the mapper, and the number of grant
// mappings made through it that are still mapped. The rings must go
// first: the server's connections, which own them, are destroyed before
// its hypervisor interfaces (see daemon::Server's members).
struct GrantHandle {
  xengnttab_handle* handle = nullptr;
  std::size_t live = 0;
};

class GrantMappedRing final : public MappedRing {
 public:
  GrantMappedRing(GrantHandle& gnt, void* addr) noexcept
      : gnt_(gnt), addr_(addr) {
    ++gnt_.live;
  }
  ~GrantMappedRing() override {
    if (xengnttab_unmap(gnt_.handle, addr_, 1) != 0)
      spdlog::error("xen: unmapping grant page: {}", errno_text(errno));
    --gnt_.live;
  }
  GrantMappedRing(const GrantMappedRing&) = delete;
  GrantMappedRing& operator=(const GrantMappedRing&) = delete;

  wire::RingPage* page() noexcept override {
    return static_cast<wire::RingPage*>(addr_);
  }

 private:
  GrantHandle& gnt_;
  void* addr_;
};

// A foreign mapping (xc_map_foreign_range) or xsd_kva: plain munmap.
class MmapRing final : public MappedRing {
 public:
  explicit MmapRing(void* addr) noexcept : addr_(addr) {}
  ~MmapRing() override { ::munmap(addr_, kPageSize); }
  MmapRing(const MmapRing&) = delete;
  MmapRing& operator=(const MmapRing&) = delete;

  wire::RingPage* page() noexcept override {
    return static_cast<wire::RingPage*>(addr_);
  }

 private:
  void* addr_;
};

std::unique_ptr<MappedRing> own_mmap(void* addr) noexcept {
  try {
    return std::make_unique<MmapRing>(addr);
  } catch (const std::bad_alloc&) {
    ::munmap(addr, kPageSize);
    return nullptr;
  }
}

class XenRingMapper final : public RingMapper {
 public:
  XenRingMapper() {
    gnt_.handle = xengnttab_open(&g_xtl_logger, 0);
    if (!gnt_.handle)
      fail_open("the grant table device /dev/xen/gntdev", errno);
    // One grant per domain at most; older gntdev drivers default lower.
    if (xengnttab_set_max_grants(gnt_.handle, kDomidFirstReserved) != 0)
      spdlog::debug("xen: gntdev set_max_grants: {}", errno_text(errno));
    try {
      xch_ = open_xc();
    } catch (...) {
      xengnttab_close(gnt_.handle);
      throw;
    }
  }
  ~XenRingMapper() override {
    // A ring still mapped would unmap through a closed handle: leave the
    // handle open (the process is ending) rather than break that.
    if (gnt_.live != 0) {
      spdlog::error("xen: {} grant mappings outlive their mapper", gnt_.live);
      return;
    }
    xengnttab_close(gnt_.handle);
  }
  XenRingMapper(const XenRingMapper&) = delete;
  XenRingMapper& operator=(const XenRingMapper&) = delete;

  std::unique_ptr<MappedRing> map_domain(DomId dom,
                                         std::uint64_t gfn) noexcept override {
    if (dom.value >= kDomidFirstReserved) return nullptr;
    void* addr = xengnttab_map_grant_ref(gnt_.handle, dom.value,
                                         GNTTAB_RESERVED_XENSTORE,
                                         PROT_READ | PROT_WRITE);
    if (addr) {
      try {
        return std::make_unique<GrantMappedRing>(gnt_, addr);
      } catch (const std::bad_alloc&) {
        xengnttab_unmap(gnt_.handle, addr, 1);
        return nullptr;
      }
    }
    int gnt_err = errno;
    // gfn 0 is no ring: mapping it would scribble on the guest's first page.
    if (gfn == 0 || static_cast<unsigned long>(gfn) != gfn) {
      spdlog::error("xen: cannot map the ring of dom{}: grant: {}, no gfn",
                    dom.value, errno_text(gnt_err));
      return nullptr;
    }
    addr = xc_map_foreign_range(
        xch_.get(), dom.value, static_cast<int>(kPageSize),
        PROT_READ | PROT_WRITE, static_cast<unsigned long>(gfn));
    if (!addr) {
      spdlog::error(
          "xen: cannot map the ring of dom{}: grant: {}; gfn {:#x}: {}",
          dom.value, errno_text(gnt_err), gfn, errno_text(errno));
      return nullptr;
    }
    spdlog::info(
        "xen: dom{} ring mapped by gfn {:#x} (grant mapping failed: {})",
        dom.value, gfn, errno_text(gnt_err));
    return own_mmap(addr);
  }

  std::unique_ptr<MappedRing> map_dom0() noexcept override {
    UniqueFd fd(::open(kXsdKva, O_RDWR | O_CLOEXEC));
    if (!fd.valid()) {
      spdlog::error("xen: cannot open {}: {}", kXsdKva, errno_text(errno));
      return nullptr;
    }
    void* addr = ::mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED,
                        fd.get(), 0);
    if (addr == MAP_FAILED) {
      spdlog::error("xen: cannot map {}: {}", kXsdKva, errno_text(errno));
      return nullptr;
    }
    return own_mmap(addr);  // the mapping outlives the fd
  }

  std::optional<Port> dom0_port() noexcept override {
    UniqueFd fd(::open(kXsdPort, O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
      spdlog::error("xen: cannot open {}: {}", kXsdPort, errno_text(errno));
      return std::nullopt;
    }
    char buf[32];
    ssize_t n;
    do {
      n = ::read(fd.get(), buf, sizeof buf - 1);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
      spdlog::error("xen: cannot read {}: {}", kXsdPort,
                    n < 0 ? errno_text(errno) : "empty");
      return std::nullopt;
    }
    std::uint64_t port = 0;
    std::size_t digits = 0;
    std::size_t i = 0;
    while (i < static_cast<std::size_t>(n) && (buf[i] == ' ' || buf[i] == '\t'))
      ++i;
    for (; i < static_cast<std::size_t>(n) && buf[i] >= '0' && buf[i] <= '9';
         ++i) {
      if (++digits > 9) break;
      port = port * 10 + static_cast<std::uint64_t>(buf[i] - '0');
    }
    // Port 0 is never a bound event channel.
    if (digits == 0 || digits > 9 || port == 0) {
      spdlog::error("xen: {} holds no port number", kXsdPort);
      return std::nullopt;
    }
    return static_cast<Port>(port);
  }

 private:
  GrantHandle gnt_;
  XcHandle xch_;       // for the foreign-mapping fallback
};

// ---- domain state
// ------------------------------------------------------------

class XenDomainInfo final : public DomainInfo {
 public:
  XenDomainInfo() : xch_(open_xc()) {}

  std::optional<DomainState> query(DomId dom) noexcept override {
    if (dom.value >= kDomidFirstReserved) return std::nullopt;
    xc_dominfo_t info;
    int n = xc_domain_getinfo(xch_.get(), dom.value, 1, &info);
    if (n < 0) {
      int err = errno;
      if (err == ESRCH) return std::nullopt;  // no domain with an id >= dom
      spdlog::warn("xen: domain info of dom{}: {}; assuming it still exists",
                   dom.value, errno_text(err));
      return DomainState{dom};
    }
    if (n == 0 || info.domid != dom.value) return std::nullopt;
    // libxenctrl reports a crash as crashed, not shutdown.
    return DomainState{dom, info.dying != 0,
                       info.shutdown != 0 || info.crashed != 0};
  }

 private:
  XcHandle xch_;
};

}  // namespace

bool xen_present() noexcept {
  struct stat st;
  return ::stat(kEvtchnDev, &st) == 0 || ::stat(kXsdKva, &st) == 0;
}

Hypervisor open_xen(int inherited_evtchn_fd) {
  Hypervisor h;
  h.events = std::make_unique<XenEventChannel>(inherited_evtchn_fd);
  h.rings = std::make_unique<XenRingMapper>();
  h.domains = std::make_unique<XenDomainInfo>();
  spdlog::info("xen: event channels, grant mapping and domain info open");
  return h;
}

}  // namespace cxs::xen

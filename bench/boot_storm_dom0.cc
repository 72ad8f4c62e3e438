#include "boot_storm_dom0.h"

#include <poll.h>

#include <algorithm>
#include <map>
#include <thread>

namespace cxs::bench::storm {
namespace {

// A dom0 connection that counts what it sends (and, as RawClient does,
// keeps the events).
class Dom0 {
 public:
  Dom0(const DaemonProcess& d, Counters& c) : xs_(d.socket_path()), c_(c) {
    xs_.set_timeout(
        std::chrono::duration_cast<std::chrono::milliseconds>(kPatience));
  }
  Msg request(MsgType t, std::string_view payload, std::uint32_t tx = 0) {
    ++c_.requests;
    return xs_.request(t, payload, tx);
  }
  std::string call(MsgType t, std::string_view payload, std::uint32_t tx = 0) {
    ++c_.requests;
    return xs_.call(t, payload, tx);
  }
  void ok(MsgType t, std::string_view payload, std::uint32_t tx = 0) {
    std::string r = call(t, payload, tx);
    if (r != kOk)
      throw BenchError(std::string(wire::msg_type_name(ty(t))) + " " +
                       std::string(payload.substr(0, payload.find('\0'))) +
                       ": answered " + r);
  }
  std::uint32_t start_tx() {
    return static_cast<std::uint32_t>(std::atoll(
        call(MsgType::XS_TRANSACTION_START, std::string(1, '\0')).c_str()));
  }
  // True when committed, false on EAGAIN.
  bool end_tx(std::uint32_t tx) {
    Msg m =
        request(MsgType::XS_TRANSACTION_END, "T" + std::string(1, '\0'), tx);
    if (m.payload == kOk) return true;
    if (error_name(m.payload) == "EAGAIN") return false;
    throw BenchError("TRANSACTION_END: " + error_name(m.payload));
  }
  RawClient& conn() { return xs_; }

 private:
  RawClient xs_;
  Counters& c_;
};

using Entries = std::vector<std::pair<std::string, std::string>>;

struct BackDev {
  std::string type, dom, id, root, fe;
  int state = 1;
};

}  // namespace

struct Backends::Impl {
  Impl(const DaemonProcess& d, Counters& c, Failure& f,
       const std::vector<std::atomic<bool>>& destroying)
      : x_(d, c), c_(c), f_(f), destroying_(destroying) {
    x_.ok(MsgType::XS_WATCH, nul_join({"/local/domain/0/backend", "be"}));
    thread_ = std::thread([this] { run(); });
  }
  ~Impl() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  void run() {
    try {
      while (!stop_ && !f_.failed) {
        if (!has_event()) {
          pollfd p{x_.conn().fd(), POLLIN, 0};
          ::poll(&p, 1, 5);
          continue;
        }
        ++taken_;
        on_event(x_.conn().next_event().payload);
      }
    } catch (...) {
      f_.set(std::current_exception());
    }
  }

  // RawClient keeps the events in order and next_event() blocks: look first.
  bool has_event() {
    RawClient& xs = x_.conn();
    xs.read_available();
    while (xs.try_receive()) throw BenchError("backend: a reply to no request");
    return xs.events_seen() > taken_;
  }

  bool dying(const std::string& dom) const {
    int d = std::atoi(dom.c_str());
    return d > 0 && static_cast<std::size_t>(d) < destroying_.size() &&
           destroying_[static_cast<std::size_t>(d)];
  }

  void on_event(const std::string& payload) {
    auto [path, token] = split_event(payload);
    if (token == "be") {
      auto parts = components(path);  // local domain 0 backend T D N ...
      if (parts.size() < 7) return;   // not one device's (xenbus ignores)
      std::string key = parts[4] + "/" + parts[5] + "/" + parts[6];
      std::string root = "/local/domain/0/backend/" + key;
      Msg m = x_.request(MsgType::XS_DIRECTORY, root + '\0');
      if (m.type == ty(MsgType::XS_ERROR)) {
        if (error_name(m.payload) != "ENOENT")
          throw BenchError("backend DIRECTORY: " + error_name(m.payload));
        auto it = devs_.find(key);
        if (it != devs_.end()) {
          x_.ok(MsgType::XS_UNWATCH,
                nul_join({it->second.fe + "/state", "fs:" + key}));
          devs_.erase(it);
        }
        return;
      }
      if (!devs_.count(key) && (parts[4] == "vif" || parts[4] == "vbd"))
        probe(key, parts[4], parts[5], parts[6], root);
      return;
    }
    if (token.rfind("fs:", 0) == 0) {
      std::string key = token.substr(3);
      auto it = devs_.find(key);
      if (it == devs_.end()) return;  // removed, the event was queued
      BackDev& dev = it->second;
      Msg m = x_.request(MsgType::XS_READ, dev.fe + "/state" + '\0');
      if (m.type == ty(MsgType::XS_ERROR)) {
        if (error_name(m.payload) == "ENOENT" && dying(dev.dom)) return;
        throw BenchError("backend READ frontend state: " +
                         error_name(m.payload));
      }
      int fe = std::atoi(m.payload.c_str());
      bool ready = dev.type == "vif" ? fe == 4 : fe == 3;
      if (ready && dev.state == 2) {
        // connect: the frontend's ring references, then Connected.
        for (const char* n :
             dev.type == "vif"
                 ? std::vector<const char*>{"tx-ring-ref", "rx-ring-ref",
                                            "event-channel"}
                 : std::vector<const char*>{"ring-ref", "event-channel",
                                            "protocol"})
          x_.call(MsgType::XS_READ, dev.fe + "/" + n + '\0');
        switch_state(dev, 4);
      }
      return;
    }
    if (token == "@releaseDomain") return;
    throw BenchError("backend event with token " + token);
  }

  void probe(const std::string& key, const std::string& type,
             const std::string& dom, const std::string& id,
             const std::string& root) {
    BackDev dev{type, dom, id, root, "", 1};
    std::string fid = x_.call(MsgType::XS_READ, root + "/frontend-id" + '\0');
    if (fid != dom) throw BenchError("backend: frontend-id " + fid);
    dev.fe = x_.call(MsgType::XS_READ, root + "/frontend" + '\0');
    x_.ok(MsgType::XS_WATCH, nul_join({dev.fe + "/state", "fs:" + key}));
    // The driver's features, in a transaction.
    std::vector<std::pair<std::string, std::string>> w;
    if (type == "vif")
      w = {{"feature-sg", "1"},
           {"feature-gso-tcpv4", "1"},
           {"feature-rx-copy", "1"},
           {"feature-split-event-channels", "1"}};
    else
      w = {{"feature-flush-cache", "1"},
           {"feature-discard", "0"},
           {"max-ring-page-order", "4"}};
    for (;;) {
      std::uint32_t tx = x_.start_tx();
      for (const auto& [k, v] : w)
        x_.ok(MsgType::XS_WRITE, root + "/" + k + '\0' + v, tx);
      if (x_.end_tx(tx)) break;
      ++c_.backend_retries;
    }
    switch_state(dev, 2);
    // What the hotplug script writes once the device is plugged.
    if (type == "vbd") {
      x_.ok(MsgType::XS_WRITE, root + "/physical-device" + '\0' + "fe:0");
      for (const auto& [k, v] :
           std::vector<std::pair<std::string, std::string>>{
               {"sectors", "20971520"}, {"info", "0"}, {"sector-size", "512"}})
        x_.ok(MsgType::XS_WRITE, root + "/" + k + '\0' + v);
    }
    x_.ok(MsgType::XS_WRITE, root + "/hotplug-status" + '\0' + "connected");
    devs_[key] = dev;
  }

  void switch_state(BackDev& dev, int to) {
    for (;;) {
      std::uint32_t tx = x_.start_tx();
      x_.call(MsgType::XS_READ, dev.root + "/state" + '\0', tx);
      x_.ok(MsgType::XS_WRITE, dev.root + "/state" + '\0' + std::to_string(to),
            tx);
      if (x_.end_tx(tx)) break;
      ++c_.backend_retries;
    }
    dev.state = to;
  }

  Dom0 x_;
  Counters& c_;
  Failure& f_;
  const std::vector<std::atomic<bool>>& destroying_;
  std::map<std::string, BackDev> devs_;  // "vif/5/0"
  std::uint64_t taken_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

Backends::Backends(const DaemonProcess& d, Counters& c, Failure& f,
                   const std::vector<std::atomic<bool>>& destroying)
    : impl_(std::make_unique<Impl>(d, c, f, destroying)) {}
Backends::~Backends() = default;
void Backends::stop() { impl_->stop(); }

struct Worker::Impl {
  explicit Impl(Shared& s) : s_(s), x_(s.d, s.c) {
    x_.ok(MsgType::XS_WATCH, nul_join({"@releaseDomain", "rel"}));
  }

  void create(int d) {
    auto t0 = Clock::now();
    VmRecord& rec = s_.vms[static_cast<std::size_t>(d)];
    std::string dp = dom_path(d), uuid = uuid_of(d);
    std::string vm = "/vm/" + uuid, lx = "/libxl/" + std::to_string(d);
    std::string ds = std::to_string(d);
    // The hypervisor's domain comes first (xc_domain_create): the daemons
    // refuse permissions naming a domain that does not exist.
    s_.domains.add(d);
    // libxl_name_to_domid: every live domain's name.
    for (int other : s_.domains.snapshot()) {
      Msg m = x_.request(MsgType::XS_READ, dom_path(other) + "/name" + '\0');
      if (m.type == ty(MsgType::XS_ERROR)
              ? error_name(m.payload) != "ENOENT"
              : m.payload != "vm" + std::to_string(other))
        throw BenchError("name of domain " + std::to_string(other) + ": " +
                         m.payload);
    }
    // libxl__domain_make.
    for (;;) {
      std::uint32_t t = x_.start_tx();
      for (const auto& [p, perm] :
           std::vector<std::pair<std::string, std::string>>{
               {dp, perms({"n0", "r" + ds})},
               {vm, perms({"n0", "r" + ds})},
               {lx, perms({"n0"})}}) {
        Msg rm = x_.request(MsgType::XS_RM, p + '\0', t);
        if (rm.payload != kOk && error_name(rm.payload) != "ENOENT")
          throw BenchError("RM " + p + ": " + error_name(rm.payload));
        x_.ok(MsgType::XS_MKDIR, p + '\0', t);
        x_.ok(MsgType::XS_SET_PERMS, p + '\0' + perm, t);
      }
      x_.ok(MsgType::XS_WRITE, dp + "/vm" + '\0' + vm, t);
      // libxl__domain_rename: the old name, then the new.
      Msg old = x_.request(MsgType::XS_READ, dp + "/name" + '\0', t);
      if (error_name(old.payload) != "ENOENT")
        throw BenchError("new domain already has a name");
      x_.ok(MsgType::XS_WRITE, dp + "/name" + '\0' + "vm" + ds, t);
      for (const char* sub :
           {"cpu", "memory", "device", "device/suspend",
            "device/suspend/event-channel", "control", "control/shutdown",
            "control/feature-poweroff", "control/feature-reboot",
            "control/feature-suspend", "control/sysrq", "data", "drivers",
            "feature", "attr", "error"}) {
        x_.ok(MsgType::XS_MKDIR, dp + "/" + sub + '\0', t);
        x_.ok(MsgType::XS_SET_PERMS, dp + "/" + sub + '\0' + perms({"n" + ds}),
              t);
      }
      x_.ok(MsgType::XS_WRITE, vm + "/uuid" + '\0' + uuid, t);
      x_.ok(MsgType::XS_WRITE, vm + "/name" + '\0' + "vm" + ds, t);
      x_.ok(
          MsgType::XS_WRITE,
          dp + "/control/platform-feature-multiprocessor-suspend" + '\0' + "1",
          t);
      x_.ok(MsgType::XS_WRITE,
            dp + "/control/platform-feature-xs_reset_watches" + '\0' + "1", t);
      x_.ok(MsgType::XS_WRITE, lx + "/type" + '\0' + "pvh", t);
      if (x_.end_tx(t)) break;
      ++rec.retries;
    }
    // libxl__build_post, then the introduction.
    for (;;) {
      std::uint32_t t = x_.start_tx();
      for (const auto& [k, v] :
           std::vector<std::pair<std::string, std::string>>{
               {"memory/static-max", "1048576"},
               {"memory/target", "1048576"},
               {"memory/videoram", "-1"},
               {"cpu/0/availability", "online"},
               {"cpu/1/availability", "online"},
               {"domid", ds},
               {"store/port", "1"},
               {"store/ring-ref", std::to_string(0x1000 + d)},
               {"console/port", "2"},
               {"console/ring-ref", "1044479"}})
        x_.ok(MsgType::XS_WRITE, dp + "/" + k + '\0' + v, t);
      x_.ok(MsgType::XS_WRITE, vm + "/start_time" + '\0' + "1765000000.00", t);
      if (x_.end_tx(t)) break;
      ++rec.retries;
    }
    zero_ring(s_.d.sim_dir(), d);
    x_.ok(MsgType::XS_INTRODUCE,
          nul_join({ds, std::to_string(0x1000 + d), "1"}));
    // libxl__device_generic_add for each device.
    add_device(d, "vif", "0",
               {{"frontend-id", ds},
                {"online", "1"},
                {"state", "1"},
                {"script", "/etc/xen/scripts/vif-bridge"},
                {"mac", "00:16:3e:00:00:01"},
                {"bridge", "xenbr0"},
                {"handle", "0"},
                {"type", "vif"}},
               {{"backend-id", "0"},
                {"state", "1"},
                {"handle", "0"},
                {"mac", "00:16:3e:00:00:01"}},
               {}, rec);
    add_device(d, "vbd", "51712",
               {{"frontend-id", ds},
                {"online", "1"},
                {"state", "1"},
                {"params", "/dev/vg/vm" + ds},
                {"script", "/etc/xen/scripts/block"},
                {"mode", "w"},
                {"removable", "0"},
                {"bootable", "1"},
                {"type", "phy"},
                {"device-type", "disk"},
                {"discard-enable", "0"}},
               {{"backend-id", "0"},
                {"state", "1"},
                {"virtual-device", "51712"},
                {"device-type", "disk"}},
               {}, rec);
    add_device(d, "console", "0",
               {{"frontend-id", ds},
                {"online", "1"},
                {"state", "1"},
                {"protocol", "vt100"}},
               {{"backend-id", "0"}},
               {{"limit", "1048576"},
                {"type", "xenconsoled"},
                {"output", "pty"},
                {"tty", ""}},
               rec);
    // Unpaused: the guest's kernel starts; wait for the backends.
    s_.guests.start(d);
    wait_connected(d);
    rec.start_us = us_between(t0, Clock::now());
  }

  void destroy(int d) {
    std::string ds = std::to_string(d), dp = dom_path(d);
    s_.destroying[static_cast<std::size_t>(d)] = true;
    s_.guests.halt(d);
    for (const auto& [type, id] :
         std::vector<std::pair<std::string, std::string>>{
             {"vif", "0"}, {"vbd", "51712"}, {"console", "0"}}) {
      std::string fe = type == "console" ? dp + "/console"
                                         : dp + "/device/" + type + "/" + id;
      for (;;) {
        std::uint32_t t = x_.start_tx();
        for (const auto& p :
             {fe, "/local/domain/0/backend/" + type + "/" + ds + "/" + id,
              "/libxl/" + ds + "/device/" + type + "/" + id})
          rm(p, t);
        if (x_.end_tx(t)) break;
      }
    }
    x_.ok(MsgType::XS_RELEASE, ds + '\0');
    s_.domains.remove(d);
    for (;;) {
      std::uint32_t t = x_.start_tx();
      for (const auto& p : {dp, "/vm/" + uuid_of(d), "/libxl/" + ds,
                            "/local/domain/0/backend/vif/" + ds,
                            "/local/domain/0/backend/vbd/" + ds,
                            "/local/domain/0/backend/console/" + ds})
        rm(p, t);
      if (x_.end_tx(t)) break;
    }
  }

  // Events of @releaseDomain seen so far, after the first (the watch's own).
  std::uint64_t releases() {
    x_.conn().read_available();
    while (x_.conn().try_receive())
      throw BenchError("toolstack: a reply to no request");
    while (x_.conn().events_seen() > taken_)
      if (split_event(next_event().payload).second == "rel") ++releases_;
    return releases_ > 0 ? releases_ - 1 : 0;
  }

  void rm(const std::string& p, std::uint32_t t) {
    Msg m = x_.request(MsgType::XS_RM, p + '\0', t);
    if (m.payload != kOk && error_name(m.payload) != "ENOENT")
      throw BenchError("RM " + p + ": " + error_name(m.payload));
  }

  void add_device(int d, const std::string& type, const std::string& id,
                  const Entries& bents, const Entries& fents,
                  const Entries& ro_fents, VmRecord& rec) {
    std::string ds = std::to_string(d);
    std::string fe = type == "console"
                         ? dom_path(d) + "/console"
                         : dom_path(d) + "/device/" + type + "/" + id;
    std::string be = "/local/domain/0/backend/" + type + "/" + ds + "/" + id;
    std::string lx = "/libxl/" + ds + "/device/" + type + "/" + id;
    std::string fe_perms = perms({"n" + ds, "r0"});
    std::string ro_perms = perms({"n0", "r" + ds});
    for (;;) {
      std::uint32_t t = x_.start_tx();
      rm(fe, t);
      x_.ok(MsgType::XS_MKDIR, fe + '\0', t);
      x_.ok(MsgType::XS_SET_PERMS, fe + '\0' + fe_perms, t);
      x_.ok(MsgType::XS_WRITE, fe + "/backend" + '\0' + be, t);
      for (const auto& [k, v] : fents) {
        x_.ok(MsgType::XS_WRITE, fe + "/" + k + '\0' + v, t);
        x_.ok(MsgType::XS_SET_PERMS, fe + "/" + k + '\0' + fe_perms, t);
      }
      for (const auto& [k, v] : ro_fents) {
        x_.ok(MsgType::XS_WRITE, fe + "/" + k + '\0' + v, t);
        x_.ok(MsgType::XS_SET_PERMS, fe + "/" + k + '\0' + ro_perms, t);
      }
      rm(be, t);
      x_.ok(MsgType::XS_MKDIR, be + '\0', t);
      x_.ok(MsgType::XS_SET_PERMS, be + '\0' + perms({"n0", "r" + ds}), t);
      x_.ok(MsgType::XS_WRITE, be + "/frontend" + '\0' + fe, t);
      for (const auto& [k, v] : bents)
        x_.ok(MsgType::XS_WRITE, be + "/" + k + '\0' + v, t);
      rm(lx, t);
      x_.ok(MsgType::XS_MKDIR, lx + '\0', t);
      x_.ok(MsgType::XS_SET_PERMS, lx + '\0' + perms({"n0"}), t);
      x_.ok(MsgType::XS_WRITE, lx + "/frontend" + '\0' + fe, t);
      x_.ok(MsgType::XS_WRITE, lx + "/backend" + '\0' + be, t);
      if (x_.end_tx(t)) break;
      ++rec.retries;
    }
  }

  // Watches the vif's and the vbd's backend state until both are 4.
  void wait_connected(int d) {
    std::string ds = std::to_string(d);
    std::map<std::string, bool> done;
    for (const char* k : {"vif/0", "vbd/51712"}) {
      std::string type = std::string(k).substr(0, 3);
      std::string p = "/local/domain/0/backend/" + type + "/" + ds + "/" +
                      std::string(k).substr(4) + "/state";
      done[p] = false;
      x_.ok(MsgType::XS_WATCH, nul_join({p, "c" + ds}));
    }
    auto connected = [&] {
      return std::all_of(done.begin(), done.end(),
                         [](const auto& e) { return e.second; });
    };
    while (!connected()) {
      s_.f.check();
      Msg ev = next_event();
      auto [path, token] = split_event(ev.payload);
      if (token == "rel") {
        ++releases_;
        continue;
      }
      if (token != "c" + ds) continue;  // an older VM's, already unwatched
      Msg m = x_.request(MsgType::XS_READ, path + '\0');
      if (m.type == ty(MsgType::XS_ERROR)) continue;
      if (m.payload == "4") done[path] = true;
    }
    for (const auto& [p, ok] : done)
      x_.ok(MsgType::XS_UNWATCH, nul_join({p, "c" + ds}));
  }

  Msg next_event() {
    ++taken_;
    return x_.conn().next_event();
  }

  Shared& s_;
  Dom0 x_;
  std::uint64_t releases_ = 0;
  std::uint64_t taken_ = 0;
};

Worker::Worker(Shared& s) : impl_(std::make_unique<Impl>(s)) {}
Worker::~Worker() = default;
void Worker::create(int d) { impl_->create(d); }
void Worker::destroy(int d) { impl_->destroy(d); }
std::uint64_t Worker::releases() { return impl_->releases(); }

}  // namespace cxs::bench::storm

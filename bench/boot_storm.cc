// cxs-boot-storm: a burst of VM starts (issue 19), and 1000 idle guests.
//
// Storm mode. W toolstack workers (threads, one dom0 socket connection
// each) create V VMs between them, as libxl does for each:
//   1. the name check (libxl_name_to_domid): a READ of every live domain's
//      `name`, outside any transaction;
//   2. the domain-creation transaction (libxl__domain_make): RM, MKDIR and
//      SET_PERMS of /local/domain/D (n0,rD), /vm/<uuid> (n0,rD) and
//      /libxl/D (n0); `vm`; the rename (READ then WRITE `name`); the
//      guest-writable directories (nD: device, control/..., data, ...);
//      /vm/<uuid>/uuid, name; the control/platform-feature-* nodes and
//      /libxl/D/type. EAGAIN at commit: the whole transaction again,
//      counted;
//   3. the build transaction (libxl__build_post: memory/*, domid, cpu/*,
//      store/*, /vm/<uuid>/start_time), then INTRODUCE D (the ring page
//      DIR/ring-D zeroed and D listed in DIR/domains first);
//   4. one transaction per device (libxl__device_generic_add) for vif 0,
//      vbd 51712 and the console: frontend directory (nD,r0) with its
//      entries, backend directory /local/domain/0/backend/T/D/N (n0,rD)
//      with its entries, /libxl/D/device/T/N (n0);
//   5. the guest is "unpaused" (its ring handed to the guest thread) and the
//      worker waits for the vif and vbd backends' `state` to reach 4
//      (Connected), watching them.
// The guests: one thread drives every guest's ring (DIR/ring-D, kicks
// through DIR/evtchn, woken by DIR/notify) as the guest kernel's xenbus
// would: WATCH of its `device` directory; on each event a DIRECTORY of the
// device (or the enumeration of device/ and device/T); a new device reads
// `backend-id` and `backend` and watches the backend's `state`; on each
// backend state event a READ of it; at InitWait the frontend writes its
// ring references and event channel in a transaction, then switches state
// (xenbus_switch_state: a transaction that READs and WRITEs `state`): vif
// to 4 at once (netfront), vbd to 3 and to 4 once the backend is Connected
// (blkfront).
// The backends: one thread (dom0's xenwatch thread is one thread too)
// watches /local/domain/0/backend; on each event a DIRECTORY of the
// device's backend directory; a new vif or vbd reads `frontend-id` and
// `frontend`, watches the frontend's `state`, writes its features in a
// transaction, switches to InitWait and writes what the hotplug script
// would (`hotplug-status`, vbd `physical-device`); when the frontend is
// Initialised (vbd) or Connected (vif) it reads the ring references and
// switches to Connected. The console is written and not stepped
// (xenconsoled, not xenbus, serves it).
// Then every VM is destroyed by its worker: per device, a transaction
// removing the frontend, backend and libxl paths; RELEASE D; D removed from
// DIR/domains; a transaction removing /local/domain/D, /vm/<uuid> and
// /libxl/D. Every worker watches @releaseDomain from the start and must see
// exactly V events (one per release) after its first.
//
// Every reply is checked; a wrong one aborts the run with a message (that is
// the correctness check, and the ctest smoke test).
//
// Idle mode (--idle): guests 1..N introduced, each with its ring mapped;
// N dom0 connections watching @releaseDomain (a guest gets that event only
// if dom0 lets it read the special node, and one permission list cannot
// name 1000 domains within 4096 bytes); the daemon's CPU over S idle
// seconds; a READ's p50/p99 from guest 1 with only guest 1 introduced and
// with all N; RSS per idle guest; then domain N is released and every
// watcher must get exactly one @releaseDomain event: the order they are
// seen in is reported.
//
//   cxs-boot-storm [--target cxs|c|ox|ox-nolog|all|LIST] [--vms V]
//                  [--workers W] [--daemon PATH] [--smoke]
//   cxs-boot-storm --idle [--guests N] [--idle-seconds S] [--target ...]
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "daemon.h"
#include "ring_load.h"
#include "xs_conn.h"

namespace cxs::bench {
namespace {

constexpr std::uint32_t kPortBase = 100;
constexpr auto kPatience = std::chrono::seconds(120);

struct Options {
  std::string target = "cxs";
  int vms = 100;
  int workers = 1;
  bool idle = false;
  int guests = 1000;
  double idle_seconds = 10;
  DaemonPaths paths;
  std::string workdir;
};

double us_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

const std::string kOk("OK\0", 3);

std::string dom_path(int d) { return "/local/domain/" + std::to_string(d); }
std::string uuid_of(int d) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", d);
  return buf;
}
std::string perms(std::initializer_list<std::string> ps) {
  std::string out;
  for (const auto& p : ps) out += p + '\0';
  return out;
}

// Splits "path\0token\0".
std::pair<std::string, std::string> split_event(const std::string& payload) {
  std::size_t z = payload.find('\0');
  if (z == std::string::npos) throw BenchError("malformed watch event");
  std::string path = payload.substr(0, z);
  std::string rest = payload.substr(z + 1);
  return {path, rest.substr(0, rest.find('\0'))};
}

std::vector<std::string> split_dir(const std::string& payload) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < payload.size()) {
    std::size_t z = payload.find('\0', at);
    if (z == std::string::npos) z = payload.size();
    if (z > at) out.push_back(payload.substr(at, z - at));
    at = z + 1;
  }
  return out;
}

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  std::size_t at = 1;
  while (at <= path.size()) {
    std::size_t s = path.find('/', at);
    if (s == std::string::npos) s = path.size();
    if (s > at) out.push_back(path.substr(at, s - at));
    at = s + 1;
  }
  return out;
}

// What the simulated hypervisor says exists: DIR/domains, shared by the
// workers.
class DomainList {
 public:
  explicit DomainList(std::string dir) : file_(std::move(dir) + "/domains") {
    write();
  }
  void add(int d) {
    std::lock_guard<std::mutex> l(m_);
    live_.insert(d);
    write();
  }
  void remove(int d) {
    std::lock_guard<std::mutex> l(m_);
    live_.erase(d);
    write();
  }
  std::vector<int> snapshot() {
    std::lock_guard<std::mutex> l(m_);
    return {live_.begin(), live_.end()};
  }

 private:
  void write() {
    std::string s = "0";
    for (int d : live_) s += "," + std::to_string(d);
    write_file(file_, s);
  }
  std::string file_;
  std::mutex m_;
  std::set<int> live_;
};

void zero_ring(const std::string& dir, int d) {
  std::string ring = dir + "/ring-" + std::to_string(d);
  UniqueFd fd(::open(ring.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  const std::string zeros(4096, '\0');
  if (!fd.valid() || ::pwrite(fd.get(), zeros.data(), zeros.size(), 0) != 4096)
    throw BenchError("cannot create " + ring);
}

// The first failure of any thread; the others stop at their next step.
struct Failure {
  std::mutex m;
  std::exception_ptr first;
  std::atomic<bool> failed{false};
  void set(std::exception_ptr e) {
    std::lock_guard<std::mutex> l(m);
    if (!first) first = e;
    failed = true;
  }
  void check() {
    if (failed) throw BenchError("another thread failed");
  }
};

struct Counters {
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> guest_retries{0};    // EAGAIN in guests' txs
  std::atomic<std::uint64_t> backend_retries{0};  // ... in the backends'
  std::atomic<int> fe_connected{0};               // frontends at state 4
};

// ---------------------------------------------------------------- guests --

// One step of a guest's sequential conversation: a request and what to do
// with its reply.
struct GuestOp {
  MsgType type;
  std::string payload;
  std::uint32_t tx;
  std::function<void(const Message&)> done;
};

struct FrontDev {
  std::string type, id, fe, be;
  int fe_state = 1;
  bool probed = false;
};

struct Guest {
  std::unique_ptr<SimGuest> sim;
  int dom = 0;
  std::deque<GuestOp> pending;
  std::vector<GuestOp> staged;  // continuations of the op being completed
  bool outstanding = false;
  Clock::time_point sent_at;
  std::deque<std::string> events;
  std::map<std::string, FrontDev> devs;  // "vif/0"
  bool stopped = false;
};

// Drives every guest's ring from one thread, as described atop the file.
class GuestDriver {
 public:
  GuestDriver(const Daemon& d, Counters& c, Failure& f)
      : dir_(d.sim_dir()), c_(c), f_(f) {
    evtchn_ = open_fifo(dir_ + "/evtchn");
    notify_ = open_fifo(dir_ + "/notify");
    thread_ = std::thread([this] { run(); });
  }
  ~GuestDriver() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Domain D runs now (its ring is introduced, its devices are written).
  void start(int d) {
    std::lock_guard<std::mutex> l(m_);
    inbox_.push_back(d);
  }
  // Domain D is being destroyed: its guest stops talking.
  void halt(int d) {
    std::lock_guard<std::mutex> l(m_);
    halts_.push_back(d);
  }
  // Waits until the thread has taken every halt (so no ring is touched).
  void quiesce() {
    for (;;) {
      {
        std::lock_guard<std::mutex> l(m_);
        if (halts_.empty() && inbox_.empty()) return;
      }
      f_.check();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

 private:
  void run() {
    try {
      loop();
    } catch (...) {
      f_.set(std::current_exception());
    }
  }

  void loop() {
    auto last_scan = Clock::now();
    while (!stop_ && !f_.failed) {
      take_inbox();
      pollfd p{notify_.get(), POLLIN, 0};
      ::poll(&p, 1, 2);
      std::uint32_t ports[1024];
      ssize_t n;
      std::set<int> woken;
      while ((n = ::read(notify_.get(), ports, sizeof ports)) > 0)
        for (ssize_t i = 0; i < n / 4; ++i)
          woken.insert(static_cast<int>(ports[i] - kPortBase));
      for (int d : woken) {
        auto it = guests_.find(d);
        if (it != guests_.end() && !it->second->stopped) pump(*it->second);
      }
      // Notifications may be dropped (a full FIFO): look at every guest
      // now and then, and kick again a request waiting too long.
      auto now = Clock::now();
      if (now - last_scan > std::chrono::milliseconds(20)) {
        last_scan = now;
        for (auto& [d, g] : guests_) {
          if (g->stopped) continue;
          pump(*g);
          if (g->outstanding &&
              now - g->sent_at > std::chrono::milliseconds(200)) {
            g->sim->ring().kick();
            g->sent_at = now;
          }
        }
      }
    }
  }

  void take_inbox() {
    std::vector<int> in, halts;
    {
      std::lock_guard<std::mutex> l(m_);
      in.swap(inbox_);
      halts.swap(halts_);
    }
    for (int d : in) {
      auto g = std::make_unique<Guest>();
      g->dom = d;
      g->sim = std::make_unique<SimGuest>(dir_, static_cast<std::uint32_t>(d),
                                          evtchn_.get());
      Guest& gr = *g;
      guests_[d] = std::move(g);
      // xenbus_frontend: a watch on the guest's `device` directory.
      op(gr, MsgType::XS_WATCH, nul_join({dom_path(d) + "/device", "fe"}), 0,
         [](const Message& m) { expect_ok(m, "guest WATCH device"); });
      advance(gr);
    }
    for (int d : halts) {
      auto it = guests_.find(d);
      if (it != guests_.end()) guests_.erase(it);
    }
  }

  static void expect_ok(const Message& m, const char* what) {
    if (m.payload != kOk)
      throw BenchError(std::string(what) + ": " + error_name(m.payload));
  }

  // Queues a request: a continuation when called from a reply's callback
  // (it runs before whatever was queued after that reply's op).
  void op(Guest& g, MsgType t, std::string payload, std::uint32_t tx,
          std::function<void(const Message&)> done) {
    GuestOp o{t, std::move(payload), tx, std::move(done)};
    if (in_callback_)
      g.staged.push_back(std::move(o));
    else
      g.pending.push_back(std::move(o));
  }

  void pump(Guest& g) {
    g.sim->ring().flush();
    while (auto m = g.sim->ring().receive()) {
      if (m->hdr.type == type_of(MsgType::XS_WATCH_EVENT)) {
        g.events.push_back(m->payload);
        continue;
      }
      if (!g.outstanding || m->hdr.req_id != g.sim->next_id)
        throw BenchError("domain " + std::to_string(g.dom) +
                         ": a reply to no request");
      GuestOp o = std::move(g.pending.front());
      g.pending.pop_front();
      g.outstanding = false;
      if (m->hdr.type != type_of(o.type) &&
          m->hdr.type != type_of(MsgType::XS_ERROR))
        throw BenchError("domain " + std::to_string(g.dom) +
                         ": reply of the wrong type");
      in_callback_ = true;
      o.done(*m);
      in_callback_ = false;
      g.pending.insert(g.pending.begin(),
                       std::make_move_iterator(g.staged.begin()),
                       std::make_move_iterator(g.staged.end()));
      g.staged.clear();
    }
    if (g.sim->ring().rsp_broken() || g.sim->ring().error())
      throw BenchError("ring of domain " + std::to_string(g.dom) + " broken");
    advance(g);
  }

  void advance(Guest& g) {
    for (;;) {
      if (g.outstanding) return;
      if (!g.pending.empty()) {
        GuestOp& o = g.pending.front();
        g.sim->ring().send(type_of(o.type), ++g.sim->next_id, o.tx, o.payload);
        g.outstanding = true;
        g.sent_at = Clock::now();
        ++c_.requests;
        return;
      }
      if (g.events.empty()) return;
      std::string ev = std::move(g.events.front());
      g.events.pop_front();
      on_event(g, ev);
    }
  }

  void on_event(Guest& g, const std::string& payload) {
    auto [path, token] = split_event(payload);
    std::string home = dom_path(g.dom);
    if (token == "fe") {
      // device/T/N/...: DIRECTORY of the device (xenbus_dev_changed);
      // device or device/T: enumerate.
      auto parts = components(path.substr(home.size()));
      if (parts.empty() || parts[0] != "device")
        throw BenchError("guest event outside device: " + path);
      if (parts.size() >= 3) {
        std::string key = parts[1] + "/" + parts[2];
        std::string root = home + "/device/" + key;
        op(g, MsgType::XS_DIRECTORY, root + '\0', 0,
           [this, &g, key, root](const Message& m) {
             if (m.hdr.type == type_of(MsgType::XS_ERROR)) {
               if (error_name(m.payload) != "ENOENT")
                 throw BenchError("guest DIRECTORY: " + error_name(m.payload));
               return;
             }
             probe(g, key, root);
           });
      } else {
        enumerate(g, parts.size() == 2 ? parts[1] : "");
      }
      return;
    }
    if (token.rfind("be:", 0) == 0) {
      std::string key = token.substr(3);
      FrontDev& dev = g.devs.at(key);
      op(g, MsgType::XS_READ, dev.be + "/state" + '\0', 0,
         [this, &g, key](const Message& m) {
           if (m.hdr.type == type_of(MsgType::XS_ERROR)) {
             if (error_name(m.payload) != "ENOENT")
               throw BenchError("guest READ backend state: " +
                                error_name(m.payload));
             return;  // XenbusStateUnknown
           }
           backend_changed(g, g.devs.at(key), std::atoi(m.payload.c_str()));
         });
      return;
    }
    throw BenchError("guest event with token " + token);
  }

  // The enumeration xenbus does on its first event: device/, each type,
  // each device.
  void enumerate(Guest& g, const std::string& only_type) {
    std::string base = dom_path(g.dom) + "/device";
    auto list_type = [this, &g, base](const std::string& type) {
      op(g, MsgType::XS_DIRECTORY, base + "/" + type + '\0', 0,
         [this, &g, base, type](const Message& m) {
           if (m.hdr.type == type_of(MsgType::XS_ERROR)) return;
           for (const auto& id : split_dir(m.payload))
             probe(g, type + "/" + id, base + "/" + type + "/" + id);
         });
    };
    if (!only_type.empty()) {
      list_type(only_type);
      return;
    }
    op(g, MsgType::XS_DIRECTORY, base + '\0', 0,
       [list_type](const Message& m) {
         if (m.hdr.type == type_of(MsgType::XS_ERROR))
           throw BenchError("guest DIRECTORY device: " + error_name(m.payload));
         for (const auto& type : split_dir(m.payload)) list_type(type);
       });
  }

  // A device seen for the first time (talk_to_otherend): its backend-id and
  // backend, and a watch on the backend's state.
  void probe(Guest& g, const std::string& key, const std::string& root) {
    if (g.devs.count(key)) return;
    std::string type = key.substr(0, key.find('/'));
    if (type != "vif" && type != "vbd") return;
    FrontDev& dev = g.devs[key];
    dev.type = type;
    dev.id = key.substr(key.find('/') + 1);
    dev.fe = root;
    op(g, MsgType::XS_READ, root + "/backend-id" + '\0', 0,
       [](const Message& m) {
         if (m.payload != "0") throw BenchError("guest READ backend-id");
       });
    op(g, MsgType::XS_READ, root + "/backend" + '\0', 0,
       [this, &g, key](const Message& m) {
         if (m.hdr.type == type_of(MsgType::XS_ERROR))
           throw BenchError("guest READ backend: " + error_name(m.payload));
         FrontDev& d = g.devs.at(key);
         d.be = m.payload;
         op(g, MsgType::XS_WATCH, nul_join({d.be + "/state", "be:" + key}), 0,
            [](const Message& r) { expect_ok(r, "guest WATCH backend"); });
       });
  }

  void backend_changed(Guest& g, FrontDev& dev, int be_state) {
    std::string key = dev.type + "/" + dev.id;
    if (be_state == 2 && dev.fe_state == 1) {
      // netfront/blkfront talk_to_*back: ring references in a transaction,
      // then the state switch.
      std::vector<std::pair<std::string, std::string>> w;
      if (dev.type == "vif")
        w = {{"tx-ring-ref", "8"}, {"rx-ring-ref", "9"},
             {"event-channel", "10"}, {"request-rx-copy", "1"},
             {"feature-rx-notify", "1"}};
      else
        w = {{"ring-ref", "8"}, {"event-channel", "11"},
             {"protocol", "x86_64-abi"}};
      int next = dev.type == "vif" ? 4 : 3;
      write_tx(g, dev.fe, w, [this, &g, key, next] {
        switch_state(g, key, next);
      });
    } else if (be_state == 4 && dev.type == "vbd" && dev.fe_state == 3) {
      // blkfront_connect: what the backend says about the disk, then
      // Connected.
      for (const char* n : {"sectors", "info", "sector-size"})
        op(g, MsgType::XS_READ, dev.be + "/" + n + '\0', 0,
           [n](const Message& m) {
             if (m.hdr.type == type_of(MsgType::XS_ERROR))
               throw BenchError(std::string("guest READ backend ") + n +
                                ": " + error_name(m.payload));
           });
      switch_state(g, key, 4);
    }
  }

  // TRANSACTION_START, the writes, TRANSACTION_END; again on EAGAIN.
  void write_tx(Guest& g, const std::string& base,
                std::vector<std::pair<std::string, std::string>> w,
                std::function<void()> then) {
    op(g, MsgType::XS_TRANSACTION_START, std::string(1, '\0'), 0,
       [this, &g, base, w, then](const Message& m) {
         if (m.hdr.type == type_of(MsgType::XS_ERROR))
           throw BenchError("guest TRANSACTION_START: " + error_name(m.payload));
         auto tx = static_cast<std::uint32_t>(std::atoll(m.payload.c_str()));
         for (const auto& [k, v] : w)
           op(g, MsgType::XS_WRITE, base + "/" + k + '\0' + v, tx,
              [](const Message& r) { expect_ok(r, "guest WRITE in tx"); });
         op(g, MsgType::XS_TRANSACTION_END, "T" + std::string(1, '\0'), tx,
            [this, &g, base, w, then](const Message& r) {
              if (error_name(r.payload) == "EAGAIN") {
                ++c_.guest_retries;
                write_tx(g, base, w, then);
                return;
              }
              expect_ok(r, "guest TRANSACTION_END");
              then();
            });
       });
  }

  // xenbus_switch_state: a transaction that reads and writes `state`.
  void switch_state(Guest& g, const std::string& key, int to) {
    std::string fe = g.devs.at(key).fe;
    op(g, MsgType::XS_TRANSACTION_START, std::string(1, '\0'), 0,
       [this, &g, key, to, fe](const Message& m) {
         if (m.hdr.type == type_of(MsgType::XS_ERROR))
           throw BenchError("guest TRANSACTION_START: " + error_name(m.payload));
         auto tx = static_cast<std::uint32_t>(std::atoll(m.payload.c_str()));
         op(g, MsgType::XS_READ, fe + "/state" + '\0', tx,
            [](const Message& r) {
              if (r.hdr.type == type_of(MsgType::XS_ERROR))
                throw BenchError("guest READ state: " + error_name(r.payload));
            });
         op(g, MsgType::XS_WRITE, fe + "/state" + '\0' + std::to_string(to),
            tx, [](const Message& r) { expect_ok(r, "guest WRITE state"); });
         op(g, MsgType::XS_TRANSACTION_END, "T" + std::string(1, '\0'), tx,
            [this, &g, key, to](const Message& r) {
              if (error_name(r.payload) == "EAGAIN") {
                ++c_.guest_retries;
                switch_state(g, key, to);
                return;
              }
              expect_ok(r, "guest switch state");
              g.devs.at(key).fe_state = to;
              if (to == 4) ++c_.fe_connected;
            });
       });
  }

  std::string dir_;
  Counters& c_;
  Failure& f_;
  UniqueFd evtchn_, notify_;
  std::mutex m_;
  std::vector<int> inbox_, halts_;
  std::map<int, std::unique_ptr<Guest>> guests_;
  bool in_callback_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// -------------------------------------------------------------- backends --

// A dom0 connection that counts what it sends and keeps the events.
class Dom0 {
 public:
  Dom0(const Daemon& d, Counters& c) : xs_(d.socket()), c_(c) {
    xs_.keep_events(true);
    xs_.set_timeout(std::chrono::duration_cast<std::chrono::milliseconds>(
        kPatience));
  }
  Message request(MsgType t, std::string_view payload, std::uint32_t tx = 0) {
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
      throw BenchError(std::string(wire::msg_type_name(type_of(t))) + " " +
                       std::string(payload.substr(0, payload.find('\0'))) +
                       ": answered " + r);
  }
  std::uint32_t start_tx() {
    return static_cast<std::uint32_t>(
        std::atoll(call(MsgType::XS_TRANSACTION_START, std::string(1, '\0'))
                       .c_str()));
  }
  // True when committed, false on EAGAIN.
  bool end_tx(std::uint32_t tx) {
    Message m = request(MsgType::XS_TRANSACTION_END, "T" + std::string(1, '\0'),
                        tx);
    if (m.payload == kOk) return true;
    if (error_name(m.payload) == "EAGAIN") return false;
    throw BenchError("TRANSACTION_END: " + error_name(m.payload));
  }
  XsConn& conn() { return xs_; }

 private:
  XsConn xs_;
  Counters& c_;
};

struct BackDev {
  std::string type, dom, id, root, fe;
  int state = 1;
};

// dom0's backend drivers and hotplug scripts, on one thread.
class Backends {
 public:
  Backends(const Daemon& d, Counters& c, Failure& f,
           const std::vector<std::atomic<bool>>& destroying)
      : x_(d, c), c_(c), f_(f), destroying_(destroying) {
    x_.ok(MsgType::XS_WATCH, nul_join({"/local/domain/0/backend", "be"}));
    thread_ = std::thread([this] { run(); });
  }
  ~Backends() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
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

  // XsConn keeps the events in order and next_event() blocks: look first.
  bool has_event() {
    XsConn& xs = x_.conn();
    xs.read_available();
    Message m;
    while (xs.take(m)) throw BenchError("backend: a reply to no request");
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
      Message m = x_.request(MsgType::XS_DIRECTORY, root + '\0');
      if (m.hdr.type == type_of(MsgType::XS_ERROR)) {
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
      Message m = x_.request(MsgType::XS_READ, dev.fe + "/state" + '\0');
      if (m.hdr.type == type_of(MsgType::XS_ERROR)) {
        if (error_name(m.payload) == "ENOENT" && dying(dev.dom)) return;
        throw BenchError("backend READ frontend state: " +
                         error_name(m.payload));
      }
      int fe = std::atoi(m.payload.c_str());
      bool ready = dev.type == "vif" ? fe == 4 : fe == 3;
      if (ready && dev.state == 2) {
        // connect: the frontend's ring references, then Connected.
        for (const char* n : dev.type == "vif"
                                 ? std::vector<const char*>{"tx-ring-ref",
                                                            "rx-ring-ref",
                                                            "event-channel"}
                                 : std::vector<const char*>{"ring-ref",
                                                            "event-channel",
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
      w = {{"feature-sg", "1"}, {"feature-gso-tcpv4", "1"},
           {"feature-rx-copy", "1"}, {"feature-split-event-channels", "1"}};
    else
      w = {{"feature-flush-cache", "1"}, {"feature-discard", "0"},
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

// ------------------------------------------------------------ toolstack --

struct VmRecord {
  int retries = 0;  // EAGAIN at the toolstack's commits
  double start_us = 0;
};

struct Shared {
  const Daemon& d;
  Counters& c;
  Failure& f;
  DomainList& domains;
  GuestDriver& guests;
  std::vector<std::atomic<bool>>& destroying;
  std::vector<VmRecord>& vms;  // index D
};

class Worker {
 public:
  explicit Worker(Shared& s) : s_(s), x_(s.d, s.c) {
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
      Message m =
          x_.request(MsgType::XS_READ, dom_path(other) + "/name" + '\0');
      if (m.hdr.type == type_of(MsgType::XS_ERROR)
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
        Message rm = x_.request(MsgType::XS_RM, p + '\0', t);
        if (rm.payload != kOk && error_name(rm.payload) != "ENOENT")
          throw BenchError("RM " + p + ": " + error_name(rm.payload));
        x_.ok(MsgType::XS_MKDIR, p + '\0', t);
        x_.ok(MsgType::XS_SET_PERMS, p + '\0' + perm, t);
      }
      x_.ok(MsgType::XS_WRITE, dp + "/vm" + '\0' + vm, t);
      // libxl__domain_rename: the old name, then the new.
      Message old = x_.request(MsgType::XS_READ, dp + "/name" + '\0', t);
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
      x_.ok(MsgType::XS_WRITE,
            dp + "/control/platform-feature-multiprocessor-suspend" + '\0' +
                "1",
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
      for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
               {"memory/static-max", "1048576"}, {"memory/target", "1048576"},
               {"memory/videoram", "-1"}, {"cpu/0/availability", "online"},
               {"cpu/1/availability", "online"}, {"domid", ds},
               {"store/port", "1"}, {"store/ring-ref", std::to_string(0x1000 + d)},
               {"console/port", "2"}, {"console/ring-ref", "1044479"}})
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
               {{"frontend-id", ds}, {"online", "1"}, {"state", "1"},
                {"script", "/etc/xen/scripts/vif-bridge"},
                {"mac", "00:16:3e:00:00:01"}, {"bridge", "xenbr0"},
                {"handle", "0"}, {"type", "vif"}},
               {{"backend-id", "0"}, {"state", "1"}, {"handle", "0"},
                {"mac", "00:16:3e:00:00:01"}},
               {}, rec);
    add_device(d, "vbd", "51712",
               {{"frontend-id", ds}, {"online", "1"}, {"state", "1"},
                {"params", "/dev/vg/vm" + ds}, {"script", "/etc/xen/scripts/block"},
                {"mode", "w"}, {"removable", "0"}, {"bootable", "1"},
                {"type", "phy"}, {"device-type", "disk"},
                {"discard-enable", "0"}},
               {{"backend-id", "0"}, {"state", "1"},
                {"virtual-device", "51712"}, {"device-type", "disk"}},
               {}, rec);
    add_device(d, "console", "0",
               {{"frontend-id", ds}, {"online", "1"}, {"state", "1"},
                {"protocol", "vt100"}},
               {{"backend-id", "0"}},
               {{"limit", "1048576"}, {"type", "xenconsoled"},
                {"output", "pty"}, {"tty", ""}},
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
    for (const auto& [type, id] : std::vector<std::pair<std::string, std::string>>{
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
      for (const auto& p :
           {dp, "/vm/" + uuid_of(d), "/libxl/" + ds,
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

 private:
  void rm(const std::string& p, std::uint32_t t) {
    Message m = x_.request(MsgType::XS_RM, p + '\0', t);
    if (m.payload != kOk && error_name(m.payload) != "ENOENT")
      throw BenchError("RM " + p + ": " + error_name(m.payload));
  }

  void add_device(int d, const std::string& type, const std::string& id,
                  std::vector<std::pair<std::string, std::string>> bents,
                  std::vector<std::pair<std::string, std::string>> fents,
                  std::vector<std::pair<std::string, std::string>> ro_fents,
                  VmRecord& rec) {
    std::string ds = std::to_string(d);
    std::string fe = type == "console" ? dom_path(d) + "/console"
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
      Message ev = next_event();
      auto [path, token] = split_event(ev.payload);
      if (token == "rel") {
        ++releases_;
        continue;
      }
      if (token != "c" + ds) continue;  // an older VM's, already unwatched
      Message m = x_.request(MsgType::XS_READ, path + '\0');
      if (m.hdr.type == type_of(MsgType::XS_ERROR)) continue;
      if (m.payload == "4") done[path] = true;
    }
    for (const auto& [p, ok] : done)
      x_.ok(MsgType::XS_UNWATCH, nul_join({p, "c" + ds}));
  }

  Message next_event() {
    ++taken_;
    return x_.conn().next_event();
  }

  Shared& s_;
  Dom0 x_;
  std::uint64_t releases_ = 0;
  std::uint64_t taken_ = 0;
};

long rss_settled(const Daemon& d) {
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  return d.rss_bytes();
}

int run_storm(DaemonKind kind, const Options& o) {
  std::string dir = o.workdir + "/" + kind_name(kind);
  Daemon d(kind, o.paths, dir);
  Counters c;
  Failure f;
  DomainList domains(d.sim_dir());
  std::vector<std::atomic<bool>> destroying(static_cast<std::size_t>(o.vms) + 1);
  for (auto& b : destroying) b = false;
  std::vector<VmRecord> vms(static_cast<std::size_t>(o.vms) + 1);
  long rss0 = rss_settled(d);

  GuestDriver guests(d, c, f);
  Backends backends(d, c, f, destroying);
  Shared s{d, c, f, domains, guests, destroying, vms};
  std::vector<std::unique_ptr<Worker>> workers;
  for (int w = 0; w < o.workers; ++w)
    workers.push_back(std::make_unique<Worker>(s));

  auto run_workers = [&](auto&& each) {
    std::vector<std::thread> ts;
    for (int w = 0; w < o.workers; ++w)
      ts.emplace_back([&, w] {
        try {
          for (int v = 1 + w; v <= o.vms && !f.failed; v += o.workers)
            each(*workers[static_cast<std::size_t>(w)], v);
        } catch (...) {
          f.set(std::current_exception());
        }
      });
    for (auto& t : ts) t.join();
    if (f.first) std::rethrow_exception(f.first);
  };

  // Creation: the timed window.
  std::uint64_t req0 = c.requests;
  double cpu0 = d.cpu_seconds();
  auto t0 = Clock::now();
  run_workers([](Worker& w, int v) { w.create(v); });
  auto t1 = Clock::now();
  double cpu = d.cpu_seconds() - cpu0;
  std::uint64_t reqs = c.requests - req0;
  // Every frontend reaches Connected too (the toolstack waited for the
  // backends only).
  auto limit = Clock::now() + kPatience;
  while (c.fe_connected < 2 * o.vms) {
    if (f.first) std::rethrow_exception(f.first);
    if (Clock::now() > limit)
      throw BenchError("frontends connected: " +
                       std::to_string(c.fe_connected.load()) + " of " +
                       std::to_string(2 * o.vms));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  long rss1 = rss_settled(d);
  // Watches alive now: per VM the guest's device watch, its two backend
  // state watches and the backends' two frontend state watches; the
  // workers' @releaseDomain and the backends' own.
  long watches = 5L * o.vms + o.workers + 1;

  // Memory per watch, apart: 5000 more watches from one dom0 connection.
  long per_watch = -1;
  std::string watch_note;
  {
    XsConn extra(d.socket());
    long before = rss_settled(d);
    constexpr int kExtra = 5000;
    std::string batch;
    for (int i = 0; i < kExtra; ++i)
      extra.append_request(batch, MsgType::XS_WATCH,
                           nul_join({"/storm/w" + std::to_string(i),
                                     "x" + std::to_string(i)}));
    extra.send_raw(batch);
    int refused = 0;
    std::string why;
    for (int i = 0; i < kExtra; ++i) {
      Message m = extra.receive();
      if (m.hdr.type == type_of(MsgType::XS_ERROR)) {
        ++refused;
        why = error_name(m.payload);
      }
    }
    if (refused == 0)
      per_watch = (rss_settled(d) - before) / kExtra;
    else
      watch_note = std::to_string(refused) + " refused (" + why + ")";
  }

  // Destruction.
  guests.quiesce();
  auto t2 = Clock::now();
  run_workers([](Worker& w, int v) { w.destroy(v); });
  guests.quiesce();
  auto t3 = Clock::now();
  // Every worker sees every release.
  limit = Clock::now() + std::chrono::seconds(30);
  std::vector<std::uint64_t> seen(workers.size());
  for (;;) {
    bool all = true;
    for (std::size_t i = 0; i < workers.size(); ++i) {
      seen[i] = workers[i]->releases();
      if (seen[i] > static_cast<std::uint64_t>(o.vms))
        throw BenchError("a worker saw " + std::to_string(seen[i]) +
                         " @releaseDomain events for " +
                         std::to_string(o.vms) + " releases");
      all = all && seen[i] == static_cast<std::uint64_t>(o.vms);
    }
    if (all) break;
    if (Clock::now() > limit)
      throw BenchError("a worker saw " + std::to_string(seen[0]) +
                       " @releaseDomain events of " + std::to_string(o.vms));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  guests.stop();
  backends.stop();
  if (f.first) std::rethrow_exception(f.first);

  std::vector<double> lat;
  int max_retries = 0;
  long sum_retries = 0;
  for (int v = 1; v <= o.vms; ++v) {
    lat.push_back(vms[static_cast<std::size_t>(v)].start_us);
    max_retries = std::max(max_retries, vms[static_cast<std::size_t>(v)].retries);
    sum_retries += vms[static_cast<std::size_t>(v)].retries;
  }
  double secs = std::chrono::duration<double>(t1 - t0).count();
  double dsecs = std::chrono::duration<double>(t3 - t2).count();
  std::printf(
      "%-16s %d VMs, %d workers: %.1f VMs/s, %.0f req/s (%.0f req/VM), "
      "EAGAIN/VM %.2f (max %d; guests %llu, backends %llu in all)\n"
      "                 start p50 %.1f ms p99 %.1f ms; daemon CPU %.1f us/req, "
      "%.2f ms/VM; RSS +%.1f KB/VM (%.1f KB per live watch, %ld); ",
      kind_name(kind), o.vms, o.workers, o.vms / secs,
      static_cast<double>(reqs) / secs, static_cast<double>(reqs) / o.vms,
      static_cast<double>(sum_retries) / o.vms, max_retries,
      static_cast<unsigned long long>(c.guest_retries.load()),
      static_cast<unsigned long long>(c.backend_retries.load()),
      percentile(lat, 0.5) / 1000, percentile(lat, 0.99) / 1000,
      cpu * 1e6 / static_cast<double>(reqs), cpu * 1e3 / o.vms,
      static_cast<double>(rss1 - rss0) / 1024 / o.vms,
      static_cast<double>(rss1 - rss0) / 1024 / static_cast<double>(watches),
      watches);
  if (per_watch >= 0)
    std::printf("%ld B per extra watch\n", per_watch);
  else
    std::printf("extra watches: %s\n", watch_note.c_str());
  std::printf(
      "                 destroy %.1f VMs/s; @releaseDomain: each of %d "
      "watchers saw %d\n",
      o.vms / dsecs, o.workers, o.vms);
  std::fflush(stdout);
  return 0;
}

// ------------------------------------------------------------------ idle --

Message await_ring(SimGuest& g, int notify_fd) {
  auto limit = Clock::now() + std::chrono::seconds(30);
  for (;;) {
    g.ring().flush();
    if (auto m = g.ring().receive()) return *m;
    if (g.ring().rsp_broken() || g.ring().error())
      throw BenchError("ring of domain " + std::to_string(g.dom()) + " broken");
    if (Clock::now() > limit) throw BenchError("ring reply timeout");
    pollfd p{notify_fd, POLLIN, 0};
    ::poll(&p, 1, 1);
    char buf[4096];
    while (::read(notify_fd, buf, sizeof buf) > 0) {
    }
  }
}

// The reply to the request just sent (events set aside, counted).
Message ring_call(SimGuest& g, int notify_fd, MsgType t,
                  const std::string& payload, int* events = nullptr) {
  g.ring().send(type_of(t), ++g.next_id, 0, payload);
  for (;;) {
    Message m = await_ring(g, notify_fd);
    if (m.hdr.type == type_of(MsgType::XS_WATCH_EVENT)) {
      if (events) ++*events;
      continue;
    }
    if (m.hdr.req_id != g.next_id)
      throw BenchError("ring reply with the wrong id");
    return m;
  }
}

std::pair<double, double> read_latency(SimGuest& g, int notify_fd, int n) {
  std::vector<double> lat;
  for (int i = 0; i < n; ++i) {
    auto t = Clock::now();
    Message m = ring_call(g, notify_fd, MsgType::XS_READ,
                          g.home() + "/name" + '\0');
    lat.push_back(us_between(t, Clock::now()));
    if (m.payload != "vm" + std::to_string(g.dom()))
      throw BenchError("guest READ of its name: " + m.payload);
  }
  return {percentile(lat, 0.5), percentile(lat, 0.99)};
}

int run_idle(DaemonKind kind, const Options& o) {
  std::string dir = o.workdir + "/" + kind_name(kind);
  Daemon d(kind, o.paths, dir);
  DomainList domains(d.sim_dir());
  XsConn xs(d.socket());
  xs.keep_events(true);
  UniqueFd evtchn = open_fifo(d.sim_dir() + "/evtchn");
  UniqueFd notify = open_fifo(d.sim_dir() + "/notify");
  std::vector<std::unique_ptr<SimGuest>> gs;
  auto introduce = [&](int g) {
    std::string ds = std::to_string(g), dp = dom_path(g);
    domains.add(g);
    xs.call(MsgType::XS_MKDIR, dp + '\0');
    xs.call(MsgType::XS_SET_PERMS, dp + '\0' + perms({"n" + ds}));
    xs.call(MsgType::XS_WRITE, dp + "/name" + '\0' + "vm" + ds);
    zero_ring(d.sim_dir(), g);
    xs.call(MsgType::XS_INTRODUCE, nul_join({ds, std::to_string(0x1000 + g), "1"}));
    gs.push_back(std::make_unique<SimGuest>(
        d.sim_dir(), static_cast<std::uint32_t>(g), evtchn.get()));
  };
  int reads = o.idle_seconds < 2 ? 200 : 5000;
  introduce(1);
  auto one = read_latency(*gs[0], notify.get(), reads);
  long rss1 = rss_settled(d);
  for (int g = 2; g <= o.guests; ++g) introduce(g);
  long rss_n = rss_settled(d);
  auto many = read_latency(*gs[0], notify.get(), reads);
  // N dom0 connections watch @releaseDomain (the daemons send a guest
  // that event only if it may read the special node: not by default).
  std::vector<std::unique_ptr<XsConn>> watchers;
  for (int i = 0; i < o.guests; ++i) {
    watchers.push_back(std::make_unique<XsConn>(d.socket()));
    watchers.back()->call(MsgType::XS_WATCH,
                          nul_join({"@releaseDomain", "w" + std::to_string(i)}));
  }
  long rss_w = rss_settled(d);
  for (auto& w : watchers) {
    w->read_available();
    Message m;
    while (w->take(m)) throw BenchError("a watcher got a reply to nothing");
    if (w->events_seen() != 1)
      throw BenchError("a watcher got " + std::to_string(w->events_seen()) +
                       " first events for its @releaseDomain watch");
  }

  // Idle: nobody speaks.
  double cpu0 = d.cpu_seconds();
  std::this_thread::sleep_for(
      std::chrono::milliseconds(static_cast<long>(o.idle_seconds * 1000)));
  double idle_cpu = d.cpu_seconds() - cpu0;
  auto after = read_latency(*gs[0], notify.get(), reads);

  // The release of the last domain: every watcher sees it once.
  int victim = o.guests;
  auto t_rel = Clock::now();
  xs.call(MsgType::XS_RELEASE, std::to_string(victim) + '\0');
  domains.remove(victim);
  std::vector<std::pair<double, int>> order;  // (us after RELEASE, watcher)
  std::vector<bool> got(watchers.size(), false);
  auto limit = Clock::now() + std::chrono::seconds(30);
  // Each sweep looks at the connections in a new random order, so the
  // order seen is the daemon's to within one sweep, not the sweep's.
  std::vector<std::size_t> sweep(watchers.size());
  for (std::size_t i = 0; i < sweep.size(); ++i) sweep[i] = i;
  std::mt19937 rng(19);
  while (order.size() < watchers.size()) {
    std::shuffle(sweep.begin(), sweep.end(), rng);
    for (std::size_t i : sweep) {
      if (got[i]) continue;
      XsConn& w = *watchers[i];
      w.read_available();
      Message m;
      while (w.take(m)) throw BenchError("a watcher got a reply to nothing");
      if (w.events_seen() > 1) {
        got[i] = true;
        order.emplace_back(us_between(t_rel, Clock::now()),
                           static_cast<int>(i));
      }
    }
    if (Clock::now() > limit)
      throw BenchError(std::to_string(order.size()) + " of " +
                       std::to_string(watchers.size()) +
                       " watchers saw @releaseDomain");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (auto& w : watchers) {
    w->read_available();
    Message m;
    while (w->take(m)) throw BenchError("a watcher got a reply to nothing");
    if (w->events_seen() != 2)
      throw BenchError("a watcher got " +
                       std::to_string(w->events_seen() - 1) +
                       " events for one release");
  }
  // How close the order seen is to the order the watches were set in: the
  // mean index (in that order) of the first and of the last tenth seen.
  std::size_t tenth = std::max<std::size_t>(1, order.size() / 10);
  double head = 0, tail = 0;
  for (std::size_t i = 0; i < tenth; ++i) {
    head += order[i].second;
    tail += order[order.size() - 1 - i].second;
  }
  head /= static_cast<double>(tenth);
  tail /= static_cast<double>(tenth);
  std::printf(
      "%-16s %d idle guests (a ring each), %d dom0 watchers\n"
      "                 idle %.1f s: daemon CPU %.3f ms (%.4f %%)\n"
      "                 guest 1's READ: p50 %.1f us p99 %.1f us with 1 "
      "guest; p50 %.1f us p99 %.1f us with %d (x%.2f p50); after the "
      "watchers and the idle time p50 %.1f us p99 %.1f us\n"
      "                 RSS: +%.1f KB per idle guest, +%.1f KB per dom0 "
      "connection watching @releaseDomain\n"
      "                 @releaseDomain of domain %d: each of %zu watchers got "
      "it once; seen from %.0f us to %.0f us after RELEASE; mean watch "
      "index (0..%zu, in the order set) of the first tenth seen %.0f, of the "
      "last tenth %.0f\n",
      kind_name(kind), o.guests, o.guests, o.idle_seconds, idle_cpu * 1e3,
      idle_cpu * 100 / o.idle_seconds, one.first, one.second, many.first,
      many.second, o.guests, one.first > 0 ? many.first / one.first : 0,
      after.first, after.second,
      static_cast<double>(rss_n - rss1) / 1024 / std::max(1, o.guests - 1),
      static_cast<double>(rss_w - rss_n) / 1024 / o.guests, victim,
      watchers.size(), order.front().first, order.back().first,
      watchers.size() - 1, head, tail);
  std::fflush(stdout);
  return 0;
}

Options parse(int argc, char** argv) {
  Options o;
  o.paths = default_paths(CXS_SOURCE_DIR);
  o.workdir = "/tmp/cxsbs." + std::to_string(::getpid());
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&] {
      if (i + 1 >= argc) throw BenchError(a + " needs a value");
      return std::string(argv[++i]);
    };
    if (a == "--target") o.target = val();
    else if (a == "--vms") o.vms = std::stoi(val());
    else if (a == "--workers") o.workers = std::stoi(val());
    else if (a == "--daemon") o.paths.cxenstored = val();
    else if (a == "--idle") o.idle = true;
    else if (a == "--guests") o.guests = std::stoi(val());
    else if (a == "--idle-seconds") o.idle_seconds = std::stod(val());
    else if (a == "--smoke") {
      o.vms = 10;
      o.workers = 2;
      o.guests = 10;
      o.idle_seconds = 0.2;
    } else throw BenchError("unknown option " + a);
  }
  if (o.vms < 1 || o.workers < 1 || o.guests < 2)
    throw BenchError("--vms and --workers at least 1, --guests at least 2");
  return o;
}

}  // namespace
}  // namespace cxs::bench

int main(int argc, char** argv) {
  using namespace cxs::bench;
  return bench_main("cxs-boot-storm", [&] {
    Options o = parse(argc, argv);
    return run_targets(o.target, o.paths, o.workdir, [&](DaemonKind kind) {
      return o.idle ? run_idle(kind, o) : run_storm(kind, o);
    });
  });
}

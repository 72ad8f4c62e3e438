#include "boot_storm_guests.h"

#include <poll.h>
#include <unistd.h>

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <thread>

namespace cxs::bench::storm {
namespace {

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

}  // namespace

struct GuestDriver::Impl {
  Impl(const DaemonProcess& d, Counters& c, Failure& f)
      : dir_(d.sim_dir()), c_(c), f_(f) {
    evtchn_ = open_fifo(dir_ + "/evtchn");
    notify_ = open_fifo(dir_ + "/notify");
    thread_ = std::thread([this] { run(); });
  }
  ~Impl() { stop(); }

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
      if (m->hdr.type == ty(MsgType::XS_WATCH_EVENT)) {
        g.events.push_back(m->payload);
        continue;
      }
      if (!g.outstanding || m->hdr.req_id != g.sim->next_id)
        throw BenchError("domain " + std::to_string(g.dom) +
                         ": a reply to no request");
      GuestOp o = std::move(g.pending.front());
      g.pending.pop_front();
      g.outstanding = false;
      if (m->hdr.type != ty(o.type) && m->hdr.type != ty(MsgType::XS_ERROR))
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
        g.sim->ring().send(ty(o.type), ++g.sim->next_id, o.tx, o.payload);
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
             if (m.hdr.type == ty(MsgType::XS_ERROR)) {
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
           if (m.hdr.type == ty(MsgType::XS_ERROR)) {
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
           if (m.hdr.type == ty(MsgType::XS_ERROR)) return;
           for (const auto& id : split_dir(m.payload))
             probe(g, type + "/" + id, base + "/" + type + "/" + id);
         });
    };
    if (!only_type.empty()) {
      list_type(only_type);
      return;
    }
    op(g, MsgType::XS_DIRECTORY, base + '\0', 0, [list_type](const Message& m) {
      if (m.hdr.type == ty(MsgType::XS_ERROR))
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
         if (m.hdr.type == ty(MsgType::XS_ERROR))
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
        w = {{"tx-ring-ref", "8"},
             {"rx-ring-ref", "9"},
             {"event-channel", "10"},
             {"request-rx-copy", "1"},
             {"feature-rx-notify", "1"}};
      else
        w = {{"ring-ref", "8"},
             {"event-channel", "11"},
             {"protocol", "x86_64-abi"}};
      int next = dev.type == "vif" ? 4 : 3;
      write_tx(g, dev.fe, w,
               [this, &g, key, next] { switch_state(g, key, next); });
    } else if (be_state == 4 && dev.type == "vbd" && dev.fe_state == 3) {
      // blkfront_connect: what the backend says about the disk, then
      // Connected.
      for (const char* n : {"sectors", "info", "sector-size"})
        op(g, MsgType::XS_READ, dev.be + "/" + n + '\0', 0,
           [n](const Message& m) {
             if (m.hdr.type == ty(MsgType::XS_ERROR))
               throw BenchError(std::string("guest READ backend ") + n + ": " +
                                error_name(m.payload));
           });
      switch_state(g, key, 4);
    }
  }

  // TRANSACTION_START, the writes, TRANSACTION_END; again on EAGAIN.
  void write_tx(Guest& g, const std::string& base,
                const std::vector<std::pair<std::string, std::string>>& w,
                const std::function<void()>& then) {
    op(g, MsgType::XS_TRANSACTION_START, std::string(1, '\0'), 0,
       [this, &g, base, w, then](const Message& m) {
         if (m.hdr.type == ty(MsgType::XS_ERROR))
           throw BenchError("guest TRANSACTION_START: " +
                            error_name(m.payload));
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
         if (m.hdr.type == ty(MsgType::XS_ERROR))
           throw BenchError("guest TRANSACTION_START: " +
                            error_name(m.payload));
         auto tx = static_cast<std::uint32_t>(std::atoll(m.payload.c_str()));
         op(g, MsgType::XS_READ, fe + "/state" + '\0', tx,
            [](const Message& r) {
              if (r.hdr.type == ty(MsgType::XS_ERROR))
                throw BenchError("guest READ state: " + error_name(r.payload));
            });
         op(g, MsgType::XS_WRITE, fe + "/state" + '\0' + std::to_string(to), tx,
            [](const Message& r) { expect_ok(r, "guest WRITE state"); });
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

GuestDriver::GuestDriver(const DaemonProcess& d, Counters& c, Failure& f)
    : impl_(std::make_unique<Impl>(d, c, f)) {}
GuestDriver::~GuestDriver() = default;
void GuestDriver::stop() { impl_->stop(); }
void GuestDriver::start(int d) { impl_->start(d); }
void GuestDriver::halt(int d) { impl_->halt(d); }
void GuestDriver::quiesce() { impl_->quiesce(); }

}  // namespace cxs::bench::storm

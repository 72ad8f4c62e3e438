// cxs-mem-bench: does the memory quota bound what the daemon holds, and
// does the memory come back after a flood? (issue 18)
//
// G simulated guests each watch /pub with W tokens and never read; one
// privileged socket client watches /priv with K tokens and never reads.
// A writer then rewrites /priv/n0..nP-1 (K events each for the privileged
// client, which fills to its 64 MiB queue bound) and /pub/g0..gQ-1 (W
// events each for every guest, which fill to their 2.5 MiB memory quota).
// The nodes exist before the baseline, so the store is in it. Printed:
// RSS before, at the peak and S seconds after the clients left, and, for
// cxenstored, what it charged (CONTROL memreport) against the RSS growth.
// The C xenstored 4.17 (under tools/refd) runs the same flood where it can.
//
// --watch-rss: what a registered watch costs instead (issue 19). N socket
// clients each register M watches on the paths a boot storm's backends and
// frontends watch (/local/domain/<d>/device/vif/0/state,
// /local/domain/0/backend/vbd/<d>/51712, ...) with libxl- and Linux-style
// tokens ("backend/vif/5/0", "FFFF888004A1C000"), then R watches on
// @releaseDomain spread over the same clients. Printed: RSS growth per
// watch (the clients connect before the baseline) and, for cxenstored, the
// bytes the memory quota charges per watch.
//
// --node-rss: what a node costs against what the memory quota charges
// for it (issue 18). dom0 writes N nodes of each of four shapes into the
// guests' homes (the guests own them, so they are charged to them): tiny
// values, device-like directories, 1500-byte values, and one directory
// with N children. Printed per shape: RSS growth and the growth of
// CONTROL memreport's charged-nodes, per node and as a ratio (the quota
// bounds RSS if the ratio stays near 1). cxenstored only: the C daemon
// 4.17 has no memory quota.
//
//   cxs-mem-bench [--target cxs|c|both] [--daemon PATH] [--guests G]
//                 [--watches W] [--priv-watches K] [--priv-writes P]
//                 [--guest-writes Q] [--settle S] [--smoke]
//   cxs-mem-bench --watch-rss [--target ...] [--daemon PATH]
//                 [--clients N] [--per-client M] [--release-watches R]
//   cxs-mem-bench --node-rss [--daemon PATH] [--guests G] [--nodes N]
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench_main.h"
#include "ring_load.h"

namespace cxs::bench {
namespace {

struct Options {
  std::string target = "both";
  bool watch_rss = false;
  bool node_rss = false;
  int nodes = 20000;
  int clients = 100;
  int per_client = 100;
  int release_watches = 1000;
  int guests = 10;
  int watches = 100;
  int priv_watches = 64;
  int priv_writes = 25000;
  int guest_writes = 600;
  int settle_s = 10;
  DaemonPaths paths;
  std::string workdir;
};

double mib(double bytes) { return bytes / (1024.0 * 1024.0); }

// Writes n nodes, 64 requests in flight: the i-th WRITE's payload is
// write_payload(i) ("path\0value"); calls sample() every 1000 replies (the
// RSS peak is caught on the way).
template <typename Payload, typename Sample>
void write_each(RawClient& c, int n, Payload&& write_payload, Sample&& sample) {
  int sent = 0, done = 0;
  while (done < n) {
    std::string batch;
    while (sent < n && sent - done < 64)
      c.append_request(batch, MsgType::XS_WRITE, write_payload(sent++));
    if (!batch.empty()) c.send_bytes(batch);
    Msg m = c.receive();
    if (m.type != ty(MsgType::XS_WRITE)) {
      std::string payload = write_payload(done);
      throw BenchError("write " + payload.substr(0, payload.find('\0')) + ": " +
                       error_name(m.payload));
    }
    if (++done % 1000 == 0) sample();
  }
  sample();
}

// Writes `prefix`0..n-1 := value.
template <typename Sample>
void write_all(RawClient& c, const std::string& prefix, int n,
               const std::string& value, Sample&& sample) {
  write_each(
      c, n, [&](int i) { return prefix + std::to_string(i) + '\0' + value; },
      sample);
}

// A "name: N" line of CONTROL memreport (cxenstored only); -1 if absent.
long report_field(RawClient& c, const std::string& name) {
  Msg m = c.request(MsgType::XS_CONTROL, nul_join({"memreport"}));
  std::string key = name + ": ";
  std::size_t at = m.payload.find(key);
  if (at == std::string::npos) return -1;
  return std::atol(m.payload.c_str() + at + key.size());
}

int run_one(DaemonKind kind, const Options& o) {
  std::string dir = o.workdir + "/" + kind_name(kind);
  DaemonProcess d(daemon_options(kind, o.paths, dir));
  introduce_guests(d, o.guests);
  RawClient w(d.socket_path());
  std::string perms = nul_join({"/pub", "n0"});
  for (int g = 1; g <= o.guests; ++g) perms += "r" + std::to_string(g) + '\0';
  w.call(MsgType::XS_MKDIR, nul_join({"/pub"}));
  w.call(MsgType::XS_SET_PERMS, perms);
  auto no_sample = [] {};
  write_all(w, "/priv/n", o.priv_writes, "0", no_sample);
  write_all(w, "/pub/g", o.guest_writes, "0", no_sample);
  bool cxs = kind == DaemonKind::kCxs;
  long charged_before = cxs ? report_field(w, "charged-connections") : 0;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  long base = d.rss_bytes();

  long peak = base;
  auto sample = [&] { peak = std::max(peak, d.rss_bytes()); };
  auto guests = std::make_unique<StalledGuests>(d, o.guests, "/pub", o.watches);
  auto priv = std::make_unique<RawClient>(d.socket_path());
  for (int k = 0; k < o.priv_watches; ++k)
    priv->call(MsgType::XS_WATCH, nul_join({"/priv", "p" + std::to_string(k)}));
  auto start = Clock::now();
  write_all(w, "/priv/n", o.priv_writes, "1", sample);
  write_all(w, "/pub/g", o.guest_writes, "1", sample);
  double flood_s = std::chrono::duration<double>(Clock::now() - start).count();
  long charged =
      cxs ? report_field(w, "charged-connections") - charged_before : 0;
  sample();

  // The clients leave: the privileged one closes, the guests are released.
  priv.reset();
  for (int g = 1; g <= o.guests; ++g)
    w.call(MsgType::XS_RELEASE, nul_join({std::to_string(g)}));
  guests.reset();
  std::this_thread::sleep_for(std::chrono::seconds(o.settle_s));
  long after = d.rss_bytes();

  std::printf(
      "%-10s %d guests x %d watches, privileged x %d watches; "
      "flood %.1f s\n",
      kind_name(kind), o.guests, o.watches, o.priv_watches, flood_s);
  std::printf(
      "           RSS before %.1f MiB, peak %.1f MiB (+%.1f), "
      "%d s after the clients left %.1f MiB (%+.1f%%)\n",
      mib(base), mib(peak), mib(peak - base), o.settle_s, mib(after),
      100.0 * (after - base) / base);
  if (cxs)
    std::printf(
        "           charged to the clients %.1f MiB: RSS growth / "
        "charged = %.2f\n",
        mib(charged), charged > 0 ? double(peak - base) / charged : 0);
  std::fflush(stdout);  // a long C run may be cut short
  return 0;
}

// The path and token of client c's k-th watch: domain d's frontend and
// backend state nodes and backend directories, as the Linux drivers and
// libxl watch them (tokens: a kernel pointer in hex, or libxl's path-like
// ones).
std::pair<std::string, std::string> storm_watch(int c, int k) {
  int d = c * 10 + k / 10 + 1;  // ten domains per client, ten watches each
  std::string ds = std::to_string(d);
  char ptr[24];
  std::snprintf(ptr, sizeof ptr, "FFFF8880%08X",
                static_cast<unsigned>(0x04a1c000u + 0x400u * (c * 1000 + k)));
  // Per domain: frontend and backend state of a vif, a vbd and a console,
  // libxl's watches on the vif's and vbd's backend directories and on the
  // vif's hotplug status, and the guest's shutdown control node.
  static const char* const kDev[] = {"vif", "vbd", "console"};
  int slot = k % 10;
  std::string kind = kDev[slot < 8 ? slot / 3 : 0];
  std::string num = kind == "vbd" ? "51712" : "0";
  std::string back = "/local/domain/0/backend/" + kind + "/" + ds + "/" + num;
  std::string front = "/local/domain/" + ds + "/device/" + kind + "/" + num;
  switch (slot) {
    case 0:
    case 3:
    case 6:
      return {front + "/state", ptr};  // the backend watches the frontend
    case 1:
    case 4:
    case 7:
      return {back + "/state", ptr};  // the frontend watches the backend
    case 2:
    case 5:
      return {back, "backend/" + kind + "/" + ds + "/" + num};  // libxl
    case 8:
      return {back + "/hotplug-status", "hotplug/" + ds + "/" + num};
    default:
      return {"/local/domain/" + ds + "/control/shutdown", ptr};
  }
}

// Registers `watches` on `c`, 64 in flight.
void watch_all(RawClient& c,
               const std::vector<std::pair<std::string, std::string>>& ws) {
  std::size_t sent = 0, done = 0;
  while (done < ws.size()) {
    std::string batch;
    while (sent < ws.size() && sent - done < 64) {
      c.append_request(batch, MsgType::XS_WATCH,
                       nul_join({ws[sent].first, ws[sent].second}));
      ++sent;
    }
    if (!batch.empty()) c.send_bytes(batch);
    Msg m = c.receive();
    if (m.type != ty(MsgType::XS_WATCH))
      throw BenchError("watch " + ws[done].first + ": " +
                       error_name(m.payload));
    ++done;
  }
}

int run_watch_rss(DaemonKind kind, const Options& o) {
  std::string dir = o.workdir + "/" + kind_name(kind);
  DaemonProcess d(daemon_options(kind, o.paths, dir));
  bool cxs = kind == DaemonKind::kCxs;
  RawClient ctl(d.socket_path());
  std::vector<std::unique_ptr<RawClient>> clients;
  clients.reserve(o.clients);
  for (int c = 0; c < o.clients; ++c) {
    clients.push_back(std::make_unique<RawClient>(d.socket_path()));
    clients.back()->keep_events(false);  // only counted
  }
  for (auto& c : clients) c->call(MsgType::XS_READ, nul_join({"/"}));
  long charged_before = cxs ? report_field(ctl, "charged-connections") : 0;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  long base = d.rss_bytes();

  std::vector<std::pair<std::string, std::string>> ws;
  for (int c = 0; c < o.clients; ++c) {
    ws.clear();
    for (int k = 0; k < o.per_client; ++k) ws.push_back(storm_watch(c, k));
    watch_all(*clients[c], ws);
  }
  for (int r = 0; r < o.release_watches; ++r) {
    int c = r % o.clients;
    char tok[32];
    std::snprintf(tok, sizeof tok, "%d/%x", r, 0x55d0c000u + 0x40u * r);
    clients[c]->call(MsgType::XS_WATCH, nul_join({"@releaseDomain", tok}));
  }
  for (auto& c : clients) c->read_available();  // the first events
  long charged =
      cxs ? report_field(ctl, "charged-connections") - charged_before : 0;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  long after = d.rss_bytes();
  long n = long(o.clients) * o.per_client + o.release_watches;
  std::printf(
      "%-10s %d clients x %d watches + %d on @releaseDomain = %ld watches\n",
      kind_name(kind), o.clients, o.per_client, o.release_watches, n);
  std::printf("           RSS %.1f -> %.1f MiB: %.0f bytes per watch",
              mib(base), mib(after), double(after - base) / n);
  if (cxs) std::printf(", charged %.0f bytes per watch", double(charged) / n);
  std::printf("\n");
  std::fflush(stdout);
  return 0;
}

// One shape of node: the path of the i-th node in `home`, and its value.
struct NodeShape {
  const char* name;
  std::string (*path)(const std::string& home, int i);
  std::string (*value)(int i);
};

const NodeShape kNodeShapes[] = {
    {"tiny",
     [](const std::string& h, int i) {
       return h + "/s" + std::to_string(i / 100) + "/" +
              std::to_string(i % 100);
     },
     [](int) { return std::string("1"); }},
    {"device",
     [](const std::string& h, int i) {
       static const char* kFields[] = {"state",   "backend-id",   "handle",
                                       "mac",     "backend",      "feature-sg",
                                       "rx-copy", "event-channel"};
       return h + "/device/vif/" + std::to_string(i / 8) + "/" + kFields[i % 8];
     },
     [](int i) {
       static const char* kValues[] = {"4",
                                       "0",
                                       "0",
                                       "00:16:3e:5a:1c:07",
                                       "/local/domain/0/backend/vif/5/0",
                                       "1",
                                       "1",
                                       "13"};
       return std::string(kValues[i % 8]);
     }},
    {"1500-byte",
     [](const std::string& h, int i) {
       return h + "/l" + std::to_string(i / 100) + "/" +
              std::to_string(i % 100);
     },
     [](int) { return std::string(1500, 'x'); }},
    {"wide",
     [](const std::string& h, int i) {
       return h + "/w/child-" + std::to_string(i);
     },
     [](int) { return std::string("1"); }},
};

// Writes shape `s`'s nodes 0..n-1, spread over guests 1..G.
void write_shape(RawClient& c, const NodeShape& s, int n, int guests) {
  auto payload = [&](int k) {
    std::string home = "/local/domain/" + std::to_string(1 + k % guests);
    int i = k / guests;
    return s.path(home, i) + '\0' + s.value(i);
  };
  write_each(c, n, payload, [] {});
}

int run_node_rss(DaemonKind kind, const Options& o) {
  if (kind != DaemonKind::kCxs) {
    std::printf("%-10s --node-rss: no memory quota to compare with\n",
                kind_name(kind));
    return 0;
  }
  std::string dir = o.workdir + "/" + kind_name(kind);
  DaemonProcess d(daemon_options(kind, o.paths, dir));
  introduce_guests(d, o.guests);
  RawClient w(d.socket_path());
  std::printf("%-10s %d nodes of each shape over %d guests\n", kind_name(kind),
              o.nodes, o.guests);
  for (const NodeShape& s : kNodeShapes) {
    long charged0 = report_field(w, "charged-nodes");
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    long rss0 = d.rss_bytes();
    write_shape(w, s, o.nodes, o.guests);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    double rss = double(d.rss_bytes() - rss0);
    double charged = double(report_field(w, "charged-nodes") - charged0);
    std::printf(
        "           %-10s RSS +%.1f MiB (%.0f B/node), charged +%.1f MiB "
        "(%.0f B/node): RSS growth / charged = %.2f\n",
        s.name, mib(rss), rss / o.nodes, mib(charged), charged / o.nodes,
        charged > 0 ? rss / charged : 0);
  }
  std::fflush(stdout);
  return 0;
}

Options parse(int argc, char** argv) {
  Options o;
  o.paths = default_paths();
  o.workdir = "/tmp/cxsmem." + std::to_string(::getpid());
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&] { return option_value(argc, argv, i); };
    if (a == "--target")
      o.target = val();
    else if (a == "--daemon")
      o.paths.cxenstored = val();
    else if (a == "--guests")
      o.guests = std::stoi(val());
    else if (a == "--watches")
      o.watches = std::stoi(val());
    else if (a == "--priv-watches")
      o.priv_watches = std::stoi(val());
    else if (a == "--priv-writes")
      o.priv_writes = std::stoi(val());
    else if (a == "--guest-writes")
      o.guest_writes = std::stoi(val());
    else if (a == "--watch-rss")
      o.watch_rss = true;
    else if (a == "--node-rss")
      o.node_rss = true;
    else if (a == "--nodes")
      o.nodes = std::stoi(val());
    else if (a == "--clients")
      o.clients = std::stoi(val());
    else if (a == "--per-client")
      o.per_client = std::stoi(val());
    else if (a == "--release-watches")
      o.release_watches = std::stoi(val());
    else if (a == "--settle")
      o.settle_s = std::stoi(val());
    else if (a == "--smoke") {
      o.target = "cxs";
      o.guests = 2;
      o.watches = 10;
      o.priv_watches = 4;
      o.priv_writes = 500;
      o.guest_writes = 50;
      o.settle_s = 1;
    } else
      throw BenchError("unknown option " + a);
  }
  return o;
}

}  // namespace
}  // namespace cxs::bench

int main(int argc, char** argv) {
  using namespace cxs::bench;
  return bench_main("cxs-mem-bench", [&] {
    Options o = parse(argc, argv);
    return run_targets(o.target, o.paths, o.workdir, [&](DaemonKind kind) {
      if (o.node_rss) return run_node_rss(kind, o);
      return o.watch_rss ? run_watch_rss(kind, o) : run_one(kind, o);
    });
  });
}

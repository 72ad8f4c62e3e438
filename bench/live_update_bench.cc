// cxs-lu-bench: how long a live update leaves clients without an answer.
// A daemon is loaded with N nodes, W watches over C socket clients and G
// simulated guests introduced on rings; one more client reads in a closed
// loop the whole time. Then a live update to the same binary (argv carried
// over, -F) is requested, as `xenstore-control live-update -F` does. The
// downtime is the longest gap between two of the reading client's replies
// around the update: from the last answer of the old process to the first
// of the new one. Also printed: the time from -s to its "OK", and whether
// every client and watch survived.
//
// The C xenstored 4.17 (under tools/refd) is measured the same way, as a
// C -> C update. Under refd's shim the C daemon opens its event channel
// FIFO close-on-exec, so the new C process would find its evtchn fd closed;
// the target is a wrapper that opens the FIFO again on the fd number the
// state file names, then execs the real binary (on real Xen the fd is
// /dev/xen/evtchn and is inherited).
//
//   cxs-lu-bench [--target cxs|c|both] [--nodes N] [--watches W]
//                [--clients C] [--guests G] [--smoke]
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_main.h"
#include "ring_load.h"

namespace cxs::bench {
namespace {

struct Options {
  std::string target = "both";
  int nodes = 100000;
  int watches = 1000;
  int clients = 100;
  int guests = 100;
  DaemonPaths paths;
  std::string workdir;
};

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// Nodes /lu/dK/nM, 1000 per directory, 32 writes in flight.
void populate(const DaemonProcess& d, int nodes) {
  RawClient c(d.socket_path());
  int sent = 0, done = 0;
  while (done < nodes) {
    std::string batch;
    while (sent < nodes && sent - done < 32) {
      std::string path = "/lu/d" + std::to_string(sent / 1000) + "/n" +
                         std::to_string(sent % 1000);
      c.append_request(batch, MsgType::XS_WRITE, path + '\0' + "value");
      ++sent;
    }
    if (!batch.empty()) c.send_bytes(batch);
    Msg m = c.receive();
    if (m.type != ty(MsgType::XS_WRITE))
      throw BenchError("populate: " + error_name(m.payload));
    ++done;
  }
}

// The wrapper that lets a C 4.17 daemon under refd be its own target (see
// the file comment).
std::string write_c_wrapper(const std::string& dir) {
  std::string path = dir + "/c-target";
  std::ofstream(path)
      << "#!/bin/bash\n"
         "state=\"$XENSTORED_RUNDIR/state_dump\"\n"
         "if [ -f \"$state\" ]; then\n"
         "  fd=$(od -An -t d4 -j 28 -N 4 \"$state\" | tr -d ' ')\n"
         "  [ \"$fd\" -ge 0 ] 2>/dev/null && eval \"exec $fd<>\\\"$XENSHIM_DIR/evtchn\\\"\"\n"
         "fi\n"
         "exec /usr/lib/xen-4.17/bin/xenstored \"$@\"\n";
  ::chmod(path.c_str(), 0755);
  return path;
}

struct Outcome {
  double downtime_ms = 0;
  double s_to_ok_ms = 0;
  std::string reply;
  int clients_alive = 0;
  std::uint64_t events_after = 0;
  std::uint64_t probe_reads = 0;
};

Outcome update(const DaemonProcess& d, const std::string& binary,
               std::vector<std::unique_ptr<RawClient>>& clients, int watches) {
  std::atomic<bool> stop{false};
  std::vector<Clock::time_point> replies;
  replies.reserve(1 << 20);
  std::thread probe([&] {
    RawClient p(d.socket_path());
    p.set_timeout(std::chrono::milliseconds(30000));
    while (!stop.load(std::memory_order_relaxed)) {
      p.send(MsgType::XS_READ, std::string("/lu/d0/n0") + '\0');
      p.receive();
      replies.push_back(Clock::now());
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  RawClient req(d.socket_path());
  req.set_timeout(std::chrono::milliseconds(60000));
  req.call(MsgType::XS_CONTROL, nul_join({"live-update", "-f", binary}));
  auto t_s = Clock::now();
  Msg ok = req.request(MsgType::XS_CONTROL,
                       nul_join({"live-update", "-s", "-t", "10", "-F"}));
  auto t_ok = Clock::now();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  probe.join();

  Outcome o;
  o.reply = ok.payload.substr(0, ok.payload.find('\0'));
  o.s_to_ok_ms = ms_between(t_s, t_ok);
  o.probe_reads = replies.size();
  for (std::size_t i = 1; i < replies.size(); ++i)
    if (replies[i] >= t_s)
      o.downtime_ms = std::max(o.downtime_ms, ms_between(replies[i - 1], replies[i]));
  // Every client still answered; every watch fires once on a write.
  RawClient w(d.socket_path());
  for (int k = 0; k < watches; ++k)
    w.call(MsgType::XS_WRITE,
           "/lu/w" + std::to_string(k) + '\0' + "after");
  for (auto& c : clients) {
    try {
      c->set_timeout(std::chrono::milliseconds(5000));
      c->call(MsgType::XS_READ, std::string("/lu/d0/n1") + '\0');
      ++o.clients_alive;
    } catch (const BenchError&) {
    }
  }
  auto deadline = Clock::now() + std::chrono::seconds(10);
  for (;;) {
    o.events_after = 0;
    for (auto& c : clients) {
      c->read_available();
      o.events_after += c->events_seen();
    }
    // Initial events (one per watch) were counted before the update.
    if (o.events_after >= 2u * static_cast<std::uint64_t>(watches) ||
        Clock::now() > deadline)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  o.events_after -= static_cast<std::uint64_t>(watches);
  return o;
}

// With CXS_BENCH_LOG=info the daemon logs how long each phase of the
// update took; show those lines under the figures.
void print_phase_lines(const std::string& log) {
  std::ifstream in(log);
  for (std::string line; std::getline(in, line);)
    if (line.find("live update:") != std::string::npos)
      std::printf("           %s\n", line.c_str());
}

int run_one(DaemonKind kind, const Options& opt) {
  std::string dir = opt.workdir + (kind == DaemonKind::kC ? "/c" : "/x");
  DaemonProcess d(daemon_options(kind, opt.paths, dir));
  std::string binary = kind == DaemonKind::kC ? write_c_wrapper(dir)
                                              : opt.paths.cxenstored;
  auto t0 = Clock::now();
  populate(d, opt.nodes);
  introduce_guests(d, opt.guests);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < opt.clients; ++i) {
    clients.push_back(std::make_unique<RawClient>(d.socket_path()));
    clients.back()->keep_events(false);  // only counted
  }
  for (int k = 0; k < opt.watches; ++k) {
    RawClient& c = *clients[static_cast<std::size_t>(k % opt.clients)];
    c.call(MsgType::XS_WATCH, nul_join({"/lu/w" + std::to_string(k),
                                        "t" + std::to_string(k)}));
  }
  double setup_s = ms_between(t0, Clock::now()) / 1000;
  long rss = d.rss_bytes();
  Outcome o = update(d, binary, clients, opt.watches);
  std::printf(
      "%-10s %d nodes, %d watches, %d clients, %d guests (set-up %.1f s, "
      "RSS %.1f MB)\n"
      "           -s answered \"%s\" after %.1f ms; downtime (longest gap "
      "between a reading client's replies) %.1f ms over %llu reads\n"
      "           after: %d/%d clients answer, %llu/%d watch events\n",
      kind_name(kind), opt.nodes, opt.watches, opt.clients, opt.guests,
      setup_s, static_cast<double>(rss) / 1e6, o.reply.c_str(), o.s_to_ok_ms,
      o.downtime_ms, static_cast<unsigned long long>(o.probe_reads),
      o.clients_alive, opt.clients,
      static_cast<unsigned long long>(o.events_after), opt.watches);
  if (kind == DaemonKind::kCxs) print_phase_lines(dir + "/daemon.log");
  bool whole = o.reply == "OK" && o.clients_alive == opt.clients &&
               o.events_after == static_cast<std::uint64_t>(opt.watches);
  return whole ? 0 : 1;
}

Options parse(int argc, char** argv) {
  Options o;
  o.paths = default_paths();
  // The state file goes beside the socket: on tmpfs, as /run is on a host.
  o.workdir = (path_exists("/dev/shm") ? "/dev/shm/cxslu." : "/tmp/cxslu.") +
              std::to_string(::getpid());
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&] { return option_value(argc, argv, i); };
    if (a == "--target") o.target = val();
    else if (a == "--nodes") o.nodes = std::stoi(val());
    else if (a == "--watches") o.watches = std::stoi(val());
    else if (a == "--clients") o.clients = std::stoi(val());
    else if (a == "--guests") o.guests = std::stoi(val());
    else if (a == "--daemon") o.paths.cxenstored = val();
    else if (a == "--smoke") {
      o.target = "cxs";
      o.nodes = 2000;
      o.watches = 20;
      o.clients = 10;
      o.guests = 5;
    } else throw BenchError("unknown option " + a);
  }
  if (o.clients < 1) throw BenchError("--clients must be at least 1");
  return o;
}

}  // namespace
}  // namespace cxs::bench

int main(int argc, char** argv) {
  using namespace cxs::bench;
  return bench_main("cxs-lu-bench", [&] {
    Options o = parse(argc, argv);
    return run_targets(o.target, o.paths, o.workdir,
                       [&](DaemonKind kind) { return run_one(kind, o); });
  });
}

#include "workloads.h"

#include <poll.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <random>
#include <thread>

#include "bench_main.h"
#include "dir100.h"
#include "ring_load.h"

namespace cxs::bench {

Window::Window(const DaemonProcess& d)
    : d_(d), cpu0_(d.cpu_seconds()), t0_(Clock::now()) {}

void Window::finish(Result& r, std::uint64_t ops, std::vector<double>& lat) {
  r.seconds = std::chrono::duration<double>(Clock::now() - t0_).count();
  r.ops = ops;
  double cpu = d_.cpu_seconds() - cpu0_;
  r.cpu_us_per_op = ops ? cpu * 1e6 / static_cast<double>(ops) : 0;
  if (!lat.empty()) {
    auto at = [&](double q) {
      auto k = static_cast<std::size_t>(q * static_cast<double>(lat.size() - 1));
      std::nth_element(lat.begin(), lat.begin() + static_cast<long>(k),
                       lat.end());
      return lat[k];
    };
    r.p50_us = at(0.50);
    r.p99_us = at(0.99);
  }
}

namespace {

using std::chrono::duration;

double us_since(Clock::time_point t) {
  return duration<double, std::micro>(Clock::now() - t).count();
}

struct Req {
  MsgType type;
  std::string payload;
};

void expect(bool ok, const std::string& what, const Msg& m) {
  if (ok) return;
  std::string p = m.payload;
  for (char& c : p)
    if (c == '\0') c = '|';
  throw BenchError(what + ": got type " + std::to_string(m.type) + " \"" + p +
                   "\"");
}

void expect_ok(const Msg& m, MsgType t, const std::string& what) {
  expect(m.type == ty(t) && m.payload == std::string("OK\0", 3),
         what + " wants OK", m);
}

void expect_read(const Msg& m, std::string_view value) {
  expect(m.type == ty(MsgType::XS_READ) && m.payload == value,
         "READ wants \"" + std::string(value) + "\"", m);
}

// Closed loop with `depth` requests in flight on one connection; replies
// come in order. Returns the number of operations completed.
std::uint64_t run_pipelined(RawClient& c, int depth, Clock::time_point deadline,
                            std::uint64_t max_ops,
                            const std::function<Req(std::uint64_t)>& make,
                            const std::function<void(const Msg&)>& check,
                            std::vector<double>& lat) {
  std::deque<std::pair<std::uint32_t, Clock::time_point>> inflight;
  std::uint64_t issued = 0, done = 0;
  std::string batch;
  auto issue = [&](Clock::time_point now) {
    Req r = make(issued++);
    inflight.emplace_back(c.append_request(batch, r.type, r.payload), now);
  };
  auto now = Clock::now();
  while (issued < static_cast<std::uint64_t>(depth) && issued < max_ops)
    issue(now);
  auto handle = [&](const Msg& m) {
    now = Clock::now();
    auto [id, sent] = inflight.front();
    inflight.pop_front();
    if (m.req_id != id)
      throw BenchError("reply to " + std::to_string(m.req_id) + ", expected " +
                       std::to_string(id));
    check(m);
    lat.push_back(duration<double, std::micro>(now - sent).count());
    ++done;
    if (now < deadline && issued < max_ops) issue(now);
  };
  while (done < issued) {
    if (!batch.empty()) {
      c.send_bytes(batch);
      batch.clear();
    }
    handle(c.receive());
    while (auto m = c.try_receive()) handle(*m);
  }
  return done;
}

// `n` client threads, each with its own connection, running `body` from the
// same start; latencies merged.
std::uint64_t run_clients(
    int n, const std::string& socket,
    const std::function<std::uint64_t(int, RawClient&, std::vector<double>&)>&
        body,
    std::vector<double>& lat) {
  std::vector<std::unique_ptr<RawClient>> conns;
  conns.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    conns.push_back(std::make_unique<RawClient>(socket));
  std::vector<std::vector<double>> lats(static_cast<std::size_t>(n));
  std::vector<std::uint64_t> ops(static_cast<std::size_t>(n), 0);
  std::vector<std::string> errors(static_cast<std::size_t>(n));
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    auto k = static_cast<std::size_t>(i);
    threads.emplace_back([&, i, k] {
      try {
        ops[k] = body(i, *conns[k], lats[k]);
      } catch (const std::exception& e) {
        errors[k] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  std::uint64_t total = 0;
  for (std::size_t k = 0; k < ops.size(); ++k) {
    if (!errors[k].empty()) throw BenchError(errors[k]);
    total += ops[k];
    lat.insert(lat.end(), lats[k].begin(), lats[k].end());
  }
  return total;
}

Clock::time_point deadline_for(const Limits& lim) {
  return Clock::now() + std::chrono::microseconds(
                            static_cast<long>(lim.seconds * 1e6));
}

const std::string kOne = std::string("x");

Req read_req(std::uint64_t) { return {MsgType::XS_READ, "/bench/r" + std::string(1, '\0')}; }

Result read_clients(DaemonProcess& d, const Limits& lim, int clients,
                    int depth) {
  RawClient(d.socket_path())
      .call(MsgType::XS_WRITE, "/bench/r" + std::string(1, '\0') + kOne);
  Result r;
  std::vector<double> lat;
  Window w(d);
  auto deadline = deadline_for(lim);
  std::uint64_t ops = run_clients(
      clients, d.socket_path(),
      [&](int, RawClient& c, std::vector<double>& l) {
        return run_pipelined(
            c, depth, deadline, lim.max_ops / clients, read_req,
            [](const Msg& m) { expect_read(m, kOne); }, l);
      },
      lat);
  w.finish(r, ops, lat);
  return r;
}

Result write_distinct(DaemonProcess& d, const Limits& lim) {
  const std::string value(100, 'v');
  RawClient c(d.socket_path());
  c.call(MsgType::XS_MKDIR, nul_join({"/bench/w"}));
  Result r;
  std::vector<double> lat;
  Window w(d);
  std::uint64_t ops = run_pipelined(
      c, 1, deadline_for(lim), lim.max_ops,
      [&](std::uint64_t i) {
        return Req{MsgType::XS_WRITE,
                   "/bench/w/n" + std::to_string(i) + '\0' + value};
      },
      [](const Msg& m) { expect_ok(m, MsgType::XS_WRITE, "WRITE"); }, lat);
  w.finish(r, ops, lat);
  return r;
}

Result directory100(DaemonProcess& d, const Limits& lim) {
  RawClient c(d.socket_path());
  for (int i = 0; i < kDir100Children; ++i)
    c.call(MsgType::XS_WRITE, "/bench/d/" + dir100_child(i) + '\0');
  Result r;
  std::vector<double> lat;
  Window w(d);
  std::uint64_t ops = run_pipelined(
      c, 1, deadline_for(lim), lim.max_ops,
      [](std::uint64_t) {
        return Req{MsgType::XS_DIRECTORY, nul_join({"/bench/d"})};
      },
      [](const Msg& m) {
        expect(m.type == ty(MsgType::XS_DIRECTORY) &&
                   std::count(m.payload.begin(), m.payload.end(), '\0') ==
                       kDir100Children &&
                   m.payload.size() == kDir100Children * 6,
               "DIRECTORY wants 100 names", m);
      },
      lat);
  w.finish(r, ops, lat);
  return r;
}

// START, READ, WRITE, END(commit) from 4 clients; an operation is one
// attempt; EAGAIN at commit is counted, not retried.
Result transactions(DaemonProcess& d, const Limits& lim, bool same_node) {
  const int kClients = 4;
  auto path = [&](int i) {
    return same_node ? std::string("/bench/t/same")
                     : "/bench/t/c" + std::to_string(i) + "/x";
  };
  {
    RawClient c(d.socket_path());
    for (int i = 0; i < kClients; ++i)
      c.call(MsgType::XS_WRITE, path(i) + '\0' + "0");
  }
  std::atomic<std::uint64_t> eagain{0};
  Result r;
  std::vector<double> lat;
  Window w(d);
  auto deadline = deadline_for(lim);
  std::uint64_t ops = run_clients(
      kClients, d.socket_path(),
      [&](int i, RawClient& c, std::vector<double>& l) {
        std::uint64_t n = 0;
        std::string p = path(i);
        while (Clock::now() < deadline && n < lim.max_ops / kClients) {
          auto t0 = Clock::now();
          std::string id = c.call(MsgType::XS_TRANSACTION_START, {"", 1});
          auto tx = static_cast<std::uint32_t>(std::stoul(id));
          Msg m = c.request(MsgType::XS_READ, p + '\0', tx);
          expect(m.type == ty(MsgType::XS_READ), "tx READ", m);
          m = c.request(MsgType::XS_WRITE,
                        p + '\0' + std::to_string(n), tx);
          expect_ok(m, MsgType::XS_WRITE, "tx WRITE");
          m = c.request(MsgType::XS_TRANSACTION_END, {"T", 2}, tx);
          if (m.type == ty(MsgType::XS_ERROR) &&
              error_name(m.payload) == "EAGAIN")
            ++eagain;
          else
            expect_ok(m, MsgType::XS_TRANSACTION_END, "commit");
          l.push_back(us_since(t0));
          ++n;
        }
        return n;
      },
      lat);
  w.finish(r, ops, lat);
  r.extra = ops ? 100.0 * static_cast<double>(eagain) / static_cast<double>(ops) : 0;
  r.extra_label = "EAGAIN %";
  return r;
}

// 10 connections x 100 watches on /bench/wf; each round one write or rm of
// /bench/wf/x fires all 1000. Ops are events; latency is trigger -> last.
Result watch_fanout(DaemonProcess& d, const Limits& lim) {
  const int kConns = 10, kPerConn = 100;
  RawClient trig(d.socket_path());
  trig.call(MsgType::XS_WRITE, nul_join({"/bench/wf"}));
  std::vector<std::unique_ptr<RawClient>> ws;
  for (int i = 0; i < kConns; ++i) {
    ws.push_back(std::make_unique<RawClient>(d.socket_path()));
    ws.back()->keep_events(false);  // counted, or the bench would grow
    std::string batch;
    for (int k = 0; k < kPerConn; ++k)
      ws.back()->append_request(batch, MsgType::XS_WATCH,
                                nul_join({"/bench/wf", "t" + std::to_string(k)}));
    ws.back()->send_bytes(batch);
    for (int k = 0; k < kPerConn; ++k)
      expect_ok(ws.back()->receive(), MsgType::XS_WATCH, "WATCH");
  }
  std::vector<pollfd> pfds;
  for (auto& c : ws) pfds.push_back({c->fd(), POLLIN, 0});
  // Waits until every watcher has seen `want` events in all.
  auto await_events = [&](std::uint64_t want) {
    auto limit = Clock::now() + std::chrono::seconds(10);
    for (;;) {
      bool all = true;
      for (auto& c : ws) {
        c->read_available();
        if (c->try_receive())
          throw BenchError("a watcher got an unexpected reply");
        all = all && c->events_seen() >= want;
      }
      if (all) return;
      if (Clock::now() > limit) throw BenchError("watch events missing");
      ::poll(pfds.data(), pfds.size(), 10);
    }
  };
  await_events(kPerConn);  // the initial event of each WATCH
  Result r;
  std::vector<double> lat;
  Window w(d);
  auto deadline = deadline_for(lim);
  std::uint64_t rounds = 0;
  while (Clock::now() < deadline &&
         rounds * kConns * kPerConn < lim.max_ops) {
    auto t0 = Clock::now();
    bool rm = rounds % 2 == 1;
    trig.send(rm ? MsgType::XS_RM : MsgType::XS_WRITE,
              rm ? nul_join({"/bench/wf/x"}) : nul_join({"/bench/wf/x", "v"}));
    await_events(kPerConn * (rounds + 2));
    lat.push_back(us_since(t0));
    expect_ok(trig.receive(), rm ? MsgType::XS_RM : MsgType::XS_WRITE,
              "trigger");
    ++rounds;
  }
  w.finish(r, rounds * kConns * kPerConn, lat);
  std::uint64_t seen = 0;
  for (auto& c : ws) seen += c->events_seen();
  r.extra = static_cast<double>(seen - kConns * kPerConn) /
            static_cast<double>(rounds * kConns * kPerConn);
  r.extra_label = "events per watch per trigger";
  return r;
}

// Creates lim.scale_nodes nodes under /local/domain/N/scale/ (1000 per
// domain), reports RSS bytes per node, then times reads of random nodes.
Result scale(DaemonProcess& d, const Limits& lim) {
  RawClient c(d.socket_path());
  auto name = [](std::uint64_t i) {
    return "/local/domain/" + std::to_string(1 + i / 1000) + "/scale/n" +
           std::to_string(i % 1000);
  };
  long rss0 = d.rss_bytes();
  std::vector<double> ignored;
  auto n = static_cast<std::uint64_t>(lim.scale_nodes);
  std::uint64_t made = run_pipelined(
      c, 32, Clock::now() + std::chrono::minutes(5), n,
      [&](std::uint64_t i) {
        char v[16];
        std::snprintf(v, sizeof v, "v%07llu", static_cast<unsigned long long>(i));
        return Req{MsgType::XS_WRITE, name(i) + '\0' + v};
      },
      [](const Msg& m) { expect_ok(m, MsgType::XS_WRITE, "WRITE"); }, ignored);
  if (made != n) throw BenchError("scale: created only " + std::to_string(made));
  long rss1 = d.rss_bytes();
  std::mt19937_64 rng(7);
  std::vector<std::uint64_t> picks;
  Result r;
  std::vector<double> lat;
  Window w(d);
  std::uint64_t ops = run_pipelined(
      c, 1, deadline_for(lim), lim.max_ops,
      [&](std::uint64_t) {
        picks.push_back(rng() % n);
        return Req{MsgType::XS_READ, name(picks.back()) + '\0'};
      },
      [&, k = std::size_t{0}](const Msg& m) mutable {
        char v[16];
        std::snprintf(v, sizeof v, "v%07llu",
                      static_cast<unsigned long long>(picks[k++]));
        expect_read(m, v);
      },
      lat);
  w.finish(r, ops, lat);
  r.extra = static_cast<double>(rss1 - rss0) / static_cast<double>(n);
  r.extra_label = "RSS bytes/node";
  return r;
}

// Read latency from one client while `idle` other connections stay open.
Result idle_conns(DaemonProcess& d, const Limits& lim, int idle) {
  std::vector<std::unique_ptr<RawClient>> idlers;
  for (int i = 0; i < idle; ++i) {
    idlers.push_back(std::make_unique<RawClient>(d.socket_path()));
    idlers.back()->send(MsgType::XS_READ, nul_join({"/"}));
  }
  for (auto& c : idlers) c->receive();  // accepted and served once
  return read_clients(d, lim, 1, 1);
}

std::vector<Workload> make_workloads() {
  std::vector<Workload> w;
  auto add = [&](std::string name, std::string what, bool store, bool rings,
                 std::function<Result(DaemonProcess&, const Limits&)> f) {
    w.push_back({std::move(name), std::move(what), store, rings, std::move(f)});
  };
  add("read-1", "READ of a 1-byte node, 1 client", false, false,
      [](DaemonProcess& d, const Limits& l) {
        return read_clients(d, l, 1, 1);
      });
  add("read-8", "READ of a 1-byte node, 8 clients", false, false,
      [](DaemonProcess& d, const Limits& l) {
        return read_clients(d, l, 8, 1);
      });
  add("read-pipe32", "READ, 1 client, 32 in flight", false, false,
      [](DaemonProcess& d, const Limits& l) {
        return read_clients(d, l, 1, 32);
      });
  add("write-100B", "WRITE 100 bytes to distinct nodes, 1 client", false,
      false, write_distinct);
  add("dir-100", "DIRECTORY of a node with 100 children", false, false,
      directory100);
  add("tx-disjoint", "4 clients: START READ WRITE END, own subtrees", false,
      false, [](DaemonProcess& d, const Limits& l) {
        return transactions(d, l, false);
      });
  add("tx-same", "4 clients: START READ WRITE END, one node", false, false,
      [](DaemonProcess& d, const Limits& l) {
        return transactions(d, l, true);
      });
  add("watch-fanout", "1000 watches / 10 conns, write|rm fires all", true,
      false, watch_fanout);
  for (int idle : {0, 100, 1000})
    add("idle-" + std::to_string(idle),
        "READ, 1 client, " + std::to_string(idle) + " idle connections", false,
        false, [idle](DaemonProcess& d, const Limits& l) {
          return idle_conns(d, l, idle);
        });
  add("ring-read-1", "READ over a simulated ring, 1 guest", true, true,
      [](DaemonProcess& d, const Limits& l) {
        return run_ring_workload(d, l, RingOp::kRead, 1);
      });
  add("ring-read-100", "READ over rings, 100 guests, 1 in flight each", true,
      true, [](DaemonProcess& d, const Limits& l) {
        return run_ring_workload(d, l, RingOp::kRead, l.guests);
      });
  add("ring-write-100", "WRITE 100 B over rings, 100 guests", true, true,
      [](DaemonProcess& d, const Limits& l) {
        return run_ring_workload(d, l, RingOp::kWrite, l.guests);
      });
  add("scale-100k", "100 000 nodes: RSS per node, random READ", true, false,
      scale);
  return w;
}

}  // namespace

const std::vector<Workload>& all_workloads() {
  static const std::vector<Workload> w = make_workloads();
  return w;
}

}  // namespace cxs::bench

// The rings-and-domains scenarios: each one starts from a fresh daemon on a
// simulated hypervisor, plays dom0 over the socket and guests over their
// rings, and writes what it saw into a Transcript ("step" -> "outcome").
// ring_test.cc checks cxenstored's transcripts against the expected
// answers; reference_compare_test.cc runs the same list against the C
// xenstored under the refd shim and compares the two transcripts.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "integration_helpers.h"
#include "sim_host.h"

namespace cxs::test {

using namespace std::chrono_literals;

// Steps in order; a step recorded twice keeps both (the second gets "#2").
class Transcript {
public:
  void rec(std::string step, std::string outcome) {
    std::string key = step;
    for (int n = 2; has(key); ++n)
      key = step + " #" + std::to_string(n);
    lines_.emplace_back(std::move(key), std::move(outcome));
  }
  bool has(const std::string &step) const {
    return std::any_of(lines_.begin(), lines_.end(),
                       [&](const auto &l) { return l.first == step; });
  }
  // The outcome of `step`, or "<missing>".
  std::string operator[](const std::string &step) const {
    for (const auto &l : lines_)
      if (l.first == step)
        return l.second;
    return "<missing>";
  }
  const std::vector<std::pair<std::string, std::string>> &lines() const {
    return lines_;
  }
  std::string text() const {
    std::string out;
    for (const auto &[k, v] : lines_)
      out += "  " + k + " -> " + v + "\n";
    return out;
  }

private:
  std::vector<std::pair<std::string, std::string>> lines_;
};

struct Scenario {
  const char *name;
  std::vector<std::string> daemon_args;
  std::function<void(SimHost &, Transcript &)> run;
};

// GoogleTest prints a parameter with this (test names, ctest listings).
inline void PrintTo(const Scenario &s, std::ostream *os) { *os << s.name; }

// ---- small helpers -----------------------------------------------------

// Value or error name of a dom0 READ.
inline std::string dom0_read(RawClient &c, std::string_view path) {
  Msg m = c.read(path);
  return is_type(m, wire::MsgType::XS_READ) ? m.payload : outcome_of(m);
}

inline std::string dom0_request(RawClient &c, wire::MsgType type,
                                const std::vector<std::string> &args) {
  Msg m = c.request(ty(type), nul_join(args));
  if (m.type == ty(wire::MsgType::XS_ERROR))
    return outcome_of(m);
  std::string shown = m.shown();
  return shown == "OK|" ? "OK" : shown;
}

// The events queued for dom0's socket so far (RawClient::events_before_barrier:
// an ordering barrier, which both daemons honour, not a wait).
inline std::string dom0_events(RawClient &c) {
  std::string out;
  for (const Msg &ev : c.events_before_barrier()) {
    if (!out.empty())
      out += ", ";
    out += ev.shown();
  }
  return out.empty() ? "none" : out;
}

inline std::string joined(const std::vector<std::string> &v) {
  if (v.empty())
    return "none";
  std::string out;
  for (const auto &s : v)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}

inline std::string guest_request(SimGuest &g, wire::MsgType type,
                                 const std::vector<std::string> &args,
                                 std::uint32_t tx = 0) {
  auto m = g.request(type, nul_join(args), tx);
  if (!m)
    return "timeout";
  if (m->hdr.type == ty(wire::MsgType::XS_ERROR))
    return outcome_of(*m);
  std::string shown = m->payload;
  for (char &ch : shown)
    if (ch == '\0')
      ch = '|';
  return shown == "OK|" ? "OK" : shown;
}

// Polls the ring's error field until it is set (or 3 s pass).
inline std::string ring_error(SimGuest &g) {
  eventually([&] { return g.ring().error() != 0; }, 3s);
  return std::to_string(g.ring().error());
}

// ---- the scenarios -----------------------------------------------------

inline void relative_paths(SimHost &h, Transcript &t) {
  t.rec("INTRODUCE 5", outcome_of(h.introduce(5)));
  SimGuest g(h, 5);
  RawClient dom0(h.socket());
  t.rec("guest WRITE data/x", g.write("data/x", "hello"));
  t.rec("dom0 READ /local/domain/5/data/x",
        dom0_read(dom0, "/local/domain/5/data/x"));
  t.rec("guest READ data/x", g.read("data/x"));
  t.rec("guest READ /local/domain/5/data/x", g.read("/local/domain/5/data/x"));
  t.rec("guest DIRECTORY data",
        guest_request(g, wire::MsgType::XS_DIRECTORY, {"data"}));
  t.rec("guest GET_DOMAIN_PATH 5",
        guest_request(g, wire::MsgType::XS_GET_DOMAIN_PATH, {"5"}));
}

inline void dom0_only_nodes(SimHost &h, Transcript &t) {
  h.introduce(5);
  SimGuest g(h, 5);
  RawClient dom0(h.socket());
  dom0.write("/secret/key", "s3cr3t");
  t.rec("guest READ /tool/xenstored", g.read("/tool/xenstored"));
  t.rec("guest READ /secret/key", g.read("/secret/key"));
  t.rec("guest READ /secret/missing", g.read("/secret/missing"));
  t.rec("guest DIRECTORY /",
        guest_request(g, wire::MsgType::XS_DIRECTORY, {"/"}));
  t.rec("guest WRITE /secret/key", g.write("/secret/key", "mine"));
  t.rec("guest RM /secret",
        guest_request(g, wire::MsgType::XS_RM, {"/secret"}));
  t.rec("guest GET_PERMS /secret/key",
        guest_request(g, wire::MsgType::XS_GET_PERMS, {"/secret/key"}));
  t.rec("dom0 READ /secret/key", dom0_read(dom0, "/secret/key"));
}

inline void watches_across_domains(SimHost &h, Transcript &t) {
  h.introduce(5);
  SimGuest g(h, 5);
  RawClient dom0(h.socket());
  t.rec("guest WATCH data g",
        guest_request(g, wire::MsgType::XS_WATCH, {"data", "g"}));
  t.rec("guest initial event", g.next_event_text().value_or("none"));
  dom0.write("/local/domain/5/data/a", "1");
  t.rec("guest event after dom0 write", g.next_event_text().value_or("none"));

  t.rec("dom0 WATCH /local/domain/5/out d",
        outcome_of(dom0.watch("/local/domain/5/out", "d")));
  t.rec("dom0 initial event", dom0_events(dom0));
  t.rec("guest WRITE out/b", g.write("out/b", "2"));
  t.rec("dom0 event after guest write", dom0_events(dom0));
  t.rec("guest events left", joined(g.events_before_barrier()));
}

inline void permission_filtered_events(SimHost &h, Transcript &t) {
  h.introduce(5);
  SimGuest g(h, 5);
  RawClient dom0(h.socket());
  t.rec("guest WATCH / all",
        guest_request(g, wire::MsgType::XS_WATCH, {"/", "all"}));
  t.rec("guest initial event", g.next_event_text().value_or("none"));
  dom0.write("/secret/a", "x");               // n0: the guest may not read
  dom0.write("/tool/xenstored/hidden", "y");  // n0 as well
  dom0.write("/local/domain/5/visible", "z"); // n5: its own
  t.rec("guest events", joined(g.events_before_barrier()));
}

inline void ring_transactions(SimHost &h, Transcript &t) {
  h.introduce(5);
  SimGuest g(h, 5);
  RawClient dom0(h.socket());
  g.write("data/t", "0");
  std::uint32_t tx = g.start_transaction();
  t.rec("guest TRANSACTION_START", tx ? "id" : "failed");
  t.rec("guest READ data/t in tx", g.read("data/t", tx));
  t.rec("guest WRITE data/t in tx", g.write("data/t", "guest", tx));
  t.rec("dom0 WRITE data/t meanwhile",
        outcome_of(dom0.write("/local/domain/5/data/t", "dom0")));
  t.rec("guest READ data/t in tx after dom0", g.read("data/t", tx));
  t.rec("guest commit",
        guest_request(g, wire::MsgType::XS_TRANSACTION_END, {"T"}, tx));
  t.rec("dom0 READ data/t", dom0_read(dom0, "/local/domain/5/data/t"));

  std::uint32_t tx2 = g.start_transaction();
  g.read("data/t", tx2);
  t.rec("guest WRITE data/t in tx2", g.write("data/t", "second", tx2));
  t.rec("guest WRITE data/u in tx2", g.write("data/u", "new", tx2));
  t.rec("dom0 READ data/u before commit",
        dom0_read(dom0, "/local/domain/5/data/u"));
  t.rec("guest commit tx2",
        guest_request(g, wire::MsgType::XS_TRANSACTION_END, {"T"}, tx2));
  t.rec("dom0 READ data/t after commit",
        dom0_read(dom0, "/local/domain/5/data/t"));
  t.rec("dom0 READ data/u after commit",
        dom0_read(dom0, "/local/domain/5/data/u"));

  std::uint32_t tx3 = g.start_transaction();
  g.write("data/t", "aborted", tx3);
  t.rec("guest abort tx3",
        guest_request(g, wire::MsgType::XS_TRANSACTION_END, {"F"}, tx3));
  t.rec("guest READ data/t after abort", g.read("data/t"));
  t.rec("guest end of an ended tx",
        guest_request(g, wire::MsgType::XS_TRANSACTION_END, {"T"}, tx3));
}

inline std::string child_name(std::size_t i) {
  std::string n = std::to_string(i);
  return "child-" + std::string(n.size() < 3 ? 3 - n.size() : 0, '0') + n;
}

inline void big_directory(SimHost &h, Transcript &t) {
  h.introduce(5);
  SimGuest g(h, 5);
  RawClient dom0(h.socket());
  constexpr int kChildren = 600;
  for (int i = 0; i < kChildren; ++i)
    dom0.send(ty(wire::MsgType::XS_WRITE),
              "/local/domain/5/big/" + child_name(i) + '\0' + "v");
  int ok = 0;
  for (int i = 0; i < kChildren; ++i)
    if (auto m = dom0.recv_reply(); m && is_type(*m, wire::MsgType::XS_WRITE))
      ++ok;
  t.rec("dom0 writes", std::to_string(ok));
  t.rec("guest DIRECTORY big",
        g.outcome(wire::MsgType::XS_DIRECTORY, with_nul("big")));
  t.rec("guest WRITE data/after", g.write("data/after", "still here"));
  t.rec("guest READ data/after", g.read("data/after"));

  std::string all;
  std::string gens;
  int parts = 0;
  for (; parts < 10; ++parts) {
    auto m = g.request(wire::MsgType::XS_DIRECTORY_PART,
                       nul_join({"big", std::to_string(all.size())}));
    if (!m || m->hdr.type != ty(wire::MsgType::XS_DIRECTORY_PART)) {
      t.rec("guest DIRECTORY_PART", m ? outcome_of(*m) : "timeout");
      break;
    }
    std::size_t nul = m->payload.find('\0');
    gens += m->payload.substr(0, nul) + ";";
    std::string slice = m->payload.substr(nul + 1);
    bool last = slice.empty() || slice.ends_with(std::string(2, '\0')) ||
                slice == std::string(1, '\0');
    all += last && !slice.empty() ? slice.substr(0, slice.size() - 1) : slice;
    if (last) {
      ++parts;
      break;
    }
  }
  std::vector<std::string> names = nul_split(all);
  bool in_order = names.size() == kChildren;
  for (std::size_t i = 0; in_order && i < names.size(); ++i)
    in_order = names[i] == child_name(i);
  t.rec("DIRECTORY_PART children", std::to_string(names.size()));
  t.rec("DIRECTORY_PART in creation order", in_order ? "yes" : "no");
  t.rec("DIRECTORY_PART replies", std::to_string(parts));
  // All slices carry the same generation: the directory did not change.
  bool same_gen = true;
  std::string first = gens.substr(0, gens.find(';') + 1);
  for (std::size_t p = 0; p < gens.size(); p += first.size())
    same_gen = same_gen && gens.compare(p, first.size(), first) == 0;
  t.rec("DIRECTORY_PART one generation", same_gen ? "yes" : "no");
}

inline void hostile_guests(SimHost &h, Transcript &t) {
  for (std::uint32_t d : {5u, 6u, 7u})
    h.introduce(d);
  SimGuest good(h, 5), bad_index(h, 6), oversize(h, 7);
  RawClient dom0(h.socket());
  t.rec("good WRITE data/x", good.write("data/x", "1"));
  t.rec("bad-index WRITE data/x", bad_index.write("data/x", "1"));
  t.rec("oversize WRITE data/x", oversize.write("data/x", "1"));

  // req_prod 2000 bytes ahead of req_cons: more than the ring holds.
  bad_index.ring().set_req_prod(bad_index.ring().req_cons() + 2000);
  bad_index.ring().kick();
  t.rec("bad-index error field", ring_error(bad_index));

  // A header announcing a 5000-byte payload (> 4096).
  wire::Header hdr{ty(wire::MsgType::XS_WRITE), 77, 0, 5000};
  oversize.ring().send_bytes(
      std::string_view(reinterpret_cast<const char *>(&hdr), sizeof hdr));
  t.rec("oversize error field", ring_error(oversize));

  t.rec("good READ data/x after", good.read("data/x"));
  t.rec("good WRITE data/y after", good.write("data/y", "2"));
  t.rec("bad-index READ after (ring in error)", bad_index.read("data/x"));
  t.rec("dom0 READ /local/domain/5/data/y",
        dom0_read(dom0, "/local/domain/5/data/y"));
  t.rec("dom0 IS_DOMAIN_INTRODUCED 6",
        dom0_request(dom0, wire::MsgType::XS_IS_DOMAIN_INTRODUCED, {"6"}));
  t.rec("dom0 IS_DOMAIN_INTRODUCED 7",
        dom0_request(dom0, wire::MsgType::XS_IS_DOMAIN_INTRODUCED, {"7"}));
  t.rec("daemon alive", h.alive() ? "yes" : "no");
}

inline void ring_reconnection(SimHost &h, Transcript &t) {
  h.introduce(5);
  SimGuest g(h, 5);
  RawClient dom0(h.socket());
  t.rec("server_features reconnection bit",
        (g.ring().server_features() & wire::kFeatureReconnection) ? "set"
                                                                  : "clear");
  t.rec("server_features error bit",
        (g.ring().server_features() & wire::kFeatureError) ? "set" : "clear");
  t.rec("guest WATCH data r",
        guest_request(g, wire::MsgType::XS_WATCH, {"data", "r"}));
  g.next_event();
  std::uint32_t tx = g.start_transaction();
  t.rec("guest TRANSACTION_START", tx ? "id" : "failed");
  g.write("data/x", "1"); // also leaves events to drain

  g.ring().request_reconnect();
  bool back = eventually([&] { return g.ring().connection() == 0; }, 3s);
  t.rec("connection back to 0", back ? "yes" : "no");
  t.rec("indexes after reset", std::to_string(g.ring().req_cons()) + "," +
                                   std::to_string(g.ring().req_prod()) + "," +
                                   std::to_string(g.ring().rsp_cons()) + "," +
                                   std::to_string(g.ring().rsp_prod()));
  g.forget();
  dom0.write("/local/domain/5/data/after", "x");
  t.rec("guest READ data/after", g.read("data/after"));
  t.rec("guest events after reset", joined(g.events_before_barrier()));
  t.rec("guest end old tx",
        guest_request(g, wire::MsgType::XS_TRANSACTION_END, {"T"}, tx));
  t.rec("dom0 IS_DOMAIN_INTRODUCED 5",
        dom0_request(dom0, wire::MsgType::XS_IS_DOMAIN_INTRODUCED, {"5"}));
}

// Domain death seen through VIRQ_DOM_EXC: `dying` marks it -5, else it
// disappears from the list.
inline void domain_death(SimHost &h, Transcript &t, bool dying) {
  RawClient dom0(h.socket());
  t.rec("dom0 WATCH @releaseDomain rel",
        outcome_of(dom0.watch("@releaseDomain", "rel")));
  t.rec("initial event", dom0_events(dom0));
  h.introduce(5);
  h.introduce(6);
  SimGuest g(h, 5);
  g.write("data/x", "1");
  dom0.write("/local/domain/6/peer5", "kept"); // owned by 6, stays
  if (dying)
    h.kill(5);
  else
    h.destroy(5);
  t.rec("dom0 events", dom0_events(dom0));
  t.rec("IS_DOMAIN_INTRODUCED 5",
        dom0_request(dom0, wire::MsgType::XS_IS_DOMAIN_INTRODUCED, {"5"}));
  t.rec("READ /local/domain/5/data/x",
        dom0_read(dom0, "/local/domain/5/data/x"));
  t.rec("READ /local/domain/5", dom0_read(dom0, "/local/domain/5"));
  t.rec("READ /local/domain/6/peer5", dom0_read(dom0, "/local/domain/6/peer5"));
  t.rec("IS_DOMAIN_INTRODUCED 6",
        dom0_request(dom0, wire::MsgType::XS_IS_DOMAIN_INTRODUCED, {"6"}));
}

inline void domain_dying(SimHost &h, Transcript &t) {
  domain_death(h, t, true);
}
inline void domain_gone(SimHost &h, Transcript &t) {
  domain_death(h, t, false);
}

inline void release_over_socket(SimHost &h, Transcript &t) {
  RawClient dom0(h.socket());
  dom0.watch("@releaseDomain", "rel");
  dom0_events(dom0);
  h.introduce(5);
  SimGuest g(h, 5);
  g.write("data/x", "1");
  t.rec("RELEASE 5", dom0_request(dom0, wire::MsgType::XS_RELEASE, {"5"}));
  t.rec("dom0 events", dom0_events(dom0));
  t.rec("IS_DOMAIN_INTRODUCED 5",
        dom0_request(dom0, wire::MsgType::XS_IS_DOMAIN_INTRODUCED, {"5"}));
  t.rec("READ /local/domain/5/data/x",
        dom0_read(dom0, "/local/domain/5/data/x"));
  t.rec("RELEASE 5 again",
        dom0_request(dom0, wire::MsgType::XS_RELEASE, {"5"}));
  t.rec("RELEASE 9 (never introduced)",
        dom0_request(dom0, wire::MsgType::XS_RELEASE, {"9"}));
  t.rec("RELEASE 0", dom0_request(dom0, wire::MsgType::XS_RELEASE, {"0"}));
  t.rec("RELEASE abc", dom0_request(dom0, wire::MsgType::XS_RELEASE, {"abc"}));
  t.rec("RESUME 0", dom0_request(dom0, wire::MsgType::XS_RESUME, {"0"}));
  t.rec("RESUME 5 (released)",
        dom0_request(dom0, wire::MsgType::XS_RESUME, {"5"}));
  t.rec("INTRODUCE 5 after release", outcome_of(h.introduce(5)));
  SimGuest again(h, 5);
  t.rec("guest READ data/x after re-introduce", again.read("data/x"));
  t.rec("guest WRITE data/y after re-introduce", again.write("data/y", "2"));
}

inline void is_domain_introduced(SimHost &h, Transcript &t) {
  RawClient dom0(h.socket());
  auto is = [&](const std::string &d) {
    return dom0_request(dom0, wire::MsgType::XS_IS_DOMAIN_INTRODUCED, {d});
  };
  t.rec("IS_DOMAIN_INTRODUCED 0", is("0"));
  t.rec("IS_DOMAIN_INTRODUCED 5 before", is("5"));
  h.introduce(5);
  t.rec("IS_DOMAIN_INTRODUCED 5 after", is("5"));
  t.rec("IS_DOMAIN_INTRODUCED 6", is("6"));
  SimGuest g(h, 5);
  t.rec("guest IS_DOMAIN_INTRODUCED 5",
        guest_request(g, wire::MsgType::XS_IS_DOMAIN_INTRODUCED, {"5"}));
}

inline void reintroduce(SimHost &h, Transcript &t) {
  RawClient dom0(h.socket());
  dom0.watch("@introduceDomain", "intro");
  t.rec("initial event", dom0_events(dom0));
  t.rec("INTRODUCE 5", outcome_of(h.introduce(5)));
  t.rec("events after first", dom0_events(dom0));
  SimGuest g(h, 5);
  g.write("data/x", "1");
  // Same domain again, without zeroing its ring: a new event channel only.
  t.rec("INTRODUCE 5 again",
        dom0_request(dom0, wire::MsgType::XS_INTRODUCE, {"5", "4101", "1"}));
  t.rec("events after second", dom0_events(dom0));
  t.rec("guest READ data/x", g.read("data/x"));
  t.rec("INTRODUCE 5 again, other gfn",
        dom0_request(dom0, wire::MsgType::XS_INTRODUCE, {"5", "9999", "1"}));
  t.rec("guest READ data/x #2", g.read("data/x"));
}

inline void introduce_invalid(SimHost &h, Transcript &t) {
  RawClient dom0(h.socket());
  h.set_alive(5);
  h.zero_ring(5);
  auto intro = [&](const std::vector<std::string> &args) {
    return dom0_request(dom0, wire::MsgType::XS_INTRODUCE, args);
  };
  t.rec("INTRODUCE 5 port 0", intro({"5", "4101", "0"}));
  t.rec("INTRODUCE domid abc", intro({"abc", "4101", "1"}));
  t.rec("INTRODUCE domid 32752 (DOMID_FIRST_RESERVED)",
        intro({"32752", "4101", "1"}));
  t.rec("INTRODUCE domid 70000", intro({"70000", "4101", "1"}));
  t.rec("INTRODUCE two arguments", intro({"5", "4101"}));
  t.rec("IS_DOMAIN_INTRODUCED 5",
        dom0_request(dom0, wire::MsgType::XS_IS_DOMAIN_INTRODUCED, {"5"}));
}

inline void unprivileged_domain_ops(SimHost &h, Transcript &t) {
  h.introduce(5);
  h.introduce(6);
  h.set_alive(7);
  h.zero_ring(7);
  SimGuest g(h, 5);
  t.rec("guest INTRODUCE 7",
        guest_request(g, wire::MsgType::XS_INTRODUCE, {"7", "4103", "1"}));
  t.rec("guest RELEASE 6", guest_request(g, wire::MsgType::XS_RELEASE, {"6"}));
  t.rec("guest SET_TARGET 5 6",
        guest_request(g, wire::MsgType::XS_SET_TARGET, {"5", "6"}));
  t.rec("guest RESUME 6", guest_request(g, wire::MsgType::XS_RESUME, {"6"}));
  RawClient dom0(h.socket());
  t.rec("IS_DOMAIN_INTRODUCED 7",
        dom0_request(dom0, wire::MsgType::XS_IS_DOMAIN_INTRODUCED, {"7"}));
  t.rec("IS_DOMAIN_INTRODUCED 6",
        dom0_request(dom0, wire::MsgType::XS_IS_DOMAIN_INTRODUCED, {"6"}));
}

inline void quota_and_feature(SimHost &h, Transcript &t) {
  RawClient dom0(h.socket());
  auto req = [&](wire::MsgType type, const std::vector<std::string> &args) {
    return dom0_request(dom0, type, args);
  };
  t.rec("GET_QUOTA nodes", req(wire::MsgType::XS_GET_QUOTA, {"nodes"}));
  t.rec("GET_QUOTA 5 nodes before",
        req(wire::MsgType::XS_GET_QUOTA, {"5", "nodes"}));
  t.rec("SET_QUOTA 5 nodes 10 before",
        req(wire::MsgType::XS_SET_QUOTA, {"5", "nodes", "10"}));
  t.rec("SET_FEATURE 5 1 before",
        req(wire::MsgType::XS_SET_FEATURE, {"5", "1"}));
  t.rec("GET_FEATURE 5 before", req(wire::MsgType::XS_GET_FEATURE, {"5"}));
  t.rec("INTRODUCE 5", outcome_of(h.introduce(5)));
  SimGuest g(h, 5);
  t.rec("ring server_features", std::to_string(g.ring().server_features()));
  t.rec("GET_FEATURE 5 after", req(wire::MsgType::XS_GET_FEATURE, {"5"}));
  t.rec("SET_FEATURE 5 1 after",
        req(wire::MsgType::XS_SET_FEATURE, {"5", "1"}));
  t.rec("GET_QUOTA 5 nodes after",
        req(wire::MsgType::XS_GET_QUOTA, {"5", "nodes"}));
  t.rec("SET_QUOTA 5 nodes 4 after",
        req(wire::MsgType::XS_SET_QUOTA, {"5", "nodes", "4"}));
  t.rec("GET_QUOTA 5 nodes after set",
        req(wire::MsgType::XS_GET_QUOTA, {"5", "nodes"}));
  t.rec("guest SET_QUOTA 5 nodes 99",
        guest_request(g, wire::MsgType::XS_SET_QUOTA, {"5", "nodes", "99"}));
  t.rec("guest GET_QUOTA 5 nodes",
        guest_request(g, wire::MsgType::XS_GET_QUOTA, {"5", "nodes"}));
  std::string created;
  for (int i = 0; i < 10; ++i) {
    std::string r = g.write("q/n" + std::to_string(i), "v");
    if (r != "XS_WRITE") {
      created = std::to_string(i) + " then " + r;
      break;
    }
  }
  t.rec("guest writes under nodes=4", created.empty() ? "all 10" : created);
}

// Started with -E 20 (the nodes quota, in both daemons).
inline void nodes_quota(SimHost &h, Transcript &t) {
  h.introduce(5);
  SimGuest g(h, 5);
  std::string created = "all 100";
  for (int i = 0; i < 100; ++i) {
    std::string r = g.write("data/n" + std::to_string(i), "v");
    if (r != "XS_WRITE") {
      created = std::to_string(i) + " then " + r;
      break;
    }
  }
  t.rec("guest writes under -E 20", created);
  t.rec("guest overwrite existing node", g.write("data/n0", "again"));
  t.rec("guest RM data/n0",
        guest_request(g, wire::MsgType::XS_RM, {"data/n0"}));
  t.rec("guest WRITE after RM", g.write("data/fresh", "v"));
  RawClient dom0(h.socket());
  t.rec("dom0 WRITE in the full guest home",
        outcome_of(dom0.write("/local/domain/5/by-dom0", "v")));
}

inline void set_target(SimHost &h, Transcript &t) {
  h.introduce(5);
  h.introduce(6);
  SimGuest g5(h, 5);
  RawClient dom0(h.socket());
  dom0.write("/local/domain/6/secret", "s");
  t.rec("dom5 READ dom6 node before", g5.read("/local/domain/6/secret"));
  t.rec("dom5 WRITE dom6 node before", g5.write("/local/domain/6/secret", "t"));
  t.rec("SET_TARGET 5 6",
        dom0_request(dom0, wire::MsgType::XS_SET_TARGET, {"5", "6"}));
  t.rec("dom5 READ dom6 node after", g5.read("/local/domain/6/secret"));
  t.rec("dom5 WRITE dom6 node after", g5.write("/local/domain/6/secret", "t"));
  t.rec("dom5 READ dom0 node after", g5.read("/tool/xenstored"));
  t.rec("SET_TARGET 5 9 (unknown target)",
        dom0_request(dom0, wire::MsgType::XS_SET_TARGET, {"5", "9"}));
  t.rec("SET_TARGET 9 5 (unknown domain)",
        dom0_request(dom0, wire::MsgType::XS_SET_TARGET, {"9", "5"}));
}

// DOMID_ANY (0x7FF5 = 32757) in permission lists, Xen 4.22: an entry for
// every domain, stored only for callers whose domain has feature bit 8.
inline void domid_any(SimHost &h, Transcript &t) {
  RawClient dom0(h.socket());
  auto req = [&](wire::MsgType type, const std::vector<std::string> &args) {
    return dom0_request(dom0, type, args);
  };
  t.rec("GET_FEATURE", req(wire::MsgType::XS_GET_FEATURE, {}));
  t.rec("SET_FEATURE 6 7 (no DOMID_ANY)",
        req(wire::MsgType::XS_SET_FEATURE, {"6", "7"}));
  t.rec("INTRODUCE 5", outcome_of(h.introduce(5)));
  t.rec("INTRODUCE 6", outcome_of(h.introduce(6)));
  SimGuest g5(h, 5);
  SimGuest g6(h, 6);
  dom0.write("/pub", "v");
  t.rec("dom0 SET_PERMS /pub n0 r32757",
        req(wire::MsgType::XS_SET_PERMS, {"/pub", "n0", "r32757"}));
  t.rec("dom0 GET_PERMS /pub", req(wire::MsgType::XS_GET_PERMS, {"/pub"}));
  t.rec("dom5 READ /pub", g5.read("/pub"));
  t.rec("dom5 WRITE /pub", g5.write("/pub", "x"));
  g5.write("x", "five");
  t.rec("dom5 SET_PERMS x n5 r32757",
        guest_request(g5, wire::MsgType::XS_SET_PERMS, {"x", "n5", "r32757"}));
  t.rec("dom6 READ dom5's x", g6.read("/local/domain/5/x"));
  g6.write("x", "six");
  t.rec("dom6 SET_PERMS x n6 r32757",
        guest_request(g6, wire::MsgType::XS_SET_PERMS, {"x", "n6", "r32757"}));
  t.rec("dom6 GET_PERMS x",
        guest_request(g6, wire::MsgType::XS_GET_PERMS, {"x"}));
  t.rec("dom5 READ dom6's x", g5.read("/local/domain/6/x"));
  t.rec("dom0 SET_PERMS /pub b32757 (DOMID_ANY owner)",
        req(wire::MsgType::XS_SET_PERMS, {"/pub", "b32757"}));
  t.rec("dom6 WRITE /pub", g6.write("/pub", "any"));
}

inline std::vector<Scenario> ring_scenarios() {
  return {
      {"relative_paths", {}, relative_paths},
      {"dom0_only_nodes", {}, dom0_only_nodes},
      {"watches_across_domains", {}, watches_across_domains},
      {"permission_filtered_events", {}, permission_filtered_events},
      {"ring_transactions", {}, ring_transactions},
      {"big_directory", {}, big_directory},
      {"hostile_guests", {}, hostile_guests},
      {"ring_reconnection", {}, ring_reconnection},
      {"domain_dying", {}, domain_dying},
      {"domain_gone", {}, domain_gone},
      {"release_over_socket", {}, release_over_socket},
      {"is_domain_introduced", {}, is_domain_introduced},
      {"reintroduce", {}, reintroduce},
      {"introduce_invalid", {}, introduce_invalid},
      {"unprivileged_domain_ops", {}, unprivileged_domain_ops},
      {"quota_and_feature", {}, quota_and_feature},
      {"nodes_quota", {"-E", "20"}, nodes_quota},
      {"set_target", {}, set_target},
      {"domid_any", {}, domid_any},
  };
}

inline Transcript run_scenario(const Scenario &s, Peer peer) {
  SimHost h(peer, s.daemon_args);
  Transcript t;
  s.run(h, t);
  return t;
}

} // namespace cxs::test

// Replays seeded, generated migration streams through the state stream
// fuzzer's body: valid streams of every record type from StreamWriter
// (random trees, connections, watches, binary values, perms, quotas,
// transactions), then damaged copies of them (bit flips, cuts, lying length
// words, records dropped, repeated or swapped). Valid ones must parse and
// survive the re-write; damaged ones must parse or be refused cleanly.
// Deterministic: the same inputs on every run.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "migrate/reader.h"
#include "migrate/writer.h"
#include "seed_corpus.h"
#include "state_stream_fuzz.h"

namespace cxs::fuzz {
namespace {

using namespace migrate;

class StreamGenerator {
 public:
  explicit StreamGenerator(std::uint32_t seed) : rng_(seed) {}

  // A valid stream (all strings it points at are kept in `store_`).
  std::string valid() {
    store_.clear();
    std::uint32_t version = pick(0, 2) == 0 ? kVersion2 : kVersion1;
    StreamWriter w(version);
    (void)w.global({.socket_fd = pick(-1, 20), .evtchn_fd = pick(-1, 20)});
    if (pick(0, 2) == 0)
      (void)w.global_quota({.per_domain = quotas(), .global = quotas()});
    int conns = pick(0, 6);
    for (int c = 1; c <= conns; ++c) {
      bool ring = pick(0, 2) != 0;
      ConnRec rec{.conn_id = static_cast<std::uint32_t>(c),
                  .kind = ring ? ConnKind::kRing : ConnKind::kSocket,
                  .domid = static_cast<std::uint16_t>(pick(0, 40)),
                  .target = pick(0, 4) == 0 ? std::uint16_t{3} : migrate::kDomidInvalid,
                  .evtchn = static_cast<std::uint32_t>(pick(0, 100)),
                  .socket_fd = pick(0, 50),
                  .in = bytes(pick(0, 40)),
                  .out = bytes(pick(0, 60))};
      rec.out_resp_len = static_cast<std::uint16_t>(pick(0, static_cast<int>(rec.out.size())));
      if (!ring) rec.domid = 0, rec.target = migrate::kDomidInvalid, rec.evtchn = 0;
      else rec.socket_fd = -1;
      (void)w.connection(rec);
      for (int n = pick(0, 3); n > 0; --n) {
        WatchRec x{.conn_id = rec.conn_id, .path = path_text(),
                   .token = keep(std::string(static_cast<std::size_t>(pick(0, 6)), 't'))};
        if (pick(0, 1)) x.depth = static_cast<std::uint16_t>(pick(0, 3));
        (void)w.watch(x);
      }
    }
    bool cxs = conns > 0 && pick(0, 1) == 0;
    if (cxs) {
      (void)w.cxs_daemon({.next_tx_id = static_cast<std::uint32_t>(pick(1, 9)),
                          .tree_generation = static_cast<std::uint64_t>(pick(0, 1000)),
                          .producer = "cxenstored replay"});
      (void)w.cxs_connection({.conn_id = 1, .flags = static_cast<std::uint32_t>(pick(0, 3))});
      (void)w.cxs_watch_depth({.conn_id = 1, .depth = 2, .path = "/w", .token = "k"});
      for (int t = pick(0, 2); t > 0; --t) (void)w.cxs_transaction(transaction(t));
    }
    std::vector<std::uint64_t> gens;
    auto add_node = [&](std::string_view path) {
      (void)w.node({.path = path, .value = bytes(pick(0, 12))}, perms());
      gens.push_back(static_cast<std::uint64_t>(pick(0, 1 << 20)));
    };
    if (pick(0, 3) != 0) {
      add_node("@releaseDomain");
      add_node("@introduceDomain");
    }
    add_node("/");
    tree("", pick(0, 3), add_node);
    if (cxs) (void)w.cxs_generations(gens);
    for (int d = pick(0, 3); d > 0; --d)
      (void)w.domain({.domid = static_cast<std::uint16_t>(d),
                      .features = static_cast<std::uint32_t>(pick(0, 15)),
                      .quotas = quotas()});
    if (cxs)
      (void)w.cxs_domain({.domid = 1, .flags = kCxsDomainIntroduced,
                          .local_port = 4, .conn_id = 1, .gfn = 77});
    EXPECT_TRUE(w.ok()) << w.error();
    return w.finish();
  }

  // A damaged copy of `s`.
  std::string mutate(std::string s) {
    std::vector<std::size_t> recs = record_offsets(s);
    switch (pick(0, 5)) {
      case 0:  // a few bit flips
        for (int i = pick(1, 4); i > 0; --i) {
          std::size_t at = static_cast<std::size_t>(pick(0, static_cast<int>(s.size()) - 1));
          s[at] = static_cast<char>(s[at] ^ (1 << pick(0, 7)));
        }
        break;
      case 1:  // cut short
        s.resize(static_cast<std::size_t>(pick(0, static_cast<int>(s.size()) - 1)));
        break;
      case 2: {  // a length or count word replaced
        static const std::uint32_t kWords[] = {0, 1, 7, 8, 16, 0xFFFF, 0x10000,
                                               0x7FFFFFFF, 0xFFFFFFF8, 0xFFFFFFFF};
        std::size_t at = recs[static_cast<std::size_t>(pick(0, static_cast<int>(recs.size()) - 1))] +
                         static_cast<std::size_t>(pick(0, 7)) * 4;
        if (at + 4 <= s.size()) {
          std::uint32_t v = kWords[pick(0, 9)];
          std::memcpy(&s[at], &v, 4);
        }
        break;
      }
      case 3:  // a record dropped
      case 4: {  // a record repeated
        std::size_t i = static_cast<std::size_t>(pick(0, static_cast<int>(recs.size()) - 2));
        std::string rec = s.substr(recs[i], recs[i + 1] - recs[i]);
        if (pick(0, 1)) s.erase(recs[i], rec.size());
        else s.insert(recs[i], rec);
        break;
      }
      default: {  // two neighbours swapped
        if (recs.size() < 3) break;
        std::size_t i = static_cast<std::size_t>(pick(0, static_cast<int>(recs.size()) - 3));
        std::string a = s.substr(recs[i], recs[i + 1] - recs[i]);
        std::string b = s.substr(recs[i + 1], recs[i + 2] - recs[i + 1]);
        s.replace(recs[i], a.size() + b.size(), b + a);
        break;
      }
    }
    return s;
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  std::string_view keep(std::string s) {
    store_.push_back(std::make_unique<std::string>(std::move(s)));
    return *store_.back();
  }
  std::string_view bytes(int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += static_cast<char>(pick(0, 255));
    return keep(std::move(s));
  }
  std::string_view path_text() {
    static const char* kPaths[] = {"/", "/a", "/local/domain/1", "rel",
                                   "@releaseDomain", "a/b"};
    return kPaths[pick(0, 5)];
  }
  PermList perms() {
    PermList p;
    for (int n = pick(1, 3); n > 0; --n)
      p.push_back({DomId{static_cast<std::uint32_t>(pick(0, 5))},
                   static_cast<std::uint8_t>(pick(0, 3) | (pick(0, 4) == 0 ? kPermIgnored : 0))});
    return p;
  }
  std::string_view perms_raw() {
    std::string raw;
    (void)encode_perms(perms(), raw);
    return keep(std::move(raw));
  }
  std::vector<QuotaEntry> quotas() {
    static const char* kNames[] = {"nodes", "watches", "memory", "soft-memory",
                                   "transactions", "x-private"};
    std::vector<QuotaEntry> q;
    for (int n = pick(0, 4); n > 0; --n)
      q.push_back({kNames[pick(0, 5)], static_cast<std::uint32_t>(pick(0, 100000))});
    return q;
  }
  CxsTransactionRec transaction(int tx_id) {
    CxsTransactionRec t{.conn_id = 1, .tx_id = static_cast<std::uint32_t>(tx_id),
                        .max_entries = static_cast<std::uint32_t>(pick(0, 2048))};
    for (int n = pick(0, 3); n > 0; --n)
      t.nodes.push_back({.path = keep("/t/" + std::to_string(n)),
                         .flags = static_cast<std::uint8_t>(pick(0, 7)),
                         .written = static_cast<std::uint8_t>(pick(0, 7)),
                         .base_generation = static_cast<std::uint64_t>(pick(0, 99)),
                         .copy_generation = static_cast<std::uint64_t>(pick(0, 99)),
                         .value = bytes(pick(0, 9)),
                         .perms_raw = pick(0, 1) ? perms_raw() : std::string_view(),
                         .children = pick(0, 1) ? std::string_view("x\0yy\0", 5)
                                                : std::string_view()});
    for (int n = pick(0, 2); n > 0; --n)
      t.events.push_back({.path = "/t", .flags = static_cast<std::uint8_t>(pick(0, 3)),
                          .perms_raw = perms_raw(), .old_perms_raw = perms_raw()});
    return t;
  }
  // Children of `parent` in pre-order, up to `depth` levels.
  template <typename Add>
  void tree(const std::string& parent, int depth, Add& add) {
    if (depth == 0) return;
    for (int n = pick(0, 4); n > 0; --n) {
      std::string_view p = keep(parent + "/n" + std::to_string(n));
      add(p);
      tree(std::string(p), depth - 1, add);
    }
  }

  static std::vector<std::size_t> record_offsets(const std::string& s) {
    std::vector<std::size_t> out;
    std::size_t at = kPreambleSize;
    while (at + 8 <= s.size()) {
      out.push_back(at);
      std::uint32_t len;
      std::memcpy(&len, &s[at + 4], 4);
      at += 8 + len;
    }
    out.push_back(s.size());
    return out;
  }

  std::mt19937 rng_;
  std::vector<std::unique_ptr<std::string>> store_;
};

StreamRunStats run(const std::string& s) {
  return run_state_stream(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}

TEST(StateStreamFuzzReplay, GeneratedStreamsParseAndSurviveTheRewrite) {
  StreamGenerator gen(20261123);
  std::size_t records = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string s = gen.valid();
    StreamRunStats st = run(s);
    ASSERT_TRUE(st.parsed) << "generated stream " << i;
    records += st.records;
  }
  std::cout << "[ fuzz ] " << records << " records round-tripped" << std::endl;
}

TEST(StateStreamFuzzReplay, DamagedStreamsAreParsedOrRefusedCleanly) {
  StreamGenerator gen(20261124);
  std::size_t parsed = 0, total = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string s = gen.mutate(gen.valid());
    save_seed(i, s, "stream");
    // An exact-size heap copy: a read past the end is one past the block.
    std::vector<std::uint8_t> copy(s.begin(), s.end());
    parsed += run_state_stream(copy.data(), copy.size()).parsed;
    ++total;
  }
  // Some damage lands in padding or values; most is caught.
  EXPECT_GT(parsed, 0u);
  EXPECT_LT(parsed, total);
  std::cout << "[ fuzz ] " << parsed << " of " << total
            << " damaged streams still parsed" << std::endl;
}

TEST(StateStreamFuzzReplay, EmptyAndTinyInputsAreHarmless) {
  std::uint8_t bytes[16] = {'x', 'e', 'n', 's', 't', 'o', 'r', 'e', 0, 0, 0, 1};
  for (std::size_t n = 0; n <= 16; ++n)
    EXPECT_FALSE(run_state_stream(bytes, n).parsed);
}

}  // namespace
}  // namespace cxs::fuzz

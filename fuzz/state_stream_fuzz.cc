#include "state_stream_fuzz.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "migrate/reader.h"
#include "migrate/writer.h"

namespace cxs::fuzz {
namespace {

using migrate::Stream;

[[noreturn]] void broken(const std::string& what) {
  std::fprintf(stderr, "state stream fuzzer: %s\n", what.c_str());
  std::abort();
}

void check(bool ok, const char* what) {
  if (!ok) broken(std::string("round trip changed ") + what);
}

std::size_t record_count(const Stream& s) {
  return 1 + s.conns.size() + s.watches.size() + s.nodes.size() +
         (s.global_quota ? 1 : 0) + s.domains.size() + (s.cxs_daemon ? 1 : 0) +
         s.cxs_conns.size() + s.cxs_watch_depths.size() +
         s.cxs_transactions.size() + (s.cxs_generations ? 1 : 0) +
         s.cxs_domains.size();
}

// Everything read_stream kept must come back; what it skipped (unknown
// records, transaction nodes) and the unique id (never written) need not.
void compare(const Stream& a, const Stream& b) {
  check(a.version == b.version, "the version");
  check(a.global == b.global, "GLOBAL");
  check(a.conns.size() == b.conns.size(), "the CONNECTION count");
  for (std::size_t i = 0; i < a.conns.size(); ++i) {
    migrate::ConnRec x = a.conns[i];
    x.unique_id.reset();
    check(x == b.conns[i], "a CONNECTION");
  }
  check(a.watches == b.watches, "the watches");
  check(a.nodes == b.nodes, "the nodes");
  check(a.global_quota == b.global_quota, "GLOBAL_QUOTA");
  check(a.domains == b.domains, "the DOMAINs");
  check(a.cxs_daemon == b.cxs_daemon, "CXS_DAEMON");
  check(a.cxs_conns == b.cxs_conns, "the CXS_CONNECTIONs");
  check(a.cxs_watch_depths == b.cxs_watch_depths, "the CXS_WATCH_DEPTHs");
  check(a.cxs_transactions == b.cxs_transactions, "the CXS_TRANSACTIONs");
  check(a.cxs_generations == b.cxs_generations, "CXS_GENERATIONS");
  check(a.cxs_domains == b.cxs_domains, "the CXS_DOMAINs");
  check(b.unknown.empty() && b.transaction_nodes_skipped == 0 &&
            b.transactions_skipped == 0,
        "skipped records into written ones");
}

}  // namespace

std::string rewrite_stream(const Stream& s) {
  migrate::StreamWriter w(s.version);
  (void)w.global(s.global);
  if (s.global_quota) (void)w.global_quota(*s.global_quota);
  for (const auto& c : s.conns) (void)w.connection(c);
  for (const auto& x : s.watches) (void)w.watch(x);
  if (s.cxs_daemon) (void)w.cxs_daemon(*s.cxs_daemon);
  for (const auto& c : s.cxs_conns) (void)w.cxs_connection(c);
  for (const auto& d : s.cxs_watch_depths) (void)w.cxs_watch_depth(d);
  for (const auto& t : s.cxs_transactions) (void)w.cxs_transaction(t);
  for (const auto& n : s.nodes) (void)w.node(n);
  if (s.cxs_generations) {
    std::vector<std::uint64_t> gens(s.cxs_generations->count());
    for (std::size_t i = 0; i < gens.size(); ++i)
      gens[i] = s.cxs_generations->at(i);
    (void)w.cxs_generations(gens);
  }
  for (const auto& d : s.domains) (void)w.domain(d);
  for (const auto& d : s.cxs_domains) (void)w.cxs_domain(d);
  if (!w.ok()) broken("a parsed stream could not be written: " + w.error());
  return w.finish();
}

// The nodes as a NodeSink receives them (how a live update's restore reads
// a stream): the same as read_stream keeps, and the same verdict.
class CollectingSink final : public migrate::NodeSink {
 public:
  std::vector<migrate::NodeRec> nodes;
  void expect(std::size_t n) override { nodes.reserve(n); }
  bool take(const migrate::NodeRec& n, std::string_view next_path,
            std::string&) override {
    // The hint is read whole: under the sanitizers, a hint outside the
    // input would be caught here.
    for (char c : next_path) hint_bytes += static_cast<unsigned char>(c);
    nodes.push_back(n);
    return true;
  }
  std::size_t hint_bytes = 0;
};

void check_sink_agrees(std::string_view bytes, bool accepted,
                       const Stream& whole) {
  CollectingSink sink;
  Stream s;
  migrate::StreamError err;
  bool ok = migrate::read_stream(bytes, s, err,
                                 migrate::ReadOptions{true, &sink});
  check(ok == accepted, "the verdict when nodes go to a sink");
  if (!ok) return;
  check(s.nodes.empty(), "Stream::nodes when a sink takes them");
  check(sink.nodes == whole.nodes, "the nodes a sink takes");
  check(s.committed_nodes == whole.nodes.size(), "the committed node count");
}

StreamRunStats run_state_stream(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Stream first;
  migrate::StreamError err;
  if (!migrate::read_stream(bytes, first, err)) {
    if (err.message.empty() || err.offset > size)
      broken("a refusal without a message or past the input: " +
             err.to_string());
    check_sink_agrees(bytes, false, first);
    return {};
  }
  check_sink_agrees(bytes, true, first);
  std::string again = rewrite_stream(first);
  Stream second;
  if (!migrate::read_stream(again, second, err))
    broken("the re-written stream was refused: " + err.to_string());
  compare(first, second);
  return {true, record_count(first)};
}

}  // namespace cxs::fuzz

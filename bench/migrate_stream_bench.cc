// Live-update state stream cost for a large store: writing and reading
// 1 000 .. 100 000 NODE records shaped like a busy host's tree
// (/local/domain/<d>/device/vif/<n>/<leaf>, short values, two perms).
// The reader's budget is well under 20 ms for 100 000 nodes (Release).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "migrate/reader.h"
#include "migrate/writer.h"

namespace {

using namespace cxs;
using namespace cxs::migrate;

// Pre-order paths: every parent before its children.
std::vector<std::string> tree_paths(long n) {
  std::vector<std::string> paths = {"/", "/local", "/local/domain"};
  for (long d = 0; static_cast<long>(paths.size()) < n; ++d) {
    std::string dom = "/local/domain/" + std::to_string(d);
    paths.push_back(dom);
    paths.push_back(dom + "/device");
    paths.push_back(dom + "/device/vif");
    for (int v = 0; v < 8 && static_cast<long>(paths.size()) < n; ++v) {
      std::string vif = dom + "/device/vif/" + std::to_string(v);
      paths.push_back(vif);
      for (const char* leaf : {"backend", "state", "mac", "handle", "mtu",
                               "tx-ring-ref", "rx-ring-ref", "event-channel"})
        paths.push_back(vif + "/" + leaf);
    }
  }
  paths.resize(static_cast<std::size_t>(n));
  return paths;
}

std::string write_tree(const std::vector<std::string>& paths) {
  PermList perms{{DomId{5}, kPermNone}, {DomId{0}, kPermRead}};
  StreamWriter w;
  w.reserve(paths.size() * 64);
  (void)w.global({.socket_fd = 3, .evtchn_fd = 4});
  for (const auto& p : paths)
    (void)w.node({.path = p, .value = "/local/domain/0/backend/vif/5/0"}, perms);
  return w.finish();
}

void BM_WriteNodes(benchmark::State& state) {
  std::vector<std::string> paths = tree_paths(state.range(0));
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string s = write_tree(paths);
    bytes = s.size();
    benchmark::DoNotOptimize(s.data());
  }
  state.counters["stream_bytes"] = static_cast<double>(bytes);
}

void BM_ReadNodes(benchmark::State& state) {
  std::string s = write_tree(tree_paths(state.range(0)));
  for (auto _ : state) {
    Stream out;
    StreamError err;
    if (!read_stream(s, out, err)) state.SkipWithError(err.to_string().c_str());
    benchmark::DoNotOptimize(out.nodes.data());
  }
  state.counters["stream_bytes"] = static_cast<double>(s.size());
}

BENCHMARK(BM_WriteNodes)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadNodes)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();

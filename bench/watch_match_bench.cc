// Event matching cost against the number of registered watches: a write to
// an unwatched path, and to a path with one watcher, with 10 .. 100 000
// watches on distinct paths. The path index should keep both flat.
#include <benchmark/benchmark.h>

#include <string>

#include "store/watches.h"

namespace {

using cxs::ConnId;
using cxs::store::Event;
using cxs::store::Watch;
using cxs::store::WatchIndex;
using cxs::store::WatchRecord;

void fill(WatchIndex& idx, long n) {
  for (long i = 0; i < n; ++i) {
    std::string path = "/local/domain/" + std::to_string(i % 1000) +
                       "/device/vif/" + std::to_string(i / 1000) + "/state";
    (void)idx.add(Watch{ConnId{static_cast<std::uint64_t>(i % 100 + 1)}, path,
                        "tok", 0, -1});
  }
}

void BM_MatchUnwatchedPath(benchmark::State& state) {
  WatchIndex idx;
  fill(idx, state.range(0));
  Event ev{"/local/domain/7/data/unwatched/leaf", false, {}, {}};
  std::size_t hits = 0;
  for (auto _ : state)
    idx.match(ev, [&](const WatchRecord&, std::string_view) { ++hits; });
  benchmark::DoNotOptimize(hits);
  state.counters["watches"] = static_cast<double>(idx.total());
}

void BM_MatchWatchedPath(benchmark::State& state) {
  WatchIndex idx;
  fill(idx, state.range(0));
  Event ev{"/local/domain/3/device/vif/0/state", false, {}, {}};
  std::size_t hits = 0;
  for (auto _ : state)
    idx.match(ev, [&](const WatchRecord&, std::string_view) { ++hits; });
  benchmark::DoNotOptimize(hits);
  state.counters["watches"] = static_cast<double>(idx.total());
}

BENCHMARK(BM_MatchUnwatchedPath)->RangeMultiplier(10)->Range(10, 100000);
BENCHMARK(BM_MatchWatchedPath)->RangeMultiplier(10)->Range(10, 100000);

}  // namespace

BENCHMARK_MAIN();

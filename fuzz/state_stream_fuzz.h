// The state stream fuzzer's body (the live-update migration stream,
// src/migrate/), shared by the libFuzzer target state_stream_fuzzer (clang,
// -DCXS_FUZZ=ON) and the replay test that ctest runs with any compiler.
//
// One input is a whole stream file. read_stream must refuse it cleanly or
// parse it; a parsed stream is written again with StreamWriter (in a fixed
// order that satisfies every ordering rule) and read again, and the second
// parse must succeed and hold the same records. A violation aborts (what
// the fuzzer reports); nothing here may crash on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cxs::migrate {
struct Stream;
}

namespace cxs::fuzz {

struct StreamRunStats {
  bool parsed = false;
  std::size_t records = 0;  // records the first parse kept (when parsed)
};

// Writes every record of `s` back, in the order conns, watches, private
// records, nodes, generations, domains. Aborts if the writer refuses one.
std::string rewrite_stream(const migrate::Stream& s);

// Plays one input; aborts with a message on a broken round trip.
StreamRunStats run_state_stream(const std::uint8_t* data, std::size_t size);

}  // namespace cxs::fuzz

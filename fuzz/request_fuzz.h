// The request fuzzer's body, shared by the libFuzzer target (clang,
// -DCXS_FUZZ=ON) and the replay test that ctest runs with any compiler.
//
// One input is a byte stream played against a fresh store: the first byte
// of each chunk picks the caller (dom0's socket, or guest dom5/dom6 with
// small quotas) and the chunk's bytes go through the real framer, so
// malformed headers, oversized lengths, unknown types, stray tx ids, bad
// paths and permission strings all reach ops::dispatch exactly as they
// would from a connection. After every request the store must still be
// whole: every listed child exists, every node is reachable, and each
// owner's usage equals a recount. A violation aborts (what the fuzzer
// reports); nothing here may crash on its own.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cxs::store {
class Store;
}

namespace cxs::fuzz {

struct RunStats {
  std::size_t dispatched = 0;  // requests that reached ops::dispatch
  std::size_t succeeded = 0;   // of which answered without an error
};

// Aborts with a message unless every child a node lists exists, every node
// is reachable from "/" (the two special nodes aside), each owner's usage
// equals a recount, and so does each transaction's count of held bytes.
void check_store(const store::Store& st);

// Plays one input; aborts with a message on a broken store.
RunStats run_input(const std::uint8_t* data, std::size_t size);

}  // namespace cxs::fuzz

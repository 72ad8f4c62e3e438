// PathSet: the reader's set of committed node paths, as views into the
// stream being read (which must outlive it). Open addressing in one flat
// array sized once from the node count (no allocation per node: a stream
// holds ~100 000 nodes), hashed with SipHash-1-3 under a per-process random
// key, because the paths are guest-chosen: under a public hash a guest
// could name nodes that all land in one probe run and make reading the
// stream quadratic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace cxs::migrate {

class PathSet {
 public:
  void reserve(std::size_t n);
  // False if `path` was already in the set.
  bool insert(std::string_view path) { return insert(path, hash(path)); }
  // The same in two steps: hash() also prefetches the slot, so a caller
  // with other work to do meanwhile hides the one cache miss an insert
  // costs (the table outgrows the caches at ~100 000 paths).
  std::uint64_t hash(std::string_view path) const noexcept;
  bool insert(std::string_view path, std::uint64_t hash);
  bool contains(std::string_view path) const noexcept;
  std::size_t size() const noexcept { return paths_.size(); }

 private:
  // 8 bytes, so that 100 000 paths take a 2 MiB table: every insert is one
  // random access, and the table's size is what it costs.
  struct Slot {
    std::uint32_t ref = 0;  // 1 + index in paths_; 0: empty
    std::uint32_t tag = 0;  // the hash's high half
  };
  std::size_t find(std::string_view path, std::uint64_t hash) const noexcept;
  void grow();

  std::vector<Slot> slots_;  // power-of-two size, at most half full
  std::vector<std::string_view> paths_;  // in insertion order
};

}  // namespace cxs::migrate

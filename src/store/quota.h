// Per-domain quotas, with the C daemon's names and defaults. 0 disables a
// quota; privileged callers are exempt from all of them (they carry no
// Quota). Counts are refused with ENOSPC, memory with ENOMEM, paths EINVAL.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace cxs::store {

struct Quota {
  std::size_t nodes = 1000;              // nodes a domain owns
  std::size_t node_size = 2048;          // bytes of one node (Tree::node_bytes)
  std::size_t node_permissions = 5;      // entries in one permission list
  std::size_t path_max = 2048;           // characters below the domain's home
  std::size_t transactions = 10;         // open at once per connection
  std::size_t transaction_nodes = 1024;  // nodes one transaction touches
  std::size_t watches = 128;             // per domain
  std::size_t outstanding = 20;          // requests answered but not yet sent
  std::size_t memory = 2621440;          // hard: bytes of nodes a domain owns
  std::size_t soft_memory = 2097152;     // soft: a warning in the log

  // The quota names of GET_QUOTA/SET_QUOTA and xenstore-control, in order.
  static constexpr std::array<std::string_view, 9> kNames = {
      "nodes",       "node-size",         "permissions",
      "path-max",    "transactions",      "transaction-nodes",
      "watches",     "outstanding",       "memory"};

  // The field behind a name (also accepts "node-permissions"); nullptr if
  // the name is unknown.
  std::size_t* field(std::string_view name) noexcept;
  const std::size_t* field(std::string_view name) const noexcept;
};

// Is `used` past a limit (0 = unlimited)?
inline bool over(std::size_t used, std::size_t limit) noexcept {
  return limit != 0 && used > limit;
}

}  // namespace cxs::store

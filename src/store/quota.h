// Per-domain quotas, with the C daemon's names and defaults. 0 disables a
// quota; privileged callers are exempt from all of them (they carry no
// Quota). Counts are refused with ENOSPC, memory with ENOMEM, paths EINVAL.
//
// kQuotas is the one definition of every quota: its names (GET_QUOTA,
// SET_QUOTA, -Q, CONTROL quota, the live-update stream), its field, its
// default, its unit and its upper limit. Everything that names, parses,
// reports or carries a quota reads it there.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

#include "cxenstored/limits.h"

namespace cxs::store {

struct Quota {
  std::size_t nodes;              // nodes a domain owns
  std::size_t node_size;          // bytes of one node (Tree::node_bytes)
  std::size_t node_permissions;   // entries in one permission list
  std::size_t path_max;           // characters below the domain's home
  std::size_t transactions;       // open at once per connection
  std::size_t transaction_nodes;  // nodes one transaction touches
  std::size_t watches;            // per domain
  std::size_t outstanding;        // requests answered but not yet sent
  std::size_t memory;             // hard: bytes of nodes a domain owns
  std::size_t soft_memory;        // soft: a warning in the log

  Quota() noexcept;  // every field at its kQuotas default

  // The field behind a name or its alias; nullptr if the name is unknown.
  std::size_t* field(std::string_view name) noexcept;
  const std::size_t* field(std::string_view name) const noexcept;
};

struct QuotaSpec {
  std::string_view name;    // GET/SET_QUOTA, -Q, CONTROL quota
  std::string_view alias;   // also accepted (C's spelling), or empty
  std::string_view stream;  // the live-update stream's name (Xen 4.22's)
  std::size_t Quota::*field;
  std::size_t default_value;
  std::string_view unit;  // for -Q's "name=<unit>" messages and the man page
  std::size_t max;        // larger values given at start-up are clamped
  bool hard;              // refuses (a GET_QUOTA name); else warns only

  bool named(std::string_view n) const noexcept {
    return n == name || (!alias.empty() && n == alias);
  }
};

inline constexpr std::size_t kNoQuotaMax = ~std::size_t{0};

inline constexpr std::array<QuotaSpec, 10> kQuotas = {{
    {"nodes", "", "nodes", &Quota::nodes, 1000, "nb", kNoQuotaMax, true},
    {"node-size", "", "node-size", &Quota::node_size, 2048, "bytes",
     kNoQuotaMax, true},
    {"permissions", "node-permissions", "node-permissions",
     &Quota::node_permissions, 5, "nb", kNoQuotaMax, true},
    // A path quota past the protocol's relative maximum could never be
    // reached (the C daemon clamps -M the same way).
    {"path-max", "", "path-max", &Quota::path_max, 2048, "chars", kRelPathMax,
     true},
    {"transactions", "", "transactions", &Quota::transactions, 10, "nb",
     kNoQuotaMax, true},
    {"transaction-nodes", "", "transaction-nodes", &Quota::transaction_nodes,
     1024, "nb", kNoQuotaMax, true},
    {"watches", "", "watches", &Quota::watches, 128, "nb", kNoQuotaMax, true},
    {"outstanding", "", "outstanding", &Quota::outstanding, 20, "nb",
     kNoQuotaMax, true},
    {"memory", "", "memory", &Quota::memory, 2621440, "bytes", kNoQuotaMax,
     true},
    {"soft-memory", "", "soft-memory", &Quota::soft_memory, 2097152, "bytes",
     kNoQuotaMax, false},
}};

// The row of a name or alias (soft-memory included); nullptr if unknown.
const QuotaSpec* find_quota(std::string_view name) noexcept;
// The row of a name as a live-update stream spells it.
const QuotaSpec* find_stream_quota(std::string_view name) noexcept;

// Calls fn(const QuotaSpec&) for each hard quota, in kQuotas order: the
// names GET_QUOTA lists and CONTROL quota reports.
template <typename Fn>
void for_each_hard_quota(Fn&& fn) {
  for (const QuotaSpec& q : kQuotas)
    if (q.hard) fn(q);
}

// Is `used` past a limit (0 = unlimited)?
inline bool over(std::size_t used, std::size_t limit) noexcept {
  return limit != 0 && used > limit;
}

}  // namespace cxs::store

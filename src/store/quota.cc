#include "store/quota.h"

namespace cxs::store {

std::size_t* Quota::field(std::string_view name) noexcept {
  if (name == "nodes") return &nodes;
  if (name == "node-size") return &node_size;
  if (name == "permissions" || name == "node-permissions")
    return &node_permissions;
  if (name == "path-max") return &path_max;
  if (name == "transactions") return &transactions;
  if (name == "transaction-nodes") return &transaction_nodes;
  if (name == "watches") return &watches;
  if (name == "outstanding") return &outstanding;
  if (name == "memory") return &memory;
  return nullptr;
}

const std::size_t* Quota::field(std::string_view name) const noexcept {
  return const_cast<Quota*>(this)->field(name);
}

}  // namespace cxs::store

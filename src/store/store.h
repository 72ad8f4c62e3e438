// Store: the xenstore data model and its operations (read, write, mkdir, rm,
// directory, permissions) over the committed tree or a transaction, plus the
// registry of open transactions. Knows nothing of connections or fds: a
// caller is a Caller, a connection is only a ConnId owning transactions.
// Changes append Events to a sink; matching them to watches is elsewhere.
//
// A failed request changes nothing. Every operation here either does all
// it was asked or leaves the store as it was, whether it is refused (a
// quota, a permission: checked before any change) or runs out of memory
// half way (std::bad_alloc, which the dispatcher answers with ENOMEM): the
// committed tree's changes are all or nothing (tree.h says how), and a
// change of several nodes goes through a View::Change, which saves what a
// transaction's overlay had or logs what the tree replaced, and puts it
// back unless the change completes. Events are made before the change and
// the sink given room for them, so that emitting them cannot fail either.
// A transaction's commit that fails ends the transaction all the same
// (as one that conflicts), with the tree unchanged.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cxenstored/ids.h"
#include "cxenstored/result.h"
#include "store/event.h"
#include "store/permissions.h"
#include "store/quota.h"
#include "store/transaction.h"
#include "store/tree.h"
#include "store/view.h"

namespace cxs::store {

struct DirectoryPart {
  std::uint64_t generation = 0;
  std::string names;  // "a\0b\0" slice
  bool last = false;  // slice reaches the end of the list
};

class Store {
 public:
  // All paths given to these are canonical (see path.h).
  // The node's value, valid until the store next changes.
  Result<std::string_view> read(const Caller& c, Transaction* tx,
                                std::string_view path);
  Status write(const Caller& c, Transaction* tx, std::string_view path,
               std::string_view value, EventSink& events);
  Status mkdir(const Caller& c, Transaction* tx, std::string_view path,
               EventSink& events);
  Status rm(const Caller& c, Transaction* tx, std::string_view path,
            EventSink& events);
  // Children names, each followed by a NUL.
  Result<std::string> directory(const Caller& c, Transaction* tx,
                                std::string_view path);
  // Slice of the directory listing starting at byte `offset`, sized so that
  // "<generation>\0" + slice + the last slice's final NUL fit in `max_bytes`.
  Result<DirectoryPart> directory_part(const Caller& c, Transaction* tx,
                                       std::string_view path,
                                       std::size_t offset,
                                       std::size_t max_bytes);
  Result<PermList> get_perms(const Caller& c, Transaction* tx,
                             std::string_view path);
  Status set_perms(const Caller& c, Transaction* tx, std::string_view path,
                   PermList perms, EventSink& events);

  // A domain is gone: the nodes it owns go with their subtrees (or, with
  // `heir`, are given to the heir, as -K/--keep-orphans does), and
  // permission entries naming it are dropped, so that a later domain with
  // the same id inherits nothing (XSA-322); "/" and the special nodes,
  // which cannot go, pass to the heir or dom0. Removal events go to
  // `events`, which keeps room for one more. All or nothing: std::bad_alloc
  // leaves the store as it was.
  void forget_domain(DomId dom, std::optional<DomId> heir, EventSink& events);

  // Transactions. Ids are daemon-wide, never 0, never two alive at once.
  Result<TxId> start_transaction(ConnId owner, std::size_t max_nodes);
  // nullptr if unknown or owned by another connection.
  Transaction* find_transaction(ConnId owner, TxId id) noexcept;
  // commit=false aborts. The transaction is gone afterwards either way.
  Status end_transaction(const Caller& c, ConnId owner, TxId id, bool commit,
                         EventSink& events);
  void drop_transaction(ConnId owner, TxId id) noexcept;
  void drop_transactions(ConnId owner) noexcept;
  std::size_t transaction_count(ConnId owner) const noexcept;
  // Every open transaction's running count of held bytes equals a recount
  // (a consistency check for the fuzzer and tests).
  bool transaction_bytes_agree() const noexcept;
  // Bytes of node copies held by the open transactions of `owner`.
  std::size_t transaction_bytes(ConnId owner) const noexcept;
  // ENOMEM if the caller's domain would hold more than its memory quota
  // with `more` bytes: committed nodes it owns, plus Caller::held_bytes.
  Status check_memory(const Caller& c, std::size_t more) const noexcept;
  bool has_open_transactions() const noexcept { return !transactions_.empty(); }
  std::size_t open_transactions() const noexcept {
    return transactions_.size();
  }

  // --- Live update ---------------------------------------------------------
  // fn(const Transaction&) for every open transaction, by id.
  template <typename Fn>
  void for_each_transaction(Fn&& fn) const;
  // Registers an empty transaction with the id and owner it had before the
  // update (its entries and events follow: Transaction::restore_entry,
  // restore_event). EINVAL for id 0, EEXIST for an id already open.
  Result<Transaction*> restore_transaction(TxId id, ConnId owner,
                                           std::size_t max_entries);
  // The id start_transaction tries next. Restoring it as it was makes the
  // ids handed out after an update those that would have been handed out
  // without it; start_transaction skips 0 and any id still open, so no
  // value can make two open transactions share an id.
  std::uint32_t next_transaction_id() const noexcept { return next_tx_id_; }
  void set_next_transaction_id(std::uint32_t id) noexcept { next_tx_id_ = id; }

  const Tree& tree() const noexcept { return tree_; }
  Tree& tree() noexcept { return tree_; }

 private:
  Result<NodeView> readable_node(View& view, const Caller& c,
                                    std::string_view path);
  XsErr missing_node_error(const View& view, const Caller& c,
                           std::string_view path, std::uint8_t wanted) const;
  // missing_node_error for a read inside a transaction: the ancestors it
  // looks at are read (see store.cc).
  Status read_ancestors(View& view, std::string_view path);
  // Subtree tops of `owned` in tree order (see store.cc).
  std::vector<std::string> in_tree_order(std::vector<std::string> owned) const;
  // EACCES for an existing node, its reads recorded as C's (see store.cc).
  XsErr refused(View& view, std::string_view path);
  Status create_path(View& view, const Caller& c, std::string_view path,
                     std::string_view value, EventSink& events);
  Status remove_subtree(View& view, std::string_view path, EventSink& events);
  // A subtree's removal, planned (its paths in pre-order, the events it
  // fires) and then applied: see remove_subtree.
  struct Removal {
    std::vector<std::string> order;
    EventSink events;
  };
  Status plan_removal(const View& view, std::string_view top,
                      Removal& out) const;
  static Status apply_removal(View& view, Removal& plan, EventSink& events);
  // Quota checks for an unprivileged caller (no-ops for privileged ones).
  Status check_growth(const View& view, const Caller& c, std::size_t nodes,
                      long bytes) const;
  static Status check_node_size(const Caller& c, std::size_t record_bytes);

  Tree tree_;
  void forget_owned(const Transaction* tx) noexcept;

  std::unordered_map<TxId, std::unique_ptr<Transaction>> transactions_;
  // The same transactions by owning connection: the quotas ask per
  // connection on every request, which must not scan every transaction.
  std::unordered_map<ConnId, std::vector<Transaction*>> by_owner_;
  std::uint32_t next_tx_id_ = 1;
};

template <typename Fn>
void Store::for_each_transaction(Fn&& fn) const {
  std::vector<const Transaction*> sorted;
  sorted.reserve(transactions_.size());
  for (const auto& kv : transactions_) sorted.push_back(kv.second.get());
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) {
    return a->id().value < b->id().value;
  });
  for (const Transaction* tx : sorted) fn(*tx);
}

}  // namespace cxs::store

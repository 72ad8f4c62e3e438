// View: the store as one request sees it, either the committed tree directly
// or through a transaction's overlay. The operations in Store are written once
// against a View, so they behave the same in and out of transactions. A View
// lives for one request and borrows the tree and the transaction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cxenstored/result.h"
#include "store/event.h"
#include "store/transaction.h"
#include "store/tree.h"

namespace cxs::store {

class View {
 public:
  View(Tree& tree, Transaction* tx) noexcept : tree_(tree), tx_(tx) {}

  bool in_transaction() const noexcept { return tx_ != nullptr; }
  const Transaction* transaction() const noexcept { return tx_; }

  // A read: in a transaction, the generation seen (or absence) is recorded
  // for the commit check. ENOSPC when the transaction is at its node limit.
  Result<NodeView> read(std::string_view path) {
    if (!tx_) return tree_.find(path);  // inline: every READ outside one
    return read_in_transaction(path);
  }
  // A look that is not a read (permission checks before a write).
  NodeView peek(std::string_view path) const noexcept;
  // A look whose answer the request depends on through the node's
  // existence and permissions only (see the design note): in a
  // transaction the commit checks those, not the value or the children.
  Result<NodeView> look(std::string_view path);

  // Changes fields of an existing node with fn(Node&); `fields` are the
  // Transaction::Field bits it touches (value and permissions: children
  // change through add_child and remove_child). Returns the changed node
  // (nullptr if there is none).
  template <typename Fn>
  Result<NodeView> modify(std::string_view path, std::uint8_t fields,
                          Fn&& fn);
  // Add a node that the caller has found absent.
  Status create(std::string_view path, Node node);
  // Remove one node (not its children: the caller walks the subtree).
  Status remove(std::string_view path);

  // ENOSPC unless the transaction can take entries for all of `paths`;
  // checked before a multi-node change so that it is all or nothing.
  Status reserve(const std::vector<std::string_view>& paths) const;

  // Events go to the transaction until commit, else straight to `sink`
  // (which a Change made room in: this cannot fail then).
  void emit(Event ev, EventSink& sink);
  // A child's name added to (strong) or removed from a node's list.
  Result<NodeView> add_child(std::string_view path, std::string_view name);
  Status remove_child(std::string_view path, std::string_view name);

  // A request's change, all or nothing (see tree.h). In a transaction the
  // entries of `paths` are saved first (reads make entries too); in the
  // committed tree the nodes create() makes are logged (room for
  // `creates`) and the sink gets room for `events`. Left by an exception
  // (std::bad_alloc half way), everything is put back. Left by a return,
  // what was done stays: the operations return refusals only before they
  // change anything, and a read that found nothing (ENOENT) still counts
  // for the transaction's conflict check.
  class Change {
   public:
    Change(View& view, const std::vector<std::string_view>& paths,
           EventSink* sink = nullptr, std::size_t events = 0,
           std::size_t creates = 0);
    ~Change();
    Change(const Change&) = delete;
    Change& operator=(const Change&) = delete;

   private:
    View& view_;
    Transaction::Savepoint saved_;
    Tree::UndoLog log_;
    int exceptions_;
  };

 private:
  Result<NodeView> read_in_transaction(std::string_view path);
  Result<Transaction::Entry*> snapshot(std::string_view path, bool& first);
  // The transaction's entry of `path` about to have `fields` written, its
  // copy made on first access.
  Result<Transaction::Entry*> written_entry(std::string_view path,
                                            std::uint8_t fields);
  Result<NodeView> change_children(std::string_view path, std::string_view name,
                                   bool add);

  Tree& tree_;
  Transaction* tx_;
  Tree::UndoLog* log_ = nullptr;  // the Change under way's, if any
};

template <typename Fn>
Result<NodeView> View::modify(std::string_view path, std::uint8_t fields,
                              Fn&& fn) {
  if (!tx_) return tree_.edit(path, std::forward<Fn>(fn));
  auto entry = written_entry(path, fields);
  if (!entry) return entry.error();
  Transaction::Entry* e = *entry;
  if (!e->copy) return NodeView();
  std::size_t before = Transaction::copy_bytes(path, *e);
  fn(*e->copy);
  tx_->copy_changed(before, Transaction::copy_bytes(path, *e));
  return NodeView(static_cast<const Node*>(&*e->copy));
}

}  // namespace cxs::store

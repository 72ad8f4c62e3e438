#include "store/view.h"

#include <exception>

namespace cxs::store {

// The transaction's entry for `path`; on the first access the committed node
// (or its absence) is copied in, and `first` says so.
Result<Transaction::Entry*> View::snapshot(std::string_view path,
                                           bool& first) {
  auto entry = tx_->entry(tree_, path);
  if (!entry) return entry.error();
  Transaction::Entry* e = *entry;
  first = !e->has_copy;
  if (first) {
    NodeView committed = tree_.find(path);
    if (committed)
      e->copy = committed.to_node();  // may throw: the entry stays uncopied
    e->base_generation = committed ? committed.generation() : kAbsentGeneration;
    e->has_copy = true;
    tx_->copy_changed(0, Transaction::copy_bytes(path, *e));
  }
  return e;
}

Result<NodeView> View::read_in_transaction(std::string_view path) {
  bool first = false;
  auto entry = snapshot(path, first);
  if (!entry) return entry.error();
  Transaction::Entry* e = *entry;
  // Every read depends on the snapshot taken at the first access, also
  // when that access was a write: the commit checks that the committed
  // node has not moved on since (else a DIRECTORY after a WRITE of the
  // same node could miss another client's new child and still commit).
  e->check_generation = true;
  return e->copy ? NodeView(*e->copy) : NodeView();
}

NodeView View::peek(std::string_view path) const noexcept {
  if (tx_) {
    if (const auto* e = tx_->find_entry(path); e && e->has_copy)
      return e->copy ? NodeView(*e->copy) : NodeView();
  }
  return tree_.find(path);
}

Result<NodeView> View::look(std::string_view path) {
  if (!tx_) return tree_.find(path);
  bool first = false;
  auto entry = snapshot(path, first);
  if (!entry) return entry.error();
  Transaction::Entry* e = *entry;
  // What the transaction made itself depends on nothing committed.
  if (!e->copy) {
    if (e->written == 0) e->check_generation = true;  // still absent
  } else if (!(e->written & Transaction::kPerms)) {
    e->check_perms = true;
  }
  return e->copy ? NodeView(*e->copy) : NodeView();
}

Result<Transaction::Entry*> View::written_entry(std::string_view path,
                                                std::uint8_t fields) {
  bool first = false;
  auto entry = snapshot(path, first);
  if (!entry) return entry.error();
  Transaction::Entry* e = *entry;
  // A write as the first access checks nothing. Permissions looked at and
  // then replaced: the commit can no longer compare them with what was
  // seen, so the whole node is checked (rare: a SET_PERMS of an ancestor
  // the transaction found a missing node under).
  if ((fields & Transaction::kPerms) && e->check_perms)
    e->check_generation = true;
  e->written |= fields;
  return e;
}

Status View::create(std::string_view path, Node node) {
  if (!tx_) {
    if (log_)
      tree_.put_logged(path, std::move(node), *log_);
    else
      tree_.put(path, std::move(node));
    return {};
  }
  auto entry = tx_->entry(tree_, path);
  if (!entry) return entry.error();
  Transaction::Entry* e = *entry;
  if (!e->has_copy && e->written == 0) e->check_generation = true;
  std::size_t before = Transaction::copy_bytes(path, *e);
  e->copy = std::move(node);
  e->children = {};  // a new node: its list is the copy's
  e->has_copy = true;
  tx_->copy_changed(before, Transaction::copy_bytes(path, *e));
  e->written |= Transaction::kValue | Transaction::kPerms |
                Transaction::kChildren;
  return {};
}

Status View::remove(std::string_view path) {
  if (!tx_) {
    tree_.erase(path);
    return {};
  }
  auto entry = tx_->entry(tree_, path);
  if (!entry) return entry.error();
  Transaction::Entry* e = *entry;
  if (!e->has_copy && e->written == 0) e->check_generation = true;
  tx_->copy_changed(Transaction::copy_bytes(path, *e), 0);
  e->copy.reset();
  e->children = {};
  e->has_copy = true;
  e->written |= Transaction::kValue | Transaction::kPerms |
                Transaction::kChildren;
  return {};
}

Status View::reserve(const std::vector<std::string_view>& paths) const {
  if (!tx_) return {};
  std::size_t fresh = 0;
  for (auto p : paths)
    if (!tx_->find_entry(p)) ++fresh;
  if (!tx_->has_room_for(fresh)) return XsErr::kENOSPC;
  return {};
}

Result<NodeView> View::add_child(std::string_view path,
                                 std::string_view name) {
  if (!tx_) return tree_.add_child(path, name);
  return change_children(path, name, true);
}

Status View::remove_child(std::string_view path, std::string_view name) {
  if (!tx_) {
    tree_.remove_child(path, name);
    return {};
  }
  auto n = change_children(path, name, false);
  if (!n) return n.error();
  return {};
}

// The copy's list changes (what the transaction itself lists from now on)
// and so does the delta (what the commit replays if the list was never
// read). Strong: the Change under way restores the entry if the second
// step throws.
Result<NodeView> View::change_children(std::string_view path,
                                       std::string_view name, bool add) {
  auto entry = written_entry(path, Transaction::kChildren);
  if (!entry) return entry.error();
  Transaction::Entry* e = *entry;
  if (!e->copy) return NodeView();
  std::size_t before = Transaction::copy_bytes(path, *e);
  if (add) {
    e->copy->add_child(name);
    e->children.add(name);
  } else {
    e->copy->remove_child(name);
    e->children.remove(name);
  }
  tx_->copy_changed(before, Transaction::copy_bytes(path, *e));
  return NodeView(static_cast<const Node*>(&*e->copy));
}

View::Change::Change(View& view, const std::vector<std::string_view>& paths,
                     EventSink* sink, std::size_t events, std::size_t creates)
    : view_(view), exceptions_(std::uncaught_exceptions()) {
  if (view.tx_) {
    saved_ = view.tx_->save(paths);
    return;
  }
  if (sink) sink->reserve(sink->size() + events);
  if (creates > 0) {
    view.tree_.begin(log_, creates);
    view.log_ = &log_;
  }
}

View::Change::~Change() {
  view_.log_ = nullptr;
  bool failed = std::uncaught_exceptions() > exceptions_;
  if (view_.tx_) {
    if (failed) view_.tx_->restore(saved_);
    return;
  }
  if (failed)
    view_.tree_.rollback(log_);
  else
    view_.tree_.commit(log_);
}

void View::emit(Event ev, EventSink& sink) {
  if (tx_)
    tx_->record_event(std::move(ev));
  else
    sink.push_back(std::move(ev));
}

}  // namespace cxs::store

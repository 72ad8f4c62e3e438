#include "store/store.h"

#include <algorithm>
#include <unordered_set>

#include "store/path.h"

namespace cxs::store {

// Inline in its three callers (READ, DIRECTORY, GET_PERMS): a call frame
// here was 20 instructions per READ.
inline Result<NodeView> Store::readable_node(View& view, const Caller& c,
                                             std::string_view path) {
  auto r = view.read(path);
  if (!r) return r.error();
  NodeView n = *r;
  if (!n) {
    if (view.in_transaction()) CXS_TRY(read_ancestors(view, path));
    return missing_node_error(view, c, path, kPermRead);
  }
  if (!may(c, n->perms(), kPermRead)) return refused(view, path);
  return n;
}

// A missing node is ENOENT only to callers holding some of the `wanted`
// access on its nearest existing ancestor (read for reads, write for RM,
// write or ownership for SET_PERMS); others must not learn whether it exists
// (EACCES). This is C's errno_from_parents().
XsErr Store::missing_node_error(const View& view, const Caller& c,
                                std::string_view path,
                                std::uint8_t wanted) const {
  if (is_special(path)) return XsErr::kENOENT;
  std::string_view p = path;
  while (p != "/") {
    p = parent_of(p);
    if (NodeView anc = view.peek(p))
      return (access_for(c, anc->perms()) & wanted) ? XsErr::kENOENT
                                                  : XsErr::kEACCES;
  }
  return XsErr::kENOENT;
}

// A read that finds a node missing inside a transaction has looked at the
// ancestors up to the nearest existing one to choose ENOENT or EACCES (C
// 4.17 reads them in the transaction). The missing ones are recorded
// absent, and the nearest existing one as looked at (see the design note
// in transaction.h): its value and permissions are the transaction's
// snapshot from then on, and its permissions changing, or a missing one
// between being created, makes the commit EAGAIN. Example: WRITE /t/p
// old; T reads /t/p/missing/x (ENOENT); a client writes /t/p new; T reads
// /t/p: "old" (now a read of /t/p); T commits: EAGAIN. Unlike C, a new
// child of /t/p alone does not fail the commit (issue 19: the transaction
// learnt nothing of /t/p's children). A transaction at its
// transaction-nodes bound keeps the answer it could read (the missing node
// itself is recorded) without recording the ancestors: the bound refuses
// what a request asks for, not what it looks at on the way.
Status Store::read_ancestors(View& view, std::string_view path) {
  if (is_special(path)) return {};
  std::string_view p = path;
  for (;;) {
    auto r = view.look(p);  // the missing node itself first (SET_PERMS
                            // has only peeked at it)
    if (!r) return r.error() == XsErr::kENOSPC ? Status{} : r.error();
    if ((*r && p != path) || p == "/") break;
    p = parent_of(p);
  }
  return {};
}

// An existing node the caller may not access: C 4.17 has read it and, to
// choose the error, its parent, so inside a transaction both join the read
// set (a later outside change to either makes the commit EAGAIN). Nothing
// else is changed by a refused request.
XsErr Store::refused(View& view, std::string_view path) {
  if (view.in_transaction() && !is_special(path) && path != "/") {
    (void)view.read(path);
    (void)view.read(parent_of(path));  // ENOSPC: see read_ancestors
  }
  return XsErr::kEACCES;
}

// Nodes: the caller's count as it would be after this request (committed,
// plus what its transaction would add, plus `nodes`). Memory: what its
// domain holds now (committed nodes, watches, transaction copies, output)
// plus `bytes`; a change inside a transaction is held as a copy until the
// commit, so it is counted once, as held memory.
Status Store::check_growth(const View& view, const Caller& c,
                           std::size_t nodes, long bytes) const {
  if (!c.quota) return {};
  if (nodes > 0) {
    const Transaction* tx = view.transaction();
    std::size_t owned = tx ? tx->usage_after_commit(tree_, c.dom).nodes
                           : tree_.usage(c.dom).nodes;
    if (over(owned + nodes, c.quota->nodes)) return XsErr::kENOSPC;
  }
  if (bytes > 0) return check_memory(c, static_cast<std::size_t>(bytes));
  return {};
}

Status Store::check_memory(const Caller& c, std::size_t more) const noexcept {
  if (!c.quota) return {};
  std::size_t held = tree_.usage(c.dom).bytes + c.held_bytes;
  if (over(held + more, c.quota->memory)) return XsErr::kENOMEM;
  return {};
}

// C counts a node's record as it would store it, and refuses one that
// reaches the node-size quota.
Status Store::check_node_size(const Caller& c, std::size_t record_bytes) {
  if (c.quota && c.quota->node_size != 0 &&
      record_bytes >= c.quota->node_size)
    return XsErr::kENOSPC;
  return {};
}

Result<std::string_view> Store::read(const Caller& c, Transaction* tx,
                                     std::string_view path) {
  View view(tree_, tx);
  if (!tx) {  // inline: every READ outside a transaction
    auto n = readable_node(view, c, path);
    if (!n) return n.error();
    return (*n)->value();
  }
  View::Change change(view, {path});
  auto n = readable_node(view, c, path);
  if (!n) return n.error();
  return (*n)->value();
}

Status Store::write(const Caller& c, Transaction* tx, std::string_view path,
                    std::string_view value, EventSink& events) {
  View view(tree_, tx);
  if (NodeView existing = view.peek(path)) {
    if (!may(c, existing->perms(), kPermWrite)) return refused(view, path);
    CXS_TRY(check_node_size(
        c, Tree::record_bytes(value.size(), existing->perms().size(),
                              existing->children_bytes())));
    CXS_TRY(check_growth(view, c, 0,
                         static_cast<long>(value.size()) -
                             static_cast<long>(existing->value().size())));
    Event ev{std::string(path), false, {}, {}};
    View::Change change(view, {path}, &events, 1);
    auto n = view.modify(path, Transaction::kValue,
                         [&](Node& node) { node.value.assign(value); });
    if (!n) return n.error();
    ev.perms = (*n)->perms();
    view.emit(std::move(ev), events);
      return {};
  }
  return create_path(view, c, path, value, events);
}

Status Store::mkdir(const Caller& c, Transaction* tx, std::string_view path,
                    EventSink& events) {
  View view(tree_, tx);
  if (NodeView existing = view.peek(path)) {
    if (!may(c, existing->perms(), kPermWrite)) return refused(view, path);
    // Nothing to do, but the answer came from the node's existence and
    // permissions: a transaction records them.
    View::Change change(view, {path});
    CXS_TRY(view.look(path));
    return {};
  }
  return create_path(view, c, path, {}, events);
}

// Creates `path` and its missing ancestors below the nearest existing one,
// which the caller must be allowed to write (as in C, reading it is not
// needed). New nodes inherit the parent's permissions; an unprivileged
// creator becomes their owner.
Status Store::create_path(View& view, const Caller& c, std::string_view path,
                          std::string_view value, EventSink& events) {
  // Looked at first, read (for a transaction's conflict check) once the
  // change is under way: a failure must not leave the reads behind.
  std::vector<std::string_view> missing;  // deepest first
  std::string_view p = path;
  NodeView anchor = nullptr;
  for (;;) {
    if ((anchor = view.peek(p))) break;
    if (p == "/" || is_special(p)) return XsErr::kENOENT;
    missing.push_back(p);
    p = parent_of(p);
  }
  std::vector<std::string_view> touched(missing);
  touched.push_back(p);
  CXS_TRY(view.reserve(touched));
  // The missing nodes are read (absent: another creator of one of them
  // makes the commit EAGAIN); the anchor is only looked at (its
  // permissions, which allow the creation and which the new nodes copy).
  auto record_reads = [&]() -> Status {
    for (auto m : missing) CXS_TRY(view.read(m));
    CXS_TRY(view.look(p));
    return {};
  };
  if (!may(c, anchor->perms(), kPermWrite)) {
    // The refusal came from the same looks.
    if (view.in_transaction()) {
      View::Change change(view, touched);
      CXS_TRY(record_reads());
    }
    return XsErr::kEACCES;
  }

  PermList perms = anchor->perms();
  if (!c.privileged) perms.front().dom = c.dom;

  // Quotas before any change, so that a refusal leaves nothing half-made.
  CXS_TRY(
      check_node_size(c, Tree::record_bytes(value.size(), perms.size(), 0)));
  CXS_TRY(check_node_size(
      c, Tree::record_bytes(anchor->value().size(), anchor->perms().size(),
                            anchor->children_bytes() +
                                basename_of(missing.back()).size() + 1)));
  long bytes = 0;
  for (auto m : missing)
    bytes += static_cast<long>(Tree::record_bytes(0, perms.size(), 0) +
                               m.size() + basename_of(m).size() + 1);
  bytes += static_cast<long>(value.size());
  CXS_TRY(check_growth(view, c, missing.size(), bytes));
  // One event, for the requested path: watches on the new ancestors hear of
  // it as their descendant (as in C).
  Event ev{std::string(path), false, perms, {}};
  View::Change change(view, touched, &events, 1, missing.size());
  CXS_TRY(record_reads());
  // The new nodes shallowest first, each made with its child's name, and
  // the anchor's list last: in the committed tree only that one changes
  // an existing node, and it either works or changes nothing.
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    std::string_view child = *it;
    bool target = child.size() == path.size();
    Node node{target ? std::string(value) : std::string(), perms, 0, {}};
    if (!target) node.add_child(basename_of(*(it + 1)));
    CXS_TRY(view.create(child, std::move(node)));
  }
  auto anchor_now = view.add_child(p, basename_of(missing.back()));
  if (!anchor_now) return anchor_now.error();
  view.emit(std::move(ev), events);
  return {};
}

Status Store::rm(const Caller& c, Transaction* tx, std::string_view path,
                 EventSink& events) {
  View view(tree_, tx);
  View::Change change(view, {path, parent_of(path)});
  auto r = view.read(path);
  if (!r) return r.error();
  NodeView node = *r;
  if (!node) {
    // What RM learns of the ancestors is their existence and the nearest
    // existing one's permissions: recorded as for a read.
    if (view.in_transaction()) CXS_TRY(read_ancestors(view, path));
    XsErr err = missing_node_error(view, c, path, kPermWrite);
    if (err != XsErr::kENOENT) return err;
    // Removing what is already gone is fine if its parent exists.
    return view.peek(parent_of(path)) ? Status{} : Status{XsErr::kENOENT};
  }
  if (!may(c, node->perms(), kPermWrite)) return refused(view, path);
  // After the permission check, as C: a guest learns EACCES, not that "/"
  // is special.
  if (path == "/") return XsErr::kEINVAL;
  return remove_subtree(view, path, events);
}

// Iterative (never recursive: a 1500-level path must not exhaust the stack).
// Each removed node fires the watches on exactly it, deepest first; then the
// top fires the watches on it, its ancestors, and (with their own path) any
// below it, as the C daemon does. The paths and events are made first, so
// that in the committed tree the removal itself cannot fail.
Status Store::plan_removal(const View& view, std::string_view top,
                           Removal& out) const {
  std::vector<std::string> stack{std::string(top)};
  while (!stack.empty()) {
    std::string p = std::move(stack.back());
    stack.pop_back();
    NodeView n = view.peek(p);
    if (!n) continue;
    n->children().for_each(
        [&](std::string_view name) { stack.push_back(join(p, name)); });
    out.order.push_back(std::move(p));
  }
  out.events.reserve(out.order.size());
  for (auto it = out.order.rbegin(); it != out.order.rend(); ++it) {
    NodeView n = view.peek(*it);
    bool is_top = it + 1 == out.order.rend();
    out.events.push_back(
        Event{*it, is_top, n ? n->perms() : SharedPerms{}, {}, !is_top});
  }
  return {};
}

Status Store::remove_subtree(View& view, std::string_view top,
                             EventSink& events) {
  Removal plan;
  CXS_TRY(plan_removal(view, top, plan));
  std::string_view parent = parent_of(top);
  std::vector<std::string_view> touched(plan.order.begin(), plan.order.end());
  touched.push_back(parent);
  CXS_TRY(view.reserve(touched));
  View::Change change(view, touched, &events, plan.events.size());
  for (const auto& p : plan.order) CXS_TRY(view.read(p));  // conflict check
  CXS_TRY(apply_removal(view, plan, events));
  return {};
}

// In the committed tree this cannot fail (the sink has room: see Change).
Status Store::apply_removal(View& view, Removal& plan, EventSink& events) {
  for (auto it = plan.order.rbegin(); it != plan.order.rend(); ++it)
    CXS_TRY(view.remove(*it));
  std::string_view top = plan.order.front();
  CXS_TRY(view.remove_child(parent_of(top), basename_of(top)));
  for (Event& ev : plan.events) view.emit(std::move(ev), events);
  return {};
}

Result<std::string> Store::directory(const Caller& c, Transaction* tx,
                                     std::string_view path) {
  View view(tree_, tx);
  View::Change change(view, {path});
  auto n = readable_node(view, c, path);
  if (!n) return n.error();
  std::string names = (*n)->children().joined();
  return names;
}

Result<DirectoryPart> Store::directory_part(const Caller& c, Transaction* tx,
                                            std::string_view path,
                                            std::size_t offset,
                                            std::size_t max_bytes) {
  View view(tree_, tx);
  View::Change change(view, {path});
  auto all = directory(c, tx, path);
  if (!all) return all.error();
  DirectoryPart part;
  part.generation = view.peek(path)->generation();
  const std::string& list = *all;
  if (offset >= list.size()) {
    part.last = true;
    return part;
  }
  // Whole names only, leaving one byte for the final NUL of the last slice.
  std::size_t budget = max_bytes - (std::to_string(part.generation).size() + 1);
  std::size_t end = offset;
  while (end < list.size()) {
    std::size_t next = list.find('\0', end) + 1;
    if (next - offset + 1 > budget) break;
    end = next;
  }
  part.names = list.substr(offset, end - offset);
  part.last = end == list.size();
  return part;
}

Result<PermList> Store::get_perms(const Caller& c, Transaction* tx,
                                  std::string_view path) {
  View view(tree_, tx);
  View::Change change(view, {path});
  auto n = readable_node(view, c, path);
  if (!n) return n.error();
  PermList perms = (*n)->perms().list();
  return perms;
}

Status Store::set_perms(const Caller& c, Transaction* tx,
                        std::string_view path, PermList perms,
                        EventSink& events) {
  View view(tree_, tx);
  NodeView existing = view.peek(path);
  if (!existing) {
    if (view.in_transaction()) CXS_TRY(read_ancestors(view, path));
    return missing_node_error(view, c, path, kPermWrite | kPermOwner);
  }
  if (!may(c, existing->perms(), kPermWrite | kPermOwner))
    return refused(view, path);
  if (!c.privileged && perms.front().dom != existing->perms().front().dom) {
    // Refused by the owner the node has: a transaction records that.
    View::Change change(view, {path});
    CXS_TRY(view.look(path));
    return XsErr::kEPERM;
  }
  if (c.quota && over(perms.size(), c.quota->node_permissions))
    return XsErr::kENOSPC;
  CXS_TRY(check_node_size(
      c, Tree::record_bytes(existing->value().size(), perms.size(),
                            existing->children_bytes())));
  // Watches on the node and its ancestors fire, as for a write: the
  // children's own permissions did not change. A special node's watchers
  // are told of domains, not of who may watch (C fires nothing either).
  bool fires = !is_special(path);
  Event ev{fires ? std::string(path) : std::string(), false, {},
           existing->perms()};
  SharedPerms fresh(perms);  // interned before anything changes
  View::Change change(view, {path}, &events, 1);
  auto n = view.modify(path, Transaction::kPerms,
                       [&](Node& node) { node.perms = fresh; });
  if (!n) return n.error();
  ev.perms = (*n)->perms();
  if (fires) view.emit(std::move(ev), events);
  return {};
}

// The subtrees to remove (`owned`, shallowest first), cut to their tops and
// put in tree order (pre-order, children in creation order), which is the
// order C 4.17 removes a dead domain's nodes in, so watchers hear of them
// in the same order. A domain owning only its home has one top: no walk.
std::vector<std::string> Store::in_tree_order(
    std::vector<std::string> owned) const {
  std::vector<std::string> tops;
  tops.reserve(owned.size());  // top_set views them: no reallocation
  std::unordered_set<std::string_view> top_set;
  for (const auto& path : owned) {
    bool below = false;
    for (std::string_view p = path; p != "/" && !below;) {
      p = parent_of(p);
      below = top_set.count(p) != 0;
    }
    if (below) continue;
    tops.push_back(path);
    top_set.insert(tops.back());
  }
  if (tops.size() < 2) return tops;
  std::vector<std::string> ordered;
  tree_.for_each_preorder([&](std::string_view path, NodeView) {
    if (top_set.count(path)) ordered.emplace_back(path);
  });
  return ordered;
}

// All or nothing, as any change: the new permission lists are interned
// and the removals planned first; the permission changes are logged (and
// taken back if planning fails); the removals, last, cannot fail.
void Store::forget_domain(DomId dom, std::optional<DomId> heir,
                          EventSink& events) {
  std::vector<std::string> owned;
  std::vector<std::string> mentioned;
  std::vector<std::string> kept_nodes;
  tree_.for_each_node([&](NodeView n, const auto& path_of) {
    const PermList& perms = n.perms().list();
    if (perms.empty()) return;
    bool owns = perms.front().dom == dom;
    bool names = std::any_of(perms.begin() + 1, perms.end(),
                             [dom](const Perm& p) { return p.dom == dom; });
    if (!owns && !names) return;
    std::string path = path_of();
    if (names) mentioned.push_back(path);
    if (owns && (path == "/" || is_special(path)))
      kept_nodes.push_back(path);
    else if (owns)
      owned.push_back(path);
  });
  // Shallowest first: removing a subtree takes its owned descendants along.
  std::sort(owned.begin(), owned.end(), [](const auto& a, const auto& b) {
    return a.size() < b.size();
  });
  // Removed in tree order (parents still first), as C removes them:
  // watchers see the events in C's order.
  if (!heir) owned = in_tree_order(std::move(owned));
  Tree::UndoLog log;
  tree_.begin(log, kept_nodes.size() + mentioned.size() +
                       (heir ? owned.size() : 0));
  std::vector<Removal> removals;
  try {
    // "/" and the special nodes cannot go: they pass to the heir, or to
    // dom0 (which made them), never staying with an id a later domain may
    // get.
    for (const auto& path : kept_nodes) {
      PermList given = tree_.find(path).perms().list();
      given.front().dom = heir.value_or(DomId{0});
      SharedPerms fresh(given);
      tree_.merge_logged(path, nullptr, &fresh, log);
    }
    for (const auto& path : mentioned) {
      PermList kept = tree_.find(path).perms().list();
      std::erase_if(kept, [&, first = true](const Perm& p) mutable {
        bool keep = first || p.dom != dom;
        first = false;
        return !keep;
      });
      SharedPerms fresh(kept);
      tree_.merge_logged(path, nullptr, &fresh, log);
    }
    View view(tree_, nullptr);
    std::size_t removed_events = 0;
    for (const auto& path : owned) {
      if (heir) {
        PermList given = tree_.find(path).perms().list();
        given.front().dom = *heir;
        SharedPerms fresh(given);
        tree_.merge_logged(path, nullptr, &fresh, log);
        continue;
      }
      bool below_removed = std::any_of(
          removals.begin(), removals.end(), [&](const Removal& r) {
            const std::string& top = r.order.front();
            return path.size() > top.size() && path.starts_with(top) &&
                   path[top.size()] == '/';
          });
      if (below_removed) continue;
      Status s = plan_removal(view, path, removals.emplace_back());
      (void)s;  // outside a transaction reading cannot fail
      removed_events += removals.back().events.size();
    }
    // And one more: the daemon's @releaseDomain follows (detach_domain).
    events.reserve(events.size() + removed_events + 1);
  } catch (...) {
    tree_.rollback(log);
    throw;
  }
  tree_.commit(log);
  View view(tree_, nullptr);
  for (Removal& r : removals) {
    Status s = apply_removal(view, r, events);
    (void)s;  // outside a transaction removal cannot fail
  }
}

Result<TxId> Store::start_transaction(ConnId owner, std::size_t max_nodes) {
  while (next_tx_id_ == 0 || transactions_.count(TxId{next_tx_id_}))
    ++next_tx_id_;
  TxId id{next_tx_id_};
  auto tx = std::make_unique<Transaction>(id, owner, max_nodes);
  std::vector<Transaction*>& mine = by_owner_[owner];
  try {
    mine.reserve(mine.size() + 1);  // both inserts or neither
    transactions_.emplace(id, std::move(tx));
  } catch (...) {
    if (mine.empty()) by_owner_.erase(owner);
    throw;
  }
  mine.push_back(transactions_.at(id).get());
  ++next_tx_id_;
  return id;
}

Result<Transaction*> Store::restore_transaction(TxId id, ConnId owner,
                                                std::size_t max_entries) {
  if (id.value == 0) return XsErr::kEINVAL;
  if (transactions_.count(id)) return XsErr::kEEXIST;
  auto tx = std::make_unique<Transaction>(id, owner, max_entries);
  Transaction* raw = tx.get();
  std::vector<Transaction*>& mine = by_owner_[owner];
  mine.reserve(mine.size() + 1);  // both inserts or neither
  transactions_.emplace(id, std::move(tx));
  mine.push_back(raw);
  return raw;
}

Transaction* Store::find_transaction(ConnId owner, TxId id) noexcept {
  auto it = transactions_.find(id);
  if (it == transactions_.end() || it->second->owner() != owner)
    return nullptr;
  return it->second.get();
}

Status Store::end_transaction(const Caller& c, ConnId owner, TxId id,
                              bool commit, EventSink& events) {
  auto it = transactions_.find(id);
  if (it == transactions_.end() || it->second->owner() != owner)
    return XsErr::kENOENT;
  std::unique_ptr<Transaction> tx = std::move(it->second);
  transactions_.erase(it);
  forget_owned(tx.get());
  if (!commit) return {};
  CXS_TRY(tx->validate(tree_, [&c](NodeView n, std::uint8_t wanted) {
    return may(c, n.perms(), wanted);
  }));
  // Others' commits may have used up the quota since the checks inside.
  // After the commit the transaction's copies are freed: what it adds to
  // the owned nodes replaces them in the held memory.
  if (c.quota) {
    Tree::Usage now = tree_.usage(c.dom);
    Tree::Usage u = tx->usage_after_commit(tree_, c.dom);
    if (u.nodes > now.nodes && over(u.nodes, c.quota->nodes))
      return XsErr::kENOSPC;
    std::size_t copies = std::min(tx->held_bytes(), c.held_bytes);
    if (u.bytes > now.bytes &&
        over(u.bytes + c.held_bytes - copies, c.quota->memory))
      return XsErr::kENOMEM;
  }
  tx->apply(tree_, events);
  return {};
}

void Store::drop_transaction(ConnId owner, TxId id) noexcept {
  auto it = transactions_.find(id);
  if (it == transactions_.end() || it->second->owner() != owner) return;
  forget_owned(it->second.get());
  transactions_.erase(it);
}

void Store::drop_transactions(ConnId owner) noexcept {
  auto it = by_owner_.find(owner);
  if (it == by_owner_.end()) return;
  for (const Transaction* tx : it->second) transactions_.erase(tx->id());
  by_owner_.erase(it);
}

void Store::forget_owned(const Transaction* tx) noexcept {
  auto it = by_owner_.find(tx->owner());
  if (it == by_owner_.end()) return;
  std::erase(it->second, tx);
  if (it->second.empty()) by_owner_.erase(it);
}

bool Store::transaction_bytes_agree() const noexcept {
  return std::all_of(transactions_.begin(), transactions_.end(),
                     [](const auto& kv) {
                       return kv.second->held_bytes() ==
                              kv.second->recount_held_bytes();
                     });
}

std::size_t Store::transaction_bytes(ConnId owner) const noexcept {
  auto it = by_owner_.find(owner);
  if (it == by_owner_.end()) return 0;
  std::size_t bytes = 0;
  for (const Transaction* tx : it->second) bytes += tx->held_bytes();
  return bytes;
}

std::size_t Store::transaction_count(ConnId owner) const noexcept {
  auto it = by_owner_.find(owner);
  return it == by_owner_.end() ? 0 : it->second.size();
}

}  // namespace cxs::store

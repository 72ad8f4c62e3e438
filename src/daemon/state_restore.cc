// Restoring a migration stream: the store, watches, transactions and quotas
// (restore_bytes), then sockets and rings (Server::restore_state).
//
// A stream from the C daemon carries no node generations (fresh ones are
// stamped in stream order), no transactions (C drops them) and no domain
// flags; one from cxenstored carries all of these in its own records.
#include "daemon/state_restore.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <tuple>

#include <spdlog/spdlog.h>

#include "daemon/server.h"
#include "store/path.h"
#include "transport/socket/socket_transport.h"

namespace cxs::daemon {
namespace {

constexpr std::size_t kStateFileMax = std::size_t{1} << 30;

// Most nodes share a handful of permission lists: decode each once.
class PermCache {
 public:
  const store::SharedPerms& get(std::string_view raw) {
    auto it = cache_.find(raw);
    if (it != cache_.end()) return it->second;
    return cache_.emplace(raw, store::SharedPerms(migrate::decode_perms(raw)))
        .first->second;
  }

 private:
  std::unordered_map<std::string_view, store::SharedPerms> cache_;
};

void apply_quota(store::Quota& q, const std::vector<migrate::QuotaEntry>& in,
                 const std::vector<std::string>& keep = {}) {
  for (const migrate::QuotaEntry& e : in) {
    const store::QuotaSpec* spec = store::find_stream_quota(e.name);
    if (!spec) {
      // The format lets a daemon carry quotas others do not know.
      spdlog::info("live update: quota {} ignored", e.name);
      continue;
    }
    if (std::find(keep.begin(), keep.end(), spec->name) != keep.end()) continue;
    q.*spec->field = e.value;
  }
}

// A stream's nodes come parents first, in pre-order (both daemons write
// them so): the ids of the current node's ancestors are kept on a stack,
// so that no node's parent has to be looked up. A node out of that order
// takes the slower path.
class TreeRestorer {
 public:
  explicit TreeRestorer(store::Tree& tree) : tree_(tree) {}

  // False if the node cannot be attached (no parent before it) or is there
  // already (the stream names it twice).
  bool restore(std::string_view path, std::uint32_t tag,
               std::string_view value, const store::SharedPerms& perms,
               std::uint64_t generation) {
    std::size_t before = tree_.size();
    std::string_view parent = store::parent_of(path);
    while (!stack_.empty() && stack_.back().path != parent) stack_.pop_back();
    std::uint32_t id = store::Tree::kNoRecord;
    if (!stack_.empty() && path != "/" && !store::is_special(path)) {
      id = tree_.restore_child(stack_.back().id, parent, path, tag, value,
                               perms, generation);
    } else {
      if (!tree_.restore_node(path, value, perms, generation)) return false;
      id = tree_.id_of(path);
    }
    if (id == store::Tree::kNoRecord || tree_.size() == before) return false;
    stack_.push_back({path, id});
    return true;
  }

 private:
  struct Ancestor {
    std::string_view path;  // into the stream
    std::uint32_t id;
  };
  store::Tree& tree_;
  std::vector<Ancestor> stack_;
};

// Builds the tree from the nodes as the reader hands them over.
class TreeSink final : public migrate::NodeSink {
 public:
  explicit TreeSink(store::Tree& tree) : tree_(tree), restorer_(tree) {
    tree.clear_for_restore();
  }
  void expect(std::size_t nodes) override { tree_.reserve(nodes); }
  bool take(const migrate::NodeRec& n, std::string_view next_path,
            std::string& why) override {
    // The next node's slot is fetched while this one goes in.
    std::uint32_t tag = n.path.data() == ahead_.data() &&
                                n.path.size() == ahead_.size()
                            ? ahead_tag_
                            : store::Tree::path_tag(n.path);
    ahead_ = next_path;
    if (!ahead_.empty()) {
      ahead_tag_ = store::Tree::path_tag(ahead_);
      tree_.prefetch(ahead_tag_);
    }
    if (restorer_.restore(n.path, tag, n.value, perms_.get(n.perms_raw),
                          n.generation))
      return true;
    why = "node " + std::string(n.path) +
          ": its parent is not before it, or it comes twice";
    return false;
  }

 private:
  store::Tree& tree_;
  TreeRestorer restorer_;
  PermCache perms_;
  std::string_view ahead_;  // the next node's path, as the reader saw it
  std::uint32_t ahead_tag_ = 0;
};

// What the nodes leave to do once they are all in.
void finish_tree(const migrate::Stream& s, store::Tree& tree) {
  if (!tree.find("/")) throw RestoreError("the stream has no node \"/\"");
  // The special nodes hold who may watch them; a stream without them
  // leaves them as a fresh daemon has them.
  for (std::string_view special : {"@introduceDomain", "@releaseDomain"})
    if (!tree.find(special))
      tree.restore_node(special, {}, store::SharedPerms(PermList{{kDom0, 0}}),
                        0);
  if (s.cxs_daemon) tree.set_generation_counter(s.cxs_daemon->tree_generation);
}

store::Node tx_copy(const migrate::CxsTxNode& n, PermCache& perms) {
  store::Node node;
  node.value = n.value;
  node.perms = perms.get(n.perms_raw);
  node.generation = n.copy_generation;
  std::string_view names = n.children;
  while (!names.empty()) {
    std::size_t end = names.find('\0');
    if (end == std::string_view::npos)
      throw RestoreError("transaction node " + std::string(n.path) +
                         ": child list not NUL-terminated");
    node.add_child(names.substr(0, end));
    names.remove_prefix(end + 1);
  }
  return node;
}

void restore_transaction(const migrate::CxsTransactionRec& t, ConnId owner,
                         store::Store& store, PermCache& perms) {
  auto tx = store.restore_transaction(TxId{t.tx_id}, owner, t.max_entries);
  if (!tx)
    throw RestoreError("transaction " + std::to_string(t.tx_id) +
                       ": id 0 or given twice");
  for (const migrate::CxsTxNode& n : t.nodes) {
    if (!store::is_valid_absolute(n.path))
      throw RestoreError("transaction " + std::to_string(t.tx_id) +
                         ": bad path " + std::string(n.path));
    store::Transaction::Entry e;
    e.has_copy = n.flags & migrate::kTxNodeHasCopy;
    if (n.flags & migrate::kTxNodeCopyPresent) e.copy = tx_copy(n, perms);
    e.check_generation = n.flags & migrate::kTxNodeCheckGeneration;
    e.check_perms = n.flags & migrate::kTxNodeCheckPerms;
    if ((n.flags & migrate::kTxNodeHasDelta) &&
        !e.children.assign(n.child_delta))
      throw RestoreError("transaction " + std::to_string(t.tx_id) + ": node " +
                         std::string(n.path) + ": bad child delta");
    e.base_generation = n.base_generation;
    e.written = n.written;
    if (!(*tx)->restore_entry(std::string(n.path), std::move(e)))
      throw RestoreError("transaction " + std::to_string(t.tx_id) + ": node " +
                         std::string(n.path) + " given twice or impossible");
  }
  for (const migrate::CxsTxEvent& ev : t.events) {
    store::Event e;
    e.path = std::string(ev.path);
    e.recursive = ev.flags & migrate::kTxEventRecursive;
    e.exact = ev.flags & migrate::kTxEventExact;
    e.perms = perms.get(ev.perms_raw);
    e.old_perms = perms.get(ev.old_perms_raw);
    (*tx)->restore_event(std::move(e));
  }
}

// Depths of a version 1 stream's watches, by (conn, path, token).
using DepthKey = std::tuple<std::uint32_t, std::string_view, std::string_view>;

void restore_watch(const migrate::WatchRec& w, const RestoredConn& conn,
                   int depth, store::WatchIndex& watches) {
  auto path =
      store::canonicalise(w.path, conn.dom, store::PathKind::kNodeOrSpecial);
  if (!path)
    throw RestoreError("watch " + std::string(w.path) + " of connection " +
                       std::to_string(w.conn_id) + ": bad path");
  std::size_t strip =
      store::is_relative(w.path) ? path->size() - w.path.size() : 0;
  Status added = watches.add(
      store::Watch{conn.id, path->str(), std::string(w.token), strip, depth});
  if (!added)
    throw RestoreError("watch " + std::string(w.path) + " of connection " +
                       std::to_string(w.conn_id) + " given twice");
}

// Everything but the tree.
RestoredState restore_rest(const migrate::Stream& s, DomId master,
                           const QuotaDefaults& quota, store::Store& store,
                           store::WatchIndex& watches) {
  RestoredState out;
  out.from_cxenstored = s.cxs_daemon.has_value();
  out.quota = quota.quota;
  if (s.cxs_daemon) store.set_next_transaction_id(s.cxs_daemon->next_tx_id);

  if (s.global_quota)
    apply_quota(out.quota, s.global_quota->per_domain, quota.given);
  for (const migrate::DomainRec& d : s.domains) {
    store::Quota& q =
        out.domain_quota.try_emplace(DomId{d.domid}, out.quota).first->second;
    apply_quota(q, d.quotas);
  }
  for (const migrate::CxsDomainRec& d : s.cxs_domains) {
    RestoredDomain& rd = out.domains[DomId{d.domid}];
    rd.dom = DomId{d.domid};
    rd.introduced = d.flags & migrate::kCxsDomainIntroduced;
    rd.shutdown_reported = d.flags & migrate::kCxsDomainShutdownReported;
    rd.features = d.features;
    rd.features_known = true;
    rd.gfn = d.gfn;
  }

  std::unordered_map<std::uint32_t, std::size_t> by_stream_id;
  std::unordered_map<std::uint32_t, std::uint32_t> conn_flags;
  for (const migrate::CxsConnectionRec& c : s.cxs_conns)
    conn_flags[c.conn_id] = c.flags;
  for (const migrate::ConnRec& c : s.conns) {
    RestoredConn rc;
    rc.id = ConnId{out.conns.size() + 1};
    rc.rec = &c;
    rc.dom = c.kind == migrate::ConnKind::kRing ? DomId{c.domid} : master;
    if (c.kind == migrate::ConnKind::kRing &&
        c.target != migrate::kDomidInvalid)
      rc.target = DomId{c.target};
    rc.stalled = conn_flags[c.conn_id] & migrate::kCxsConnStalled;
    if (c.kind == migrate::ConnKind::kRing) {
      RestoredDomain& rd = out.domains[rc.dom];
      if (rd.introduced && !rd.features_known)
        throw RestoreError("domain " + std::to_string(c.domid) +
                           " has two ring connections");
      rd.dom = rc.dom;
      rd.introduced = true;
    }
    by_stream_id[c.conn_id] = out.conns.size();
    out.conns.push_back(rc);
  }

  std::map<DepthKey, int> depths;
  for (const migrate::CxsWatchDepthRec& d : s.cxs_watch_depths)
    depths[{d.conn_id, d.path, d.token}] = d.depth;
  for (const migrate::WatchRec& w : s.watches) {
    int depth = -1;
    if (w.depth && *w.depth != 0xFFFF) depth = *w.depth;
    auto given = depths.find({w.conn_id, w.path, w.token});
    if (given != depths.end()) depth = given->second;
    restore_watch(w, out.conns[by_stream_id.at(w.conn_id)], depth, watches);
    ++out.watches;
  }

  PermCache perms;
  for (const migrate::CxsTransactionRec& t : s.cxs_transactions) {
    restore_transaction(t, out.conns[by_stream_id.at(t.conn_id)].id, store,
                        perms);
    ++out.transactions;
  }
  if (s.transaction_nodes_skipped || s.transactions_skipped)
    spdlog::warn(
        "live update: {} transaction records and {} transaction "
        "nodes skipped (transactions from another daemon are not "
        "carried over)",
        s.transactions_skipped, s.transaction_nodes_skipped);
  return out;
}

}  // namespace

RestoredState restore_bytes(std::string_view bytes, bool check_tree,
                            DomId master, const QuotaDefaults& quota,
                            store::Store& store, store::WatchIndex& watches,
                            migrate::Stream& stream) {
  TreeSink sink(store.tree());
  migrate::StreamError error;
  if (!migrate::read_stream(bytes, stream, error,
                            migrate::ReadOptions{check_tree, &sink}))
    throw RestoreError(error.to_string());
  finish_tree(stream, store.tree());
  return restore_rest(stream, master, quota, store, watches);
}

migrate::GlobalRec read_global_record(std::string_view bytes) {
  migrate::GlobalRec global;
  migrate::StreamError error;
  if (!migrate::read_global(bytes, global, error))
    throw RestoreError(error.to_string());
  return global;
}

StateFile::StateFile(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid())
    throw RestoreError("cannot open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0)
    throw RestoreError("cannot stat " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw RestoreError(path + " is not a file");
  if (st.st_size == 0) throw RestoreError(path + " is empty");
  if (static_cast<std::uint64_t>(st.st_size) > kStateFileMax)
    throw RestoreError(path + " is larger than 1 GiB");
  size_ = static_cast<std::size_t>(st.st_size);
  // Populated at once: one call instead of a page fault per 4 KiB.
  addr_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
                 fd.get(), 0);
  if (addr_ == MAP_FAILED) {
    addr_ = nullptr;
    throw RestoreError("cannot map " + path + ": " + std::strerror(errno));
  }
}

StateFile::~StateFile() {
  if (addr_) ::munmap(addr_, size_);
}

int check_state_file(const std::string& path, DomId master,
                     const QuotaDefaults& quota) {
  try {
    StateFile file(path);
    migrate::Stream stream;
    store::Store store;
    store::WatchIndex watches;
    RestoredState r = restore_bytes(file.bytes(), /*check_tree=*/true, master,
                                    quota, store, watches, stream);
    if (!store.transaction_bytes_agree())
      throw RestoreError("transaction accounting disagrees after restore");
    if (store.tree().size() != stream.committed_nodes)
      throw RestoreError("restored " + std::to_string(store.tree().size()) +
                         " nodes of " +
                         std::to_string(stream.committed_nodes));
    std::printf(
        "state OK: %zu nodes, %zu connections, %zu watches, %zu "
        "transactions (%s)\n",
        stream.committed_nodes, r.conns.size(), r.watches, r.transactions,
        r.from_cxenstored ? "from cxenstored" : "from another xenstored");
    return 0;
  } catch (const std::exception& e) {
    std::printf("state %s not restorable: %s\n", path.c_str(), e.what());
    return 1;
  }
}

// ---- the server's half: sockets, rings, domains ---------------------------

namespace {

// A socket fd named by the stream must be one: the number came from a
// file, and the daemon before may have closed it meanwhile.
bool is_socket(int fd) {
  struct stat st;
  return fd >= 0 && ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

}  // namespace

void Server::restore_state(std::string_view bytes) {
  // The daemon before checked the stream whole in its dry run; building the
  // tree finds a node without its parent, or given twice, again, so the
  // reader need not look.
  migrate::Stream stream;
  RestoredState r =
      restore_bytes(bytes, /*check_tree=*/false, master_domid_,
                    QuotaDefaults{quotas_.defaults(), opts_.quotas_given},
                    store_, watches_, stream);
  quotas_.restore(r.quota, std::move(r.domain_quota));
  clients_.ids_taken_up_to(r.conns.size());
  for (const auto& [dom, d] : r.domains)
    if (!d.introduced && d.features_known)
      domains_.restore_preset(dom, d.features);

  std::vector<ConnId> lost;
  for (const RestoredConn& rc : r.conns) {
    const migrate::ConnRec& rec = *rc.rec;
    Client* c = nullptr;
    if (rec.kind == migrate::ConnKind::kSocket) {
      if (!is_socket(rec.socket_fd)) {
        spdlog::warn(
            "live update: connection {}: fd {} is no socket; "
            "dropped with its watches and transactions",
            rec.conn_id, rec.socket_fd);
        lost.push_back(rc.id);
        continue;
      }
      int fd = rec.socket_fd;
      // Kept even if this fails: a blocking socket still serves.
      if (!make_own(fd))
        spdlog::warn("live update: connection {}: fd {}: {}", rec.conn_id, fd,
                     std::strerror(errno));
      auto transport =
          std::make_unique<transport::SocketTransport>(UniqueFd(fd));
      Client client{std::make_unique<transport::Connection>(
                        rc.id, std::move(transport), io_buffers_),
                    ops::Session{rc.id, store::Caller{master_domid_, true,
                                                      std::nullopt}}};
      // Lost like a non-socket fd (closed with `client`), not fatal: the
      // other connections must survive the update.
      if (!loop_.add(fd, rc.id.value, true, false)) {
        spdlog::warn("live update: connection {}: fd {} cannot be polled; "
                     "dropped with its watches and transactions",
                     rec.conn_id, fd);
        lost.push_back(rc.id);
        continue;
      }
      c = clients_.add(std::move(client)).first;
    } else {
      c = restore_ring(rc, r.domains.at(rc.dom));
      if (!c) {
        lost.push_back(rc.id);
        continue;
      }
    }
    c->conn->preload_input(std::string(rec.in));
    if (!c->conn->preload_output(rec.out, rec.out_resp_len))
      spdlog::warn(
          "live update: connection {}: pending output does not "
          "split into messages; sent as it is",
          rec.conn_id);
    if (store_.transaction_count(rc.id) != 0)
      c->ta_start = std::chrono::steady_clock::now();
    if (!c->ring) update_interest(*c);
  }
  for (ConnId id : lost) {
    watches_.remove_all(id);
    store_.drop_transactions(id);
  }
  spdlog::info(
      "live update: restored {} nodes, {} connections, {} watches, {} "
      "transactions, {} domains ({})",
      store_.tree().size(), clients_.size(), r.watches, r.transactions,
      domains_.size(),
      r.from_cxenstored ? "from cxenstored" : "from another xenstored");
}

// A domain's ring, mapped again; its event channel is still bound in the
// inherited fd, so the stream's local port is used as it is. A ring that
// cannot be mapped leaves the domain known but unserved (as C does), so
// that its death is still reported.
Client* Server::restore_ring(const RestoredConn& rc, const RestoredDomain& d) {
  const migrate::ConnRec& rec = *rc.rec;
  if (!hv_) {
    spdlog::warn("live update: dom{}'s ring dropped: no hypervisor",
                 rc.dom.value);
    return nullptr;
  }
  std::unique_ptr<xen::MappedRing> ring =
      rc.dom == master_domid_ ? hv_->rings->map_dom0()
                              : hv_->rings->map_domain(rc.dom, d.gfn);
  std::uint32_t features = d.features;
  if (!d.features_known) features = ring ? ring->page()->server_features : 0;
  if (!ring)
    spdlog::warn(
        "live update: dom{}: ring cannot be mapped again; the "
        "domain is kept, not served",
        rc.dom.value);
  attach_bound_domain(rc.dom, std::move(ring), rec.evtchn, features, rc.id);
  Domain& dom = *domains_.find(rc.dom);
  dom.gfn = d.gfn;
  dom.shutdown_reported = d.shutdown_reported;
  Client& c = *clients_.find(rc.id);
  c.session.caller.target = rc.target;
  if (rc.stalled) c.stalled = true;
  return &c;
}

}  // namespace cxs::daemon

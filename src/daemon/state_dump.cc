// The daemon's whole state as a migration stream (migrate/format.h), for a
// live update. The core records are exactly what the C xenstored 4.17 reads,
// in the order its reader needs (GLOBAL; each connection followed by its
// watches, a domain's target before the domains acting for it; the special
// nodes; the tree from "/" with parents before children); what C has no
// record for goes into cxenstored's own record types, which C skips:
// transactions, node generations, watch depths, domain and connection flags.
#include <algorithm>
#include <deque>
#include <stdexcept>
#include <unordered_map>

#include "cxenstored/features.h"
#include "daemon/server.h"
#include "daemon/version.h"
#include "migrate/writer.h"
#include "wire/message_type.h"

namespace cxs::daemon {
namespace {

// Every quota, by the name the stream spells it with (Xen 4.22's).
std::vector<migrate::QuotaEntry> quota_entries(const store::Quota& q) {
  std::vector<migrate::QuotaEntry> out;
  out.reserve(store::kQuotas.size());
  for (const store::QuotaSpec& spec : store::kQuotas)
    out.push_back({spec.stream, static_cast<std::uint32_t>(q.*spec.field)});
  return out;
}

// The "OK" the -s request gets from the new daemon, as C writes it: the
// request's header with the reply's length.
std::string start_reply(const wire::Header& request) {
  return wire::encode_message(
      static_cast<std::uint32_t>(wire::MsgType::XS_CONTROL), request.req_id,
      request.tx_id, std::string_view("OK\0", 3));
}

// A transaction's overlay as a record. The record's views point into
// `storage` (encoded permission lists) and into the transaction itself.
migrate::CxsTransactionRec transaction_record(
    const store::Transaction& tx, std::uint32_t conn_id,
    std::deque<std::string>& storage) {
  auto perms = [&](const PermList& list) -> std::string_view {
    std::string& raw = storage.emplace_back();
    if (!migrate::encode_perms(list, raw))
      throw std::runtime_error("transaction " + std::to_string(tx.id().value) +
                               ": a permission cannot be written");
    return raw;
  };
  migrate::CxsTransactionRec r;
  r.conn_id = conn_id;
  r.tx_id = tx.id().value;
  r.max_entries = static_cast<std::uint32_t>(tx.max_entries());
  tx.for_each_entry(
      [&](std::string_view path, const store::Transaction::Entry& e) {
        migrate::CxsTxNode n{};
        n.path = path;
        if (e.has_copy) n.flags |= migrate::kTxNodeHasCopy;
        if (e.check_generation) n.flags |= migrate::kTxNodeCheckGeneration;
        if (e.check_perms) n.flags |= migrate::kTxNodeCheckPerms;
        if (!e.children.empty()) {
          n.flags |= migrate::kTxNodeHasDelta;
          n.child_delta = e.children.ops();
        }
        n.written = e.written;
        n.base_generation = e.base_generation;
        if (e.copy) {
          n.flags |= migrate::kTxNodeCopyPresent;
          n.copy_generation = e.copy->generation;
          n.value = e.copy->value.view();
          n.perms_raw = perms(e.copy->perms.list());
          n.children = e.copy->children.joined();
        }
        r.nodes.push_back(n);
      });
  for (const store::Event& ev : tx.events()) {
    migrate::CxsTxEvent e{};
    e.path = ev.path;
    if (ev.recursive) e.flags |= migrate::kTxEventRecursive;
    if (ev.exact) e.flags |= migrate::kTxEventExact;
    e.perms_raw = perms(ev.perms.list());
    e.old_perms_raw = perms(ev.old_perms.list());
    r.events.push_back(e);
  }
  return r;
}

}  // namespace

bool Server::dump_state(std::uint32_t version, const LiveUpdateSession* session,
                        const StateOut& out, DumpBuffers* buffers) const {
  migrate::StreamWriter w(version);
  // The stream leaves in pieces: a 6 MB buffer grown step by step cost more
  // than writing it (copies, and page faults that are dear in a VM); one
  // buffer of a piece's size is reused.
  constexpr std::size_t kPiece = DumpBuffers::kPiece;
  DumpBuffers local;
  if (!buffers) buffers = &local;
  w.adopt_buffer(std::move(buffers->piece));
  w.reserve(kPiece + 65536);
  bool ok = true;
  auto flush_if_full = [&] {
    if (!ok || w.pending().size() < kPiece) return;
    ok = out(w.pending());
    w.forget_pending();
  };
  w.global({listener_.fd(), hv_ ? hv_->events->fd() : -1});
  std::string producer = "cxenstored " + std::string(version_string());
  w.cxs_daemon({1, store_.next_transaction_id(),
                store_.tree().generation_counter(), 0, producer});

  // Connections in the order a C reader needs: the master domain's ring,
  // the other rings (a target before those acting for it), then sockets.
  std::vector<const Client*> order;
  for (const auto& [id, c] : clients_)
    if (!c.conn->closing()) order.push_back(&c);
  // A client is a domain's ring connection when its domain names it.
  auto ring_domain = [this](const Client& c) -> const Domain* {
    const Domain* dom = domains_.find(c.session.caller.dom);
    return dom && dom->conn == c.conn->id() ? dom : nullptr;
  };
  auto rank = [&](const Client* c) {
    const Domain* d = ring_domain(*c);
    if (!d) return 3;
    if (d->id == master_domid_) return 0;
    return c->session.caller.target ? 2 : 1;
  };
  std::stable_sort(order.begin(), order.end(),
                   [&](const Client* a, const Client* b) {
                     int ra = rank(a), rb = rank(b);
                     return ra != rb ? ra < rb : a->conn->id() < b->conn->id();
                   });

  std::unordered_map<ConnId, std::uint32_t> stream_ids;
  std::uint32_t next_id = 1;
  for (const Client* c : order) {
    std::uint32_t id = next_id++;
    stream_ids[c->conn->id()] = id;
    migrate::ConnRec r;
    r.conn_id = id;
    std::string in = c->conn->unprocessed_input();
    transport::Connection::PendingOutput out = c->conn->pending_output();
    if (session && session->owner == c->conn->id())
      out.bytes += start_reply(session->start_request);
    r.in = in;
    r.out = out.bytes;
    r.out_resp_len = static_cast<std::uint16_t>(out.partial);
    const Domain* dom = ring_domain(*c);
    if (dom) {
      r.kind = migrate::ConnKind::kRing;
      r.domid = static_cast<std::uint16_t>(dom->id.value);
      r.target =
          c->session.caller.target
              ? static_cast<std::uint16_t>(c->session.caller.target->value)
              : migrate::kDomidInvalid;
      r.evtchn = dom->port;
    } else {
      r.kind = migrate::ConnKind::kSocket;
      r.socket_fd = c->conn->transport().poll_fd();
    }
    w.connection(r);
    flush_if_full();
    std::uint32_t flags = 0;
    if (c->stalled) flags |= migrate::kCxsConnStalled;
    if (c->session.caller.privileged) flags |= migrate::kCxsConnPrivileged;
    if (flags || dom) w.cxs_connection({id, flags});
    // In registration order: the order its events fire in.
    watches_.for_each_of(c->conn->id(), [&](const store::WatchRecord& watch) {
      // A relative watch is written as the client gave it (C re-derives
      // relativeness from the path).
      std::string_view given = watch.path().substr(watch.strip());
      std::optional<std::uint16_t> depth;
      if (watch.depth() >= 0)
        depth = static_cast<std::uint16_t>(std::min(watch.depth(), 0xFFFE));
      w.watch({id, given, watch.token(), version >= 2 ? depth : std::nullopt});
      if (depth && version < 2)
        w.cxs_watch_depth({id, *depth, given, watch.token()});
    });
  }

  // Nodes: the special ones first, then the tree from "/" (as C 4.17).
  std::vector<std::uint64_t>& generations = buffers->generations;
  generations.clear();
  generations.reserve(store_.tree().size());
  auto node = [&](std::string_view path, store::NodeView n) {
    w.node(migrate::NodeRec{0, 0, 0, {}, path, n.value()}, n.perms().list());
    generations.push_back(n.generation());
    flush_if_full();
  };
  // (C 4.17 writes @releaseDomain first; any order of the two will do.)
  store_.tree().for_each_special(node);
  store_.tree().for_each_preorder(node);
  w.cxs_generations(generations);

  // Open transactions of the connections written above.
  store_.for_each_transaction([&](const store::Transaction& tx) {
    auto owner = stream_ids.find(tx.owner());
    if (owner == stream_ids.end()) return;
    std::deque<std::string> storage;
    w.cxs_transaction(transaction_record(tx, owner->second, storage));
    flush_if_full();
  });

  // Quotas: the defaults, each domain's own, and per-domain flags.
  w.global_quota({quota_entries(quotas_.defaults()), {}});
  for (const auto& [dom, q] : quotas_.own())
    w.domain({static_cast<std::uint16_t>(dom.value), 0, quota_entries(q)});
  domains_.for_each([&](const Domain& d) {
    std::uint16_t flags = migrate::kCxsDomainIntroduced;
    if (d.shutdown_reported) flags |= migrate::kCxsDomainShutdownReported;
    auto conn = stream_ids.find(d.conn);
    w.cxs_domain({static_cast<std::uint16_t>(d.id.value), flags, d.features,
                  d.port, conn == stream_ids.end() ? 0 : conn->second, d.gfn});
  });
  domains_.for_each_preset([&](DomId dom, std::uint32_t features) {
    w.cxs_domain({static_cast<std::uint16_t>(dom.value), 0, features, 0, 0, 0});
  });
  if (!w.ok()) throw std::runtime_error(w.error());
  return ok && out(w.finish());
}

}  // namespace cxs::daemon

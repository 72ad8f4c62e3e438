// Live update: a store exported through its walks (tree, special nodes,
// generation counter, open transactions, next transaction id) and rebuilt
// in another store behaves exactly as the original afterwards: same nodes,
// generations, accounting and listings, and its open transactions commit,
// conflict and record events as the originals would have.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "store/store.h"

namespace cxs::store {
namespace {

const Caller kPriv{DomId{0}, true};
Caller guest(std::uint32_t dom) { return Caller{DomId{dom}, false}; }
constexpr ConnId kConn1{1};
constexpr ConnId kConn2{2};

// --- the export, as the daemon's stream writer will take it ------------------

struct NodeDump {
  std::string path;
  std::string value;
  PermList perms;
  std::uint64_t generation = 0;
  std::string children;
  bool operator==(const NodeDump&) const = default;
};

void PrintTo(const NodeDump& n, std::ostream* os) {
  *os << n.path << " gen " << n.generation << " value ["
      << n.value.size() << " bytes] children [" << n.children.size()
      << " bytes]";
}

struct TreeDump {
  std::vector<NodeDump> nodes;  // pre-order
  std::vector<NodeDump> specials;
  std::uint64_t counter = 0;
};

NodeDump dump_node(std::string_view path, NodeView n) {
  return NodeDump{std::string(path), std::string(n.value()), n.perms().list(),
                  n.generation(), n.children().joined()};
}

TreeDump dump_tree(const Tree& t) {
  TreeDump d;
  t.for_each_preorder([&](std::string_view path, NodeView n) {
    d.nodes.push_back(dump_node(path, n));
  });
  t.for_each_special([&](std::string_view path, NodeView n) {
    d.specials.push_back(dump_node(path, n));
  });
  d.counter = t.generation_counter();
  return d;
}

// `generations` false: as a stream of the C daemon, which has none.
void restore_tree(Tree& t, const TreeDump& d, bool generations = true) {
  t.clear_for_restore();
  for (const auto* list : {&d.nodes, &d.specials})
    for (const NodeDump& n : *list)
      ASSERT_TRUE(t.restore_node(n.path, n.value, n.perms,
                                 generations ? n.generation : 0))
          << n.path;
  if (generations) t.set_generation_counter(d.counter);
}

std::string perms_text(const PermList& perms) {
  std::string out;
  for (const Perm& p : perms)
    out += std::to_string(p.dom.value) + ":" + std::to_string(p.bits) + " ";
  return out;
}

std::string event_text(const Event& ev) {
  return ev.path + (ev.recursive ? " recursive" : "") +
         (ev.exact ? " exact" : "") + " perms " + perms_text(ev.perms) +
         "old " + perms_text(ev.old_perms);
}

std::string entry_text(std::string_view path, const Transaction::Entry& e) {
  std::string out(path);
  out += e.has_copy ? " copied" : " not-copied";
  if (e.copy)
    out += " value=" + e.copy->value.str() + " perms=" +
           perms_text(e.copy->perms) +
           "gen=" + std::to_string(e.copy->generation) +
           " children=" + e.copy->children.joined();
  else
    out += " absent";
  out += e.check_generation ? " check" : " no-check";
  if (e.check_perms) out += " check-perms";
  if (!e.children.empty()) out += " delta=" + std::string(e.children.ops());
  out += " base=" + std::to_string(e.base_generation);
  out += " written=" + std::to_string(e.written);
  return out;
}

struct TxDump {
  TxId id;
  ConnId owner;
  std::size_t max_entries = 0;
  std::vector<std::pair<std::string, Transaction::Entry>> entries;
  EventSink events;
};

struct StoreDump {
  TreeDump tree;
  std::vector<TxDump> transactions;
  std::uint32_t next_tx_id = 0;
};

StoreDump dump_store(const Store& s) {
  StoreDump d;
  d.tree = dump_tree(s.tree());
  s.for_each_transaction([&](const Transaction& tx) {
    TxDump t{tx.id(), tx.owner(), tx.max_entries(), {}, tx.events()};
    tx.for_each_entry([&](std::string_view path, const Transaction::Entry& e) {
      t.entries.emplace_back(std::string(path), e);
    });
    d.transactions.push_back(std::move(t));
  });
  d.next_tx_id = s.next_transaction_id();
  return d;
}

void restore_store(Store& s, const StoreDump& d) {
  restore_tree(s.tree(), d.tree);
  for (const TxDump& t : d.transactions) {
    auto tx = s.restore_transaction(t.id, t.owner, t.max_entries);
    ASSERT_TRUE(tx.ok());
    for (const auto& [path, e] : t.entries)
      ASSERT_TRUE((*tx)->restore_entry(path, e).ok()) << path;
    for (const Event& ev : t.events) (*tx)->restore_event(ev);
  }
  s.set_next_transaction_id(d.next_tx_id);
}

std::vector<std::string> texts(const EventSink& events) {
  std::vector<std::string> out;
  for (const Event& ev : events) out.push_back(event_text(ev));
  return out;
}

std::vector<std::string> texts(const Transaction& tx) {
  std::vector<std::string> out;
  tx.for_each_entry([&](std::string_view path, const Transaction::Entry& e) {
    out.push_back(entry_text(path, e));
  });
  return out;
}

std::vector<std::uint32_t> sorted_domains(const Tree& t) {
  std::vector<std::uint32_t> out;
  for (DomId d : t.referenced_domains()) out.push_back(d.value);
  std::sort(out.begin(), out.end());
  return out;
}

std::string status_text(const Status& s) {
  if (s.ok()) return "OK";
  switch (s.error()) {
    case XsErr::kEAGAIN: return "EAGAIN";
    case XsErr::kENOENT: return "ENOENT";
    case XsErr::kEACCES: return "EACCES";
    default: return "E" + std::to_string(static_cast<int>(s.error()));
  }
}

// Everything a client could observe of two trees is the same.
void expect_same_trees(Store& a, Store& b) {
  TreeDump da = dump_tree(a.tree()), db = dump_tree(b.tree());
  EXPECT_EQ(da.nodes, db.nodes);
  EXPECT_EQ(da.specials, db.specials);
  EXPECT_EQ(da.counter, db.counter);
  EXPECT_EQ(a.tree().size(), b.tree().size());
  for (std::uint32_t dom : {0u, 5u, 7u, 9u, 42u}) {
    EXPECT_EQ(a.tree().usage(DomId{dom}).nodes,
              b.tree().usage(DomId{dom}).nodes) << dom;
    EXPECT_EQ(a.tree().usage(DomId{dom}).bytes,
              b.tree().usage(DomId{dom}).bytes) << dom;
  }
  EXPECT_EQ(sorted_domains(a.tree()), sorted_domains(b.tree()));
  for (const NodeDump& n : da.nodes) {
    auto dir_a = a.directory(kPriv, nullptr, n.path);
    auto dir_b = b.directory(kPriv, nullptr, n.path);
    ASSERT_TRUE(dir_a.ok() && dir_b.ok()) << n.path;
    EXPECT_EQ(*dir_a, *dir_b) << n.path;
    auto part_a = a.directory_part(kPriv, nullptr, n.path, 0, 4096);
    auto part_b = b.directory_part(kPriv, nullptr, n.path, 0, 4096);
    ASSERT_TRUE(part_a.ok() && part_b.ok()) << n.path;
    EXPECT_EQ(part_a->generation, part_b->generation) << n.path;
    EXPECT_EQ(part_a->names, part_b->names) << n.path;
    EXPECT_EQ(part_a->last, part_b->last) << n.path;
  }
}

// --- building a store through its ordinary operations ------------------------

void ok(const Status& s, std::string_view what) {
  ASSERT_TRUE(s.ok()) << what << ": " << status_text(s);
}

void build_tree(Store& s) {
  EventSink ev;
  ok(s.write(kPriv, nullptr, "/local/domain/5/name", "guest5", ev), "name");
  ok(s.set_perms(kPriv, nullptr, "/local/domain/5",
                 {Perm{DomId{5}, kPermNone}}, ev),
     "home 5");
  ok(s.mkdir(kPriv, nullptr, "/local/domain/7", ev), "home 7");
  // An entry for a domain that did not exist: kept, granting nothing.
  ok(s.set_perms(kPriv, nullptr, "/local/domain/7",
                 {Perm{DomId{7}, kPermNone}, Perm{DomId{5}, kPermRead},
                  Perm{DomId{9}, kPermIgnored}},
                 ev),
     "home 7 perms");
  // Nodes created by the guests are theirs.
  ok(s.write(guest(5), nullptr, "/local/domain/5/data",
             std::string("a\0b\0c", 5), ev),
     "binary");
  ok(s.write(guest(5), nullptr, "/local/domain/5/device/vif/0/state", "4", ev),
     "vif");
  ok(s.write(guest(7), nullptr, "/local/domain/7/x", std::string(300, 'x'),
             ev),
     "long value");
  ok(s.mkdir(guest(7), nullptr, "/local/domain/7/empty", ev), "mkdir");
  ok(s.write(guest(5), nullptr, "/local/domain/5/gone/below", "v", ev), "gone");
  ok(s.rm(guest(5), nullptr, "/local/domain/5/gone", ev), "rm");
  ok(s.write(guest(5), nullptr, "/local/domain/5/name2", "1", ev), "name2");
  ok(s.write(guest(5), nullptr, "/local/domain/5/name2", "2", ev), "rewrite");
  std::string deep = "/deep";
  for (int i = 0; i < 200; ++i) deep += "/d" + std::to_string(i % 3);
  ok(s.write(kPriv, nullptr, deep, "bottom", ev), "deep");
  ok(s.set_perms(kPriv, nullptr, "@releaseDomain",
                 {Perm{DomId{0}, kPermNone}, Perm{DomId{5}, kPermRead}}, ev),
     "special");
}

TEST(Restore, ARestoredTreeIsTheOriginalInEveryRespect) {
  Store a;
  build_tree(a);
  TreeDump d = dump_tree(a.tree());
  ASSERT_EQ(d.nodes.size() + d.specials.size(), a.tree().size());
  EXPECT_EQ(d.nodes.front().path, "/");
  EXPECT_EQ(d.specials.size(), 2u);
  Store b;
  restore_tree(b.tree(), d);
  expect_same_trees(a, b);
  EXPECT_EQ(b.tree().find("/local/domain/5/data")->value(),
            std::string("a\0b\0c", 5));
  EXPECT_EQ(b.get_perms(kPriv, nullptr, "/local/domain/7")->back(),
            (Perm{DomId{9}, kPermIgnored}));
  // And they go on alike: the same request stamps the same generation.
  EventSink ev_a, ev_b;
  ok(a.write(kPriv, nullptr, "/local/domain/5/new", "n", ev_a), "a");
  ok(b.write(kPriv, nullptr, "/local/domain/5/new", "n", ev_b), "b");
  EXPECT_EQ(texts(ev_a), texts(ev_b));
  expect_same_trees(a, b);
}

// What the C daemon's stream gives: nodes without generations.
TEST(Restore, ATreeWithoutGenerationsGetsFreshOnesInStreamOrder) {
  Store a;
  build_tree(a);
  TreeDump d = dump_tree(a.tree());
  Store b;
  restore_tree(b.tree(), d, /*generations=*/false);
  TreeDump back = dump_tree(b.tree());
  ASSERT_EQ(back.nodes.size(), d.nodes.size());
  std::uint64_t last = 0;
  for (std::size_t i = 0; i < back.nodes.size(); ++i) {
    EXPECT_GT(back.nodes[i].generation, last) << back.nodes[i].path;
    last = back.nodes[i].generation;
    NodeDump expected = d.nodes[i];
    expected.generation = last;
    EXPECT_EQ(back.nodes[i], expected);
  }
  EXPECT_EQ(back.counter, d.nodes.size() + d.specials.size());
  for (std::uint32_t dom : {0u, 5u, 7u})
    EXPECT_EQ(a.tree().usage(DomId{dom}).bytes,
              b.tree().usage(DomId{dom}).bytes);
  EXPECT_EQ(sorted_domains(a.tree()), sorted_domains(b.tree()));
}

// --- open transactions --------------------------------------------------------

Transaction* start(Store& s, ConnId owner) {
  auto id = s.start_transaction(owner, 0);
  EXPECT_TRUE(id.ok());
  return s.find_transaction(owner, *id);
}

struct Open {
  TxId t1, t2, t3;
};

// Three transactions over the same base, each touching nodes in a different
// way: a read then a write, a read of a missing node, a removal, a mkdir,
// write-only entries, a permission change, a new child.
Open open_transactions(Store& s) {
  EventSink ev;
  for (const char* p : {"/a/x", "/a/y", "/b", "/c/d", "/e"})
    EXPECT_TRUE(s.write(kPriv, nullptr, p, "base", ev).ok()) << p;
  EXPECT_TRUE(s.mkdir(kPriv, nullptr, "/p", ev).ok());
  ev.clear();

  Transaction* t1 = start(s, kConn1);
  EXPECT_TRUE(s.read(kPriv, t1, "/a/x").ok());
  EXPECT_TRUE(s.write(kPriv, t1, "/a/x", "t1", ev).ok());
  EXPECT_FALSE(s.read(kPriv, t1, "/m").ok());  // recorded absent
  EXPECT_TRUE(s.rm(kPriv, t1, "/c/d", ev).ok());
  EXPECT_TRUE(s.mkdir(kPriv, t1, "/f/g", ev).ok());
  EXPECT_TRUE(s.write(kPriv, t1, "/b", "t1", ev).ok());  // write-only

  Transaction* t2 = start(s, kConn2);
  EXPECT_TRUE(s.read(kPriv, t2, "/e").ok());
  EXPECT_TRUE(s.set_perms(kPriv, t2, "/e",
                          {Perm{DomId{0}, kPermNone},
                           Perm{DomId{9}, kPermIgnored}},
                          ev)
                  .ok());
  EXPECT_TRUE(s.write(kPriv, t2, "/p/q", "new", ev).ok());
  EXPECT_TRUE(s.write(kPriv, t2, "/b", "t2", ev).ok());

  Transaction* t3 = start(s, kConn1);
  EXPECT_TRUE(s.write(kPriv, t3, "/e", "t3", ev).ok());  // write-only
  // A new child of /p: /p looked at, its list changed by a delta.
  EXPECT_TRUE(s.write(kPriv, t3, "/p/s", "t3", ev).ok());
  EXPECT_TRUE(ev.empty());  // everything so far waits for its commit
  return Open{t1->id(), t2->id(), t3->id()};
}

// The same further requests and commits on either store: what each gave.
std::vector<std::string> go_on(Store& s, const Open& o) {
  std::vector<std::string> log;
  EventSink ev;
  Transaction* t1 = s.find_transaction(kConn1, o.t1);
  Transaction* t2 = s.find_transaction(kConn2, o.t2);
  Transaction* t3 = s.find_transaction(kConn1, o.t3);
  if (!t1 || !t2 || !t3) return {"transaction missing"};
  // Widens the event recorded for /p/q before the update.
  log.push_back("t2 rm /p/q " + status_text(s.rm(kPriv, t2, "/p/q", ev)));
  // A read after a write-only access: checked from now on.
  auto b = s.read(kPriv, t1, "/b");
  log.push_back("t1 read /b " + std::string(b.ok() ? *b : "error"));
  log.push_back("write /a/x " +
                status_text(s.write(kPriv, nullptr, "/a/x", "outside", ev)));
  log.push_back("write /z " +
                status_text(s.write(kPriv, nullptr, "/z", "outside", ev)));
  // Another child of /p: t3's delta goes onto this list at its commit.
  log.push_back("write /p/r " +
                status_text(s.write(kPriv, nullptr, "/p/r", "outside", ev)));
  log.push_back("commit t1 " + status_text(s.end_transaction(
                                   kPriv, kConn1, o.t1, true, ev)));
  log.push_back("commit t2 " + status_text(s.end_transaction(
                                   kPriv, kConn2, o.t2, true, ev)));
  log.push_back("commit t3 " + status_text(s.end_transaction(
                                   kPriv, kConn1, o.t3, true, ev)));
  auto next = s.start_transaction(kConn2, 0);
  log.push_back("next id " + std::to_string(next.ok() ? next->value : 0));
  for (const std::string& e : texts(ev)) log.push_back("event " + e);
  return log;
}

TEST(Restore, RestoredTransactionsCommitAndConflictAsTheOriginalsWould) {
  Store a;
  Open o = open_transactions(a);
  StoreDump d = dump_store(a);
  ASSERT_EQ(d.transactions.size(), 3u);

  Store b;
  restore_store(b, d);
  EXPECT_EQ(b.open_transactions(), 3u);
  EXPECT_EQ(b.transaction_count(kConn1), 2u);
  EXPECT_EQ(b.transaction_count(kConn2), 1u);
  EXPECT_EQ(b.transaction_bytes(kConn1), a.transaction_bytes(kConn1));
  EXPECT_EQ(b.transaction_bytes(kConn2), a.transaction_bytes(kConn2));
  EXPECT_TRUE(b.transaction_bytes_agree());
  for (auto [owner, id] : {std::pair{kConn1, o.t1}, std::pair{kConn2, o.t2},
                           std::pair{kConn1, o.t3}}) {
    const Transaction* ta = a.find_transaction(owner, id);
    const Transaction* tb = b.find_transaction(owner, id);
    ASSERT_NE(tb, nullptr) << id.value;
    EXPECT_EQ(texts(*tb), texts(*ta)) << id.value;
    EXPECT_EQ(texts(tb->events()), texts(ta->events())) << id.value;
    EXPECT_EQ(tb->held_bytes(), ta->held_bytes()) << id.value;
    EXPECT_EQ(tb->held_bytes(), tb->recount_held_bytes()) << id.value;
    EXPECT_EQ(tb->max_entries(), ta->max_entries()) << id.value;
  }
  EXPECT_EQ(b.next_transaction_id(), a.next_transaction_id());

  std::vector<std::string> log_a = go_on(a, o);
  std::vector<std::string> log_b = go_on(b, o);
  EXPECT_EQ(log_a, log_b);
  // The outcomes themselves, so that two equal wrong logs do not pass.
  ASSERT_GE(log_a.size(), 9u);
  EXPECT_EQ(log_a[0], "t2 rm /p/q OK");
  EXPECT_EQ(log_a[1], "t1 read /b t1");
  EXPECT_EQ(log_a[5], "commit t1 EAGAIN");
  EXPECT_EQ(log_a[6], "commit t2 OK");
  EXPECT_EQ(log_a[7], "commit t3 OK");
  EXPECT_EQ(log_a[8], "next id 4");
  EXPECT_NE(std::find(log_a.begin(), log_a.end(),
                      "event /p/q recursive perms 0:0 old "),
            log_a.end());
  expect_same_trees(a, b);
  EXPECT_EQ(*b.read(kPriv, nullptr, "/e"), "t3");
  EXPECT_EQ(*b.read(kPriv, nullptr, "/b"), "t2");
  EXPECT_EQ(*b.directory(kPriv, nullptr, "/p"), std::string("r\0s\0", 4));
  EXPECT_EQ(b.get_perms(kPriv, nullptr, "/e")->back(),
            (Perm{DomId{9}, kPermIgnored}));
}

TEST(Restore, ATransactionIdIsRestoredOnceAndNeverZero) {
  Store s;
  EXPECT_EQ(s.restore_transaction(TxId{0}, kConn1, 0).error(), XsErr::kEINVAL);
  auto tx = s.restore_transaction(TxId{7}, kConn1, 0);
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ((*tx)->id(), TxId{7});
  EXPECT_EQ(s.find_transaction(kConn1, TxId{7}), *tx);
  EXPECT_EQ(s.find_transaction(kConn2, TxId{7}), nullptr);
  EXPECT_EQ(s.restore_transaction(TxId{7}, kConn2, 0).error(), XsErr::kEEXIST);
  EXPECT_EQ(s.transaction_count(kConn1), 1u);
  EXPECT_EQ(s.transaction_count(kConn2), 0u);
  s.drop_transactions(kConn1);
  EXPECT_EQ(s.open_transactions(), 0u);
}

// Ids go on from where the old daemon was, and skip any still open (after
// 2^32 transactions the counter wraps below the open ones).
TEST(Restore, NewTransactionIdsGoOnAndSkipOpenOnes) {
  Store s;
  ASSERT_TRUE(s.restore_transaction(TxId{40}, kConn1, 0).ok());
  ASSERT_TRUE(s.restore_transaction(TxId{41}, kConn1, 0).ok());
  s.set_next_transaction_id(40);
  EXPECT_EQ(s.next_transaction_id(), 40u);
  EXPECT_EQ(*s.start_transaction(kConn2, 0), TxId{42});
  s.set_next_transaction_id(0xFFFFFFFF);
  EXPECT_EQ(*s.start_transaction(kConn2, 0), TxId{0xFFFFFFFF});
  EXPECT_EQ(*s.start_transaction(kConn2, 0), TxId{1});  // never 0
}

TEST(Restore, AnEntryIsRestoredOnceAndOnlyAsARequestCouldHaveMadeIt) {
  Transaction tx(TxId{1}, kConn1, 2);
  Transaction::Entry read;
  read.copy = Node{"v", PermList{Perm{DomId{0}, kPermNone}}, 3, {"c"}};
  read.has_copy = true;
  read.check_generation = true;
  read.base_generation = 3;
  ASSERT_TRUE(tx.restore_entry("/a", read).ok());
  EXPECT_EQ(tx.restore_entry("/a", read).error(), XsErr::kEEXIST);
  Transaction::Entry bad = read;
  bad.has_copy = false;  // a copy that was never taken
  EXPECT_EQ(tx.restore_entry("/b", bad).error(), XsErr::kEINVAL);
  EXPECT_EQ(tx.restore_entry("/b/", read).error(), XsErr::kEINVAL);
  Transaction::Entry absent;
  absent.has_copy = true;
  absent.check_generation = true;
  ASSERT_TRUE(tx.restore_entry("/m", absent).ok());
  EXPECT_EQ(tx.entry_count(), 2u);
  EXPECT_EQ(tx.held_bytes(), tx.recount_held_bytes());
  EXPECT_EQ(tx.held_bytes(), Transaction::entry_bytes("/a") +
                                 Tree::node_bytes("/a", *read.copy) +
                                 Transaction::entry_bytes("/m"));
  // The limit held when the entries were made; it still bounds new ones.
  Tree t;
  ASSERT_TRUE(tx.entry(t, "/a").ok());
  EXPECT_EQ(tx.entry(t, "/c").error(), XsErr::kENOSPC);
}

TEST(Restore, ARestoredEventIsWidenedByALaterChangeOfItsPath) {
  Transaction tx(TxId{1}, kConn1, 0);
  tx.restore_event(Event{"/a", false, PermList{Perm{DomId{0}, kPermNone}}, {}});
  tx.restore_event(Event{"/b", false, {}, {}});
  tx.record_event(Event{"/a", true, PermList{Perm{DomId{5}, kPermNone}}, {}});
  ASSERT_EQ(tx.events().size(), 2u);
  EXPECT_EQ(tx.events()[0].path, "/a");
  EXPECT_TRUE(tx.events()[0].recursive);
  EXPECT_EQ(tx.events()[0].perms.list(), (PermList{Perm{DomId{5}, kPermNone}}));
  EXPECT_EQ(tx.events()[1].path, "/b");
}

}  // namespace
}  // namespace cxs::store

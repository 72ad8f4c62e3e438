// A failed request changes nothing (docs/design.md): for every request type
// the 1st, 2nd, ... Nth allocation the request makes fails in turn, until
// the request succeeds, and after each failure the whole store (every
// node's value, permissions, children and generation, the per-domain usage,
// the domains permission lists name, the open transactions' overlays and
// events, the watch index) must equal a copy taken before, and the next
// request must be served. This binary's global operator new fails on
// demand to get there.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <sstream>

#include "ops_fixture.h"
#include "store/path.h"
#include "wire/perm_string.h"

#include "failing_new.h"

using cxs::test::g_allocations;
using cxs::test::g_allocations_left;

namespace cxs::ops {
namespace {

using wire::MsgType;

// Everything a request could change, spelled out for comparison.
std::string dump(const store::Store& st, const store::WatchIndex& w) {
  std::ostringstream out;
  std::vector<std::string> nodes;
  st.tree().for_each([&](std::string_view path, store::NodeView n) {
    std::ostringstream line;
    line << path << " = '" << n.value() << "' "
         << wire::format_perm_list(n.perms().list()).size() << ":";
    for (const Perm& p : n.perms().list())
      line << p.dom.value << "/" << int(p.bits) << ",";
    std::string kids = n.children().joined();
    std::replace(kids.begin(), kids.end(), '\0', '|');
    line << " [" << kids << "] g" << n.generation();
    nodes.push_back(line.str());
  });
  std::sort(nodes.begin(), nodes.end());
  for (const auto& l : nodes) out << l << "\n";
  for (std::uint32_t d : {0u, 5u, 6u, 7u}) {
    auto u = st.tree().usage(DomId{d});
    out << "usage " << d << " " << u.nodes << " " << u.bytes << "\n";
  }
  auto refs = st.tree().referenced_domains();
  std::sort(refs.begin(), refs.end(),
            [](DomId a, DomId b) { return a.value < b.value; });
  out << "referenced";
  for (DomId d : refs) out << " " << d.value;
  out << "\nnodes " << st.tree().size() << "\n";
  st.for_each_transaction([&](const store::Transaction& tx) {
    out << "tx " << tx.id().value << " held " << tx.held_bytes() << " = "
        << tx.recount_held_bytes() << "\n";
    tx.for_each_entry([&](std::string_view path, const auto& e) {
      out << "  " << path << " copy " << e.has_copy << e.copy.has_value()
          << " check " << e.check_generation << " base " << e.base_generation
          << " written " << int(e.written);
      if (e.copy) {
        std::string kids = e.copy->children.joined();
        std::replace(kids.begin(), kids.end(), '\0', '|');
        out << " '" << e.copy->value.view() << "' [" << kids << "] perms "
            << e.copy->perms.size();
      }
      out << "\n";
    });
    for (const auto& ev : tx.events())
      out << "  event " << ev.path << " " << ev.recursive << ev.exact << "\n";
  });
  w.for_each([&](const store::WatchRecord& watch) {
    out << "watch " << watch.conn().value << " " << watch.path() << " "
        << watch.token() << " " << watch.depth() << "\n";
  });
  for (std::uint32_t c : {1u, 5u})
    out << "watches " << c << " " << w.count(ConnId{c}) << " "
        << w.bytes(ConnId{c}) << "\n";
  return out.str();
}

class OutOfMemory : public OpsTest {
 protected:
  // A store with some of everything: nodes of two owners with long values
  // and permission lists naming others, a subtree, watches of both, and an
  // open transaction of dom5's with entries and an event.
  void SetUp() override {
    std::string big(200, 'x');
    ASSERT_EQ(send(MsgType::XS_WRITE, z("/a/b/c") + big).payload(), kOk);
    ASSERT_EQ(send(MsgType::XS_WRITE, z("/a/b/d") + "short").payload(), kOk);
    ASSERT_EQ(send(MsgType::XS_MKDIR, z("/local/domain/5")).payload(), kOk);
    ASSERT_EQ(send(MsgType::XS_SET_PERMS,
                   z("/local/domain/5") + z("n5") + z("r6") + z("b7"))
                  .payload(),
              kOk);
    ASSERT_EQ(send(dom5_, MsgType::XS_WRITE, z("/local/domain/5/x") + big)
                  .payload(),
              kOk);
    ASSERT_EQ(send(MsgType::XS_SET_PERMS, z("/a") + z("n0") + z("r5"))
                  .payload(),
              kOk);
    for (int i = 0; i < 20; ++i)
      ASSERT_EQ(send(dom5_, MsgType::XS_WRITE,
                     z("/local/domain/5/many/n" + std::to_string(i)) + big)
                    .payload(),
                kOk);
    ASSERT_EQ(send(MsgType::XS_WATCH, z("/a") + z("tok")).payload(), kOk);
    ASSERT_EQ(send(dom5_, MsgType::XS_WATCH, z("/local/domain/5") + z("t5"))
                  .payload(),
              kOk);
    tx5_ = start_tx(dom5_);
    ASSERT_EQ(send(dom5_, MsgType::XS_WRITE, z("/local/domain/5/x") + "txv",
                   tx5_)
                  .payload(),
              kOk);
  }

  // Runs `req` with the 1st, 2nd, ... allocation failing until it succeeds;
  // after each failure the store must be as before. Returns the number of
  // failures seen (the allocations the request makes).
  struct Req {
    const Session* session;
    MsgType type;
    std::string payload;
    std::uint32_t tx = 0;
  };
  int sweep(const Req& r) {
    std::string before = dump(store_, watches_);
    for (int fail_at = 0; fail_at < 100000; ++fail_at) {
      Ctx ctx(store_, watches_, *r.session, limits_, &daemon_);
      wire::Header hdr{static_cast<std::uint32_t>(r.type), 1, r.tx,
                       static_cast<std::uint32_t>(r.payload.size())};
      g_allocations = 0;
      g_allocations_left = fail_at;
      Result<Reply> result = dispatch(ctx, Request{hdr, r.payload});
      g_allocations_left = -1;
      if (result.ok() || result.error() != XsErr::kENOMEM) {
        EXPECT_TRUE(result.ok()) << xs_error_name(result.error());
        return fail_at;
      }
      std::string after = dump(store_, watches_);
      EXPECT_EQ(after, before) << "allocation " << fail_at + 1 << " of "
                               << wire::msg_type_name(
                                      static_cast<std::uint32_t>(r.type));
      if (after != before) return fail_at;
      // And it still serves.
      EXPECT_TRUE(send(MsgType::XS_DIRECTORY, z("/")).ok());
    }
    ADD_FAILURE() << "never succeeded";
    return -1;
  }

  static std::string name_of(const Req& r) {
    return std::string(wire::msg_type_name(static_cast<std::uint32_t>(r.type))) +
           " " + r.payload.substr(0, 30);
  }

  std::uint32_t tx5_ = 0;
};

TEST_F(OutOfMemory, EveryNodeRequestChangesNothingWhenAnAllocationFails) {
  std::string big(300, 'y');
  std::vector<Req> reqs = {
      {&dom0_, MsgType::XS_READ, z("/a/b/c")},
      {&dom5_, MsgType::XS_READ, z("x")},  // relative
      {&dom0_, MsgType::XS_DIRECTORY, z("/a/b")},
      {&dom0_, MsgType::XS_DIRECTORY_PART, z("/local/domain/5/many") + z("0")},
      {&dom0_, MsgType::XS_GET_PERMS, z("/local/domain/5")},
      {&dom0_, MsgType::XS_WRITE, z("/a/b/c") + big},  // existing, long
      {&dom0_, MsgType::XS_WRITE, z("/new/deep/path/node") + big},
      {&dom5_, MsgType::XS_WRITE, z("/local/domain/5/y/z") + big},
      {&dom0_, MsgType::XS_MKDIR, z("/m/n")},
      {&dom0_, MsgType::XS_SET_PERMS, z("/a/b") + z("n0") + z("r5") + z("w6")},
      {&dom0_, MsgType::XS_SET_PERMS,
       z("/local/domain/5/x") + z("n5") + z("r7")},
      {&dom0_, MsgType::XS_RM, z("/a/b")},                 // a subtree
      {&dom5_, MsgType::XS_RM, z("/local/domain/5/many")},  // 21 nodes
      {&dom0_, MsgType::XS_WATCH, z("/w/deep/er") + z("tk")},
      {&dom5_, MsgType::XS_WATCH, z("/local/domain/5/x") + z("t2")},
      {&dom0_, MsgType::XS_UNWATCH, z("/a") + z("tok")},
      {&dom5_, MsgType::XS_RESET_WATCHES, ""},
      {&dom0_, MsgType::XS_TRANSACTION_START, z("")},
      {&dom0_, MsgType::XS_GET_DOMAIN_PATH, z("5")},
      {&dom0_, MsgType::XS_IS_DOMAIN_INTRODUCED, z("5")},
      {&dom0_, MsgType::XS_INTRODUCE, z("6") + z("99") + z("1")},
      {&dom0_, MsgType::XS_RELEASE, z("6")},
      {&dom0_, MsgType::XS_RESUME, z("6")},
      {&dom0_, MsgType::XS_SET_TARGET, z("6") + z("5")},
      {&dom0_, MsgType::XS_GET_FEATURE, z("5")},
      {&dom0_, MsgType::XS_SET_FEATURE, z("5") + z("1")},
      {&dom0_, MsgType::XS_GET_QUOTA, z("nodes")},
      {&dom0_, MsgType::XS_SET_QUOTA, z("nodes") + z("9")},
      {&dom0_, MsgType::XS_CONTROL, z("print") + z("x")},
  };
  int total = 0;
  for (const Req& r : reqs) {
    SCOPED_TRACE(name_of(r));
    int n = sweep(r);
    ASSERT_GE(n, 0);
    total += n;
  }
  std::cout << "[ sweep ] " << reqs.size() << " requests, " << total
            << " allocation failures, each leaving the store as it was"
            << std::endl;
}

TEST_F(OutOfMemory, RequestsInsideATransactionChangeNothingWhenOneFails) {
  std::string big(300, 'y');
  std::vector<Req> reqs = {
      {&dom5_, MsgType::XS_READ, z("/local/domain/5/many/n3"), tx5_},
      {&dom5_, MsgType::XS_DIRECTORY, z("/local/domain/5/many"), tx5_},
      {&dom5_, MsgType::XS_GET_PERMS, z("/local/domain/5/x"), tx5_},
      {&dom5_, MsgType::XS_WRITE, z("/local/domain/5/x") + big, tx5_},
      {&dom5_, MsgType::XS_WRITE, z("/local/domain/5/t/u/v") + big, tx5_},
      {&dom5_, MsgType::XS_MKDIR, z("/local/domain/5/mk"), tx5_},
      {&dom5_, MsgType::XS_SET_PERMS, z("/local/domain/5/x") + z("n5"), tx5_},
      {&dom5_, MsgType::XS_RM, z("/local/domain/5/many"), tx5_},
  };
  for (const Req& r : reqs) {
    SCOPED_TRACE(name_of(r));
    ASSERT_GE(sweep(r), 0);
  }
}

// A failed commit ends the transaction (as a conflicting one does) and
// leaves the committed store as it was.
TEST_F(OutOfMemory, ACommitOfManyNodesIsAllOrNothing) {
  std::string big(100, 'z');
  std::string before;
  for (int fail_at = 0;; ++fail_at) {
    ASSERT_LT(fail_at, 100000);
    std::uint32_t tx = start_tx(dom0_);
    for (int i = 0; i < 40; ++i)
      ASSERT_EQ(send(MsgType::XS_WRITE,
                     z("/c/d" + std::to_string(i % 4) + "/n" +
                       std::to_string(i)) + big,
                     tx)
                    .payload(),
                kOk);
    ASSERT_EQ(send(MsgType::XS_RM, z("/a/b"), tx).payload(), kOk);
    ASSERT_EQ(send(MsgType::XS_WRITE, z("/a/b/d") + "merged", tx).payload(),
              kOk);
    ASSERT_EQ(send(MsgType::XS_SET_PERMS, z("/a") + z("n0") + z("r6"), tx)
                  .payload(),
              kOk);
    ASSERT_EQ(send(MsgType::XS_WRITE, z("/local/domain/5/x") + "w", tx)
                  .payload(),
              kOk);
    // The committed store without this transaction: the copy to compare.
    std::string committed_only;
    {
      std::string all = dump(store_, watches_);
      committed_only = all.substr(0, all.find("tx "));
    }
    Ctx ctx(store_, watches_, dom0_, limits_, &daemon_);
    std::string payload = z("T");
    wire::Header hdr{static_cast<std::uint32_t>(MsgType::XS_TRANSACTION_END),
                     1, tx, static_cast<std::uint32_t>(payload.size())};
    g_allocations_left = fail_at;
    Result<Reply> r = dispatch(ctx, Request{hdr, payload});
    g_allocations_left = -1;
    if (r.ok()) {
      std::cout << "[ commit ] 45 changes: " << fail_at
                << " allocation failures, each leaving the store as it was"
                << std::endl;
      EXPECT_EQ(send(MsgType::XS_READ, z("/a/b/d")).payload(), "merged");
      break;
    }
    ASSERT_EQ(r.error(), XsErr::kENOMEM);
    std::string all = dump(store_, watches_);
    ASSERT_EQ(all.substr(0, all.find("tx ")), committed_only)
        << "allocation " << fail_at + 1;
    EXPECT_EQ(send(MsgType::XS_TRANSACTION_END, z("F"), tx).error(),
              XsErr::kENOENT);  // ended all the same
  }
}

// What a domain's release does to the store (Server::release calls this):
// its nodes go, grants naming it are dropped, or all of it not at all.
TEST_F(OutOfMemory, ADomainsReleaseIsAllOrNothing) {
  std::string before = dump(store_, watches_);
  for (int fail_at = 0;; ++fail_at) {
    ASSERT_LT(fail_at, 100000);
    store::EventSink events;
    g_allocations_left = fail_at;
    bool ok = true;
    try {
      store_.forget_domain(DomId{5}, std::nullopt, events);
    } catch (const std::bad_alloc&) {
      ok = false;
    }
    g_allocations_left = -1;
    if (ok) {
      std::cout << "[ release ] " << fail_at
                << " allocation failures, each leaving the store as it was"
                << std::endl;
      EXPECT_FALSE(store_.tree().find("/local/domain/5/many"));
      EXPECT_GE(events.size(), 20u);
      break;
    }
    ASSERT_EQ(dump(store_, watches_), before) << "allocation " << fail_at + 1;
  }
}

TEST_F(OutOfMemory, ADomainsReleaseToAnHeirIsAllOrNothing) {
  std::string before = dump(store_, watches_);
  for (int fail_at = 0;; ++fail_at) {
    ASSERT_LT(fail_at, 100000);
    store::EventSink events;
    g_allocations_left = fail_at;
    bool ok = true;
    try {
      store_.forget_domain(DomId{5}, DomId{0}, events);
    } catch (const std::bad_alloc&) {
      ok = false;
    }
    g_allocations_left = -1;
    if (ok) {
      EXPECT_EQ(store_.tree().find("/local/domain/5/x").perms().front().dom,
                DomId{0});
      break;
    }
    ASSERT_EQ(dump(store_, watches_), before) << "allocation " << fail_at + 1;
  }
}

}  // namespace
}  // namespace cxs::ops

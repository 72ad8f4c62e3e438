// Transactions: one test per worked example of the design note atop
// store/transaction.h, then isolation, atomicity, events and limits.
#include "store/transaction.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store/store.h"

namespace cxs::store {
namespace {

const Caller kPriv{DomId{0}, true, std::nullopt};
const Caller kDom5{DomId{5}, false, std::nullopt};
constexpr ConnId kConnA{1};
constexpr ConnId kConnB{2};

class TransactionTest : public ::testing::Test {
 protected:
  Transaction* start(ConnId owner = kConnA, std::size_t max_nodes = 0) {
    auto id = store_.start_transaction(owner, max_nodes);
    EXPECT_TRUE(id.ok());
    Transaction* tx = store_.find_transaction(owner, *id);
    EXPECT_NE(tx, nullptr);
    return tx;
  }
  Status commit(Transaction* tx, const Caller& c = kPriv) {
    return store_.end_transaction(c, tx->owner(), tx->id(), true, events_);
  }
  Status abort(Transaction* tx) {
    return store_.end_transaction(kPriv, tx->owner(), tx->id(), false,
                                  events_);
  }
  void write(std::string_view path, std::string_view value,
             Transaction* tx = nullptr, const Caller& c = kPriv) {
    EventSink ev;
    ASSERT_TRUE(store_.write(c, tx, path, value, ev).ok()) << path;
  }
  void rm(std::string_view path, Transaction* tx = nullptr) {
    EventSink ev;
    ASSERT_TRUE(store_.rm(kPriv, tx, path, ev).ok()) << path;
  }
  std::string value(std::string_view path, Transaction* tx = nullptr) {
    auto r = store_.read(kPriv, tx, path);
    if (r) return std::string(*r);
    // The store library does not link the wire's name table.
    switch (r.error()) {
      case XsErr::kENOENT: return "<ENOENT>";
      case XsErr::kENOSPC: return "<ENOSPC>";
      case XsErr::kEACCES: return "<EACCES>";
      default: return "<error>";
    }
  }

  Store store_;
  EventSink events_;
};

XsErr err(const Status& s) { return s.ok() ? XsErr::kEIO : s.error(); }

// --- the design note's worked examples -------------------------------------

TEST_F(TransactionTest, HeldBytesFollowEveryKindOfChange) {
  write("/a/b", "12345");
  write("/a/c", "x");
  Transaction* tx = start();
  EXPECT_EQ(tx->held_bytes(), 0u);
  auto agree = [&] { EXPECT_EQ(tx->held_bytes(), tx->recount_held_bytes()); };
  value("/a/b", tx);  // a read copies the node in
  agree();
  EXPECT_GT(tx->held_bytes(), 0u);
  write("/a/b", std::string(300, 'v'), tx);  // grows the copy
  agree();
  write("/a/new/deep", "v", tx);  // creates two, changes /a's children
  agree();
  rm("/a/c", tx);  // drops a copy, changes /a again
  agree();
  write("/a/b", "", tx);  // shrinks
  agree();
  value("/missing", tx);  // an absent node holds nothing
  agree();
  EXPECT_TRUE(commit(tx).ok());
}

TEST_F(TransactionTest, Example1DisjointWritersBothCommit) {
  write("/a", "a0");
  write("/b", "b0");
  Transaction* t1 = start(kConnA);
  Transaction* t2 = start(kConnB);
  write("/a", "a1", t1);
  write("/b", "b2", t2);
  EXPECT_TRUE(commit(t1).ok());
  EXPECT_TRUE(commit(t2).ok());
  EXPECT_EQ(value("/a"), "a1");
  EXPECT_EQ(value("/b"), "b2");
}

TEST_F(TransactionTest, Example2ReadThenForeignWriteGivesEagain) {
  write("/a", "a0");
  write("/b", "b0");
  Transaction* t1 = start();
  EXPECT_EQ(value("/a", t1), "a0");
  write("/a", "foreign");
  write("/b", "mine", t1);
  EXPECT_EQ(err(commit(t1)), XsErr::kEAGAIN);
  EXPECT_EQ(value("/b"), "b0");
  EXPECT_EQ(value("/a"), "foreign");
}

TEST_F(TransactionTest, ReadAfterOwnWriteThenForeignChangeGivesEagain) {
  write("/a", "a0");
  Transaction* t1 = start();
  write("/a", "mine", t1);  // first access: a write, which checks nothing
  write("/a/new", "foreign");
  auto listing = store_.directory(kPriv, t1, "/a");  // the snapshot's list
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(*listing, "");
  EXPECT_EQ(err(commit(t1)), XsErr::kEAGAIN);
  EXPECT_EQ(value("/a"), "a0");
}

// A listing is a read of the node's child list: a child added or removed
// by someone else conflicts; a child's value changing does not (the list
// is the same).
TEST_F(TransactionTest, DirectoryThenForeignNewChildGivesEagain) {
  write("/d/x", "");
  Transaction* t1 = start();
  EXPECT_EQ(*store_.directory(kPriv, t1, "/d"), std::string("x\0", 2));
  write("/d/y", "foreign");
  write("/e", "mine", t1);
  EXPECT_EQ(err(commit(t1)), XsErr::kEAGAIN);
  EXPECT_EQ(value("/e"), "<ENOENT>");
}

TEST_F(TransactionTest, DirectoryThenForeignRemovedChildGivesEagain) {
  write("/d/x", "");
  write("/d/y", "");
  Transaction* t1 = start();
  EXPECT_EQ(*store_.directory(kPriv, t1, "/d"), std::string("x\0y\0", 4));
  rm("/d/y");
  write("/e", "mine", t1);
  EXPECT_EQ(err(commit(t1)), XsErr::kEAGAIN);
}

TEST_F(TransactionTest, DirectoryThenForeignChildValueChangeCommits) {
  write("/d/x", "0");
  Transaction* t1 = start();
  EXPECT_EQ(*store_.directory(kPriv, t1, "/d"), std::string("x\0", 2));
  write("/d/x", "1");
  write("/e", "mine", t1);
  EXPECT_TRUE(commit(t1).ok());
  EXPECT_EQ(value("/e"), "mine");
  EXPECT_EQ(value("/d/x"), "1");
}

TEST_F(TransactionTest, Example3WriteOnlyOverlapCommitsAndLastWins) {
  write("/a", "a0");
  Transaction* t1 = start(kConnA);
  Transaction* t2 = start(kConnB);
  write("/a", "from-t1", t1);
  write("/a", "from-t2", t2);
  EXPECT_TRUE(commit(t1).ok());
  EXPECT_EQ(value("/a"), "from-t1");
  EXPECT_TRUE(commit(t2).ok());
  EXPECT_EQ(value("/a"), "from-t2");
}

TEST_F(TransactionTest, Example4DeletedAndRecreatedNodeConflicts) {
  write("/a", "a0");
  Transaction* t1 = start();
  EXPECT_EQ(value("/a", t1), "a0");
  rm("/a");
  write("/a", "a0");  // same value, new generation
  write("/b", "x", t1);
  EXPECT_EQ(err(commit(t1)), XsErr::kEAGAIN);
  EXPECT_EQ(store_.tree().find("/b"), nullptr);
}

TEST_F(TransactionTest, Example5AbsentThenCreatedConflicts) {
  Transaction* t1 = start();
  auto r = store_.read(kPriv, t1, "/m");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), XsErr::kENOENT);
  write("/m", "now");
  EXPECT_EQ(err(commit(t1)), XsErr::kEAGAIN);
}

// The unrelated write is below /tool: a new child of "/" would change the
// nearest existing ancestor of /m, which the failed read has read (as C).
TEST_F(TransactionTest, Example5AbsentAndStillAbsentCommits) {
  Transaction* t1 = start();
  EXPECT_FALSE(store_.read(kPriv, t1, "/m").ok());
  write("/tool/other", "x");
  EXPECT_TRUE(commit(t1).ok());
}

// Issue 17, item 1 (differential finding): reading a missing node reads
// its nearest existing ancestor, as C 4.17 does: the ancestor is frozen for
// the transaction and an outside change to it makes the commit EAGAIN.
TEST_F(TransactionTest, MissingReadFreezesTheNearestExistingAncestor) {
  write("/t/p", "old");
  Transaction* t = start();
  EXPECT_EQ(value("/t/p/missing/x", t), "<ENOENT>");
  write("/t/p", "new");
  EXPECT_EQ(value("/t/p", t), "old");
  EXPECT_EQ(err(commit(t)), XsErr::kEAGAIN);
}

TEST_F(TransactionTest, MissingReadThenAMissingAncestorCreatedGivesEagain) {
  write("/t/p", "");
  Transaction* t = start();
  EXPECT_EQ(value("/t/p/missing/x", t), "<ENOENT>");
  write("/t/p/missing", "now");
  EXPECT_EQ(err(commit(t)), XsErr::kEAGAIN);
}

// The permissions are frozen too: a guest keeps the answer it got.
TEST_F(TransactionTest, MissingReadFreezesTheAncestorsPermissions) {
  write("/t/p", "");
  EventSink ev;
  ASSERT_TRUE(store_.set_perms(kPriv, nullptr, "/t/p",
                               {Perm{DomId{0}, kPermRead}}, ev)
                  .ok());
  Transaction* t = start(kConnA);
  auto r = store_.read(kDom5, t, "/t/p/missing");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), XsErr::kENOENT);
  ASSERT_TRUE(store_.set_perms(kPriv, nullptr, "/t/p",
                               {Perm{DomId{0}, kPermNone}}, ev)
                  .ok());
  r = store_.read(kDom5, t, "/t/p/missing");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), XsErr::kENOENT);
  EXPECT_EQ(err(commit(t, kDom5)), XsErr::kEAGAIN);
}

// Found by the differential tester (seed 104): a request refused with
// EACCES inside a transaction has read the node and its parent, as C
// 4.17's does, so an outside change to the parent makes the commit EAGAIN.
TEST_F(TransactionTest, RefusedSetPermsReadsTheNodeAndItsParent) {
  write("/t/shared", "");
  EventSink ev;
  ASSERT_TRUE(store_.set_perms(kPriv, nullptr, "/t/shared",
                               {Perm{DomId{0}, kPermRead | kPermWrite}}, ev)
                  .ok());
  Transaction* t = start(kConnA);
  auto s = store_.set_perms(kDom5, t, "/t/shared", {Perm{DomId{5}, 3}}, ev);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), XsErr::kEACCES);
  ASSERT_TRUE(store_.set_perms(kPriv, nullptr, "/t",
                               {Perm{DomId{5}, kPermRead | kPermWrite}}, ev)
                  .ok());
  EXPECT_EQ(err(commit(t, kDom5)), XsErr::kEAGAIN);
}

TEST_F(TransactionTest, RefusedReadThenParentChangedGivesEagain) {
  write("/t/p", "v");
  EventSink ev;
  ASSERT_TRUE(store_.set_perms(kPriv, nullptr, "/t/p",
                               {Perm{DomId{0}, kPermNone}}, ev)
                  .ok());
  Transaction* t = start(kConnA);
  auto r = store_.read(kDom5, t, "/t/p");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), XsErr::kEACCES);
  write("/t", "changed");
  EXPECT_EQ(err(commit(t, kDom5)), XsErr::kEAGAIN);
}

// Writes do not read the ancestors: transactions creating children under
// one parent conflict only through the parent's child list (example 6),
// not through the permission check (issue 19 relies on this).
TEST_F(TransactionTest, WriteBelowAMissingNodeDoesNotReadAncestorsAboveIt) {
  write("/p", "v");
  Transaction* t = start();
  write("/p/x/y", "1", t);
  write("/q", "outside");
  EXPECT_TRUE(commit(t).ok());
}

// --- children added and removed without a listing (issue 19) ----------------

// Each case runs in both commit orders: `first` commits first.
class ChildMergeTest : public TransactionTest,
                       public ::testing::WithParamInterface<bool> {
 protected:
  // t1 and t2 in the order the parameter says.
  std::pair<Transaction*, Transaction*> ordered(Transaction* t1,
                                                Transaction* t2) {
    return GetParam() ? std::pair{t1, t2} : std::pair{t2, t1};
  }
  std::string list(std::string_view path, Transaction* tx = nullptr) {
    auto r = store_.directory(kPriv, tx, path);
    return r ? *r : "<error>";
  }
};
INSTANTIATE_TEST_SUITE_P(BothOrders, ChildMergeTest, ::testing::Bool());

TEST_P(ChildMergeTest, Example6DisjointCreatorsUnderOneParentBothCommit) {
  write("/p", "");
  Transaction* t1 = start(kConnA);
  Transaction* t2 = start(kConnB);
  write("/p/x", "1", t1);
  write("/p/y", "2", t2);
  auto [first, second] = ordered(t1, t2);
  EXPECT_TRUE(commit(first).ok());
  EXPECT_TRUE(commit(second).ok());
  EXPECT_EQ(value("/p/x"), "1");
  EXPECT_EQ(value("/p/y"), "2");
  // Listed in commit order, as the serial order of the two would.
  EXPECT_EQ(list("/p"),
            GetParam() ? std::string("x\0y\0", 4) : std::string("y\0x\0", 4));
}

TEST_P(ChildMergeTest, CreatorsOfTheSameChildSecondGetsEagain) {
  write("/p", "");
  Transaction* t1 = start(kConnA);
  Transaction* t2 = start(kConnB);
  write("/p/x", "1", t1);
  write("/p/x", "2", t2);
  auto [first, second] = ordered(t1, t2);
  EXPECT_TRUE(commit(first).ok());
  EXPECT_EQ(err(commit(second)), XsErr::kEAGAIN);
  EXPECT_EQ(value("/p/x"), GetParam() ? "1" : "2");
  EXPECT_EQ(list("/p"), std::string("x\0", 2));
}

TEST_P(ChildMergeTest, ListingThenAnotherCreatorGivesEagain) {
  write("/p/a", "");
  Transaction* t1 = start(kConnA);
  Transaction* t2 = start(kConnB);
  EXPECT_EQ(list("/p", t1), std::string("a\0", 2));
  write("/p/x", "1", t1);
  write("/p/y", "2", t2);
  if (GetParam()) {
    // The lister first: its listing was still true.
    EXPECT_TRUE(commit(t1).ok());
    EXPECT_TRUE(commit(t2).ok());
    EXPECT_EQ(list("/p"), std::string("a\0x\0y\0", 6));
  } else {
    EXPECT_TRUE(commit(t2).ok());
    EXPECT_EQ(err(commit(t1)), XsErr::kEAGAIN);
    EXPECT_EQ(list("/p"), std::string("a\0y\0", 4));
  }
}

TEST_P(ChildMergeTest, ListingAfterOwnCreationThenAnotherCreatorGivesEagain) {
  write("/p", "");
  Transaction* t1 = start(kConnA);
  Transaction* t2 = start(kConnB);
  write("/p/x", "1", t1);
  EXPECT_EQ(list("/p", t1), std::string("x\0", 2));
  write("/p/y", "2", t2);
  auto [first, second] = ordered(t1, t2);
  EXPECT_TRUE(commit(first).ok());
  if (GetParam())
    EXPECT_TRUE(commit(second).ok());
  else
    EXPECT_EQ(err(commit(second)), XsErr::kEAGAIN);
}

TEST_P(ChildMergeTest, DisjointRemovalAndCreationBothCommit) {
  write("/p/x", "");
  Transaction* t1 = start(kConnA);
  Transaction* t2 = start(kConnB);
  rm("/p/x", t1);
  write("/p/y", "2", t2);
  auto [first, second] = ordered(t1, t2);
  EXPECT_TRUE(commit(first).ok());
  EXPECT_TRUE(commit(second).ok());
  EXPECT_EQ(value("/p/x"), "<ENOENT>");
  EXPECT_EQ(list("/p"), std::string("y\0", 2));
}

TEST_P(ChildMergeTest, DisjointRemovalsBothCommit) {
  write("/p/x", "");
  write("/p/y", "");
  write("/p/z", "");
  Transaction* t1 = start(kConnA);
  Transaction* t2 = start(kConnB);
  rm("/p/x", t1);
  rm("/p/y", t2);
  auto [first, second] = ordered(t1, t2);
  EXPECT_TRUE(commit(first).ok());
  EXPECT_TRUE(commit(second).ok());
  EXPECT_EQ(list("/p"), std::string("z\0", 2));
}

TEST_P(ChildMergeTest, RemovalOfTheSameChildSecondGetsEagain) {
  write("/p/x", "");
  Transaction* t1 = start(kConnA);
  Transaction* t2 = start(kConnB);
  rm("/p/x", t1);
  rm("/p/x", t2);
  auto [first, second] = ordered(t1, t2);
  EXPECT_TRUE(commit(first).ok());
  EXPECT_EQ(err(commit(second)), XsErr::kEAGAIN);
}

TEST_P(ChildMergeTest, RemovalThenAChangeBelowTheRemovedNodeGivesEagain) {
  write("/p/x", "");
  Transaction* t1 = start(kConnA);
  Transaction* t2 = start(kConnB);
  rm("/p/x", t1);
  write("/p/x/new", "below", t2);
  auto [first, second] = ordered(t1, t2);
  EXPECT_TRUE(commit(first).ok());
  EXPECT_EQ(err(commit(second)), XsErr::kEAGAIN);
  if (GetParam())
    EXPECT_EQ(value("/p/x"), "<ENOENT>");
  else
    EXPECT_EQ(value("/p/x/new"), "below");
}

// A creation copies the anchor's permissions to the new node, so those are
// what it depends on; the anchor's value is not.
TEST_P(ChildMergeTest, CreationSurvivesAChangeOfTheParentsValue) {
  write("/p", "v0");
  Transaction* t1 = start(kConnA);
  Transaction* t2 = start(kConnB);
  write("/p/x", "1", t1);
  write("/p", "v1", t2);
  auto [first, second] = ordered(t1, t2);
  EXPECT_TRUE(commit(first).ok());
  EXPECT_TRUE(commit(second).ok());
  EXPECT_EQ(value("/p"), "v1");
  EXPECT_EQ(list("/p"), std::string("x\0", 2));
}

TEST_P(ChildMergeTest, CreationThenAChangeOfTheParentsPermissionsGivesEagain) {
  write("/p", "");
  Transaction* t1 = start(kConnA);
  Transaction* t2 = start(kConnB);
  write("/p/x", "1", t1);
  EventSink ev;
  ASSERT_TRUE(
      store_.set_perms(kPriv, t2, "/p", {Perm{DomId{3}, kPermRead}}, ev).ok());
  auto [first, second] = ordered(t1, t2);
  EXPECT_TRUE(commit(first).ok());
  if (GetParam()) {
    // Created first, then re-permitted: a serial order exists.
    EXPECT_TRUE(commit(second).ok());
    EXPECT_EQ(*store_.get_perms(kPriv, nullptr, "/p/x"),
              (PermList{Perm{DomId{0}, kPermNone}}));
  } else {
    // Else /p/x would carry permissions /p no longer has.
    EXPECT_EQ(err(commit(second)), XsErr::kEAGAIN);
  }
}

TEST_P(ChildMergeTest, CreationUnderARemovedParentGivesEagain) {
  write("/p", "");
  Transaction* t1 = start(kConnA);
  Transaction* t2 = start(kConnB);
  write("/p/x", "1", t1);
  rm("/p", t2);
  auto [first, second] = ordered(t1, t2);
  EXPECT_TRUE(commit(first).ok());
  // The remover read /p, whose list the creation changed; the creator
  // needs /p to exist.
  EXPECT_EQ(err(commit(second)), XsErr::kEAGAIN);
  if (GetParam())
    EXPECT_EQ(value("/p/x"), "1");
  else
    EXPECT_EQ(value("/p"), "<ENOENT>");
}

TEST_P(ChildMergeTest, WrittenParentKeepsBothTheValueAndTheOthersChild) {
  write("/p", "v0");
  Transaction* t1 = start(kConnA);
  Transaction* t2 = start(kConnB);
  write("/p", "v1", t1);
  write("/p/x", "1", t1);
  write("/p/y", "2", t2);
  auto [first, second] = ordered(t1, t2);
  EXPECT_TRUE(commit(first).ok());
  EXPECT_TRUE(commit(second).ok());
  EXPECT_EQ(value("/p"), "v1");
  EXPECT_EQ(value("/p/x"), "1");
  EXPECT_EQ(value("/p/y"), "2");
}

// Names keep the order the transaction made them in, after the others'.
TEST_F(ChildMergeTest, NewNamesKeepTheTransactionsOrder) {
  write("/p/a", "");
  Transaction* t = start();
  write("/p/c", "", t);
  write("/p/b", "", t);
  write("/p/z", "outside");
  ASSERT_TRUE(commit(t).ok());
  EXPECT_EQ(list("/p"), std::string("a\0z\0c\0b\0", 8));
}

TEST_F(ChildMergeTest, ChildMadeAndRemovedInOneTransactionLeavesNoName) {
  write("/p", "");
  Transaction* t = start();
  write("/p/x", "", t);
  rm("/p/x", t);
  write("/p/y", "outside");
  ASSERT_TRUE(commit(t).ok());
  EXPECT_EQ(list("/p"), std::string("y\0", 2));
}

TEST_F(ChildMergeTest, ChildRemovedAndMadeAgainGoesLast) {
  write("/p/x", "old");
  Transaction* t = start();
  rm("/p/x", t);
  write("/p/x", "new", t);
  write("/p/y", "outside");
  ASSERT_TRUE(commit(t).ok());
  EXPECT_EQ(list("/p"), std::string("y\0x\0", 4));
  EXPECT_EQ(value("/p/x"), "new");
}

// A missing node's nearest existing ancestor is only looked at: a new
// child of it does not fail the commit (C's does), a permission change
// still does (MissingReadFreezesTheAncestorsPermissions).
TEST_F(ChildMergeTest, MissingReadThenANewSiblingCommits) {
  write("/t/p", "");
  Transaction* t = start();
  EXPECT_EQ(value("/t/p/missing", t), "<ENOENT>");
  write("/t/p/other", "outside");
  EXPECT_TRUE(commit(t).ok());
}

TEST_F(ChildMergeTest, MissingReadThenTheNodeCreatedGivesEagain) {
  write("/t/p", "");
  Transaction* t = start();
  EXPECT_EQ(value("/t/p/missing", t), "<ENOENT>");
  write("/t/p/missing", "outside");
  EXPECT_EQ(err(commit(t)), XsErr::kEAGAIN);
}

TEST_F(ChildMergeTest, RemovalOfAMissingNodeThenANewSiblingCommits) {
  write("/p", "");
  Transaction* t = start();
  rm("/p/gone", t);
  write("/p/other", "outside");
  EXPECT_TRUE(commit(t).ok());
}

// The domain-creation transaction of libxl, by two toolstacks at once:
// RM of the domain's missing home, then its creation with permissions.
TEST_P(ChildMergeTest, TwoDomainCreationsAtOnceBothCommit) {
  write("/local/domain/0/name", "Domain-0");
  write("/vm", "");
  auto create = [&](Transaction* t, int dom) {
    std::string home = "/local/domain/" + std::to_string(dom);
    std::string vm = "/vm/uuid-" + std::to_string(dom);
    rm(home, t);
    rm(vm, t);
    EventSink ev;
    ASSERT_TRUE(store_.mkdir(kPriv, t, home, ev).ok());
    ASSERT_TRUE(
        store_
            .set_perms(kPriv, t, home,
                       {Perm{DomId{0}, kPermNone}, Perm{DomId(dom), kPermRead}},
                       ev)
            .ok());
    ASSERT_TRUE(store_.mkdir(kPriv, t, vm, ev).ok());
    write(home + "/vm", vm, t);
    write(home + "/name", "guest" + std::to_string(dom), t);
  };
  Transaction* t1 = start(kConnA);
  Transaction* t2 = start(kConnB);
  create(t1, 5);
  create(t2, 6);
  auto [first, second] = ordered(t1, t2);
  EXPECT_TRUE(commit(first).ok());
  EXPECT_TRUE(commit(second).ok());
  EXPECT_EQ(value("/local/domain/5/name"), "guest5");
  EXPECT_EQ(value("/local/domain/6/name"), "guest6");
  EXPECT_EQ(list("/vm"), GetParam() ? std::string("uuid-5\0uuid-6\0", 14)
                                    : std::string("uuid-6\0uuid-5\0", 14));
}

// --- isolation ----------------------------------------------------------------

TEST_F(TransactionTest, TransactionSeesItsOwnWrites) {
  write("/a", "old");
  Transaction* t = start();
  write("/a", "new", t);
  write("/n/deep", "created", t);
  EXPECT_EQ(value("/a", t), "new");
  EXPECT_EQ(value("/n/deep", t), "created");
  EXPECT_EQ(*store_.directory(kPriv, t, "/n"), std::string("deep\0", 5));
}

TEST_F(TransactionTest, OthersDoNotSeeUncommittedWrites) {
  write("/a", "old");
  Transaction* t1 = start(kConnA);
  Transaction* t2 = start(kConnB);
  write("/a", "t1", t1);
  write("/n", "t1", t1);
  EXPECT_EQ(value("/a"), "old");
  EXPECT_EQ(value("/a", t2), "old");
  EXPECT_EQ(value("/n"), "<ENOENT>");
  EXPECT_EQ(value("/n", t2), "<ENOENT>");
}

TEST_F(TransactionTest, RemovalInsideATransactionIsVisibleOnlyToIt) {
  write("/r/c", "v");
  Transaction* t = start();
  rm("/r", t);
  EXPECT_EQ(value("/r", t), "<ENOENT>");
  EXPECT_EQ(value("/r/c", t), "<ENOENT>");
  EXPECT_EQ(value("/r/c"), "v");
  ASSERT_TRUE(commit(t).ok());
  EXPECT_EQ(store_.tree().find("/r"), nullptr);
  EXPECT_EQ(store_.tree().find("/r/c"), nullptr);
}

TEST_F(TransactionTest, AbortDiscardsEverything) {
  write("/a", "old");
  std::uint64_t g = store_.tree().find("/a")->generation();
  Transaction* t = start();
  TxId id = t->id();
  write("/a", "new", t);
  write("/n/m", "x", t);
  rm("/tool", t);
  EXPECT_TRUE(abort(t).ok());
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(value("/a"), "old");
  EXPECT_EQ(store_.tree().find("/a")->generation(), g);
  EXPECT_EQ(store_.tree().find("/n"), nullptr);
  EXPECT_NE(store_.tree().find("/tool/xenstored"), nullptr);
  EXPECT_EQ(store_.find_transaction(kConnA, id), nullptr);
}

TEST_F(TransactionTest, CommitIsAllOrNothing) {
  write("/a", "a0");
  write("/b", "b0");
  write("/c", "c0");
  Transaction* t = start();
  write("/a", "a1", t);
  write("/new/x", "n", t);
  rm("/b", t);
  EXPECT_EQ(value("/c", t), "c0");
  write("/c", "foreign");
  EXPECT_EQ(err(commit(t)), XsErr::kEAGAIN);
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(value("/a"), "a0");
  EXPECT_EQ(value("/b"), "b0");
  EXPECT_EQ(store_.tree().find("/new"), nullptr);
}

TEST_F(TransactionTest, TransactionIsGoneAfterAFailedCommit) {
  Transaction* t = start();
  TxId id = t->id();
  EXPECT_FALSE(store_.read(kPriv, t, "/m").ok());
  write("/m", "x");
  EXPECT_EQ(err(commit(t)), XsErr::kEAGAIN);
  EXPECT_EQ(store_.find_transaction(kConnA, id), nullptr);
}

// --- events -----------------------------------------------------------------

TEST_F(TransactionTest, EventsAreEmittedOnlyOnCommit) {
  write("/a", "a0");
  Transaction* t = start();
  EventSink during;
  ASSERT_TRUE(store_.write(kPriv, t, "/a", "a1", during).ok());
  ASSERT_TRUE(store_.write(kPriv, t, "/n/m", "x", during).ok());
  ASSERT_TRUE(store_.rm(kPriv, t, "/tool", during).ok());
  EXPECT_TRUE(during.empty());
  ASSERT_TRUE(commit(t).ok());
  std::vector<std::string> got;
  for (const auto& e : events_) got.push_back(e.path);
  EXPECT_EQ(got, (std::vector<std::string>{"/a", "/n/m",
                                           "/tool/xenstored", "/tool"}));
  EXPECT_TRUE(events_.back().recursive);
}

TEST_F(TransactionTest, AbortedTransactionEmitsNoEvents) {
  Transaction* t = start();
  write("/a", "x", t);
  ASSERT_TRUE(abort(t).ok());
  EXPECT_TRUE(events_.empty());
}

// --- write-only entries --------------------------------------------------------

TEST_F(TransactionTest, WriteOnlyNodeDeletedConcurrentlyGivesEagain) {
  write("/a", "a0");
  Transaction* t = start();
  write("/a", "mine", t);
  rm("/a");
  EXPECT_EQ(err(commit(t)), XsErr::kEAGAIN);
  EXPECT_EQ(store_.tree().find("/a"), nullptr);
}

TEST_F(TransactionTest, WriteOnlyNodeWhosePermsNowDenyTheCallerGivesEagain) {
  write("/d", "d0");
  EventSink ev;
  ASSERT_TRUE(store_
                  .set_perms(kPriv, nullptr, "/d",
                             {Perm{DomId{0}, kPermNone},
                              Perm{DomId{5}, kPermWrite}},
                             ev)
                  .ok());
  Transaction* t = start();
  write("/d", "from-5", t, kDom5);
  ASSERT_TRUE(store_
                  .set_perms(kPriv, nullptr, "/d", {Perm{DomId{0}, kPermNone}},
                             ev)
                  .ok());
  EXPECT_EQ(err(commit(t, kDom5)), XsErr::kEAGAIN);
  EXPECT_EQ(value("/d"), "d0");
}

TEST_F(TransactionTest, ChildCreatedUnderAWriteOnlyNodeSurvivesTheCommit) {
  write("/p", "p0");
  Transaction* t = start();
  write("/p", "p1", t);
  write("/p/new", "child");
  ASSERT_TRUE(commit(t).ok());
  EXPECT_EQ(value("/p"), "p1");
  EXPECT_EQ(value("/p/new"), "child");
  EXPECT_EQ(*store_.directory(kPriv, nullptr, "/p"), std::string("new\0", 4));
}

TEST_F(TransactionTest, WriteOnlyCommitCopiesOnlyTheFieldsWritten) {
  write("/f", "v0");
  Transaction* t = start();
  EventSink ev;
  ASSERT_TRUE(store_
                  .set_perms(kPriv, t, "/f", {Perm{DomId{3}, kPermRead}}, ev)
                  .ok());
  write("/f", "foreign");
  ASSERT_TRUE(commit(t).ok());
  EXPECT_EQ(value("/f"), "foreign");
  EXPECT_EQ(*store_.get_perms(kPriv, nullptr, "/f"),
            (PermList{Perm{DomId{3}, kPermRead}}));
}

TEST_F(TransactionTest, CommittedNodesGetNewGenerations) {
  write("/a", "a0");
  std::uint64_t g = store_.tree().find("/a")->generation();
  Transaction* t = start();
  write("/a", "a1", t);
  ASSERT_TRUE(commit(t).ok());
  EXPECT_GT(store_.tree().find("/a")->generation(), g);
}

// --- the transaction-nodes limit -----------------------------------------------

TEST_F(TransactionTest, NodeLimitGivesEnospcAndLeavesTheViewUnchanged) {
  write("/a", "a0");
  // Writing /x/y/z touches /x/y/z, /x/y, /x and "/": four entries.
  Transaction* t = start(kConnA, 3);
  EventSink ev;
  auto s = store_.write(kPriv, t, "/x/y/z", "v", ev);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), XsErr::kENOSPC);
  EXPECT_LE(t->entry_count(), 3u);
  EXPECT_EQ(value("/x", t), "<ENOENT>");
  EXPECT_EQ(value("/x/y/z", t), "<ENOENT>");
  EXPECT_EQ(*store_.directory(kPriv, nullptr, "/"),
            std::string("tool\0a\0", 7));
  ASSERT_TRUE(commit(t).ok());
  EXPECT_TRUE(events_.empty());
  EXPECT_EQ(store_.tree().find("/x"), nullptr);
}

// Issue 17, item 2 (kept difference, docs/compat.md): a write refused on
// the node-size quota inside a transaction changes nothing, so the
// transaction commits its other writes (C 4.17 answers the commit ENOMEM).
TEST_F(TransactionTest, WriteRefusedOnNodeSizeLeavesTheTransactionCommittable) {
  Quota quota;
  Caller guest{DomId{5}, false, std::nullopt, &quota};
  write("/home", "");
  EventSink ev;
  ASSERT_TRUE(store_.set_perms(kPriv, nullptr, "/home",
                               {Perm{DomId{5}, kPermNone}}, ev)
                  .ok());
  Transaction* t = start();
  write("/home/a", "v", t, guest);
  auto s = store_.write(guest, t, "/home/b", std::string(4000, 'q'), ev);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), XsErr::kENOSPC);
  EXPECT_TRUE(commit(t, guest).ok());
  EXPECT_EQ(value("/home/a"), "v");
  EXPECT_EQ(value("/home/b"), "<ENOENT>");
}

TEST_F(TransactionTest, NodeLimitStopsARemovalBeforeItStarts) {
  write("/r/a", "");
  write("/r/b", "");
  write("/r/c", "");
  // Removing /r touches /r, its three children and "/": five entries.
  Transaction* t = start(kConnA, 4);
  EventSink ev;
  auto s = store_.rm(kPriv, t, "/r", ev);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error(), XsErr::kENOSPC);
  EXPECT_EQ(*store_.directory(kPriv, t, "/r"), std::string("a\0b\0c\0", 6));
  EXPECT_EQ(value("/r/b", t), "");
  ASSERT_TRUE(commit(t).ok());
  EXPECT_NE(store_.tree().find("/r/b"), nullptr);
}

TEST_F(TransactionTest, NodeLimitAllowsExactlyTheLimit) {
  Transaction* t = start(kConnA, 4);
  write("/x/y/z", "v", t);
  EXPECT_EQ(t->entry_count(), 4u);
  // Entries already held cost nothing more.
  write("/x/y/z", "w", t);
  EXPECT_EQ(value("/x/y", t), "");
  EventSink ev;
  EXPECT_EQ(err(store_.write(kPriv, t, "/other", "o", ev)), XsErr::kENOSPC);
  EXPECT_EQ(store_.read(kPriv, t, "/tool").error(), XsErr::kENOSPC);
  ASSERT_TRUE(commit(t).ok());
  EXPECT_EQ(value("/x/y/z"), "w");
}

// --- the registry --------------------------------------------------------------

TEST_F(TransactionTest, IdsAreNonZeroAndDistinct) {
  Transaction* a = start(kConnA);
  Transaction* b = start(kConnA);
  Transaction* c = start(kConnB);
  EXPECT_NE(a->id().value, 0u);
  EXPECT_NE(a->id(), b->id());
  EXPECT_NE(a->id(), c->id());
  EXPECT_NE(b->id(), c->id());
}

TEST_F(TransactionTest, AnotherConnectionCannotUseOrEndATransaction) {
  Transaction* t = start(kConnA);
  EXPECT_EQ(store_.find_transaction(kConnB, t->id()), nullptr);
  EXPECT_EQ(err(store_.end_transaction(kPriv, kConnB, t->id(), true, events_)),
            XsErr::kENOENT);
  EXPECT_EQ(store_.find_transaction(kConnA, t->id()), t);
}

TEST_F(TransactionTest, EndingAnUnknownTransactionIsEnoent) {
  EXPECT_EQ(err(store_.end_transaction(kPriv, kConnA, TxId{999}, true,
                                       events_)),
            XsErr::kENOENT);
}

TEST_F(TransactionTest, DropTransactionsForgetsOnlyThatConnections) {
  start(kConnA);
  start(kConnA);
  Transaction* b = start(kConnB);
  EXPECT_EQ(store_.transaction_count(kConnA), 2u);
  EXPECT_EQ(store_.transaction_count(kConnB), 1u);
  store_.drop_transactions(kConnA);
  EXPECT_EQ(store_.transaction_count(kConnA), 0u);
  EXPECT_EQ(store_.transaction_count(kConnB), 1u);
  EXPECT_EQ(store_.find_transaction(kConnB, b->id()), b);
}

TEST_F(TransactionTest, PerConnectionCountsAndBytesFollowEndsAndDrops) {
  write("/a", "v");
  Transaction* a1 = start(kConnA);
  Transaction* a2 = start(kConnA);
  Transaction* b = start(kConnB);
  value("/a", a1);
  value("/a", b);
  std::size_t one = a1->held_bytes();
  EXPECT_GT(one, 0u);
  EXPECT_EQ(store_.transaction_bytes(kConnA), one);
  EXPECT_EQ(store_.transaction_bytes(kConnB), one);
  EXPECT_TRUE(abort(a1).ok());
  EXPECT_EQ(store_.transaction_count(kConnA), 1u);
  EXPECT_EQ(store_.transaction_bytes(kConnA), 0u);
  EXPECT_TRUE(commit(a2).ok());
  EXPECT_EQ(store_.transaction_count(kConnA), 0u);
  EXPECT_EQ(store_.find_transaction(kConnA, b->id()), nullptr);  // B's
  store_.drop_transactions(kConnB);
  EXPECT_EQ(store_.transaction_count(kConnB), 0u);
  EXPECT_EQ(store_.transaction_bytes(kConnB), 0u);
  EXPECT_FALSE(store_.has_open_transactions());
}

}  // namespace
}  // namespace cxs::store

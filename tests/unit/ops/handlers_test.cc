// The request handlers driven through dispatch: argument parsing, reply
// formats and the effects on store and watches.
#include "ops/handlers.h"

#include <gtest/gtest.h>

#include <string>

#include "ops_fixture.h"

namespace cxs::ops {
namespace {

using wire::MsgType;

using Handlers = OpsTest;

// --- READ / WRITE ----------------------------------------------------------

TEST_F(Handlers, WriteThenReadRoundTrips) {
  auto w = send(MsgType::XS_WRITE, z("/a") + "hello");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w.payload(), kOk);
  EXPECT_EQ(send(MsgType::XS_READ, z("/a")).payload(), "hello");
}

TEST_F(Handlers, ValuesAreBinarySafe) {
  std::string value("\0\x01\xff\0tail", 8);
  ASSERT_TRUE(send(MsgType::XS_WRITE, z("/bin") + value).ok());
  EXPECT_EQ(send(MsgType::XS_READ, z("/bin")).payload(), value);
}

TEST_F(Handlers, WriteWithAnEmptyValueCreatesAnEmptyNode) {
  ASSERT_TRUE(send(MsgType::XS_WRITE, z("/e")).ok());
  EXPECT_EQ(send(MsgType::XS_READ, z("/e")).payload(), "");
}

TEST_F(Handlers, ReadPayloadWithoutNulIsEinval) {
  EXPECT_EQ(send(MsgType::XS_READ, "/tool").error(), XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_READ, "").error(), XsErr::kEINVAL);
}

TEST_F(Handlers, ReadWithTwoArgumentsIsEinval) {
  EXPECT_EQ(send(MsgType::XS_READ, z("/tool") + z("x")).error(),
            XsErr::kEINVAL);
  // Relative: the NUL is inside the joined path, refused there.
  EXPECT_EQ(send(MsgType::XS_READ, z("rel") + z("x")).error(),
            XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_RM, z("/tool") + z("")).error(), XsErr::kEINVAL);
}

TEST_F(Handlers, WriteWithoutNulIsEinval) {
  EXPECT_EQ(send(MsgType::XS_WRITE, "/a").error(), XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_WRITE, "").error(), XsErr::kEINVAL);
}

TEST_F(Handlers, InvalidPathIsEinval) {
  EXPECT_EQ(send(MsgType::XS_READ, z("/a//b")).error(), XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_WRITE, z("/a b") + "v").error(), XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_READ, z("@releaseDomain")).error(),
            XsErr::kEINVAL);
}

TEST_F(Handlers, ReadOfAMissingNodeIsEnoent) {
  EXPECT_EQ(send(MsgType::XS_READ, z("/missing")).error(), XsErr::kENOENT);
}

TEST_F(Handlers, RelativePathsResolveAgainstTheCallersHome) {
  ASSERT_TRUE(send(MsgType::XS_WRITE, z("rel/x") + "v").ok());
  EXPECT_EQ(send(MsgType::XS_READ, z("/local/domain/0/rel/x")).payload(),
            "v");
  EXPECT_EQ(send(MsgType::XS_READ, z("rel/x")).payload(), "v");
}

TEST_F(Handlers, WriteReportsTheEventsItCaused) {
  auto o = send(MsgType::XS_WRITE, z("/a/b") + "v");
  ASSERT_TRUE(o.ok());
  // One event for the written path, even though /a was created too.
  ASSERT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.events[0].path, "/a/b");
  EXPECT_TRUE(o.direct.empty());
}

TEST_F(Handlers, UnprivilegedReadWithoutAccessIsEacces) {
  ASSERT_TRUE(send(MsgType::XS_WRITE, z("/secret") + "s").ok());
  EXPECT_EQ(send(dom5_, MsgType::XS_READ, z("/secret")).error(),
            XsErr::kEACCES);
}

// --- MKDIR / RM / DIRECTORY ------------------------------------------------------

TEST_F(Handlers, MkdirRmAndDirectory) {
  EXPECT_EQ(send(MsgType::XS_MKDIR, z("/d/x")).payload(), kOk);
  EXPECT_EQ(send(MsgType::XS_MKDIR, z("/d/y")).payload(), kOk);
  EXPECT_EQ(send(MsgType::XS_DIRECTORY, z("/d")).payload(),
            std::string("x\0y\0", 4));
  EXPECT_EQ(send(MsgType::XS_RM, z("/d/x")).payload(), kOk);
  EXPECT_EQ(send(MsgType::XS_DIRECTORY, z("/d")).payload(),
            std::string("y\0", 2));
  EXPECT_EQ(send(MsgType::XS_DIRECTORY, z("/d/y")).payload(), "");
}

TEST_F(Handlers, RmOfTheRootIsEinval) {
  EXPECT_EQ(send(MsgType::XS_RM, z("/")).error(), XsErr::kEINVAL);
}

// Differential finding (issue 17): C checks the caller may write "/"
// before refusing to remove it.
TEST_F(Handlers, RmOfTheRootByAGuestIsEacces) {
  EXPECT_EQ(send(dom5_, MsgType::XS_RM, z("/")).error(), XsErr::kEACCES);
}

TEST_F(Handlers, RmOfAMissingNodeFollowsItsParent) {
  EXPECT_EQ(send(MsgType::XS_RM, z("/tool/missing")).payload(), kOk);
  EXPECT_EQ(send(MsgType::XS_RM, z("/nope/missing")).error(), XsErr::kENOENT);
}

// --- DIRECTORY_PART -----------------------------------------------------------

std::string generation_of(const store::Store& s, std::string_view path) {
  return std::to_string(s.tree().find(path)->generation());
}

TEST_F(Handlers, DirectoryPartReplyIsGenerationThenNamesThenAnExtraNul) {
  ASSERT_TRUE(send(MsgType::XS_MKDIR, z("/d/aa")).ok());
  ASSERT_TRUE(send(MsgType::XS_MKDIR, z("/d/b")).ok());
  std::string gen = generation_of(store_, "/d");
  EXPECT_EQ(send(MsgType::XS_DIRECTORY_PART, z("/d") + z("0")).payload(),
            z(gen) + std::string("aa\0b\0\0", 6));
  EXPECT_EQ(send(MsgType::XS_DIRECTORY_PART, z("/d") + z("3")).payload(),
            z(gen) + std::string("b\0\0", 3));
}

TEST_F(Handlers, DirectoryPartPastTheEndIsGenerationAndAnEmptyString) {
  ASSERT_TRUE(send(MsgType::XS_MKDIR, z("/d/aa")).ok());
  std::string gen = generation_of(store_, "/d");
  EXPECT_EQ(send(MsgType::XS_DIRECTORY_PART, z("/d") + z("3")).payload(),
            z(gen) + std::string("\0", 1));
  EXPECT_EQ(send(MsgType::XS_DIRECTORY_PART, z("/d") + z("999")).payload(),
            z(gen) + std::string("\0", 1));
}

TEST_F(Handlers, DirectoryPartRepliesFitThePayloadMaximum) {
  for (int i = 0; i < 500; ++i)
    ASSERT_TRUE(
        send(MsgType::XS_MKDIR, z("/big/name-number-" + std::to_string(i)))
            .ok());
  std::string whole = send(MsgType::XS_DIRECTORY, z("/big")).payload();
  std::string joined;
  for (int guard = 0; guard < 20; ++guard) {
    auto o = send(MsgType::XS_DIRECTORY_PART,
                  z("/big") + z(std::to_string(joined.size())));
    ASSERT_TRUE(o.ok());
    std::string p = o.payload();
    ASSERT_LE(p.size(), kPayloadMax);
    std::string body = p.substr(p.find('\0') + 1);
    bool last = body.size() >= 1 && body.back() == '\0' &&
                (body.size() == 1 || body[body.size() - 2] == '\0');
    if (last) body.pop_back();
    joined += body;
    if (last) break;
  }
  EXPECT_EQ(joined, whole);
}

TEST_F(Handlers, DirectoryPartWithBadArgumentsIsEinval) {
  EXPECT_EQ(send(MsgType::XS_DIRECTORY_PART, z("/tool")).error(),
            XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_DIRECTORY_PART, z("/tool") + z("x")).error(),
            XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_DIRECTORY_PART, z("/tool") + "0").error(),
            XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_DIRECTORY_PART, z("/tool") + z("")).error(),
            XsErr::kEINVAL);
}

// --- GET_PERMS / SET_PERMS ------------------------------------------------------

TEST_F(Handlers, GetPermsFormatsTheList) {
  EXPECT_EQ(send(MsgType::XS_GET_PERMS, z("/")).payload(), z("n0"));
  EXPECT_EQ(send(MsgType::XS_GET_PERMS, z("@releaseDomain")).payload(),
            z("n0"));
}

TEST_F(Handlers, SetPermsThenGetPermsRoundTrips) {
  ASSERT_TRUE(send(MsgType::XS_MKDIR, z("/p")).ok());
  auto o = send(MsgType::XS_SET_PERMS, z("/p") + z("r5") + z("b7"));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.payload(), kOk);
  EXPECT_EQ(send(MsgType::XS_GET_PERMS, z("/p")).payload(), z("r5") + z("b7"));
}

TEST_F(Handlers, SetPermsWithBadEntriesIsEinval) {
  ASSERT_TRUE(send(MsgType::XS_MKDIR, z("/p")).ok());
  EXPECT_EQ(send(MsgType::XS_SET_PERMS, z("/p")).error(), XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_SET_PERMS, z("/p") + z("x0")).error(),
            XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_SET_PERMS, z("/p") + z("r70000")).error(),
            XsErr::kEINVAL);
}

// Differential findings (issue 17): SET_PERMS answers as C 4.17 does.
// Bytes after the last NUL are no entry (C counts NUL-terminated strings).
TEST_F(Handlers, SetPermsIgnoresALastEntryWithoutItsNul) {
  ASSERT_TRUE(send(MsgType::XS_MKDIR, z("/p")).ok());
  EXPECT_EQ(send(MsgType::XS_SET_PERMS, z("/p") + z("n0") + "r5").payload(),
            kOk);
  EXPECT_EQ(send(MsgType::XS_GET_PERMS, z("/p")).payload(), z("n0"));
  EXPECT_EQ(send(MsgType::XS_SET_PERMS, z("/p") + "r5").error(),
            XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_GET_PERMS, z("/p")).payload(), z("n0"));
}

// Which error wins: the count quota, then the entries, then the node.
TEST_F(Handlers, SetPermsChecksInTheOrderOfTheCDaemon) {
  std::string six;
  for (int i = 0; i < 6; ++i) six += z("x5");
  EXPECT_EQ(send(dom5_, MsgType::XS_SET_PERMS, z("/missing") + six).error(),
            XsErr::kENOSPC);
  EXPECT_EQ(send(MsgType::XS_SET_PERMS, z("/missing") + z("x5")).error(),
            XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_SET_PERMS, z("bad path") + z("x5")).error(),
            XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_SET_PERMS, z("") + z("n0")).error(),
            XsErr::kEINVAL);
}

TEST_F(Handlers, PermsOfAnUnknownSpecialNameAreEinval) {
  EXPECT_EQ(send(MsgType::XS_GET_PERMS, z("@other")).error(), XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_SET_PERMS, z("@other") + z("n0")).error(),
            XsErr::kEINVAL);
  EXPECT_TRUE(send(MsgType::XS_GET_PERMS, z("@releaseDomain")).ok());
}

TEST_F(Handlers, SetPermsOwnerChangeByAnUnprivilegedOwnerIsEperm) {
  ASSERT_TRUE(send(MsgType::XS_MKDIR, z("/p")).ok());
  ASSERT_TRUE(send(MsgType::XS_SET_PERMS, z("/p") + z("n5")).ok());
  EXPECT_EQ(send(dom5_, MsgType::XS_SET_PERMS, z("/p") + z("n0")).error(),
            XsErr::kEPERM);
  EXPECT_TRUE(send(dom5_, MsgType::XS_SET_PERMS, z("/p") + z("r5")).ok());
}

// --- TRANSACTION_START / END --------------------------------------------------------

TEST_F(Handlers, TransactionStartRepliesWithADecimalId) {
  auto o = send(MsgType::XS_TRANSACTION_START, z(""));
  ASSERT_TRUE(o.ok());
  std::string p = o.payload();
  ASSERT_FALSE(p.empty());
  EXPECT_EQ(p.back(), '\0');
  p.pop_back();
  EXPECT_EQ(p.find_first_not_of("0123456789"), std::string::npos);
  EXPECT_NE(std::stoul(p), 0u);
}

TEST_F(Handlers, TransactionCommitMakesItsWritesVisible) {
  std::uint32_t tx = start_tx(dom0_);
  ASSERT_TRUE(send(MsgType::XS_WRITE, z("/t") + "v", tx).ok());
  EXPECT_EQ(send(MsgType::XS_READ, z("/t"), tx).payload(), "v");
  EXPECT_EQ(send(MsgType::XS_READ, z("/t")).error(), XsErr::kENOENT);
  auto end = send(MsgType::XS_TRANSACTION_END, z("T"), tx);
  ASSERT_TRUE(end.ok());
  EXPECT_EQ(end.payload(), kOk);
  ASSERT_EQ(end.events.size(), 1u);
  EXPECT_EQ(end.events[0].path, "/t");
  EXPECT_EQ(send(MsgType::XS_READ, z("/t")).payload(), "v");
  // The transaction is gone.
  EXPECT_EQ(send(MsgType::XS_READ, z("/t"), tx).error(), XsErr::kENOENT);
}

TEST_F(Handlers, TransactionAbortDiscardsItsWrites) {
  std::uint32_t tx = start_tx(dom0_);
  auto w = send(MsgType::XS_WRITE, z("/t") + "v", tx);
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(w.events.empty());
  auto end = send(MsgType::XS_TRANSACTION_END, z("F"), tx);
  ASSERT_TRUE(end.ok());
  EXPECT_TRUE(end.events.empty());
  EXPECT_EQ(send(MsgType::XS_READ, z("/t")).error(), XsErr::kENOENT);
  EXPECT_EQ(send(MsgType::XS_TRANSACTION_END, z("F"), tx).error(),
            XsErr::kENOENT);
}

TEST_F(Handlers, TransactionEndWithABadArgumentIsEinval) {
  std::uint32_t tx = start_tx(dom0_);
  EXPECT_EQ(send(MsgType::XS_TRANSACTION_END, z("X"), tx).error(),
            XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_TRANSACTION_END, "T", tx).error(),
            XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_TRANSACTION_END, z("TF"), tx).error(),
            XsErr::kEINVAL);
  // Still open after the refusals.
  EXPECT_TRUE(send(MsgType::XS_TRANSACTION_END, z("T"), tx).ok());
}

TEST_F(Handlers, TransactionEndWithoutATransactionIsEnoent) {
  EXPECT_EQ(send(MsgType::XS_TRANSACTION_END, z("T")).error(),
            XsErr::kENOENT);
}

TEST_F(Handlers, TransactionStartInsideATransactionIsEbusy) {
  std::uint32_t tx = start_tx(dom0_);
  EXPECT_EQ(send(MsgType::XS_TRANSACTION_START, z(""), tx).error(),
            XsErr::kEBUSY);
}

TEST_F(Handlers, ConflictingCommitIsEagain) {
  ASSERT_TRUE(send(MsgType::XS_WRITE, z("/c") + "0").ok());
  std::uint32_t tx = start_tx(dom0_);
  ASSERT_TRUE(send(MsgType::XS_READ, z("/c"), tx).ok());
  ASSERT_TRUE(send(MsgType::XS_WRITE, z("/c") + "1").ok());
  EXPECT_EQ(send(MsgType::XS_TRANSACTION_END, z("T"), tx).error(),
            XsErr::kEAGAIN);
}

TEST_F(Handlers, UnprivilegedTransactionQuotaIsEnospc) {
  limits_.transactions = 2;
  start_tx(dom5_);
  start_tx(dom5_);
  EXPECT_EQ(send(dom5_, MsgType::XS_TRANSACTION_START, z("")).error(),
            XsErr::kENOSPC);
  // Privileged callers are exempt.
  for (int i = 0; i < 5; ++i) start_tx(dom0_);
}

// --- WATCH / UNWATCH / RESET_WATCHES ----------------------------------------------

TEST_F(Handlers, WatchQueuesTheInitialEventForTheCaller) {
  auto o = send(MsgType::XS_WATCH, z("/w") + z("tok"));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.payload(), kOk);
  ASSERT_EQ(o.direct.size(), 1u);
  EXPECT_EQ(o.direct[0].path, "/w");
  EXPECT_EQ(o.direct[0].token, "tok");
  EXPECT_TRUE(o.events.empty());
  EXPECT_EQ(watches_.count(dom0_.conn), 1u);
}

TEST_F(Handlers, RelativeWatchGetsItsInitialEventRelative) {
  auto o = send(MsgType::XS_WATCH, z("device") + z("t"));
  ASSERT_TRUE(o.ok());
  ASSERT_EQ(o.direct.size(), 1u);
  EXPECT_EQ(o.direct[0].path, "device");
}

TEST_F(Handlers, SpecialPathsMayBeWatched) {
  auto o = send(MsgType::XS_WATCH, z("@releaseDomain") + z("t"));
  ASSERT_TRUE(o.ok());
  ASSERT_EQ(o.direct.size(), 1u);
  EXPECT_EQ(o.direct[0].path, "@releaseDomain");
}

TEST_F(Handlers, DuplicateWatchIsEexistWithoutAnEvent) {
  ASSERT_TRUE(send(MsgType::XS_WATCH, z("/w") + z("tok")).ok());
  auto o = send(MsgType::XS_WATCH, z("/w") + z("tok"));
  EXPECT_EQ(o.error(), XsErr::kEEXIST);
  EXPECT_TRUE(o.direct.empty());
  EXPECT_EQ(watches_.count(dom0_.conn), 1u);
}

TEST_F(Handlers, WatchWithBadArgumentsIsEinval) {
  EXPECT_EQ(send(MsgType::XS_WATCH, z("/w")).error(), XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_WATCH, z("/w") + "tok").error(), XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_WATCH, z("/w//x") + z("t")).error(),
            XsErr::kEINVAL);
  EXPECT_EQ(watches_.count(dom0_.conn), 0u);
}

TEST_F(Handlers, UnprivilegedWatchQuotaIsEnospc) {
  limits_.watches = 3;
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(
        send(dom5_, MsgType::XS_WATCH, z("/w" + std::to_string(i)) + z("t"))
            .ok());
  auto o = send(dom5_, MsgType::XS_WATCH, z("/w9") + z("t"));
  EXPECT_EQ(o.error(), XsErr::kENOSPC);
  EXPECT_TRUE(o.direct.empty());
  EXPECT_EQ(watches_.count(dom5_.conn), 3u);
  // Privileged callers are exempt.
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(
        send(MsgType::XS_WATCH, z("/w" + std::to_string(i)) + z("t")).ok());
}

TEST_F(Handlers, UnwatchRemovesTheWatch) {
  ASSERT_TRUE(send(MsgType::XS_WATCH, z("/w") + z("tok")).ok());
  EXPECT_EQ(send(MsgType::XS_UNWATCH, z("/w") + z("tok")).payload(), kOk);
  EXPECT_EQ(watches_.count(dom0_.conn), 0u);
  EXPECT_EQ(send(MsgType::XS_UNWATCH, z("/w") + z("tok")).error(),
            XsErr::kENOENT);
}

// Differential finding (issue 17): no watch has an invalid path, so C
// answers ENOENT without checking it.
TEST_F(Handlers, UnwatchOfAnInvalidPathIsEnoent) {
  EXPECT_EQ(send(MsgType::XS_UNWATCH, z("/t//x") + z("W")).error(),
            XsErr::kENOENT);
  EXPECT_EQ(send(MsgType::XS_UNWATCH, z("") + z("W")).error(),
            XsErr::kENOENT);
}

TEST_F(Handlers, UnwatchOfARelativeWatchUsesTheRelativePath) {
  ASSERT_TRUE(send(MsgType::XS_WATCH, z("dev") + z("t")).ok());
  EXPECT_TRUE(send(MsgType::XS_UNWATCH, z("dev") + z("t")).ok());
  EXPECT_EQ(watches_.count(dom0_.conn), 0u);
}

TEST_F(Handlers, ResetWatchesDropsWatchesAndTransactions) {
  ASSERT_TRUE(send(MsgType::XS_WATCH, z("/a") + z("1")).ok());
  ASSERT_TRUE(send(MsgType::XS_WATCH, z("/b") + z("2")).ok());
  std::uint32_t tx = start_tx(dom0_);
  ASSERT_TRUE(send(dom5_, MsgType::XS_WATCH, z("/c") + z("3")).ok());
  std::uint32_t other_tx = start_tx(dom5_);

  EXPECT_EQ(send(MsgType::XS_RESET_WATCHES, "").payload(), kOk);
  EXPECT_EQ(watches_.count(dom0_.conn), 0u);
  EXPECT_EQ(store_.transaction_count(dom0_.conn), 0u);
  EXPECT_EQ(send(MsgType::XS_READ, z("/tool"), tx).error(), XsErr::kENOENT);
  // Other connections keep theirs.
  EXPECT_EQ(watches_.count(dom5_.conn), 1u);
  EXPECT_TRUE(send(dom5_, MsgType::XS_TRANSACTION_END, z("F"), other_tx).ok());
}

// --- GET_DOMAIN_PATH ----------------------------------------------------------------

TEST_F(Handlers, GetDomainPathGivesTheHomePath) {
  EXPECT_EQ(send(MsgType::XS_GET_DOMAIN_PATH, z("5")).payload(),
            z("/local/domain/5"));
  EXPECT_EQ(send(dom5_, MsgType::XS_GET_DOMAIN_PATH, z("0")).payload(),
            z("/local/domain/0"));
}

TEST_F(Handlers, GetDomainPathWithABadDomidIsEinval) {
  EXPECT_EQ(send(MsgType::XS_GET_DOMAIN_PATH, z("abc")).error(),
            XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_GET_DOMAIN_PATH, z("")).error(), XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_GET_DOMAIN_PATH, "5").error(), XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_GET_DOMAIN_PATH, z("70000")).error(),
            XsErr::kEINVAL);
}

}  // namespace
}  // namespace cxs::ops

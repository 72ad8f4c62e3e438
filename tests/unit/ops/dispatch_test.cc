// The dispatch table's checks, in order: unknown type -> ENOSYS, privileged
// type from an unprivileged caller -> EACCES, unknown tx_id -> ENOENT.
#include "ops/dispatch.h"

#include <gtest/gtest.h>

#include "ops_fixture.h"

namespace cxs::ops {
namespace {

using wire::MsgType;

using Dispatch = OpsTest;

TEST_F(Dispatch, UnknownTypesAreEnosys) {
  for (std::uint32_t type : {20u, 27u, 100u, 0xffffu, 0xffffffffu}) {
    auto o = send(dom0_, type, z("/"));
    EXPECT_EQ(o.error(), XsErr::kENOSYS) << type;
  }
}

TEST_F(Dispatch, ReplyOnlyTypesAreEnosys) {
  EXPECT_EQ(send(MsgType::XS_WATCH_EVENT, z("/")).error(), XsErr::kENOSYS);
  EXPECT_EQ(send(MsgType::XS_ERROR, z("EINVAL")).error(), XsErr::kENOSYS);
}

// Xen 4.22's GET/SET_FEATURE and GET/SET_QUOTA are served (4.17 answers
// ENOSYS), to privileged callers only.
TEST_F(Dispatch, QuotaAndFeatureTypesAreServedToPrivilegedCallers) {
  auto names = send(MsgType::XS_GET_QUOTA, "");
  ASSERT_TRUE(names.ok());
  EXPECT_NE(names.payload().find("nodes"), std::string::npos);
  auto nodes = send(MsgType::XS_GET_QUOTA, z("nodes"));
  ASSERT_TRUE(nodes.ok());
  EXPECT_EQ(nodes.payload(), z("1000"));
  EXPECT_EQ(send(MsgType::XS_GET_QUOTA, z("5") + z("nodes")).payload(),
            z("7"));
  EXPECT_TRUE(send(MsgType::XS_SET_QUOTA, z("nodes") + z("42")).ok());
  EXPECT_EQ(daemon_.last_quota, 42u);
  EXPECT_EQ(send(MsgType::XS_SET_QUOTA, z("bogus") + z("1")).error(),
            XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_SET_QUOTA, z("nodes") + z("x")).error(),
            XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_GET_FEATURE, "").payload(), z("7"));
  EXPECT_TRUE(send(MsgType::XS_SET_FEATURE, z("5") + z("1")).ok());
  EXPECT_EQ(send(MsgType::XS_SET_FEATURE, z("5") + z("8")).error(),
            XsErr::kEINVAL);
  for (auto t : {MsgType::XS_GET_FEATURE, MsgType::XS_SET_FEATURE,
                 MsgType::XS_GET_QUOTA, MsgType::XS_SET_QUOTA})
    EXPECT_EQ(send(dom5_, t, z("0")).error(), XsErr::kEACCES);
}

TEST_F(Dispatch, UnknownTypeIsEnosysEvenForUnprivilegedCallers) {
  EXPECT_EQ(send(dom5_, 100u, "", 12345).error(), XsErr::kENOSYS);
}

TEST_F(Dispatch, ControlFromAnUnprivilegedCallerIsEacces) {
  EXPECT_EQ(send(dom5_, MsgType::XS_CONTROL, z("print") + z("x")).error(),
            XsErr::kEACCES);
}

TEST_F(Dispatch, IsDomainIntroducedFromAnUnprivilegedCallerIsEacces) {
  EXPECT_EQ(send(dom5_, MsgType::XS_IS_DOMAIN_INTRODUCED, z("5")).error(),
            XsErr::kEACCES);
}

TEST_F(Dispatch, DomainManagementFromAnUnprivilegedCallerIsEacces) {
  EXPECT_EQ(send(dom5_, MsgType::XS_INTRODUCE, z("6") + z("1") + z("2"))
                .error(),
            XsErr::kEACCES);
  EXPECT_EQ(send(dom5_, MsgType::XS_RELEASE, z("6")).error(), XsErr::kEACCES);
  EXPECT_EQ(send(dom5_, MsgType::XS_RESUME, z("6")).error(), XsErr::kEACCES);
  EXPECT_EQ(send(dom5_, MsgType::XS_SET_TARGET, z("6") + z("7")).error(),
            XsErr::kEACCES);
}

TEST_F(Dispatch, PrivilegeCheckComesBeforeTheTransactionLookup) {
  EXPECT_EQ(send(dom5_, MsgType::XS_CONTROL, z("x"), 999).error(),
            XsErr::kEACCES);
}

TEST_F(Dispatch, UnknownTransactionIdIsEnoent) {
  for (auto t : {MsgType::XS_READ, MsgType::XS_WRITE, MsgType::XS_DIRECTORY,
                 MsgType::XS_MKDIR, MsgType::XS_RM, MsgType::XS_GET_PERMS,
                 MsgType::XS_SET_PERMS, MsgType::XS_DIRECTORY_PART,
                 MsgType::XS_TRANSACTION_END})
    EXPECT_EQ(send(t, z("/tool"), 4242).error(), XsErr::kENOENT)
        << wire::msg_type_name(static_cast<std::uint32_t>(t));
}

TEST_F(Dispatch, AnotherConnectionsTransactionIsEnoent) {
  std::uint32_t tx = start_tx(dom0_);
  Session other{ConnId{2}, dom0_.caller};
  EXPECT_EQ(send(other, MsgType::XS_READ, z("/tool"), tx).error(),
            XsErr::kENOENT);
  EXPECT_TRUE(send(MsgType::XS_READ, z("/tool"), tx).ok());
}

// Only WATCH and UNWATCH ignore the tx_id (C's XS_FLAG_NOTID).
TEST_F(Dispatch, WatchAndUnwatchIgnoreTheTxId) {
  EXPECT_TRUE(send(MsgType::XS_WATCH, z("/a") + z("t"), 4242).ok());
  EXPECT_TRUE(send(MsgType::XS_UNWATCH, z("/a") + z("t"), 4242).ok());
}

// Found by the differential tester (issue 17): C 4.17 looks the tx_id up
// for every other type, so a stale id is ENOENT even where the request
// does not use a transaction; a live one is accepted and unused.
TEST_F(Dispatch, TypesWithoutTransactionsStillRefuseAnUnknownTxId) {
  for (auto [type, payload] :
       {std::pair{MsgType::XS_GET_DOMAIN_PATH, z("3")},
        std::pair{MsgType::XS_RESET_WATCHES, z("")},
        std::pair{MsgType::XS_IS_DOMAIN_INTRODUCED, z("0")},
        std::pair{MsgType::XS_CONTROL, z("print") + z("x")},
        std::pair{MsgType::XS_RELEASE, z("5")},
        std::pair{MsgType::XS_SET_TARGET, z("5") + z("6")}})
    EXPECT_EQ(send(type, payload, 4242).error(), XsErr::kENOENT)
        << static_cast<int>(type);
  std::uint32_t tx = start_tx(dom0_);
  EXPECT_EQ(send(MsgType::XS_GET_DOMAIN_PATH, z("3"), tx).payload(),
            z("/local/domain/3"));
  EXPECT_TRUE(send(MsgType::XS_IS_DOMAIN_INTRODUCED, z("0"), tx).ok());
}

TEST_F(Dispatch, PrivilegedCallerReachesControl) {
  auto o = send(MsgType::XS_CONTROL, z("print") + z("hello"));
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o.payload(), "control:print,hello,");
  EXPECT_EQ(send(MsgType::XS_CONTROL, z("fail")).error(), XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_CONTROL, "").error(), XsErr::kEINVAL);
  // Differential finding (issue 17): C counts NUL-terminated strings only.
  EXPECT_EQ(send(MsgType::XS_CONTROL, "print").error(), XsErr::kEINVAL);
  EXPECT_EQ(send(MsgType::XS_CONTROL, z("print") + "x").payload(),
            "control:print,");
}

TEST_F(Dispatch, IsDomainIntroducedAsksTheDaemon) {
  EXPECT_EQ(send(MsgType::XS_IS_DOMAIN_INTRODUCED, z("5")).payload(),
            z("T"));
  EXPECT_EQ(send(MsgType::XS_IS_DOMAIN_INTRODUCED, z("6")).payload(),
            z("F"));
  EXPECT_EQ(send(MsgType::XS_IS_DOMAIN_INTRODUCED, z("x")).error(),
            XsErr::kEINVAL);
}

}  // namespace
}  // namespace cxs::ops

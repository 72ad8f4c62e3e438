// The founding story (XSA-72): a reply that would exceed the 4096-byte
// payload limit must never leave the daemon. A directory with 600 children
// of 10-character names lists to 6600 bytes: DIRECTORY answers E2BIG and the
// connection goes on; DIRECTORY_PART pages the listing; libxenstore falls
// back to DIRECTORY_PART on its own.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "integration_helpers.h"

namespace cxs::test {
namespace {

using wire::MsgType;

constexpr int kChildren = 600;

std::string entry_name(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "entry%05d", i);
  return buf;
}

class Xsa72 : public ::testing::Test {
 protected:
  void SetUp() override {
    RawClient c(d.socket_path());
    // Pipelined: 600 MKDIRs in one go, then 600 replies.
    std::string batch;
    for (int i = 0; i < kChildren; ++i)
      batch += wire::encode_message(ty(MsgType::XS_MKDIR), i + 1, 0,
                                    with_nul("/big/" + entry_name(i)));
    c.send_bytes(batch);
    for (int i = 0; i < kChildren; ++i) {
      auto m = c.recv_reply();
      ASSERT_TRUE(m && is_type(*m, MsgType::XS_MKDIR)) << i;
    }
    for (int i = 0; i < kChildren; ++i) expected_.push_back(entry_name(i));
  }

  Msg part(RawClient& c, std::size_t offset) {
    return c.request(ty(MsgType::XS_DIRECTORY_PART),
                     nul_join({"/big", std::to_string(offset)}));
  }

  // `program` (a libxenstore client) run on /big prints each child's name
  // followed by `after_name`, in creation order.
  void expect_line_per_child(const std::string& program,
                             std::string_view after_name) {
    if (!have_program(program))
      GTEST_SKIP() << program << " is not installed (xenstore-utils missing)";
    auto r = d.run(program + " /big");
    ASSERT_EQ(r.status, 0) << r.out.substr(0, 200);
    std::string want;
    for (const auto& n : expected_) want += n + std::string(after_name);
    EXPECT_EQ(r.out, want);
  }

  DaemonProcess d;
  std::vector<std::string> expected_;
};

TEST_F(Xsa72, DirectoryOfSixHundredChildrenGivesE2big) {
  RawClient c(d.socket_path());
  Msg m = c.directory("/big");
  EXPECT_TRUE(m.is_error("E2BIG")) << m.type << " len " << m.payload.size();
}

TEST_F(Xsa72, TheConnectionAnswersTheNextRequestAfterE2big) {
  RawClient c(d.socket_path());
  ASSERT_TRUE(c.directory("/big").is_error("E2BIG"));
  Msg r = c.read("/big/entry00042");
  EXPECT_TRUE(is_type(r, MsgType::XS_READ)) << r.shown();
  EXPECT_EQ(r.payload, "");
  Msg w = c.write("/big/entry00042", "still here");
  EXPECT_TRUE(is_type(w, MsgType::XS_WRITE)) << w.shown();
  EXPECT_EQ(c.read("/big/entry00042").payload, "still here");
  EXPECT_TRUE(d.alive());
}

TEST_F(Xsa72, E2bigEchoesTheRequestIds) {
  RawClient c(d.socket_path());
  std::uint32_t tx = c.start_transaction();
  ASSERT_NE(tx, 0u);
  c.send(ty(MsgType::XS_DIRECTORY), with_nul("/big"), tx, 999);
  auto m = c.recv_reply();
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->is_error("E2BIG")) << m->shown();
  EXPECT_EQ(m->req_id, 999u);
  EXPECT_EQ(m->tx_id, tx);
}

TEST_F(Xsa72, XenstoreListPrintsAllSixHundredNames) {
  expect_line_per_child("xenstore-list", "\n");
}

// xenstore-ls lists the directory (DIRECTORY_PART fallback) and then reads
// every child on the same connection: a line for each of the 600.
TEST_F(Xsa72, XenstoreLsShowsAllSixHundredNodes) {
  expect_line_per_child("xenstore-ls", " = \"\"\n");
}

TEST_F(Xsa72, DirectoryPartPagesReassembleToTheFullList) {
  RawClient c(d.socket_path());
  std::string gen;
  std::string all;
  int pages = 0;
  for (;;) {
    Msg m = part(c, all.size());
    ASSERT_TRUE(is_type(m, MsgType::XS_DIRECTORY_PART)) << m.shown();
    ASSERT_LE(m.payload.size(), kPayloadMax);
    ++pages;
    std::size_t nul = m.payload.find('\0');
    ASSERT_NE(nul, std::string::npos);
    std::string g = m.payload.substr(0, nul);
    if (gen.empty()) gen = g;
    EXPECT_EQ(g, gen) << "generation changed between pages";
    std::string slice = m.payload.substr(nul + 1);
    ASSERT_FALSE(slice.empty());
    if (slice.ends_with(std::string(2, '\0'))) {  // the last page
      all += slice.substr(0, slice.size() - 1);
      break;
    }
    // Not the last page: it ends on a name boundary.
    EXPECT_EQ(slice.back(), '\0');
    all += slice;
    ASSERT_LT(pages, 10);
  }
  EXPECT_GE(pages, 2);
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kChildren) * 11);
  EXPECT_EQ(nul_split(all), expected_);
}

TEST_F(Xsa72, DirectoryPartPastTheEndGivesGenerationAndTwoNuls) {
  RawClient c(d.socket_path());
  Msg first = part(c, 0);
  std::string gen = first.payload.substr(0, first.payload.find('\0'));
  Msg end = part(c, kChildren * 11);
  EXPECT_EQ(end.payload, gen + std::string(2, '\0'));
  Msg past = part(c, 100000);
  EXPECT_EQ(past.payload, gen + std::string(2, '\0'));
}

TEST_F(Xsa72, DirectoryPartGenerationChangesWhenAChildIsAdded) {
  RawClient c(d.socket_path());
  Msg before = part(c, 0);
  std::string gen = before.payload.substr(0, before.payload.find('\0'));
  ASSERT_TRUE(is_type(c.mkdir("/big/entry00600"), MsgType::XS_MKDIR));
  Msg after = part(c, 0);
  std::string gen2 = after.payload.substr(0, after.payload.find('\0'));
  EXPECT_NE(gen, gen2);
  Msg end = part(c, kChildren * 11);
  EXPECT_EQ(end.payload, gen2 + std::string("\0entry00600\0\0", 13));
}

// A client paging through the listing must see a removal too, or it would
// splice pages of two different lists together.
TEST_F(Xsa72, DirectoryPartGenerationChangesWhenAChildIsRemoved) {
  RawClient c(d.socket_path());
  Msg before = part(c, 0);
  std::string gen = before.payload.substr(0, before.payload.find('\0'));
  ASSERT_TRUE(is_type(c.rm("/big/entry00000"), MsgType::XS_RM));
  Msg after = part(c, 0);
  std::string gen2 = after.payload.substr(0, after.payload.find('\0'));
  EXPECT_NE(gen, gen2);
  EXPECT_EQ(after.payload.substr(gen2.size() + 1, 11),
            std::string("entry00001\0", 11));
  // A value change is not a change of the list: the generation stays.
  ASSERT_TRUE(is_type(c.write("/big/entry00001", "v"), MsgType::XS_WRITE));
  Msg same = part(c, 0);
  EXPECT_EQ(same.payload.substr(0, same.payload.find('\0')), gen2);
}

// A listing of exactly 4096 bytes is a legal reply; one byte more is not.
TEST(Xsa72Boundary, DirectoryListingOfExactly4096BytesIsSent) {
  DaemonProcess d;
  RawClient c(d.socket_path());
  std::vector<std::string> names;
  std::size_t total = 0;
  for (int i = 0; total + 11 <= kPayloadMax - 4; ++i) {
    names.push_back(entry_name(i));  // 10 chars + NUL
    total += 11;
  }
  std::string last(kPayloadMax - total - 1, 'z');  // fills to 4096 exactly
  names.push_back(last);
  total += last.size() + 1;
  ASSERT_EQ(total, kPayloadMax);
  for (const auto& n : names)
    ASSERT_TRUE(is_type(c.mkdir("/ex/" + n), MsgType::XS_MKDIR)) << n;
  Msg m = c.directory("/ex");
  ASSERT_TRUE(is_type(m, MsgType::XS_DIRECTORY)) << m.shown().substr(0, 40);
  EXPECT_EQ(m.payload.size(), kPayloadMax);
  EXPECT_EQ(nul_split(m.payload), names);

  // Rename the last child one character longer: 4097 bytes, E2BIG.
  ASSERT_TRUE(is_type(c.rm("/ex/" + last), MsgType::XS_RM));
  ASSERT_TRUE(is_type(c.mkdir("/ex/" + last + "z"), MsgType::XS_MKDIR));
  EXPECT_TRUE(c.directory("/ex").is_error("E2BIG"));
  EXPECT_EQ(c.read("/ex/" + last + "z").payload, "");
}

// A READ reply can never exceed the limit from a single WRITE (its request
// carries the path too), but one just under it must pass intact.
TEST(Xsa72Boundary, ReadOfTheLargestWritableValueSucceeds) {
  DaemonProcess d;
  RawClient c(d.socket_path());
  std::string path = "/v";
  std::string value(kPayloadMax - path.size() - 1, 'q');
  ASSERT_TRUE(is_type(c.write(path, value), MsgType::XS_WRITE));
  Msg r = c.read(path);
  ASSERT_TRUE(is_type(r, MsgType::XS_READ)) << r.shown().substr(0, 40);
  EXPECT_EQ(r.payload, value);
}

}  // namespace
}  // namespace cxs::test

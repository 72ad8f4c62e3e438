#include "daemon/trace.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "temp_dir.h"
#include "wire/message_type.h"

namespace cxs::daemon {
namespace {

namespace fs = std::filesystem;

class TraceTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = (dir_ / "trace").string(); }

  static std::vector<std::string> lines_of(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }

  // The part of a line after the timestamp.
  static std::string body(const std::string& line) {
    return line.size() > 27 ? line.substr(27) : "";
  }

  static wire::Header header(wire::MsgType type, std::uint32_t req,
                             std::uint32_t tx) {
    wire::Header h;
    h.type = static_cast<std::uint32_t>(type);
    h.req_id = req;
    h.tx_id = tx;
    return h;
  }

  test::TempDir dir_{"trace-test"};
  std::string path_;
};

TEST_F(TraceTest, ClosedTraceIsInactiveAndIgnoresCalls) {
  Trace t;
  EXPECT_FALSE(t.active());
  t.request(ConnId{1}, header(wire::MsgType::XS_READ, 1, 0), "x");
  t.reopen();
  EXPECT_FALSE(t.active());
}

TEST_F(TraceTest, RequestLineHasTimestampDirectionConnTypeIdsAndPayload) {
  Trace t;
  ASSERT_TRUE(t.open(path_));
  EXPECT_TRUE(t.active());
  t.request(ConnId{3}, header(wire::MsgType::XS_READ, 7, 0),
            std::string_view("/tool/xenstored\0", 16));
  auto lines = lines_of(path_);
  ASSERT_EQ(lines.size(), 1u);
  std::regex re(
      R"(^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6} IN  conn 3 XS_READ req 7 tx 0 /tool/xenstored $)");
  EXPECT_TRUE(std::regex_match(lines[0], re)) << lines[0];
}

TEST_F(TraceTest, ReplyEventAndNoteLinesHaveTheirDirections) {
  Trace t;
  ASSERT_TRUE(t.open(path_));
  t.reply(ConnId{3}, header(wire::MsgType::XS_ERROR, 7, 2),
          std::string_view("ENOENT\0", 7));
  t.event(ConnId{4}, "/local/domain/1", "tok");
  t.note(ConnId{4}, "closed");
  auto lines = lines_of(path_);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(body(lines[0]), "OUT conn 3 XS_ERROR req 7 tx 2 ENOENT ");
  EXPECT_EQ(body(lines[1]),
            "EVT conn 4 XS_WATCH_EVENT req 0 tx 0 /local/domain/1 tok ");
  EXPECT_EQ(body(lines[2]), "--- conn 4 closed");
}

TEST_F(TraceTest, UnnamedTypePrintsItsNumber) {
  Trace t;
  ASSERT_TRUE(t.open(path_));
  t.request(ConnId{1}, wire::Header{20, 1, 0, 0}, "");
  t.request(ConnId{1}, wire::Header{999, 2, 0, 0}, "");
  auto lines = lines_of(path_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(body(lines[0]), "IN  conn 1 TYPE(20) req 1 tx 0 ");
  EXPECT_EQ(body(lines[1]), "IN  conn 1 TYPE(999) req 2 tx 0 ");
}

TEST_F(TraceTest, NonPrintableBytesAreEscaped) {
  Trace t;
  ASSERT_TRUE(t.open(path_));
  t.request(ConnId{1}, header(wire::MsgType::XS_WRITE, 1, 0),
            std::string_view("/a\0x\ny\x01\xff", 8));
  auto lines = lines_of(path_);
  ASSERT_EQ(lines.size(), 1u);  // the newline did not split the line
  EXPECT_EQ(body(lines[0]),
            "IN  conn 1 XS_WRITE req 1 tx 0 /a x\\x0ay\\x01\\xff");
}

TEST_F(TraceTest, LongPayloadIsCappedWithAnEllipsis) {
  Trace t;
  ASSERT_TRUE(t.open(path_));
  t.request(ConnId{1}, header(wire::MsgType::XS_WRITE, 1, 0),
            std::string(256, 'a'));
  t.request(ConnId{1}, header(wire::MsgType::XS_WRITE, 2, 0),
            std::string(1000, 'b'));
  auto lines = lines_of(path_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(body(lines[0]),
            "IN  conn 1 XS_WRITE req 1 tx 0 " + std::string(256, 'a'));
  EXPECT_EQ(body(lines[1]),
            "IN  conn 1 XS_WRITE req 2 tx 0 " + std::string(256, 'b') + "...");
}

TEST_F(TraceTest, OpenAppendsToAnExistingFile) {
  { std::ofstream(path_) << "earlier\n"; }
  Trace t;
  ASSERT_TRUE(t.open(path_));
  t.note(ConnId{1}, "connected");
  auto lines = lines_of(path_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "earlier");
}

TEST_F(TraceTest, ReopenAfterRenameWritesToANewFile) {
  Trace t;
  ASSERT_TRUE(t.open(path_));
  t.note(ConnId{1}, "before");
  std::string rotated = path_ + ".1";
  fs::rename(path_, rotated);
  t.note(ConnId{1}, "still old");  // an open file follows the rename
  t.reopen();
  EXPECT_TRUE(t.active());
  t.note(ConnId{1}, "after");

  auto old_lines = lines_of(rotated);
  ASSERT_EQ(old_lines.size(), 2u);
  EXPECT_EQ(body(old_lines[0]), "--- conn 1 before");
  EXPECT_EQ(body(old_lines[1]), "--- conn 1 still old");
  auto new_lines = lines_of(path_);
  ASSERT_EQ(new_lines.size(), 1u);
  EXPECT_EQ(body(new_lines[0]), "--- conn 1 after");
}

TEST_F(TraceTest, RelativePathIsKeptAcrossAChdir) {
  auto old_cwd = fs::current_path();
  fs::current_path(dir_.path());
  Trace t;
  ASSERT_TRUE(t.open("rel-trace"));
  fs::current_path("/");
  fs::rename(dir_ / "rel-trace", dir_ / "rel-trace.1");
  t.reopen();
  fs::current_path(old_cwd);
  t.note(ConnId{2}, "x");
  EXPECT_EQ(lines_of((dir_ / "rel-trace").string()).size(), 1u);
  EXPECT_FALSE(fs::exists("/rel-trace"));
}

TEST_F(TraceTest, OpenFailureReturnsFalse) {
  Trace t;
  EXPECT_FALSE(t.open((dir_ / "no/such/dir/trace").string()));
  EXPECT_FALSE(t.active());
}

TEST_F(TraceTest, ReopenFailureLeavesTraceInactive) {
  fs::create_directory(dir_ / "sub");
  std::string p = (dir_ / "sub" / "trace").string();
  Trace t;
  ASSERT_TRUE(t.open(p));
  fs::remove_all(dir_ / "sub");
  t.reopen();
  EXPECT_FALSE(t.active());
  t.note(ConnId{1}, "dropped");  // must not crash
}

}  // namespace
}  // namespace cxs::daemon

// The byte layout pinned down: a stream as C xenstored 4.17 writes it, set
// byte by byte at explicit offsets (live-update.md section 5), must read
// back with the right fields, and StreamWriter must produce exactly it.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>

#include "migrate/reader.h"
#include "migrate/writer.h"

namespace cxs::migrate {
namespace {

using namespace std::string_view_literals;

void put16(std::string& s, std::size_t at, std::uint16_t v) {
  std::memcpy(&s[at], &v, 2);
}
void put32(std::string& s, std::size_t at, std::uint32_t v) {
  std::memcpy(&s[at], &v, 4);
}
void put(std::string& s, std::size_t at, std::string_view v) {
  std::memcpy(&s[at], v.data(), v.size());
}

// Offset  Record
//   0     preamble "xenstore", version 00 00 00 01 (big-endian), flags 0
//  16     GLOBAL len 8: socket fd 3, evtchn fd 4
//  32     CONNECTION len 32: conn 1, ring, dom0, no target, port 5,
//         in "\x01\x02\x03" (3), resp 2, out "OK\0\0" (4), 1 byte pad
//  72     WATCH len 16: conn 1, "/a\0" (3), "tk\0" (3), 2 bytes pad
//  96     CONNECTION len 24: conn 2, socket, fd 7, no data
// 128     NODE len 24: committed "/" (2), no value, perm n0, 2 bytes pad
// 160     END len 0
// 168     (end of file)
std::string c417_stream() {
  std::string s(168, '\0');
  put(s, 0, "xenstore");
  s[11] = 1;  // big-endian version 1
  put32(s, 16, 1);   // GLOBAL
  put32(s, 20, 8);
  put32(s, 24, 3);
  put32(s, 28, 4);
  put32(s, 32, 2);   // CONNECTION
  put32(s, 36, 32);
  put32(s, 40, 1);       // conn_id
  put16(s, 44, 0);       // ring
  put16(s, 46, 0);       // pad / fields
  put16(s, 48, 0);       // domid
  put16(s, 50, 0x7FF4);  // tdomid: DOMID_INVALID
  put32(s, 52, 5);       // evtchn
  put16(s, 56, 3);       // data_in_len
  put16(s, 58, 2);       // data_resp_len
  put32(s, 60, 4);       // data_out_len
  put(s, 64, "\x01\x02\x03");
  put(s, 67, "OK\0\0"sv);  // then one pad byte at 71
  put32(s, 72, 3);   // WATCH
  put32(s, 76, 16);
  put32(s, 80, 1);
  put16(s, 84, 3);
  put16(s, 86, 3);
  put(s, 88, "/a\0tk\0"sv);  // 2 pad bytes at 94
  put32(s, 96, 2);   // CONNECTION (socket)
  put32(s, 100, 24);
  put32(s, 104, 2);
  put16(s, 108, 1);      // socket
  put32(s, 112, 7);      // socket fd, then 4 pad bytes
  put32(s, 128, 5);  // NODE
  put32(s, 132, 24);
  put16(s, 144, 2);      // path_len
  put16(s, 146, 0);      // data_len
  put16(s, 148, 0);      // access
  put16(s, 150, 1);      // perm_n
  put(s, 152, "n\0\0\0"sv);
  put(s, 156, "/\0"sv);  // 2 pad bytes at 158
  put32(s, 160, 0);  // END
  put32(s, 164, 0);
  return s;
}

TEST(C417Layout, AHandBuiltC417StreamReadsWithEveryField) {
  std::string bytes = c417_stream();
  Stream s;
  StreamError err;
  ASSERT_TRUE(read_stream(bytes, s, err)) << err.to_string();
  EXPECT_EQ(s.version, 1u);
  EXPECT_EQ(s.global.socket_fd, 3);
  EXPECT_EQ(s.global.evtchn_fd, 4);
  ASSERT_EQ(s.conns.size(), 2u);
  EXPECT_EQ(s.conns[0].conn_id, 1u);
  EXPECT_EQ(s.conns[0].kind, ConnKind::kRing);
  EXPECT_EQ(s.conns[0].domid, 0);
  EXPECT_EQ(s.conns[0].target, kDomidInvalid);
  EXPECT_EQ(s.conns[0].evtchn, 5u);
  EXPECT_EQ(s.conns[0].in, "\x01\x02\x03");
  EXPECT_EQ(s.conns[0].out_resp_len, 2);
  EXPECT_EQ(s.conns[0].out, "OK\0\0"sv);
  EXPECT_EQ(s.conns[1].kind, ConnKind::kSocket);
  EXPECT_EQ(s.conns[1].socket_fd, 7);
  EXPECT_TRUE(s.conns[1].in.empty());
  ASSERT_EQ(s.watches.size(), 1u);
  EXPECT_EQ(s.watches[0].path, "/a");
  EXPECT_EQ(s.watches[0].token, "tk");
  ASSERT_EQ(s.nodes.size(), 1u);
  EXPECT_EQ(s.nodes[0].path, "/");
  EXPECT_EQ(s.nodes[0].value, "");
  EXPECT_EQ(decode_perms(s.nodes[0].perms_raw),
            (PermList{{DomId{0}, kPermNone}}));
}

TEST(C417Layout, StreamWriterProducesExactlyTheC417Bytes) {
  StreamWriter w(kVersion1);
  ASSERT_TRUE(w.global({.socket_fd = 3, .evtchn_fd = 4}));
  ASSERT_TRUE(w.connection({.conn_id = 1, .kind = ConnKind::kRing, .domid = 0,
                            .target = kDomidInvalid, .evtchn = 5,
                            .in = "\x01\x02\x03", .out_resp_len = 2,
                            .out = "OK\0\0"sv}));
  ASSERT_TRUE(w.watch({.conn_id = 1, .path = "/a", .token = "tk"}));
  ASSERT_TRUE(w.connection({.conn_id = 2, .kind = ConnKind::kSocket,
                            .socket_fd = 7}));
  ASSERT_TRUE(w.node({.path = "/"}, PermList{{DomId{0}, kPermNone}}));
  std::string bytes = w.finish();
  std::string want = c417_stream();
  ASSERT_EQ(bytes.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i)
    EXPECT_EQ(bytes[i], want[i]) << "byte " << i;
}

TEST(C417Layout, AWatchExtendedRecordPutsTheDepthAt8AndTheDataAt12) {
  // The design document's layout (not Xen 4.22's misaligned writer).
  StreamWriter w(kVersion2);
  ASSERT_TRUE(w.global({}));
  ASSERT_TRUE(w.connection({.conn_id = 1}));
  std::size_t at = w.size();
  ASSERT_TRUE(w.watch({.conn_id = 1, .path = "/p", .token = "t", .depth = 0x0102}));
  std::string bytes = w.finish();
  EXPECT_EQ(bytes.substr(8, 4), std::string("\0\0\0\x02"sv));  // BE version
  std::string_view rec = std::string_view(bytes).substr(at);
  EXPECT_EQ(rec.substr(0, 8), "\x08\0\0\0\x18\0\0\0"sv);  // type 8, len 24
  EXPECT_EQ(rec.substr(8, 12), "\x01\0\0\0\x03\0\x02\0\x02\x01\0\0"sv);
  EXPECT_EQ(rec.substr(20, 5), "/p\0t\0"sv);
  EXPECT_EQ(rec.substr(25, 7), std::string(7, '\0'));
}

}  // namespace
}  // namespace cxs::migrate

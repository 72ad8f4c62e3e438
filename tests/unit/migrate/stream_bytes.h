// Hand-built stream bytes for the migrate tests, independent of
// StreamWriter: little-endian fields appended one by one, records framed
// with an explicit or a padded length. What the writer must not be trusted
// to produce (bad records) is built here.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace cxs::migrate::testing {

class Bytes {
 public:
  Bytes& u8(std::uint8_t v) {
    s_ += static_cast<char>(v);
    return *this;
  }
  Bytes& u16(std::uint16_t v) { return raw(&v, 2); }
  Bytes& u32(std::uint32_t v) { return raw(&v, 4); }
  Bytes& u64(std::uint64_t v) { return raw(&v, 8); }
  Bytes& str(std::string_view v) {
    s_.append(v);
    return *this;
  }
  Bytes& zeros(std::size_t n) {
    s_.append(n, '\0');
    return *this;
  }
  Bytes& pad8() { return zeros((8 - s_.size() % 8) % 8); }
  const std::string& bytes() const { return s_; }
  std::size_t size() const { return s_.size(); }

 private:
  Bytes& raw(const void* p, std::size_t n) {
    s_.append(static_cast<const char*>(p), n);
    return *this;
  }
  std::string s_;
};

// A stream under construction: preamble, then framed records.
class RawStream {
 public:
  explicit RawStream(std::uint32_t version = 1, std::uint32_t flags_be = 0) {
    s_ = "xenstore";
    be32(version);
    be32(flags_be);
  }
  // A record whose length is the body padded to 8 (padding zero).
  RawStream& record(std::uint32_t type, const std::string& body) {
    std::size_t padded = (body.size() + 7) & ~std::size_t{7};
    return record_raw(type, static_cast<std::uint32_t>(padded),
                      body + std::string(padded - body.size(), '\0'));
  }
  // A record with any length word and any body bytes.
  RawStream& record_raw(std::uint32_t type, std::uint32_t len,
                        const std::string& body) {
    offsets_.push_back(s_.size());
    Bytes h;
    h.u32(type).u32(len);
    s_ += h.bytes();
    s_ += body;
    return *this;
  }
  RawStream& global(std::int32_t sock = -1, std::int32_t evtchn = 3) {
    Bytes b;
    b.u32(static_cast<std::uint32_t>(sock)).u32(static_cast<std::uint32_t>(evtchn));
    return record(1, b.bytes());
  }
  RawStream& end() { return record(0, ""); }
  RawStream& append(std::string_view raw) {
    s_.append(raw);
    return *this;
  }
  const std::string& bytes() const { return s_; }
  // Header offset of the i-th record framed here.
  std::size_t offset(std::size_t i) const { return offsets_.at(i); }

 private:
  void be32(std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
      s_ += static_cast<char>((v >> shift) & 0xFF);
  }
  std::string s_;
  std::vector<std::size_t> offsets_;
};

// Record bodies, C 4.17 layouts.
inline std::string ring_conn(std::uint32_t conn_id, std::uint16_t domid,
                             std::string_view in = {},
                             std::string_view out = {},
                             std::uint16_t resp = 0) {
  Bytes b;
  b.u32(conn_id).u16(0).u16(0).u16(domid).u16(0x7FF4).u32(7);
  b.u16(static_cast<std::uint16_t>(in.size())).u16(resp);
  b.u32(static_cast<std::uint32_t>(out.size())).str(in).str(out);
  return b.bytes();
}

inline std::string watch_body(std::uint32_t conn_id, std::string_view path,
                              std::string_view token) {
  Bytes b;
  b.u32(conn_id).u16(static_cast<std::uint16_t>(path.size() + 1));
  b.u16(static_cast<std::uint16_t>(token.size() + 1));
  b.str(path).u8(0).str(token).u8(0);
  return b.bytes();
}

// A committed node with one perm entry {perm_char, flags, domid}.
inline std::string node_body(std::string_view path, std::string_view value = {},
                             char perm = 'n', std::uint8_t flags = 0,
                             std::uint16_t domid = 0,
                             std::uint32_t conn_id = 0) {
  Bytes b;
  b.u32(conn_id).u32(0).u16(static_cast<std::uint16_t>(path.size() + 1));
  b.u16(static_cast<std::uint16_t>(value.size())).u16(0).u16(1);
  b.u8(static_cast<std::uint8_t>(perm)).u8(flags).u16(domid);
  b.str(path).u8(0).str(value);
  return b.bytes();
}

inline std::string cxs_daemon_body(std::uint32_t format = 1) {
  Bytes b;
  b.u32(format).u32(1).u64(1).u64(0).u32(0).u32(0);
  return b.bytes();
}

}  // namespace cxs::migrate::testing

#include "migrate/writer.h"

#include <cstring>
#include <limits>
#include <string>
#include <utility>

#include "migrate/bytes.h"

namespace cxs::migrate {
namespace {

using bytes::put16;
using bytes::put32;
using bytes::put64;

constexpr std::size_t kU16Max = std::numeric_limits<std::uint16_t>::max();
constexpr std::size_t kU32Max = std::numeric_limits<std::uint32_t>::max();
// The largest body whose padded length still fits the u32 header field.
constexpr std::size_t kBodyMax = kU32Max & ~(kAlign - 1);

// A string whose wire length counts a trailing NUL: it must fit a u16 with
// the NUL, and hold no NUL of its own.
bool fits_nul_string(std::string_view s) noexcept {
  return s.size() < kU16Max && s.find('\0') == std::string_view::npos;
}

// A length-prefixed string of a private record: a u16 length, no NUL.
bool fits_u16_string(std::string_view s) noexcept {
  return s.size() <= kU16Max && s.find('\0') == std::string_view::npos;
}

// Copies `s` to `p` (and a NUL when `nul`); returns the byte after.
char* put_bytes(char* p, std::string_view s, bool nul = false) noexcept {
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size() + (nul ? 1 : 0);  // the buffer is zeroed: NUL is there
}

bool quotas_fit(const std::vector<QuotaEntry>& quotas) noexcept {
  for (const QuotaEntry& q : quotas) {
    if (q.name.empty() || q.name.find('\0') != std::string_view::npos)
      return false;
  }
  return true;
}

std::size_t quota_names_size(const std::vector<QuotaEntry>& quotas) noexcept {
  std::size_t n = 0;
  for (const QuotaEntry& q : quotas) n += q.name.size() + 1;
  return n;
}

bool children_valid(std::string_view children) noexcept {
  return children.empty() || children.back() == '\0';
}

std::size_t tx_node_size(const CxsTxNode& n) noexcept {
  std::size_t delta =
      (n.flags & kTxNodeHasDelta) ? 4 + n.child_delta.size() : 0;
  return align8(kCxsTxNodeFixed + n.path.size() + n.value.size() +
                n.perms_raw.size() + n.children.size() + delta);
}

std::size_t tx_event_size(const CxsTxEvent& e) noexcept {
  return align8(kCxsTxEventFixed + e.path.size() + e.perms_raw.size() +
                e.old_perms_raw.size());
}

}  // namespace

StreamWriter::StreamWriter(std::uint32_t version) : version_(version) {
  if (version != kVersion1 && version != kVersion2)
    error_ = "preamble: version " + std::to_string(version) +
             " is neither 1 nor 2";
  buf_.resize(kPreambleSize);
  std::memcpy(buf_.data(), kIdent.data(), kIdent.size());
  // The one big-endian field of the stream.
  std::uint32_t be = __builtin_bswap32(version);
  std::memcpy(buf_.data() + 8, &be, 4);
  // flags (offset 12) stay 0: little-endian.
}

bool StreamWriter::refuse(RecordType type, std::string_view why) {
  if (error_.empty()) {
    error_ = std::string(record_name(type)) + ": ";
    error_ += why;
  }
  return false;
}

char* StreamWriter::begin_record(RecordType type, std::size_t body) {
  std::size_t padded = align8(body);
  std::size_t at = buf_.size();
  buf_.resize(at + kRecordHeaderSize + padded);  // zero: padding included
  char* p = buf_.data() + at;
  put32(p, static_cast<std::uint32_t>(type));
  put32(p + 4, static_cast<std::uint32_t>(padded));
  return p + kRecordHeaderSize;
}

bool StreamWriter::global(const GlobalRec& rec) {
  char* p = begin_record(RecordType::kGlobal, kGlobalSize);
  put32(p, static_cast<std::uint32_t>(rec.socket_fd));
  put32(p + 4, static_cast<std::uint32_t>(rec.evtchn_fd));
  return true;
}

bool StreamWriter::connection(const ConnRec& rec) {
  constexpr auto kType = RecordType::kConnection;
  if (rec.conn_id == 0) return refuse(kType, "conn_id 0");
  if (rec.kind != ConnKind::kRing && rec.kind != ConnKind::kSocket)
    return refuse(kType, "unknown connection kind");
  if (rec.in.size() > kU16Max)
    return refuse(kType, "more than 65535 bytes of unprocessed input");
  if (rec.out_resp_len > rec.out.size())
    return refuse(kType, "out_resp_len beyond the pending output");
  std::size_t body = kConnFixed + rec.in.size() + rec.out.size();
  if (rec.out.size() > kU32Max || body > kBodyMax)
    return refuse(kType, "pending output too large");
  char* p = begin_record(kType, body);
  put32(p, rec.conn_id);
  put16(p + 4, static_cast<std::uint16_t>(rec.kind));
  // p + 6: fields = 0, no unique id.
  if (rec.kind == ConnKind::kRing) {
    put16(p + 8, rec.domid);
    put16(p + 10, rec.target);
    put32(p + 12, rec.evtchn);
  } else {
    put32(p + 8, static_cast<std::uint32_t>(rec.socket_fd));
  }
  put16(p + 16, static_cast<std::uint16_t>(rec.in.size()));
  put16(p + 18, rec.out_resp_len);
  put32(p + 20, static_cast<std::uint32_t>(rec.out.size()));
  put_bytes(put_bytes(p + kConnFixed, rec.in), rec.out);
  return true;
}

bool StreamWriter::watch(const WatchRec& rec) {
  bool ext = version_ >= kVersion2 && rec.depth.has_value();
  auto type = ext ? RecordType::kWatchExtended : RecordType::kWatch;
  if (!fits_nul_string(rec.path) || !fits_nul_string(rec.token))
    return refuse(type, "path or token too long or holding a NUL");
  std::size_t fixed = ext ? kWatchExtFixed : kWatchFixed;
  char* p = begin_record(type, fixed + rec.path.size() + rec.token.size() + 2);
  put32(p, rec.conn_id);
  put16(p + 4, static_cast<std::uint16_t>(rec.path.size() + 1));
  put16(p + 6, static_cast<std::uint16_t>(rec.token.size() + 1));
  if (ext) put16(p + 8, *rec.depth);
  put_bytes(put_bytes(p + fixed, rec.path, true), rec.token, true);
  return true;
}

bool StreamWriter::node(const NodeRec& rec) {
  constexpr auto kType = RecordType::kNode;
  if (!bytes::perms_raw_valid(rec.perms_raw))
    return refuse(kType, "malformed perms");
  std::size_t count = rec.perms_raw.size() / kPermSize;
  if (count == 0 || count > kU16Max)
    return refuse(kType, "perm count not within 1..65535");
  if (rec.conn_id != 0)
    return refuse(kType, "transaction node (C 4.17 would commit it)");
  if (!fits_nul_string(rec.path) || rec.value.size() > kU16Max)
    return refuse(kType, "path or value too long, or NUL in the path");
  char* p = begin_record(kType, kNodeFixed + rec.perms_raw.size() +
                                    rec.path.size() + 1 + rec.value.size());
  // p + 0 conn_id, p + 4 tx_id, p + 12 access: 0 for a committed node.
  put16(p + 8, static_cast<std::uint16_t>(rec.path.size() + 1));
  put16(p + 10, static_cast<std::uint16_t>(rec.value.size()));
  put16(p + 14, static_cast<std::uint16_t>(count));
  char* q = put_bytes(p + kNodeFixed, rec.perms_raw);
  put_bytes(put_bytes(q, rec.path, true), rec.value);
  return true;
}

bool StreamWriter::node(const NodeRec& rec, const PermList& perms) {
  constexpr auto kType = RecordType::kNode;
  if (perms.empty() || perms.size() > kU16Max)
    return refuse(kType, "perm count not within 1..65535");
  if (!bytes::perms_encodable(perms))
    return refuse(kType, "perm with a domid over 0xFFFF or unknown bits");
  if (rec.conn_id != 0)
    return refuse(kType, "transaction node (C 4.17 would commit it)");
  if (!fits_nul_string(rec.path) || rec.value.size() > kU16Max)
    return refuse(kType, "path or value too long, or NUL in the path");
  std::size_t perm_bytes = perms.size() * kPermSize;
  char* p = begin_record(kType, kNodeFixed + perm_bytes + rec.path.size() +
                                    1 + rec.value.size());
  put16(p + 8, static_cast<std::uint16_t>(rec.path.size() + 1));
  put16(p + 10, static_cast<std::uint16_t>(rec.value.size()));
  put16(p + 14, static_cast<std::uint16_t>(perms.size()));
  bytes::put_perms(p + kNodeFixed, perms);
  char* q = p + kNodeFixed + perm_bytes;
  put_bytes(put_bytes(q, rec.path, true), rec.value);
  return true;
}

bool StreamWriter::global_quota(const GlobalQuotaRec& rec) {
  constexpr auto kType = RecordType::kGlobalQuota;
  if (rec.per_domain.size() > kU16Max || rec.global.size() > kU16Max)
    return refuse(kType, "more than 65535 quotas");
  if (!quotas_fit(rec.per_domain) || !quotas_fit(rec.global))
    return refuse(kType, "empty quota name or NUL in one");
  std::size_t n = rec.per_domain.size() + rec.global.size();
  char* p = begin_record(kType, kGlobalQuotaFixed + n * 4 +
                                    quota_names_size(rec.per_domain) +
                                    quota_names_size(rec.global));
  put16(p, static_cast<std::uint16_t>(rec.per_domain.size()));
  put16(p + 2, static_cast<std::uint16_t>(rec.global.size()));
  char* v = p + kGlobalQuotaFixed;
  char* name = v + n * 4;
  for (const auto* list : {&rec.per_domain, &rec.global}) {
    for (const QuotaEntry& q : *list) {
      put32(v, q.value);
      v += 4;
      name = put_bytes(name, q.name, true);
    }
  }
  return true;
}

bool StreamWriter::domain(const DomainRec& rec) {
  constexpr auto kType = RecordType::kDomain;
  if (rec.quotas.size() > kU16Max) return refuse(kType, "more than 65535 quotas");
  if (!quotas_fit(rec.quotas))
    return refuse(kType, "empty quota name or NUL in one");
  std::size_t n = rec.quotas.size();
  char* p = begin_record(kType, kDomainFixed + n * 4 + quota_names_size(rec.quotas));
  put16(p, rec.domid);
  put16(p + 2, static_cast<std::uint16_t>(n));
  put32(p + 4, version_ >= kVersion2 ? rec.features : 0);
  char* v = p + kDomainFixed;
  char* name = v + n * 4;
  for (const QuotaEntry& q : rec.quotas) {
    put32(v, q.value);
    v += 4;
    name = put_bytes(name, q.name, true);
  }
  return true;
}

bool StreamWriter::cxs_daemon(const CxsDaemonRec& rec) {
  constexpr auto kType = RecordType::kCxsDaemon;
  if (rec.producer.size() > kBodyMax - kCxsDaemonFixed)
    return refuse(kType, "producer too long");
  char* p = begin_record(kType, kCxsDaemonFixed + rec.producer.size());
  put32(p, rec.format);
  put32(p + 4, rec.next_tx_id);
  put64(p + 8, rec.tree_generation);
  put64(p + 16, rec.flags);
  put32(p + 24, static_cast<std::uint32_t>(rec.producer.size()));
  put_bytes(p + kCxsDaemonFixed, rec.producer);
  return true;
}

bool StreamWriter::cxs_connection(const CxsConnectionRec& rec) {
  char* p = begin_record(RecordType::kCxsConnection, kCxsConnectionSize);
  put32(p, rec.conn_id);
  put32(p + 4, rec.flags);
  return true;
}

bool StreamWriter::cxs_watch_depth(const CxsWatchDepthRec& rec) {
  constexpr auto kType = RecordType::kCxsWatchDepth;
  if (!fits_u16_string(rec.path) || !fits_u16_string(rec.token))
    return refuse(kType, "path or token too long or holding a NUL");
  char* p = begin_record(kType, kCxsWatchDepthFixed + rec.path.size() +
                                    rec.token.size());
  put32(p, rec.conn_id);
  put16(p + 4, rec.depth);
  put16(p + 6, static_cast<std::uint16_t>(rec.path.size()));
  put16(p + 8, static_cast<std::uint16_t>(rec.token.size()));
  put_bytes(put_bytes(p + kCxsWatchDepthFixed, rec.path), rec.token);
  return true;
}

bool StreamWriter::cxs_transaction(const CxsTransactionRec& rec) {
  constexpr auto kType = RecordType::kCxsTransaction;
  if (rec.tx_id == 0) return refuse(kType, "tx_id 0");
  if (rec.nodes.size() > kU32Max || rec.events.size() > kU32Max)
    return refuse(kType, "too many entries");
  std::size_t body = kCxsTransactionFixed;
  for (const CxsTxNode& n : rec.nodes) {
    if (n.path.empty() || !fits_u16_string(n.path) || n.value.size() > kU32Max ||
        n.children.size() > kU32Max || !children_valid(n.children) ||
        !bytes::perms_raw_valid(n.perms_raw))
      return refuse(kType, "node entry with a bad path, perms or children");
    if (n.child_delta.size() > kU32Max || !children_valid(n.child_delta) ||
        n.child_delta.empty() == bool(n.flags & kTxNodeHasDelta))
      return refuse(kType, "node entry with a bad child delta");
    body += tx_node_size(n);
  }
  for (const CxsTxEvent& e : rec.events) {
    if (e.path.empty() || !fits_u16_string(e.path) || !bytes::perms_raw_valid(e.perms_raw) ||
        !bytes::perms_raw_valid(e.old_perms_raw))
      return refuse(kType, "event entry with a bad path or perms");
    body += tx_event_size(e);
  }
  if (body > kBodyMax) return refuse(kType, "record too large");
  char* p = begin_record(kType, body);
  put32(p, rec.conn_id);
  put32(p + 4, rec.tx_id);
  put32(p + 8, rec.max_entries);
  put32(p + 12, static_cast<std::uint32_t>(rec.nodes.size()));
  put32(p + 16, static_cast<std::uint32_t>(rec.events.size()));
  char* e = p + kCxsTransactionFixed;
  for (const CxsTxNode& n : rec.nodes) {
    e[0] = static_cast<char>(n.flags);
    e[1] = static_cast<char>(n.written);
    put16(e + 2, static_cast<std::uint16_t>(n.path.size()));
    put32(e + 4, static_cast<std::uint32_t>(n.value.size()));
    put64(e + 8, n.base_generation);
    put64(e + 16, n.copy_generation);
    put32(e + 24, static_cast<std::uint32_t>(n.perms_raw.size()));
    put32(e + 28, static_cast<std::uint32_t>(n.children.size()));
    char* q = put_bytes(e + kCxsTxNodeFixed, n.path);
    q = put_bytes(put_bytes(put_bytes(q, n.value), n.perms_raw), n.children);
    if (n.flags & kTxNodeHasDelta) {
      put32(q, static_cast<std::uint32_t>(n.child_delta.size()));
      put_bytes(q + 4, n.child_delta);
    }
    e += tx_node_size(n);
  }
  for (const CxsTxEvent& ev : rec.events) {
    e[0] = static_cast<char>(ev.flags);
    put16(e + 2, static_cast<std::uint16_t>(ev.path.size()));
    put32(e + 4, static_cast<std::uint32_t>(ev.perms_raw.size()));
    put32(e + 8, static_cast<std::uint32_t>(ev.old_perms_raw.size()));
    char* q = put_bytes(e + kCxsTxEventFixed, ev.path);
    put_bytes(put_bytes(q, ev.perms_raw), ev.old_perms_raw);
    e += tx_event_size(ev);
  }
  return true;
}

bool StreamWriter::cxs_generations(std::span<const std::uint64_t> generations) {
  constexpr auto kType = RecordType::kCxsGenerations;
  if (generations.size() > (kBodyMax - kCxsGenerationsFixed) / 8)
    return refuse(kType, "too many generations");
  char* p = begin_record(kType, kCxsGenerationsFixed + generations.size() * 8);
  put32(p, static_cast<std::uint32_t>(generations.size()));
  if (!generations.empty())
    std::memcpy(p + kCxsGenerationsFixed, generations.data(),
                generations.size() * 8);
  return true;
}

bool StreamWriter::cxs_domain(const CxsDomainRec& rec) {
  char* p = begin_record(RecordType::kCxsDomain, kCxsDomainSize);
  put16(p, rec.domid);
  put16(p + 2, rec.flags);
  put32(p + 4, rec.features);
  put32(p + 8, rec.local_port);
  put32(p + 12, rec.conn_id);
  put64(p + 16, rec.gfn);
  return true;
}

std::string StreamWriter::finish() {
  begin_record(RecordType::kEnd, 0);
  return std::move(buf_);
}

}  // namespace cxs::migrate

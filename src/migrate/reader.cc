// The reader checks each record once, as it parses it, and keeps only what
// later records are checked against: the conn_ids seen, the committed node
// paths (views into the input) and a few "seen" flags. Every field is read
// only after the bytes it lies in are known to be inside the record body,
// and every body is known to be inside the input.
#include "migrate/reader.h"

#include <array>
#include <cstdio>
#include <cstring>
#include <type_traits>
#include <unordered_set>

#include "migrate/bytes.h"
#include "migrate/path_set.h"

namespace cxs::migrate {
namespace {

using bytes::get16;
using bytes::get32;
using bytes::get64;

void append(std::string& s, std::string_view v) { s += v; }
void append(std::string& s, const char* v) { s += v; }
template <typename Int>
  requires std::is_integral_v<Int>
void append(std::string& s, Int v) {
  s += std::to_string(v);
}

template <typename... Args>
std::string cat(const Args&... args) {
  std::string s;
  (append(s, args), ...);
  return s;
}

// A path or token for a message: quoted, clipped, NULs made visible.
std::string quote(std::string_view v) {
  constexpr std::size_t kMax = 80;
  std::string s = "\"";
  for (char c : v.substr(0, kMax)) s += c == '\0' ? std::string_view("\\0") : std::string_view(&c, 1);
  if (v.size() > kMax) s += "...";
  s += '"';
  return s;
}

bool has_nul(std::string_view s) noexcept {
  return !s.empty() && std::memchr(s.data(), 0, s.size()) != nullptr;
}

// "/" or "/a/b": no empty component, no trailing slash.
bool canonical_absolute(std::string_view path) noexcept {
  if (path.size() == 1) return true;
  return path.back() != '/' && path.find("//") == std::string_view::npos;
}

std::string_view parent_of(std::string_view path) noexcept {
  std::size_t slash = path.rfind('/');
  return slash == 0 ? path.substr(0, 1) : path.substr(0, slash);
}

class Reader {
 public:
  Reader(std::string_view bytes, Stream& out, StreamError& error,
         const ReadOptions& options)
      : in_(bytes),
        out_(out),
        err_(error),
        check_tree_(options.check_tree),
        sink_(options.node_sink) {}

  bool run();
  bool run_global();

 private:
  using Handler = bool (Reader::*)(std::string_view body);
  struct Entry {
    RecordType type;
    Handler handler;
  };
  static const std::array<Entry, 15> kHandlers;
  static const Entry* find_handler(std::uint32_t type) noexcept;

  bool preamble();
  // The header of the record at `at`, checked: sets offset_ and type_.
  bool record_header(std::size_t at, std::string_view& body);
  void look_ahead();
  std::uint64_t generation_of(std::size_t node) const noexcept;
  std::string_view next_node_path(std::string_view body) const noexcept;

  bool global(std::string_view body);
  bool connection(std::string_view body);
  bool watch(std::string_view body);
  bool watch_extended(std::string_view body);
  bool watch_common(std::string_view body, bool ext);
  bool transaction(std::string_view body);
  bool node(std::string_view body);
  bool global_quota(std::string_view body);
  bool domain(std::string_view body);
  bool cxs_daemon(std::string_view body);
  bool cxs_connection(std::string_view body);
  bool cxs_watch_depth(std::string_view body);
  bool cxs_transaction(std::string_view body);
  bool cxs_generations(std::string_view body);
  bool cxs_domain(std::string_view body);
  bool end_record(std::string_view) { return true; }

  bool fail(std::string message) {
    err_.offset = offset_;
    err_.record_index = index_;
    err_.record_type = type_;
    err_.message = std::move(message);
    return false;
  }
  bool need(std::string_view body, std::size_t fixed) {
    if (body.size() >= fixed) return true;
    return fail(cat("body of ", body.size(), " bytes is shorter than its ",
                    fixed, "-byte fixed part"));
  }
  bool known_conn(std::uint32_t conn_id) {
    if (conn_ids_.count(conn_id)) return true;
    return fail(cat("conn_id ", conn_id, " has no earlier CONNECTION"));
  }
  // A string whose wire length `len` counts its NUL, at body[at..]: sets
  // `out` (without the NUL) and advances `at`.
  bool nul_string(std::string_view body, std::size_t& at, std::size_t len,
                  const char* field, std::string_view& out);
  // A length-prefixed string without NUL (private records).
  bool plain_string(std::string_view body, std::size_t& at, std::size_t len,
                    const char* field, std::string_view& out);
  bool perms(std::string_view raw, const char* field);
  bool quotas(std::string_view body, std::size_t at, std::size_t count,
              std::vector<QuotaEntry>& out);
  bool cxs_gate(std::string_view body, bool& skip);
  bool parent_seen(std::string_view path) const noexcept;

  std::string_view in_;
  Stream& out_;
  StreamError& err_;
  std::size_t offset_ = 0;
  std::size_t index_ = StreamError::kPreamble;
  std::uint32_t type_ = StreamError::kNoType;

  std::unordered_set<std::uint32_t> conn_ids_;
  bool check_tree_;
  NodeSink* sink_;
  // The first CXS_GENERATIONS record's generations, found by look_ahead()
  // so that each node gets its own as it is read; the record itself is
  // checked when the pass reaches it.
  std::string_view generations_ahead_;
  // look_ahead() found a CXS_DAEMON of the format this reader knows: only
  // then are the generations ours to use.
  bool daemon_known_ahead_ = false;
  PathSet node_paths_;
  // The last committed node, not yet in node_paths_.
  struct Pending {
    std::string_view path;
    std::uint64_t hash;
    std::size_t index;
    std::size_t offset;
  };
  std::optional<Pending> pending_;
  bool flush_pending();
  // The last committed absolute path: it and its ancestors are all earlier
  // nodes, so a pre-order stream's parent check needs no lookup.
  std::string_view last_absolute_;
  std::unordered_set<std::uint32_t> domain_ids_;
  std::unordered_set<std::uint32_t> cxs_domain_ids_;
  std::unordered_set<std::uint32_t> cxs_conn_ids_;
  std::unordered_set<std::uint64_t> cxs_tx_ids_;
  bool cxs_skip_ = false;  // CXS_DAEMON named a format we do not know
};

const std::array<Reader::Entry, 15> Reader::kHandlers = {{
    {RecordType::kEnd, &Reader::end_record},
    {RecordType::kGlobal, &Reader::global},
    {RecordType::kConnection, &Reader::connection},
    {RecordType::kWatch, &Reader::watch},
    {RecordType::kTransaction, &Reader::transaction},
    {RecordType::kNode, &Reader::node},
    {RecordType::kGlobalQuota, &Reader::global_quota},
    {RecordType::kDomain, &Reader::domain},
    {RecordType::kWatchExtended, &Reader::watch_extended},
    {RecordType::kCxsDaemon, &Reader::cxs_daemon},
    {RecordType::kCxsConnection, &Reader::cxs_connection},
    {RecordType::kCxsWatchDepth, &Reader::cxs_watch_depth},
    {RecordType::kCxsTransaction, &Reader::cxs_transaction},
    {RecordType::kCxsGenerations, &Reader::cxs_generations},
    {RecordType::kCxsDomain, &Reader::cxs_domain},
}};

const Reader::Entry* Reader::find_handler(std::uint32_t type) noexcept {
  std::size_t i;
  if (type <= static_cast<std::uint32_t>(RecordType::kWatchExtended))
    i = type;
  else if (is_cxs_record(type))
    i = 9 + (type - kCxsFirst);
  else
    return nullptr;
  return &kHandlers[i];
}

bool Reader::preamble() {
  offset_ = 0;
  if (in_.size() < kPreambleSize)
    return fail(cat("stream of ", in_.size(),
                    " bytes is shorter than the 16-byte preamble"));
  if (in_.substr(0, kIdent.size()) != kIdent)
    return fail("ident is not \"xenstore\"");
  // The spec makes the whole preamble big-endian; C writes flags natively,
  // which for the one value a little-endian writer uses (0) is the same.
  std::uint32_t version = __builtin_bswap32(get32(in_.data() + 8));
  std::uint32_t flags = __builtin_bswap32(get32(in_.data() + 12));
  if (version != kVersion1 && version != kVersion2)
    return fail(cat("version ", version, " not supported (only 1 and 2)"));
  if (flags & kFlagBigEndian)
    return fail("big-endian stream: only little-endian streams are supported");
  if (flags != 0)
    return fail(cat("reserved preamble flag bits set (flags ", flags, ")"));
  out_.version = version;
  return true;
}

// One cheap pass over the record headers to size the node containers
// exactly (a stream holds ~100 000 nodes) and to find the generations that
// come after the nodes; stops at the first header that does not fit, which
// the real pass will report.
void Reader::look_ahead() {
  std::size_t nodes = 0;
  bool daemon_seen_ahead = false;
  std::size_t at = kPreambleSize;
  while (in_.size() - at >= kRecordHeaderSize) {
    std::uint32_t type = get32(in_.data() + at);
    std::uint32_t len = get32(in_.data() + at + 4);
    if (len > in_.size() - at - kRecordHeaderSize) break;
    std::string_view body = in_.substr(at + kRecordHeaderSize, len);
    if (type == static_cast<std::uint32_t>(RecordType::kNode)) ++nodes;
    if (type == static_cast<std::uint32_t>(RecordType::kCxsDaemon) &&
        body.size() >= 8 && !daemon_seen_ahead) {
      daemon_seen_ahead = true;
      daemon_known_ahead_ = get32(body.data()) == kCxsFormat;
    }
    if (type == static_cast<std::uint32_t>(RecordType::kCxsGenerations) &&
        generations_ahead_.empty() && body.size() >= kCxsGenerationsFixed) {
      std::size_t count = get32(body.data());
      if (count <= (body.size() - kCxsGenerationsFixed) / 8)
        generations_ahead_ = body.substr(kCxsGenerationsFixed, count * 8);
    }
    if (type == static_cast<std::uint32_t>(RecordType::kEnd)) break;
    at += kRecordHeaderSize + len;
  }
  if (sink_)
    sink_->expect(nodes);
  else
    out_.nodes.reserve(nodes);
  if (check_tree_) node_paths_.reserve(nodes);
}

// The generation the stream's CXS_GENERATIONS gives committed node number
// `node`, 0 if none (or if its CXS_DAEMON names a format this reader does
// not know: then the private records are skipped). A count that does not
// match the nodes refuses the stream when the pass reaches the record.
std::uint64_t Reader::generation_of(std::size_t node) const noexcept {
  if (!daemon_known_ahead_ || node >= generations_ahead_.size() / 8) return 0;
  return get64(generations_ahead_.data() + node * 8);
}

bool Reader::run() {
  out_ = Stream{};
  if (!preamble()) return false;
  look_ahead();
  std::size_t at = kPreambleSize;
  for (index_ = 0;; ++index_) {
    std::string_view body;
    if (!record_header(at, body)) return false;
    std::size_t len = body.size();
    auto type = static_cast<RecordType>(type_);
    if (index_ == 0 && type != RecordType::kGlobal)
      return fail(type == RecordType::kEnd ? "END before any GLOBAL record"
                                           : "the first record is not GLOBAL");
    if (pending_ && type_ != static_cast<std::uint32_t>(RecordType::kNode)) {
      if (!flush_pending()) return false;
    }
    const Entry* e = find_handler(type_);
    if (e == nullptr) {
      out_.unknown.emplace_back(type_, at);
    } else if (!(this->*(e->handler))(body)) {
      return false;
    }
    at += kRecordHeaderSize + len;
    if (type == RecordType::kEnd) {
      if (at == in_.size()) return true;
      offset_ = at;
      ++index_;
      type_ = in_.size() - at >= 4 ? get32(in_.data() + at)
                                   : StreamError::kNoType;
      return fail(cat(in_.size() - at, " bytes after the END record"));
    }
  }
}

bool Reader::record_header(std::size_t at, std::string_view& body) {
  offset_ = at;
  type_ = StreamError::kNoType;
  std::size_t left = in_.size() - at;
  if (left == 0) return fail("stream ends without an END record");
  if (left < kRecordHeaderSize)
    return fail(cat("record header runs past the end (", left,
                    " bytes left)"));
  type_ = get32(in_.data() + at);
  std::uint32_t len = get32(in_.data() + at + 4);
  if (len % kAlign != 0)
    return fail(cat("length ", len, " is not a multiple of 8"));
  if (len > left - kRecordHeaderSize)
    return fail(cat("length ", len, " runs past the end (",
                    left - kRecordHeaderSize, " bytes left)"));
  body = in_.substr(at + kRecordHeaderSize, len);
  return true;
}

bool Reader::run_global() {
  out_ = Stream{};
  if (!preamble()) return false;
  index_ = 0;
  std::string_view body;
  if (!record_header(kPreambleSize, body)) return false;
  if (type_ != static_cast<std::uint32_t>(RecordType::kGlobal))
    return fail("the first record is not GLOBAL");
  if (!global(body)) return false;
  // The framing of the rest: a stream cut short or with a bad length is
  // reported before anything is done with the descriptors it names.
  std::size_t at = kPreambleSize;
  for (;; ++index_) {
    if (!record_header(at, body)) return false;
    at += kRecordHeaderSize + body.size();
    if (type_ == static_cast<std::uint32_t>(RecordType::kEnd)) break;
  }
  if (at == in_.size()) return true;
  offset_ = at;
  ++index_;
  type_ = StreamError::kNoType;
  return fail(cat(in_.size() - at, " bytes after the END record"));
}

bool Reader::nul_string(std::string_view body, std::size_t& at,
                        std::size_t len, const char* field,
                        std::string_view& out) {
  if (len == 0) return fail(cat(field, " length 0 (it counts its NUL)"));
  if (len > body.size() - at)
    return fail(cat(field, " of ", len, " bytes runs past the body"));
  std::string_view s = body.substr(at, len);
  if (s.back() != '\0') return fail(cat(field, " not NUL-terminated"));
  s.remove_suffix(1);
  if (has_nul(s)) return fail(cat("NUL inside ", field, " ", quote(s)));
  out = s;
  at += len;
  return true;
}

bool Reader::plain_string(std::string_view body, std::size_t& at,
                          std::size_t len, const char* field,
                          std::string_view& out) {
  if (len > body.size() - at)
    return fail(cat(field, " of ", len, " bytes runs past the body"));
  out = body.substr(at, len);
  at += len;
  return true;
}

bool Reader::perms(std::string_view raw, const char* field) {
  if (raw.size() % kPermSize != 0)
    return fail(cat(field, " length ", raw.size(), " is not a multiple of 4"));
  for (std::size_t at = 0; at < raw.size(); at += kPermSize) {
    char c = raw[at];
    if (c != 'n' && c != 'r' && c != 'w' && c != 'b')
      return fail(cat(field, " entry ", at / kPermSize, ": access ",
                      static_cast<unsigned>(static_cast<std::uint8_t>(c)),
                      " is not one of n r w b"));
    auto flags = static_cast<std::uint8_t>(raw[at + 1]);
    if (flags & ~kPermFlagStale)
      return fail(cat(field, " entry ", at / kPermSize,
                      ": unknown flag bits (flags ", flags, ")"));
  }
  return true;
}

bool Reader::global(std::string_view body) {
  if (index_ != 0) return fail("a second GLOBAL record");
  if (!need(body, kGlobalSize)) return false;
  out_.global.socket_fd = static_cast<std::int32_t>(get32(body.data()));
  out_.global.evtchn_fd = static_cast<std::int32_t>(get32(body.data() + 4));
  return true;
}

bool Reader::connection(std::string_view body) {
  if (!need(body, kConnFixed)) return false;
  const char* p = body.data();
  ConnRec c;
  c.conn_id = get32(p);
  if (c.conn_id == 0) return fail("conn_id 0");
  if (conn_ids_.count(c.conn_id))
    return fail(cat("duplicate conn_id ", c.conn_id));
  std::uint16_t kind = get16(p + 4);
  std::uint16_t fields = get16(p + 6);
  if (kind == static_cast<std::uint16_t>(ConnKind::kRing)) {
    c.kind = ConnKind::kRing;
    c.domid = get16(p + 8);
    c.target = get16(p + 10);
    c.evtchn = get32(p + 12);
  } else if (kind == static_cast<std::uint16_t>(ConnKind::kSocket)) {
    c.kind = ConnKind::kSocket;
    c.socket_fd = static_cast<std::int32_t>(get32(p + 8));
  } else {
    return fail(cat("unknown conn_type ", kind));
  }
  if (fields & ~kConnFieldUniqueId)
    return fail(cat("unknown fields bits (fields ", fields, ")"));
  std::size_t in_len = get16(p + 16);
  c.out_resp_len = get16(p + 18);
  std::size_t out_len = get32(p + 20);
  if (c.out_resp_len > out_len)
    return fail(cat("out_resp_len ", c.out_resp_len, " exceeds out_len ",
                    out_len));
  if (in_len + out_len > body.size() - kConnFixed)
    return fail(cat(in_len, " in and ", out_len,
                    " out bytes run past the body"));
  c.in = body.substr(kConnFixed, in_len);
  c.out = body.substr(kConnFixed + in_len, out_len);
  if (fields & kConnFieldUniqueId) {
    std::size_t uid = align8(kConnFixed + in_len + out_len);
    if (uid > body.size() || body.size() - uid < 8)
      return fail("unique id runs past the body");
    c.unique_id = get64(p + uid);
  }
  conn_ids_.insert(c.conn_id);
  out_.conns.push_back(c);
  return true;
}

bool Reader::watch(std::string_view body) { return watch_common(body, false); }

bool Reader::watch_extended(std::string_view body) {
  if (out_.version < kVersion2)
    return fail("WATCH_EXTENDED in a version 1 stream");
  return watch_common(body, true);
}

bool Reader::watch_common(std::string_view body, bool ext) {
  std::size_t at = ext ? kWatchExtFixed : kWatchFixed;
  if (!need(body, at)) return false;
  WatchRec w;
  w.conn_id = get32(body.data());
  if (!known_conn(w.conn_id)) return false;
  std::size_t path_len = get16(body.data() + 4);
  std::size_t token_len = get16(body.data() + 6);
  if (ext) w.depth = get16(body.data() + 8);
  if (!nul_string(body, at, path_len, "path", w.path) ||
      !nul_string(body, at, token_len, "token", w.token))
    return false;
  out_.watches.push_back(w);
  return true;
}

bool Reader::transaction(std::string_view body) {
  if (!need(body, kTransactionSize)) return false;
  ++out_.transactions_skipped;
  return true;
}

bool Reader::node(std::string_view body) {
  if (!need(body, kNodeFixed)) return false;
  if (out_.cxs_generations) return fail("NODE after CXS_GENERATIONS");
  const char* p = body.data();
  NodeRec n;
  n.conn_id = get32(p);
  n.tx_id = get32(p + 4);
  std::size_t path_len = get16(p + 8);
  std::size_t value_len = get16(p + 10);
  n.access = get16(p + 12);
  std::size_t perm_bytes = std::size_t{get16(p + 14)} * kPermSize;
  std::size_t at = kNodeFixed;
  if (perm_bytes > body.size() - at)
    return fail(cat(perm_bytes / kPermSize, " perms run past the body"));
  n.perms_raw = body.substr(at, perm_bytes);
  at += perm_bytes;
  if (n.conn_id != 0) {
    // A transaction's node: C 4.17 would commit it; cxenstored carries
    // transactions in CXS_TRANSACTION and never writes these.
    if (path_len + value_len > body.size() - at)
      return fail("path and value run past the body");
    ++out_.transaction_nodes_skipped;
    return true;
  }
  // The spec: tx_id and access mean nothing for a committed node.
  n.tx_id = 0;
  n.access = 0;
  if (perm_bytes == 0) return fail("committed node without perms");
  if (!perms(n.perms_raw, "perm") ||
      !nul_string(body, at, path_len, "path", n.path))
    return false;
  if (value_len > body.size() - at)
    return fail(cat("value of ", value_len, " bytes runs past the body"));
  n.value = body.substr(at, value_len);
  std::string_view path = n.path;
  if (!path.empty() && path[0] == '/') {
    if (!canonical_absolute(path))
      return fail(cat("path ", quote(path), " is not canonical"));
    if (check_tree_ && path.size() > 1 && !parent_seen(path))
      return fail(cat("the parent of ", quote(path),
                      " is not an earlier NODE"));
  } else if (path.empty() || path[0] != '@') {
    return fail(cat("path ", quote(path),
                    " is neither absolute nor a special @ path"));
  }
  // The duplicate check waits for the next record (the next NODE flushes
  // it once its own checks are done, any other record first thing), so the
  // slot's cache miss overlaps a record's work: 100 000 nodes read in ~10
  // ms instead of ~13 here. The price: a bad NODE right after a duplicate
  // is the one reported.
  if (check_tree_) {
    Pending current{path, node_paths_.hash(path), index_, offset_};
    if (pending_ && !flush_pending()) return false;
    pending_ = current;
  }
  if (path[0] == '/') last_absolute_ = path;
  n.generation = generation_of(out_.committed_nodes);
  ++out_.committed_nodes;
  if (!sink_) {
    out_.nodes.push_back(n);
    return true;
  }
  std::string why;
  return sink_->take(n, next_node_path(body), why) || fail(std::move(why));
}

// The path field of the record after `body` if that is a NODE, within
// the input but otherwise unchecked; empty if there is none.
std::string_view Reader::next_node_path(std::string_view body) const noexcept {
  const char* end = in_.data() + in_.size();
  const char* header = body.data() + body.size();
  if (static_cast<std::size_t>(end - header) < kRecordHeaderSize + kNodeFixed ||
      get32(header) != static_cast<std::uint32_t>(RecordType::kNode))
    return {};
  std::size_t len = get32(header + 4);
  if (len > static_cast<std::size_t>(end - header) - kRecordHeaderSize ||
      len < kNodeFixed)
    return {};
  const char* b = header + kRecordHeaderSize;
  std::size_t path_len = get16(b + 8);
  std::size_t perm_bytes = std::size_t{get16(b + 14)} * kPermSize;
  if (path_len == 0 || perm_bytes + path_len > len - kNodeFixed) return {};
  return {b + kNodeFixed + perm_bytes, path_len - 1};
}

bool Reader::flush_pending() {
  Pending p = *pending_;
  pending_.reset();
  if (node_paths_.insert(p.path, p.hash)) return true;
  index_ = p.index;
  offset_ = p.offset;
  type_ = static_cast<std::uint32_t>(RecordType::kNode);
  return fail(cat("duplicate node path ", quote(p.path)));
}

// `path` is canonical, absolute and not "/".
bool Reader::parent_seen(std::string_view path) const noexcept {
  std::string_view parent = parent_of(path);
  std::string_view last = last_absolute_;
  if (!last.empty()) {
    // "/" is an ancestor of every accepted path; otherwise the parent must
    // be `last` or a whole-component prefix of it.
    if (parent.size() == 1) return true;
    if (last.starts_with(parent) &&
        (last.size() == parent.size() || last[parent.size()] == '/'))
      return true;
  }
  return node_paths_.contains(parent);
}

bool Reader::quotas(std::string_view body, std::size_t at, std::size_t count,
                    std::vector<QuotaEntry>& out) {
  // `at` is the first value; the names follow all the values.
  if (count * 4 > body.size() - at)
    return fail(cat(count, " quota values run past the body"));
  std::size_t name_at = at + count * 4;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::string_view rest = body.substr(name_at);
    std::size_t nul = rest.find('\0');
    if (nul == std::string_view::npos)
      return fail(cat("quota name ", i, " runs past the body"));
    if (nul == 0) return fail(cat("quota name ", i, " is empty"));
    out.push_back(QuotaEntry{rest.substr(0, nul), get32(body.data() + at + i * 4)});
    name_at += nul + 1;
  }
  return true;
}

bool Reader::global_quota(std::string_view body) {
  if (out_.global_quota) return fail("a second GLOBAL_QUOTA record");
  if (!need(body, kGlobalQuotaFixed)) return false;
  std::size_t n_dom = get16(body.data());
  std::size_t n_glob = get16(body.data() + 2);
  std::vector<QuotaEntry> all;
  if (!quotas(body, kGlobalQuotaFixed, n_dom + n_glob, all)) return false;
  GlobalQuotaRec q;
  q.per_domain.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n_dom));
  q.global.assign(all.begin() + static_cast<std::ptrdiff_t>(n_dom), all.end());
  out_.global_quota = std::move(q);
  return true;
}

bool Reader::domain(std::string_view body) {
  if (!need(body, kDomainFixed)) return false;
  DomainRec d;
  d.domid = get16(body.data());
  if (!domain_ids_.insert(d.domid).second)
    return fail(cat("a second DOMAIN record for domid ", d.domid));
  std::size_t n = get16(body.data() + 2);
  // Only valid (and only non-zero) from version 2.
  d.features = out_.version >= kVersion2 ? get32(body.data() + 4) : 0;
  if (!quotas(body, kDomainFixed, n, d.quotas)) return false;
  out_.domains.push_back(std::move(d));
  return true;
}

// Common to every private record but CXS_DAEMON: skipped when the format is
// foreign, refused before CXS_DAEMON.
bool Reader::cxs_gate(std::string_view, bool& skip) {
  skip = cxs_skip_;
  if (skip) {
    out_.unknown.emplace_back(type_, offset_);
    return true;
  }
  if (!out_.cxs_daemon) return fail("private record before CXS_DAEMON");
  return true;
}

bool Reader::cxs_daemon(std::string_view body) {
  if (out_.cxs_daemon) return fail("a second CXS_DAEMON record");
  if (!need(body, 8)) return false;  // `format` is stable in every format
  CxsDaemonRec d;
  d.format = get32(body.data());
  if (d.format != kCxsFormat) {
    // A newer cxenstored's private records: read the stream as C would.
    cxs_skip_ = true;
    out_.cxs_daemon = d;
    return true;
  }
  if (!need(body, kCxsDaemonFixed)) return false;
  const char* p = body.data();
  d.next_tx_id = get32(p + 4);
  d.tree_generation = get64(p + 8);
  d.flags = get64(p + 16);
  std::size_t at = kCxsDaemonFixed;
  if (!plain_string(body, at, get32(p + 24), "producer", d.producer))
    return false;
  out_.cxs_daemon = d;
  return true;
}

bool Reader::cxs_connection(std::string_view body) {
  bool skip;
  if (!cxs_gate(body, skip)) return false;
  if (skip) return true;
  if (!need(body, kCxsConnectionSize)) return false;
  CxsConnectionRec c{get32(body.data()), get32(body.data() + 4)};
  if (!known_conn(c.conn_id)) return false;
  if (!cxs_conn_ids_.insert(c.conn_id).second)
    return fail(cat("a second CXS_CONNECTION for conn_id ", c.conn_id));
  if (c.flags & ~(kCxsConnStalled | kCxsConnPrivileged))
    return fail(cat("unknown flag bits (flags ", c.flags, ")"));
  out_.cxs_conns.push_back(c);
  return true;
}

bool Reader::cxs_watch_depth(std::string_view body) {
  bool skip;
  if (!cxs_gate(body, skip)) return false;
  if (skip) return true;
  if (!need(body, kCxsWatchDepthFixed)) return false;
  CxsWatchDepthRec w;
  w.conn_id = get32(body.data());
  if (!known_conn(w.conn_id)) return false;
  w.depth = get16(body.data() + 4);
  std::size_t at = kCxsWatchDepthFixed;
  if (!plain_string(body, at, get16(body.data() + 6), "path", w.path) ||
      !plain_string(body, at, get16(body.data() + 8), "token", w.token))
    return false;
  if (has_nul(w.path) || has_nul(w.token))
    return fail("NUL inside the path or token");
  out_.cxs_watch_depths.push_back(w);
  return true;
}

bool Reader::cxs_transaction(std::string_view body) {
  bool skip;
  if (!cxs_gate(body, skip)) return false;
  if (skip) return true;
  if (!need(body, kCxsTransactionFixed)) return false;
  const char* p = body.data();
  CxsTransactionRec t;
  t.conn_id = get32(p);
  t.tx_id = get32(p + 4);
  t.max_entries = get32(p + 8);
  std::size_t n_nodes = get32(p + 12);
  std::size_t n_events = get32(p + 16);
  if (!known_conn(t.conn_id)) return false;
  if (t.tx_id == 0) return fail("tx_id 0");
  if (!cxs_tx_ids_.insert(std::uint64_t{t.conn_id} << 32 | t.tx_id).second)
    return fail(cat("a second CXS_TRANSACTION for conn_id ", t.conn_id,
                    " tx_id ", t.tx_id));
  std::size_t at = kCxsTransactionFixed;
  // Counts are checked against the bytes left before anything is reserved.
  if (n_nodes > (body.size() - at) / kCxsTxNodeFixed)
    return fail(cat(n_nodes, " node entries run past the body"));
  t.nodes.reserve(n_nodes);
  for (std::size_t i = 0; i < n_nodes; ++i) {
    if (body.size() - at < kCxsTxNodeFixed)
      return fail(cat("node entry ", i, " runs past the body"));
    const char* e = body.data() + at;
    CxsTxNode n;
    n.flags = static_cast<std::uint8_t>(e[0]);
    n.written = static_cast<std::uint8_t>(e[1]);
    std::size_t path_len = get16(e + 2);
    std::size_t value_len = get32(e + 4);
    n.base_generation = get64(e + 8);
    n.copy_generation = get64(e + 16);
    std::size_t perms_len = get32(e + 24);
    std::size_t children_len = get32(e + 28);
    std::size_t start = at;
    at += kCxsTxNodeFixed;
    if (n.flags &
        ~(kTxNodeHasCopy | kTxNodeCopyPresent | kTxNodeCheckGeneration |
          kTxNodeCheckPerms | kTxNodeHasDelta))
      return fail(cat("node entry ", i, ": unknown flag bits (flags ",
                      n.flags, ")"));
    if (n.written & ~(kTxWrittenValue | kTxWrittenPerms | kTxWrittenChildren))
      return fail(cat("node entry ", i, ": unknown written bits (written ",
                      n.written, ")"));
    if (!plain_string(body, at, path_len, "node entry path", n.path) ||
        !plain_string(body, at, value_len, "node entry value", n.value) ||
        !plain_string(body, at, perms_len, "node entry perms", n.perms_raw) ||
        !plain_string(body, at, children_len, "node entry children",
                      n.children))
      return false;
    if (n.flags & kTxNodeHasDelta) {
      if (body.size() - at < 4)
        return fail(cat("node entry ", i, ": child delta runs past the body"));
      std::size_t delta_len = get32(body.data() + at);
      at += 4;
      if (!plain_string(body, at, delta_len, "node entry child delta",
                        n.child_delta))
        return false;
      if (n.child_delta.empty() || n.child_delta.back() != '\0')
        return fail(cat("node entry ", i,
                        ": child delta empty or not "
                        "NUL-terminated"));
    }
    if (n.path.empty() || has_nul(n.path))
      return fail(cat("node entry ", i, ": empty path or NUL inside it"));
    if (!perms(n.perms_raw, "node entry perms")) return false;
    if (!n.children.empty() && n.children.back() != '\0')
      return fail(cat("node entry ", i, ": children not NUL-terminated"));
    at = start + align8(at - start);  // within the 8-aligned body
    t.nodes.push_back(n);
  }
  if (n_events > (body.size() - at) / kCxsTxEventFixed)
    return fail(cat(n_events, " event entries run past the body"));
  t.events.reserve(n_events);
  for (std::size_t i = 0; i < n_events; ++i) {
    if (body.size() - at < kCxsTxEventFixed)
      return fail(cat("event entry ", i, " runs past the body"));
    const char* e = body.data() + at;
    CxsTxEvent ev;
    ev.flags = static_cast<std::uint8_t>(e[0]);
    std::size_t path_len = get16(e + 2);
    std::size_t perms_len = get32(e + 4);
    std::size_t old_len = get32(e + 8);
    std::size_t start = at;
    at += kCxsTxEventFixed;
    if (ev.flags & ~(kTxEventRecursive | kTxEventExact))
      return fail(cat("event entry ", i, ": unknown flag bits (flags ",
                      ev.flags, ")"));
    if (!plain_string(body, at, path_len, "event entry path", ev.path) ||
        !plain_string(body, at, perms_len, "event entry perms", ev.perms_raw) ||
        !plain_string(body, at, old_len, "event entry old perms",
                      ev.old_perms_raw))
      return false;
    if (ev.path.empty() || has_nul(ev.path))
      return fail(cat("event entry ", i, ": empty path or NUL inside it"));
    if (!perms(ev.perms_raw, "event entry perms") ||
        !perms(ev.old_perms_raw, "event entry old perms"))
      return false;
    at = start + align8(at - start);
    t.events.push_back(ev);
  }
  out_.cxs_transactions.push_back(std::move(t));
  return true;
}

bool Reader::cxs_generations(std::string_view body) {
  bool skip;
  if (!cxs_gate(body, skip)) return false;
  if (skip) return true;
  if (out_.cxs_generations) return fail("a second CXS_GENERATIONS record");
  if (!need(body, kCxsGenerationsFixed)) return false;
  std::size_t count = get32(body.data());
  if (count > (body.size() - kCxsGenerationsFixed) / 8)
    return fail(cat(count, " generations run past the body"));
  if (count != out_.committed_nodes)
    return fail(cat(count, " generations for ", out_.committed_nodes,
                    " committed NODE records"));
  // look_ahead() gave the nodes the first such record's: this one, since a
  // second is refused above.
  out_.cxs_generations =
      CxsGenerationsRec{body.substr(kCxsGenerationsFixed, count * 8)};
  return true;
}

bool Reader::cxs_domain(std::string_view body) {
  bool skip;
  if (!cxs_gate(body, skip)) return false;
  if (skip) return true;
  if (!need(body, kCxsDomainSize)) return false;
  const char* p = body.data();
  CxsDomainRec d;
  d.domid = get16(p);
  d.flags = get16(p + 2);
  d.features = get32(p + 4);
  d.local_port = get32(p + 8);
  d.conn_id = get32(p + 12);
  d.gfn = get64(p + 16);
  if (!cxs_domain_ids_.insert(d.domid).second)
    return fail(cat("a second CXS_DOMAIN for domid ", d.domid));
  if (d.flags & ~(kCxsDomainIntroduced | kCxsDomainShutdownReported))
    return fail(cat("unknown flag bits (flags ", d.flags, ")"));
  if ((d.flags & kCxsDomainIntroduced) && !known_conn(d.conn_id))
    return false;
  out_.cxs_domains.push_back(d);
  return true;
}

}  // namespace

std::string StreamError::to_string() const {
  std::string s;
  if (record_index == kPreamble) {
    s = "preamble";
  } else {
    s = cat("record ", record_index);
    if (record_type != kNoType) {
      std::string_view name = record_name(record_type);
      if (name == "unknown") {
        char hex[32];
        std::snprintf(hex, sizeof hex, " (unknown type 0x%08x)", record_type);
        s += hex;
      } else {
        s += cat(" (", name, ")");
      }
    }
  }
  s += cat(" at offset ", offset, ": ", message);
  return s;
}

bool read_stream(std::string_view bytes, Stream& out, StreamError& error,
                 const ReadOptions& options) {
  return Reader(bytes, out, error, options).run();
}

bool read_global(std::string_view bytes, GlobalRec& out, StreamError& error) {
  Stream stream;
  if (!Reader(bytes, stream, error, ReadOptions{}).run_global()) return false;
  out = stream.global;
  return true;
}

}  // namespace cxs::migrate

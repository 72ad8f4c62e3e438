// StreamWriter: builds a migration stream in memory, record by record, in
// the order the caller writes them (format.h lists the order C 4.17 needs:
// GLOBAL first, a connection before its watches, parents before children).
// Every record is appended straight into one growing std::string: no
// temporaries per record, so 100 000 nodes cost one buffer (reserve() it).
//
// Errors: a field that does not fit its wire width (a path or an in-buffer
// over 65535 bytes, a NODE value over 65535, an out_resp_len beyond out, a
// perm that cannot be encoded...) is the caller's bug, not a state to
// recover from. The call returns false and appends nothing; the writer
// remembers the first such refusal (ok() false, error() says which), and
// the caller must not use the stream then. No exceptions (the daemon writes
// the stream from its event loop), except std::bad_alloc from the buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "cxenstored/perms.h"
#include "migrate/format.h"
#include "migrate/records.h"

namespace cxs::migrate {

class StreamWriter {
 public:
  // Writes the preamble. `version` must be 1 (C 4.17 reads only 1) or 2.
  explicit StreamWriter(std::uint32_t version = kVersion1);

  std::uint32_t version() const noexcept { return version_; }
  void reserve(std::size_t bytes) { buf_.reserve(bytes); }
  // Writes on in `buffer` (its content replaced by what is written so far,
  // its capacity kept): a buffer whose pages were touched before.
  void adopt_buffer(std::string&& buffer) {
    buffer.assign(buf_);
    buf_ = std::move(buffer);
  }
  std::size_t size() const noexcept { return buf_.size(); }

  bool ok() const noexcept { return error_.empty(); }
  const std::string& error() const noexcept { return error_; }

  bool global(const GlobalRec& rec);
  // Never writes unique_id (no cxenstored peer reads it back from us).
  bool connection(const ConnRec& rec);
  // WATCH; WATCH_EXTENDED when the version is 2 and depth is set. In a
  // version 1 stream a depth is dropped: write cxs_watch_depth() for it.
  bool watch(const WatchRec& rec);
  // A committed node (rec.conn_id must be 0: C 4.17 would apply a
  // transaction NODE to its committed tree, so none is ever written) with
  // at least one perm. The second form writes `perms` instead of
  // rec.perms_raw.
  bool node(const NodeRec& rec);
  bool node(const NodeRec& rec, const PermList& perms);
  bool global_quota(const GlobalQuotaRec& rec);
  bool domain(const DomainRec& rec);  // features written as 0 in version 1

  bool cxs_daemon(const CxsDaemonRec& rec);  // before other cxs_* records
  bool cxs_connection(const CxsConnectionRec& rec);
  bool cxs_watch_depth(const CxsWatchDepthRec& rec);
  bool cxs_transaction(const CxsTransactionRec& rec);
  bool cxs_generations(std::span<const std::uint64_t> generations);
  bool cxs_domain(const CxsDomainRec& rec);

  // Appends END and hands over the bytes; the writer is spent afterwards.
  std::string finish();

  // The bytes not handed over yet, and forgetting them (the buffer keeps
  // its capacity): a large stream can leave in pieces as it is written,
  // each a whole number of records, without ever being whole in memory.
  std::string_view pending() const noexcept { return buf_; }
  void forget_pending() noexcept { buf_.clear(); }

 private:
  // Appends a record header and `body` zeroed bytes (padded to 8); returns
  // the body's first byte.
  char* begin_record(RecordType type, std::size_t body);
  bool refuse(RecordType type, std::string_view why);

  std::uint32_t version_;
  std::string buf_;
  std::string error_;
};

}  // namespace cxs::migrate

// The records of a migration stream (format.h has the byte layouts), as
// views: every string_view points into the bytes being read (the buffer
// given to read_stream must outlive the Stream) or being written (it need
// only live until the StreamWriter call returns). Wire lengths that count a
// trailing NUL are stored here without it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cxenstored/perms.h"
#include "migrate/format.h"

namespace cxs::migrate {

struct GlobalRec {
  std::int32_t socket_fd = -1;
  std::int32_t evtchn_fd = -1;
  bool operator==(const GlobalRec&) const = default;
};

struct ConnRec {
  std::uint32_t conn_id = 0;  // non-zero, unique in the stream
  ConnKind kind = ConnKind::kRing;
  std::uint16_t domid = 0;               // ring only
  std::uint16_t target = kDomidInvalid;  // ring only: SET_TARGET domid
  std::uint32_t evtchn = 0;              // ring only: xenstored's local port
  std::int32_t socket_fd = -1;           // socket only
  // Input read but not yet processed (whole requests, then a partial one);
  // at most 65535 bytes (a u16 on the wire).
  std::string_view in{};
  // How many of `out`'s first bytes are the unsent tail of a reply already
  // partly written (no header is re-sent for them); <= out.size().
  std::uint16_t out_resp_len = 0;
  std::string_view out{};  // every pending output byte
  // Xen 4.21+ writers append the domain's unique id; read, never written.
  std::optional<std::uint64_t> unique_id{};
  bool operator==(const ConnRec&) const = default;
};

struct WatchRec {
  std::uint32_t conn_id = 0;
  std::string_view path{};  // as given to WATCH: may be relative
  std::string_view token{};
  // Set when read from, or to be written as, WATCH_EXTENDED (version 2).
  std::optional<std::uint16_t> depth{};  // kDepthUnlimited = no limit
  bool operator==(const WatchRec&) const = default;
};

struct NodeRec {
  std::uint32_t conn_id = 0;  // 0: committed (the only kind read or written)
  std::uint32_t tx_id = 0;
  std::uint16_t access = 0;
  std::string_view perms_raw{};  // 4 bytes per perm: decode_perms()
  std::string_view path{};       // absolute, or "@releaseDomain"...
  std::string_view value{};      // binary, may be empty
  // From the stream's CXS_GENERATIONS record when it has one (the reader
  // finds it ahead of the nodes), else 0: a generation to stamp afresh.
  // Never written: the writer takes generations separately.
  std::uint64_t generation = 0;
  bool operator==(const NodeRec&) const = default;
};

struct QuotaEntry {
  std::string_view name{};  // "nodes", "soft-memory"...
  std::uint32_t value = 0;  // 0 = unlimited
  bool operator==(const QuotaEntry&) const = default;
};

struct GlobalQuotaRec {
  std::vector<QuotaEntry> per_domain{};  // defaults for every domain
  std::vector<QuotaEntry> global{};
  bool operator==(const GlobalQuotaRec&) const = default;
};

struct DomainRec {
  std::uint16_t domid = 0;
  std::uint32_t features = 0;  // version 2 only: written and read as 0 in v1
  std::vector<QuotaEntry> quotas{};
  bool operator==(const DomainRec&) const = default;
};

struct CxsDaemonRec {
  std::uint32_t format = kCxsFormat;
  std::uint32_t next_tx_id = 0;
  std::uint64_t tree_generation = 0;
  std::uint64_t flags = 0;
  std::string_view producer{};  // "cxenstored 0.1.0"
  bool operator==(const CxsDaemonRec&) const = default;
};

struct CxsConnectionRec {
  std::uint32_t conn_id = 0;
  std::uint32_t flags = 0;  // kCxsConnStalled | kCxsConnPrivileged
  bool operator==(const CxsConnectionRec&) const = default;
};

// The depth of a watch written as plain WATCH (version 1 streams).
struct CxsWatchDepthRec {
  std::uint32_t conn_id = 0;
  std::uint16_t depth = kDepthUnlimited;
  std::string_view path{};
  std::string_view token{};
  bool operator==(const CxsWatchDepthRec&) const = default;
};

// One node a transaction has touched: its base generation and, with
// kTxNodeHasCopy, its private copy (a node with kTxNodeCopyPresent,
// otherwise removed in the transaction).
struct CxsTxNode {
  std::string_view path{};
  std::uint8_t flags = 0;    // kTxNode*
  std::uint8_t written = 0;  // kTxWritten*
  std::uint64_t base_generation = 0;
  std::uint64_t copy_generation = 0;
  std::string_view value{};
  std::string_view perms_raw{};  // as NODE's perms; may be empty
  std::string_view children{};   // "a\0b\0", as the store keeps them
  std::string_view child_delta{};  // "+a\0-b\0", with kTxNodeHasDelta
  bool operator==(const CxsTxNode&) const = default;
};

// A watch event a transaction will fire when it commits.
struct CxsTxEvent {
  std::string_view path{};
  std::uint8_t flags = 0;  // kTxEventRecursive | kTxEventExact
  std::string_view perms_raw{};
  std::string_view old_perms_raw{};
  bool operator==(const CxsTxEvent&) const = default;
};

struct CxsTransactionRec {
  std::uint32_t conn_id = 0;
  std::uint32_t tx_id = 0;  // non-zero
  std::uint32_t max_entries = 0;
  std::vector<CxsTxNode> nodes{};
  std::vector<CxsTxEvent> events{};
  bool operator==(const CxsTransactionRec&) const = default;
};

// One u64 generation per committed NODE record, in NODE record order.
struct CxsGenerationsRec {
  std::string_view raw{};  // count() * 8 bytes, native u64s
  std::size_t count() const noexcept { return raw.size() / 8; }
  std::uint64_t at(std::size_t i) const noexcept;
  bool operator==(const CxsGenerationsRec&) const = default;
};

struct CxsDomainRec {
  std::uint16_t domid = 0;
  std::uint16_t flags = 0;  // kCxsDomainIntroduced | ..ShutdownReported
  std::uint32_t features = 0;
  std::uint32_t local_port = 0;
  std::uint32_t conn_id = 0;  // with kCxsDomainIntroduced: its ring
  std::uint64_t gfn = 0;
  bool operator==(const CxsDomainRec&) const = default;
};

// Permissions on the wire: 4 bytes each, u8 'n'/'r'/'w'/'b', u8 flags
// (kPermFlagStale becomes kPermIgnored on top of the access bits), u16
// domid. perm[0] is the owner.

// False (and `out` unspecified) unless `raw` is a whole number of valid
// entries. A parsed Stream's perms are valid already.
bool decode_perms(std::string_view raw, PermList& out);
inline PermList decode_perms(std::string_view raw) {
  PermList out;
  (void)decode_perms(raw, out);
  return out;
}

// Appends `perms`' wire form to `out`. False (nothing appended) if an entry
// cannot be written: a domid above 0xFFFF or bits beyond kPermBoth |
// kPermIgnored.
bool encode_perms(const PermList& perms, std::string& out);

}  // namespace cxs::migrate

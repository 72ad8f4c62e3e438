// The xenstore migration stream: the file a xenstore daemon hands its whole
// state to its successor in (live update), laid out as Xen's design note
// docs/designs/xenstore-migration.md describes it. This header owns the
// constants and the byte layouts; records.h holds the parsed records,
// writer.h builds a stream, reader.h checks and parses one.
//
// Design note
// -----------
// The stream is a 16-byte preamble and a sequence of records, each an 8-byte
// header {u32 type; u32 length} and `length` body bytes. `length` includes
// zero padding that makes every body a multiple of 8, so every header is
// 8-aligned in the file. Only the preamble's version is big-endian; every
// other field is native-endian, and preamble flags bit 0 says which native
// (0 = little). cxenstored runs on little-endian hosts only: it writes 0 and
// refuses a big-endian stream.
//
//   Preamble (file offset 0, 16 bytes)
//     0  char[8] "xenstore" (no NUL)    8  u32 version, BIG-endian: 1 or 2
//     12 u32 flags: bit 0 = big-endian, bits 1-31 reserved (zero)
//
//   Records (offsets within the body; lengths marked * include the NUL)
//   type            body
//   0 END           empty; the last record
//   1 GLOBAL        0 i32 listening socket fd (-1 none)  4 i32 evtchn fd
//   2 CONNECTION    0 u32 conn_id (non-zero)  4 u16 conn_type (0 ring,
//                   1 socket)  6 u16 fields (bit 0: unique id follows, Xen
//                   4.21+)  8 ring: u16 domid, u16 target domid (0x7FF4
//                   none), u32 xenstored's local evtchn port; socket: i32
//                   fd, 4 zero  16 u16 in_len  18 u16 out_resp_len
//                   20 u32 out_len  24 in bytes, out bytes, pad to 8;
//                   then, if fields bit 0, u64 unique domain id
//   3 WATCH         0 u32 conn_id  4 u16 path_len*  6 u16 token_len*
//                   8 path, token
//   4 TRANSACTION   0 u32 conn_id  4 u32 tx_id (no C daemon writes it)
//   5 NODE          0 u32 conn_id (0 = committed)  4 u32 tx_id
//                   8 u16 path_len*  10 u16 value_len  12 u16 access
//                   14 u16 perm_count  16 perms, 4 bytes each: u8 'n' 'r'
//                   'w' 'b', u8 flags (0x01 stale: grants nothing), u16
//                   domid; perm 0 is the owner. Then path, value (binary)
//   6 GLOBAL_QUOTA  0 u16 n_dom  2 u16 n_glob  4 u32 values (n_dom + n_glob,
//                   0 = unlimited), then as many NUL-terminated names
//   7 DOMAIN        0 u16 domid  2 u16 n_quota  4 u32 features (ring
//                   server_features; version 2 only, else 0)  8 u32
//                   values, then n_quota NUL-terminated names
//   8 WATCH_EXT..   version 2 only: as WATCH, then 8 u16 depth (0xFFFF
//                   unlimited)  10 u16 pad  12 path, token
//
// WATCH_EXTENDED follows the design document: data at offset 12. The Xen
// 4.22 writer (the first to emit it) writes only the 8 bytes of the WATCH
// header before the data while sizing the record for 12, so its records
// are misaligned; cxenstored neither writes nor accepts that layout, and
// refuses WATCH_EXTENDED in a version 1 stream (4.22 emits it even there).
//
// C xenstored 4.17 (the daemon Debian 12 ships) reads version 1 only,
// applies types 1, 2, 3 and 5 and logs and skips every other type. That is
// the door for cxenstored's own state: private records with type numbers
// "CXS\x01".."CXS\x06" (read as a big-endian word), which C skips, carry what
// the public records cannot express, so one version 1 stream both restores
// cxenstored fully and still restores C 4.17 (a rollback) with the state C
// knows about:
//   - open transactions with their node copies and pending events (C has no
//     TA records and would apply transaction NODEs to the committed tree, so
//     cxenstored never writes either);
//   - node generations (C renumbers them), the next transaction id;
//   - watch depths in a version 1 stream (WATCH has no depth field);
//   - per-connection flags (a stalled ring) and domain flags (introduced,
//     shutdown already reported), which C does not carry.
//
//   Private records (little-endian, bodies 8-aligned, strings length-
//   prefixed without a NUL, every count and length bounds-checked on read)
//   CXS_DAEMON       0 u32 format (1)  4 u32 next_tx_id  8 u64 tree
//     0x43585301     generation  16 u64 flags (0)  24 u32 producer_len
//                    28 u32 zero  32 producer ("cxenstored 0.1.0")
//                    Must precede every other private record. A reader that
//                    does not know `format` keeps only `format` and skips
//                    every private record (reading the stream as C would).
//   CXS_CONNECTION   0 u32 conn_id  4 u32 flags (bit 0 stalled: ring in
//     0x43585302     error, not served; bit 1 privileged, informational)
//   CXS_WATCH_DEPTH  0 u32 conn_id  4 u16 depth  6 u16 path_len
//     0x43585303     8 u16 token_len  10 6 zero bytes  16 path, token
//   CXS_TRANSACTION  0 u32 conn_id  4 u32 tx_id (non-zero)  8 u32
//     0x43585304     max_entries  12 u32 n_nodes  16 u32 n_events
//                    20 u32 zero  24 n_nodes node entries, then n_events
//                    event entries, each padded to 8:
//       node entry   0 u8 flags (bit 0 has_copy, 1 copy_present, 2 check_
//                    generation, 3 check_perms, 4 has_delta)  1 u8 written
//                    (1 value, 2 perms, 4 children)  2 u16 path_len  4 u32
//                    value_len  8 u64 base generation  16 u64 copy
//                    generation  24 u32 perms_len (4 per perm, as NODE)
//                    28 u32 children_len ("a\0b\0")  32 path, value,
//                    perms, children; with has_delta then u32 delta_len
//                    and the child delta ("+a\0-b\0": names added to and
//                    removed from a list the transaction never read)
//       event entry  0 u8 flags (bit 0 recursive, 1 exact)  1 u8 zero
//                    2 u16 path_len  4 u32 perms_len  8 u32 old_perms_len
//                    12 u32 zero  16 path, perms, old perms
//   CXS_GENERATIONS  0 u32 count  4 u32 zero  8 count u64: the generation of
//     0x43585305     each committed NODE record, in NODE order. Once, after
//                    the last NODE.
//   CXS_DOMAIN       0 u16 domid  2 u16 flags (bit 0 introduced: its ring
//     0x43585306     is connection conn_id; bit 1 shutdown reported)
//                    4 u32 features  8 u32 local port  12 u32 conn_id
//                    16 u64 gfn of the ring page
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cxenstored/ids.h"

namespace cxs::migrate {

// Every field after the preamble is native-endian and we write flags 0.
static_assert(std::endian::native == std::endian::little,
              "the migration stream codec supports little-endian hosts only");

inline constexpr std::string_view kIdent = "xenstore";
inline constexpr std::uint32_t kVersion1 = 1;  // C 4.17 reads only this
inline constexpr std::uint32_t kVersion2 = 2;  // WATCH_EXTENDED, features
inline constexpr std::size_t kPreambleSize = 16;
inline constexpr std::size_t kRecordHeaderSize = 8;
inline constexpr std::size_t kAlign = 8;
inline constexpr std::uint32_t kFlagBigEndian = 1;  // preamble flags bit 0

// The private records' own format number (CXS_DAEMON.format).
inline constexpr std::uint32_t kCxsFormat = 1;

enum class RecordType : std::uint32_t {
  kEnd = 0,
  kGlobal = 1,
  kConnection = 2,
  kWatch = 3,
  kTransaction = 4,
  kNode = 5,
  kGlobalQuota = 6,
  kDomain = 7,
  kWatchExtended = 8,
  kCxsDaemon = 0x43585301,
  kCxsConnection = 0x43585302,
  kCxsWatchDepth = 0x43585303,
  kCxsTransaction = 0x43585304,
  kCxsGenerations = 0x43585305,
  kCxsDomain = 0x43585306,
};

inline constexpr std::uint32_t kCxsFirst = 0x43585301;
inline constexpr std::uint32_t kCxsLast = 0x43585306;

constexpr bool is_cxs_record(std::uint32_t type) noexcept {
  return type >= kCxsFirst && type <= kCxsLast;
}

// "END", "NODE", "CXS_TRANSACTION"..., or "unknown".
std::string_view record_name(std::uint32_t type) noexcept;
inline std::string_view record_name(RecordType type) noexcept {
  return record_name(static_cast<std::uint32_t>(type));
}

inline constexpr std::uint16_t kDomidInvalid =
    static_cast<std::uint16_t>(cxs::kDomidInvalid);  // "no target"
inline constexpr std::uint16_t kDepthUnlimited = 0xFFFF;

enum class ConnKind : std::uint16_t { kRing = 0, kSocket = 1 };

// CONNECTION.fields
inline constexpr std::uint16_t kConnFieldUniqueId = 1;
// NODE perm flags
inline constexpr std::uint8_t kPermFlagStale = 0x01;
// CXS_CONNECTION.flags
inline constexpr std::uint32_t kCxsConnStalled = 1;
inline constexpr std::uint32_t kCxsConnPrivileged = 2;
// CXS_TRANSACTION node entry flags and written bits
inline constexpr std::uint8_t kTxNodeHasCopy = 1;
inline constexpr std::uint8_t kTxNodeCopyPresent = 2;
inline constexpr std::uint8_t kTxNodeCheckGeneration = 4;
inline constexpr std::uint8_t kTxNodeCheckPerms = 8;
inline constexpr std::uint8_t kTxNodeHasDelta = 16;
inline constexpr std::uint8_t kTxWrittenValue = 1;
inline constexpr std::uint8_t kTxWrittenPerms = 2;
inline constexpr std::uint8_t kTxWrittenChildren = 4;
// CXS_TRANSACTION event entry flags
inline constexpr std::uint8_t kTxEventRecursive = 1;
inline constexpr std::uint8_t kTxEventExact = 2;
// CXS_DOMAIN.flags
inline constexpr std::uint16_t kCxsDomainIntroduced = 1;
inline constexpr std::uint16_t kCxsDomainShutdownReported = 2;

// Fixed parts of the bodies (the offsets in the tables above).
inline constexpr std::size_t kGlobalSize = 8;
inline constexpr std::size_t kConnFixed = 24;
inline constexpr std::size_t kWatchFixed = 8;
inline constexpr std::size_t kWatchExtFixed = 12;
inline constexpr std::size_t kTransactionSize = 8;
inline constexpr std::size_t kNodeFixed = 16;
inline constexpr std::size_t kPermSize = 4;
inline constexpr std::size_t kGlobalQuotaFixed = 4;
inline constexpr std::size_t kDomainFixed = 8;
inline constexpr std::size_t kCxsDaemonFixed = 32;
inline constexpr std::size_t kCxsConnectionSize = 8;
inline constexpr std::size_t kCxsWatchDepthFixed = 16;
inline constexpr std::size_t kCxsTransactionFixed = 24;
inline constexpr std::size_t kCxsTxNodeFixed = 32;
inline constexpr std::size_t kCxsTxEventFixed = 16;
inline constexpr std::size_t kCxsGenerationsFixed = 8;
inline constexpr std::size_t kCxsDomainSize = 24;

constexpr std::size_t align8(std::size_t n) noexcept {
  return (n + (kAlign - 1)) & ~(kAlign - 1);
}

}  // namespace cxs::migrate

// read_stream: checks and parses a whole migration stream (format.h) into
// views of its bytes. The bytes must outlive the Stream. Untrusted input:
// every length is checked against the bytes left before it is used, so no
// input can make it read out of bounds, crash, or allocate more than a
// small multiple of the input's size. One linear pass; the committed-node
// parent check is one hash lookup per node.
//
// What is refused (StreamError names the record, its type and its offset):
// a bad preamble (ident, version other than 1 or 2, big-endian, reserved
// flag bits); a truncated header or body; a length not a multiple of 8; a
// body shorter than its fields; a string without its NUL or with a NUL
// inside; a committed NODE with no perms, a bad perm, a path neither
// absolute nor "@...", not canonical, seen twice, or whose parent is not an
// earlier NODE; GLOBAL missing, not first or repeated; a duplicate or zero
// conn_id, an unknown conn type or fields bit, out_resp_len beyond out;
// WATCH_EXTENDED in a version 1 stream; a WATCH, WATCH_EXTENDED or private
// record naming a conn_id without an earlier CONNECTION; GLOBAL_QUOTA
// repeated, DOMAIN or CXS_DOMAIN repeated for a domid, CXS_CONNECTION
// repeated for a conn_id, CXS_TRANSACTION repeated or with tx_id 0, unknown
// flag bits in private records; CXS_GENERATIONS repeated, before a NODE or
// with a count other than the number of committed NODEs; CXS_DAEMON
// repeated or after another private record; anything after END, or no END. Skipped, not refused: unknown record types (listed in
// Stream::unknown), TRANSACTION records and transaction NODEs (counted).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "migrate/format.h"
#include "migrate/records.h"

namespace cxs::migrate {

struct StreamError {
  static constexpr std::size_t kPreamble = static_cast<std::size_t>(-1);
  static constexpr std::uint32_t kNoType = 0xFFFFFFFF;

  std::size_t offset = 0;  // file offset of the record's header
  // 0-based, counting records after the preamble (GLOBAL is record 0);
  // kPreamble for a preamble error.
  std::size_t record_index = kPreamble;
  // kNoType when the header itself could not be read.
  std::uint32_t record_type = kNoType;
  std::string message;

  // "record 12 (NODE) at offset 416: path not NUL-terminated"
  std::string to_string() const;
};

struct Stream {
  std::uint32_t version = 0;
  GlobalRec global;
  std::vector<ConnRec> conns;
  std::vector<WatchRec> watches;
  std::vector<NodeRec> nodes;  // committed, in stream order (no NodeSink)
  std::size_t committed_nodes = 0;  // read, whether kept here or given away
  std::size_t transaction_nodes_skipped = 0;  // NODE with conn_id != 0
  std::size_t transactions_skipped = 0;       // TRANSACTION (type 4)
  std::optional<GlobalQuotaRec> global_quota;
  std::vector<DomainRec> domains;
  std::optional<CxsDaemonRec> cxs_daemon;
  std::vector<CxsConnectionRec> cxs_conns;
  std::vector<CxsWatchDepthRec> cxs_watch_depths;
  std::vector<CxsTransactionRec> cxs_transactions;
  std::optional<CxsGenerationsRec> cxs_generations;
  std::vector<CxsDomainRec> cxs_domains;
  // Skipped records: {type, header offset}. Also every private record when
  // CXS_DAEMON names a format this reader does not know.
  std::vector<std::pair<std::uint32_t, std::size_t>> unknown;
};

// Takes the committed NODE records as they are read, instead of
// Stream::nodes: a live update's restore builds its tree while reading, so
// that 100 000 records are never held in between (6 MB of them, written and
// read again, page by page).
class NodeSink {
 public:
  // Before the first node: how many NODE records the stream has (at most;
  // transaction nodes and a damaged tail are counted too).
  virtual void expect(std::size_t nodes) = 0;
  // One committed node, checked as read_stream checks every node, and the
  // path of the NODE record right after it if there is one (unchecked: a
  // hint, to fetch what that node will need while this one is taken).
  // false refuses the node: the read stops with `why` at this record.
  virtual bool take(const NodeRec& node, std::string_view next_path,
                    std::string& why) = 0;

 protected:
  ~NodeSink() = default;
};

// Parses `bytes` into `out` (reset first). On failure returns false, fills
// `error`, and leaves `out` partly filled (do not use it).
struct ReadOptions {
  // Every committed node's parent is an earlier node, and no path comes
  // twice. A reader that rebuilds a tree from the nodes finds both itself
  // (a node cannot be attached, or is there already) and may skip them:
  // they are a quarter of the reading of 100 000 nodes.
  bool check_tree = true;
  // Given: the committed nodes go to it, not to Stream::nodes.
  NodeSink* node_sink = nullptr;
};

bool read_stream(std::string_view bytes, Stream& out, StreamError& error,
                 const ReadOptions& options = {});
// The Stream would point into a string about to die.
bool read_stream(std::string&& bytes, Stream& out, StreamError& error,
                 const ReadOptions& options = {}) = delete;

// Only the preamble, the GLOBAL record (which must come first: the
// inherited descriptors a new daemon needs before it restores the rest) and
// the framing of the others (every header and length inside the bytes, END
// last). The records themselves are left to read_stream.
bool read_global(std::string_view bytes, GlobalRec& out, StreamError& error);

}  // namespace cxs::migrate

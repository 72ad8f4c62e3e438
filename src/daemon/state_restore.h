// Restoring a migration stream (live update, -U): the part that needs no
// fd, ring or hypervisor — the store, the watches, the open transactions,
// the quotas, and which connection is whose — so that the same code serves
// the new daemon and the old daemon's dry run of its target (--check-state).
// The Server then attaches sockets and rings to the connections planned
// here (Server::restore_state).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cxenstored/ids.h"
#include "migrate/reader.h"
#include "store/quota.h"
#include "store/store.h"
#include "store/watches.h"

namespace cxs::daemon {

// Thrown with what could not be restored (the path, the connection...).
struct RestoreError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct RestoredConn {
  ConnId id;
  const migrate::ConnRec* rec = nullptr;
  DomId dom;  // a ring's domain; the master domain for a socket
  std::optional<DomId> target;
  bool stalled = false;
};

struct RestoredDomain {
  DomId dom;
  bool introduced = false;  // has a ring connection
  bool shutdown_reported = false;
  std::uint32_t features = 0;
  bool features_known = false;  // false: a C stream; ask the ring page
  std::uint64_t gfn = 0;
};

struct RestoredState {
  bool from_cxenstored = false;  // the stream has cxenstored's records
  std::vector<RestoredConn> conns;  // ConnIds 1..n, in stream order
  std::unordered_map<DomId, RestoredDomain> domains;
  store::Quota quota;
  std::unordered_map<DomId, store::Quota> domain_quota;
  std::size_t watches = 0;
  std::size_t transactions = 0;
};

// The quotas of the command line, and which of them it set explicitly:
// those win over the stream's GLOBAL_QUOTA, the others carry over.
struct QuotaDefaults {
  store::Quota quota;
  std::vector<std::string> given;
};

// Reads the stream in `bytes` and restores it into an empty `store` and
// `watches`, building the tree as the nodes are read (none is held in
// between: at 100 000 nodes, 6 MB less to write and read again). `stream`
// receives the other records; the result points into it and into `bytes`.
// `check_tree` false leaves the nodes' parents and duplicates to the
// restore, which finds both as it builds the tree (the new daemon of an
// update does so; the dry run checks everything). Throws RestoreError
// naming the record and its offset.
RestoredState restore_bytes(std::string_view bytes, bool check_tree,
                            DomId master, const QuotaDefaults& quota,
                            store::Store& store, store::WatchIndex& watches,
                            migrate::Stream& stream);

// The GLOBAL record alone (the inherited descriptors). Throws RestoreError.
migrate::GlobalRec read_global_record(std::string_view bytes);

// The state file, mapped whole (parsing reads it in place: no copy of
// megabytes first). Throws RestoreError if it cannot be read, is empty or
// is larger than any state cxenstored writes (1 GiB).
class StateFile {
 public:
  explicit StateFile(const std::string& path);
  ~StateFile();
  StateFile(const StateFile&) = delete;
  StateFile& operator=(const StateFile&) = delete;
  std::string_view bytes() const noexcept {
    return {static_cast<const char*>(addr_), size_};
  }

 private:
  void* addr_ = nullptr;
  std::size_t size_ = 0;
};

// --check-state: the dry run of a live update's target. Restores the state
// in memory, checks it, prints a one-line summary; returns the exit status.
int check_state_file(const std::string& path, DomId master,
                     const QuotaDefaults& quota);

}  // namespace cxs::daemon

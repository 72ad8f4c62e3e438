// SharedBuffers: what the connections of one daemon share. The daemon is
// single-threaded and serves one connection at a time, so:
// - one read buffer takes every read, and remembers the connection whose
//   unframed bytes are in it (they move to that connection's own buffer
//   before another connection reads: Connection::claim_read_buffer). It is
//   not zero-filled: clearing 16 KiB per read once cost three quarters of
//   a READ's instructions;
// - one written-out reply buffer is kept for the next reply, whichever
//   connection it is for: pipelined replies then cost no allocation per
//   batch, and an idle connection holds no spare of its own;
// - the output bytes the connections gave back (written, dropped,
//   destroyed) are counted for the daemon's heap trimming
//   (daemon/memory_trim.h).
// The owner (the server) keeps it alive longer than every connection.
#pragma once

#include <cstddef>

#include "transport/byte_buffer.h"

namespace cxs::transport {

class Connection;

class SharedBuffers {
 public:
  static constexpr std::size_t kReadChunk = 16384;
  // The largest reply buffer kept as the spare.
  static constexpr std::size_t kSpareMax = 4 * kReadChunk;

  SharedBuffers() = default;
  SharedBuffers(const SharedBuffers&) = delete;
  SharedBuffers& operator=(const SharedBuffers&) = delete;

  // The output bytes given back since the last call.
  std::size_t take_freed_bytes() noexcept {
    std::size_t n = freed_;
    freed_ = 0;
    return n;
  }

 private:
  friend class Connection;

  ByteBuffer take_spare() noexcept {
    ByteBuffer b = std::move(spare_reply_);
    b.clear();
    return b;
  }
  void give_back(ByteBuffer&& b) noexcept {
    if (b.capacity() > kSpareMax || b.capacity() <= spare_reply_.capacity())
      return;
    spare_reply_ = std::move(b);
  }

  char read_[kReadChunk];
  Connection* read_user_ = nullptr;
  ByteBuffer spare_reply_;
  std::size_t freed_ = 0;
};

}  // namespace cxs::transport

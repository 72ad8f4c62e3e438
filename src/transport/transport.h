// Transport: how a connection's bytes move, behind one interface so that the
// daemon treats a Unix socket and a guest's shared ring alike. Reads and
// writes never block; a fault (peer gone, broken ring) is reported, never
// thrown, and the connection decides what follows.
#pragma once

#include <cstddef>
#include <string_view>

namespace cxs::transport {

enum class Fault {
  kNone,
  kClosed,     // the peer hung up
  kIo,         // the system refused (errno logged where it was read)
  kRingIndex,  // a guest's ring indexes are impossible
  kProtocol,   // a header announced more than the payload limit
  kNoMemory,   // bytes taken from the peer could not be kept (bad_alloc):
               // the stream is lost from there
};

std::string_view fault_name(Fault f) noexcept;

struct IoResult {
  std::size_t bytes = 0;  // 0 with kNone: nothing possible right now
  Fault fault = Fault::kNone;
};

// One piece of a gathered write.
struct ConstBuf {
  const char* data = nullptr;
  std::size_t len = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual IoResult read(char* buf, std::size_t len) noexcept = 0;
  virtual IoResult write(const char* buf, std::size_t len) noexcept = 0;
  // Writes the pieces in order, as far as possible: the bytes taken (a
  // prefix of their concatenation) or a fault. The default writes them one
  // by one; a socket sends them with one system call.
  virtual IoResult write_gather(const ConstBuf* bufs, std::size_t n) noexcept;
  // After a protocol fault: a socket is closed, a ring is marked in error
  // (its domain stays known until it dies). Returns true if the connection
  // object should be destroyed.
  virtual bool on_protocol_fault(Fault f) noexcept = 0;
  // Called after each batch of reads and writes (a ring kicks its guest
  // once per batch, not once per message).
  virtual void end_batch() noexcept {}
  // The fd to poll, or -1 (rings are woken through their event channel).
  virtual int poll_fd() const noexcept { return -1; }
  virtual const char* kind() const noexcept = 0;
};

}  // namespace cxs::transport

// The far ends of the connection fuzzer's connections. A StreamPeer is a
// socket client seen through a byte-stream Transport whose reads hand out
// the client's bytes in chunks the input chooses (one byte at a time,
// nothing now, a fault), and whose writes take what the client has room
// for. A RingGuest is a domain on an in-memory ring page, served by the
// real RingTransport: it writes its requests into req[] and reads rsp[],
// keeping to the indexes or, when told, breaking them. Both hand what they
// receive to an OutputCheck, which must outlive them.
#pragma once

#include <cstddef>
#include <string>

#include "output_check.h"
#include "transport/transport.h"
#include "wire/ring_page.h"

namespace cxs::fuzz {

struct StreamPeer {
  std::string input;  // what the client sent
  std::size_t input_pos = 0;
  std::size_t chunk = 0;   // bytes per read at most (0: all asked for)
  std::size_t stalls = 0;  // reads to come that find nothing now
  transport::Fault read_fault = transport::Fault::kNone;  // the next read's
  bool hung_up = false;  // after its input, reads say kClosed
  std::size_t room = 0;  // bytes the client takes now
  transport::Fault write_fault = transport::Fault::kNone;  // the next write's
  bool faulted = false;  // on_protocol_fault was called
  OutputCheck* out = nullptr;
};

class StreamTransport final : public transport::Transport {
 public:
  explicit StreamTransport(StreamPeer& peer) noexcept : peer_(peer) {}
  transport::IoResult read(char* buf, std::size_t len) noexcept override;
  transport::IoResult write(const char* buf, std::size_t len) noexcept override;
  bool on_protocol_fault(transport::Fault f) noexcept override;
  const char* kind() const noexcept override { return "fuzz socket"; }

 private:
  StreamPeer& peer_;
};

struct RingGuest {
  RingGuest() noexcept;
  // Writes up to `max` bytes of its input into req[], as far as the
  // indexes leave room; returns how many.
  std::size_t push(std::size_t max) noexcept;
  // Reads up to `max` bytes of rsp[] into its OutputCheck.
  std::size_t consume(std::size_t max);
  // What the daemon wrote and the guest has not read.
  std::size_t in_flight() const noexcept {
    return page.rsp_prod - page.rsp_cons;
  }

  wire::RingPage page{};
  std::string input;
  std::size_t input_pos = 0;
  std::size_t kicks = 0;  // notifications from the daemon's side
  bool confused = false;  // it broke its own rsp indexes: output unchecked
  OutputCheck* out = nullptr;
};

}  // namespace cxs::fuzz

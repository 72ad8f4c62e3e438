// The connection path fuzzer: requests take the daemon's own path, from
// bytes arriving through a Transport into transport::Connection
// (next_request, the read buffer every connection shares, keep_unread,
// the out queue), through ops::dispatch, out through daemon::ReplySender,
// served as the daemon's loop serves them (server.cc: serve_requests,
// handle, deliver, flush; its flow control and fault handling). Three
// clients at once: dom0 on a socket and guests dom5 and dom6 (small quotas,
// dom6 with dom5 as target), each on a socket-like stream or a ring page
// served by the real RingTransport, as the input's first byte says.
//
// After every step: the store is whole (check_store), every frame each
// peer received is the well-formed one queued for it (output_check.h), a
// faulted connection neither serves nor writes again, and each connection's
// queue figures agree with what it holds. A violation aborts.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cxs::fuzz {

// An input: one flavour byte (bit 0: dom5 on a ring, bit 1: dom6 on a
// ring; else a socket), then steps. A step is a byte, op | slot << 4
// (slot % 3: 0 dom0, 1 dom5, 2 dom6; an op past kTurn serves), an argument
// byte, and for kSend a second length byte and the bytes.
enum ConnStep : std::uint8_t {
  kSend,       // bytes from the client: n = arg + 256 * (b & 7) + 1; a ring
               // guest writes what fits at once
  kTune,       // socket: arg 0-3 stalls reads arg+1 times, 4 faults the
               // next read, 5 reads whole, 6+ in chunks of arg-5 bytes;
               // ring: the guest writes up to arg+1 more bytes
  kServe,      // serve the client (arg % 8 requests at most, 0: no bound;
               // arg & 8: flush after)
  kKick,       // socket: writable (flush); ring: a kick from the guest
  kDrain,      // the client reads up to arg * 16 + 1 bytes of its output
  kBreak,      // socket: the next write faults, or it hangs up; ring: the
               // guest breaks an index or scribbles on its request ring
  kReconnect,  // socket: a new one once closed; ring: connection = 1, kick
  kTurn,       // one loop turn with every client ready, then flush all
  kStepCount
};

struct ConnectionRunStats {
  std::size_t dispatched = 0;
  std::size_t frames = 0;  // frames received and checked
  std::size_t errors = 0;  // of which XS_ERROR
  std::size_t events = 0;  // of which watch events
  std::size_t faults = 0;  // connections faulted (closed or stalled)
  std::size_t reconnects = 0;
};

ConnectionRunStats run_connection_input(const std::uint8_t* data,
                                        std::size_t size);

}  // namespace cxs::fuzz

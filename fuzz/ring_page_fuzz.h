// The hostile ring page fuzzer: transport::RingTransport over a page that
// the input rewrites before every read, write and end_batch (any index,
// the connection and error fields, the ring bytes), called directly and
// through a transport::Connection framing requests and flushing replies.
// Each call is checked against a model of the page taken just before it:
// a read hands out exactly the bytes between req_cons and req_prod, up to
// its length, and moves req_cons alone; a write fills only rsp[] between
// rsp_prod and rsp_cons + 1024 and moves rsp_prod alone; impossible
// indexes (prod - cons > 1024) give the ring-index fault and touch
// nothing; after on_protocol_fault every read and write faults until a
// reconnection; nothing outside the page's fields changes (guard bytes);
// a kick follows progress exactly; and no Connection call loops on the
// transport. A violation aborts.
#pragma once

#include <cstddef>
#include <cstdint>

namespace cxs::fuzz {

// An input is a list of steps: a step byte (% 8: read, write, gathered
// write, end_batch, protocol fault, reconnection, the Connection's
// next_request, the Connection's flush), its arguments, and before every
// transport call a rewrite: a mask byte (bit 0 req_cons, 1 req_prod,
// 2 rsp_cons, 3 rsp_prod, 4 connection, 5 error, 6 ring bytes, 7 indexes
// near valid ones) and the values it names.
enum RingPageStep : std::uint8_t {
  kRingRead,
  kRingWrite,
  kRingGather,
  kRingEndBatch,
  kRingFault,
  kRingReconnect,
  kConnRead,
  kConnFlush,
  kRingStepCount
};

struct RingPageRunStats {
  std::size_t calls = 0;  // transport calls checked
  std::size_t bytes_read = 0;
  std::size_t bytes_written = 0;
  std::size_t index_faults = 0;  // calls answered with kRingIndex
  std::size_t requests = 0;      // requests the Connection framed
};

RingPageRunStats run_ring_page_input(const std::uint8_t* data,
                                     std::size_t size);

}  // namespace cxs::fuzz

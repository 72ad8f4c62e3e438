// The Unix-socket transport: a nonblocking stream socket to a local client
// (toolstack, xenstore-* tools), which acts as dom0. A protocol fault closes it,
// as in the C daemon.
#pragma once

#include <sys/types.h>

#include "cxenstored/unique_fd.h"
#include "transport/transport.h"

namespace cxs::transport {

class SocketTransport final : public Transport {
 public:
  explicit SocketTransport(UniqueFd fd) noexcept : fd_(std::move(fd)) {}

  IoResult read(char* buf, std::size_t len) noexcept override;
  IoResult write(const char* buf, std::size_t len) noexcept override;
  IoResult write_gather(const ConstBuf* bufs, std::size_t n) noexcept override;
  bool on_protocol_fault(Fault) noexcept override { return true; }
  int poll_fd() const noexcept override { return fd_.get(); }
  const char* kind() const noexcept override { return "socket"; }

 private:
  IoResult send_one(ConstBuf buf) noexcept;
  // The result of a send or sendmsg that was not interrupted.
  IoResult sent_result(ssize_t sent, const char* call) noexcept;

  UniqueFd fd_;
};

}  // namespace cxs::transport

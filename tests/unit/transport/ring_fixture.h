// A real shared ring page for the ring tests: one memfd of 4096 bytes mapped
// twice (the daemon's view and the guest's, at different addresses, as with
// a grant mapping), eventfds standing in for the event channel in each
// direction, a RingTransport on the daemon view (inside a Connection) and a
// FakeGuest on the guest view.
#pragma once

#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "cxenstored/unique_fd.h"
#include "fakes/fake_guest.h"
#include "transport/connection.h"
#include "transport/ring/ring_transport.h"

namespace cxs::test {

// One page of shared memory, mapped twice.
class SharedPage {
 public:
  SharedPage() {
    fd_.reset(::memfd_create("ring-test", MFD_CLOEXEC));
    if (!fd_.valid() || ::ftruncate(fd_.get(), kSize) != 0) std::abort();
    daemon_ = map();
    guest_ = map();
  }
  ~SharedPage() {
    ::munmap(daemon_, kSize);
    ::munmap(guest_, kSize);
  }
  SharedPage(const SharedPage&) = delete;
  SharedPage& operator=(const SharedPage&) = delete;

  wire::RingPage* daemon_view() {
    return static_cast<wire::RingPage*>(daemon_);
  }
  wire::RingPage* guest_view() { return static_cast<wire::RingPage*>(guest_); }

 private:
  static constexpr std::size_t kSize = 4096;
  void* map() {
    void* p = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_SHARED,
                     fd_.get(), 0);
    if (p == MAP_FAILED) std::abort();
    return p;
  }
  UniqueFd fd_;
  void* daemon_ = nullptr;
  void* guest_ = nullptr;
};

// An event channel end: signal() adds one, take() returns and clears the
// count of signals so far.
class EventFd {
 public:
  EventFd() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (!fd_.valid()) std::abort();
  }
  void signal() {
    std::uint64_t one = 1;
    if (::write(fd_.get(), &one, sizeof one) != sizeof one) std::abort();
  }
  std::uint64_t take() {
    std::uint64_t n = 0;
    if (::read(fd_.get(), &n, sizeof n) != sizeof n) return 0;
    return n;
  }

 private:
  UniqueFd fd_;
};

class RingFixture : public ::testing::Test {
 protected:
  // One wake-up of the daemon's side: new_turn, then the next request.
  std::optional<wire::Message> next_request() {
    conn_.new_turn();
    auto m = conn_.next_request();
    return m ? std::optional(m->owned()) : std::nullopt;
  }
  RingFixture()
      : conn_(ConnId{7},
              std::make_unique<transport::RingTransport>(
                  page_.daemon_view(), [this] { to_guest_.signal(); }),
              buffers_),
        ring_(static_cast<transport::RingTransport&>(conn_.transport())),
        guest_(page_.guest_view(), [this] { to_daemon_.signal(); }) {}

  // Everything the daemon can read right now, straight from the transport.
  std::string daemon_read_all() {
    std::string out;
    char buf[4096];
    for (;;) {
      transport::IoResult r = ring_.read(buf, sizeof buf);
      EXPECT_EQ(r.fault, transport::Fault::kNone);
      if (r.bytes == 0) return out;
      out.append(buf, r.bytes);
    }
  }

  SharedPage page_;
  EventFd to_guest_;   // the daemon's notifications
  EventFd to_daemon_;  // the guest's kicks
  transport::SharedBuffers buffers_;
  transport::Connection conn_;
  transport::RingTransport& ring_;
  FakeGuest guest_;
};

}  // namespace cxs::test

// The framer out of memory: gathering a message cut short needs room for its
// payload; when that allocation fails, feed() (noexcept) reports
// State::kNoMemory instead of ending the daemon, and reset() recovers (a
// ring reconnection). This binary's operator new fails on demand.
#include <gtest/gtest.h>

#include "failing_new.h"
#include "wire/framer.h"
#include "wire/header.h"

namespace cxs::wire {
namespace {

using test::FailAllocationAfter;

TEST(FramerNoMemory, RoomForAPayloadThatCannotBeHadIsAFault) {
  // Longer than a string's 15 inline bytes, so that it needs a block.
  std::string payload = "/" + std::string(99, 'a') + '\0';
  std::string msg = encode_message(2, 1, 0, payload);
  Framer f;
  std::size_t used = 0;
  {
    FailAllocationAfter fail(0);
    used = f.feed(msg.data(), msg.size());
  }
  EXPECT_EQ(used, kHeaderSize);
  EXPECT_EQ(f.state(), Framer::State::kNoMemory);
  EXPECT_EQ(f.feed(msg.data(), msg.size()), 0u);
  EXPECT_FALSE(f.take());

  f.reset();
  EXPECT_EQ(f.state(), Framer::State::kOk);
  EXPECT_EQ(f.feed(msg.data(), msg.size()), msg.size());
  auto m = f.take();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->payload, payload);
}

}  // namespace
}  // namespace cxs::wire

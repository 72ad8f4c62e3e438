// Out of memory while handling a request: the caller gets ENOMEM, the daemon
// lives on, and the store is as it was. This binary's global operator new
// fails on demand to get there.
#include <gtest/gtest.h>

#include <cstdlib>
#include <new>

#include "ops_fixture.h"

namespace {
bool g_fail_allocations = false;
}  // namespace

void* operator new(std::size_t n) {
  if (g_fail_allocations) throw std::bad_alloc();
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
// GCC sees free() paired with new and warns; here new is malloc.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace cxs::ops {
namespace {

using wire::MsgType;

class OutOfMemory : public OpsTest {
 protected:
  // Only the handler runs without memory: the request, the context and the
  // outcome are set up before and taken apart after.
  XsErr send_starved(MsgType type, std::string_view payload) {
    Ctx ctx(store_, watches_, dom0_, limits_, &daemon_);
    wire::Header hdr{static_cast<std::uint32_t>(type), 1, 0,
                     static_cast<std::uint32_t>(payload.size())};
    ctx.events.reserve(8);
    g_fail_allocations = true;
    Result<Reply> r = dispatch(ctx, Request{hdr, payload});
    g_fail_allocations = false;
    return r.ok() ? XsErr::kEIO : r.error();
  }
};

TEST_F(OutOfMemory, ReadOfARelativePathIsEnomemAndTheNextReadWorks) {
  ASSERT_EQ(send(MsgType::XS_WRITE, z("rel") + "v").payload(), kOk);
  EXPECT_EQ(send_starved(MsgType::XS_READ, z("rel")), XsErr::kENOMEM);
  EXPECT_EQ(send(MsgType::XS_READ, z("rel")).payload(), "v");
}

TEST_F(OutOfMemory, FailedWriteLeavesTheStoreAsItWas) {
  ASSERT_EQ(send(MsgType::XS_WRITE, z("/a") + "old").payload(), kOk);
  std::string big(200, 'x');  // too long to be kept inline
  EXPECT_EQ(send_starved(MsgType::XS_WRITE, z("/a/b/c") + big),
            XsErr::kENOMEM);
  EXPECT_EQ(send(MsgType::XS_READ, z("/a/b")).error(), XsErr::kENOENT);
  EXPECT_EQ(send(MsgType::XS_DIRECTORY, z("/a")).payload(), "");
  EXPECT_EQ(send_starved(MsgType::XS_WRITE, z("/a") + big), XsErr::kENOMEM);
  EXPECT_EQ(send(MsgType::XS_READ, z("/a")).payload(), "old");
  // And with memory back, both work.
  EXPECT_EQ(send(MsgType::XS_WRITE, z("/a/b/c") + big).payload(), kOk);
  EXPECT_EQ(send(MsgType::XS_READ, z("/a/b/c")).payload(), big);
}

}  // namespace
}  // namespace cxs::ops

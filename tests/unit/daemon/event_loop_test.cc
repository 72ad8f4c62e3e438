// The event loop after start-up: a registration the kernel refuses is an
// answer (false), never an exception that would escape Server::run() and
// stop the daemon; the loop goes on serving the fds it has.
#include "daemon/event_loop.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "cxenstored/unique_fd.h"
#include "temp_dir.h"

namespace cxs::daemon {
namespace {

struct Pipe {
  UniqueFd read_end, write_end;
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    read_end.reset(fds[0]);
    write_end.reset(fds[1]);
  }
};

// epoll refuses regular files with EPERM: the nearest thing to the ENOMEM
// or ENOSPC (fs.epoll.max_user_watches) a loaded host can give.
TEST(EventLoop, AFdEpollRefusesIsReportedNotThrownAndTheRestGoOn) {
  test::TempDir dir("event-loop");
  UniqueFd file(
      ::open((dir / "plain").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  ASSERT_TRUE(file.valid());
  Pipe p;
  EventLoop loop;
  ASSERT_TRUE(loop.add(p.read_end.get(), 7, true, false));
  bool added = true;
  EXPECT_NO_THROW(added = loop.add(file.get(), 8, true, false));
  EXPECT_FALSE(added);
  ASSERT_EQ(::write(p.write_end.get(), "x", 1), 1);
  const auto& ready = loop.wait(1000);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].token, 7u);
}

TEST(EventLoop, ModifyingAFdNotRegisteredIsReportedNotThrown) {
  Pipe p;
  EventLoop loop;
  bool modified = true;
  EXPECT_NO_THROW(modified = loop.modify(p.read_end.get(), 1, true, true));
  EXPECT_FALSE(modified);
  EXPECT_TRUE(loop.add(p.read_end.get(), 1, true, false));
  EXPECT_TRUE(loop.modify(p.read_end.get(), 1, false, false));
}

}  // namespace
}  // namespace cxs::daemon

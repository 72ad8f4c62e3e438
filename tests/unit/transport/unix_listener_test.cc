// The listening socket: mode 0600 whatever the umask, nonblocking (the
// listener and every accepted socket), a stale file replaced, the file
// removed when the listener goes, accept() saying why it found no client.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "cxenstored/unique_fd.h"
#include "temp_dir.h"
#include "transport/socket/unix_listener.h"

namespace cxs::transport {
namespace {

class UnixListenerTest : public ::testing::Test {
 protected:

  UniqueFd connect_client() const {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr))
      return UniqueFd();
    return fd;
  }

  test::TempDir dir_{"listener"};
  std::string path_ = dir_ / "socket";
};

bool nonblocking(int fd) { return (::fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }
bool close_on_exec(int fd) { return (::fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0; }

TEST_F(UnixListenerTest, SocketFileIsOwnerOnlyEvenWithAnOpenUmask) {
  mode_t old = ::umask(0);
  UnixListener listener(path_);
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(UnixListenerTest, CreationLeavesTheProcessUmaskAsItWas) {
  mode_t old = ::umask(022);
  { UnixListener listener(path_); }
  EXPECT_EQ(::umask(old), 022u);
}

TEST_F(UnixListenerTest, ListenerAndAcceptedSocketsAreNonblocking) {
  UnixListener listener(path_);
  EXPECT_TRUE(nonblocking(listener.fd()));
  EXPECT_TRUE(close_on_exec(listener.fd()));
  // Nothing waiting: accept() returns at once instead of blocking the loop.
  Accepted none = listener.accept();
  EXPECT_FALSE(none.fd.valid());
  EXPECT_EQ(none.status, AcceptStatus::kNoneWaiting);

  UniqueFd client = connect_client();
  ASSERT_TRUE(client.valid());
  Accepted a = listener.accept();
  EXPECT_EQ(a.status, AcceptStatus::kAccepted);
  UniqueFd accepted = std::move(a.fd);
  ASSERT_TRUE(accepted.valid());
  EXPECT_TRUE(nonblocking(accepted.get()));
  EXPECT_TRUE(close_on_exec(accepted.get()));
  char byte;
  EXPECT_EQ(::read(accepted.get(), &byte, 1), -1);
  EXPECT_EQ(errno, EAGAIN);
}

TEST_F(UnixListenerTest, StaleSocketFileIsReplacedAndRemovedAtTheEnd) {
  std::ofstream(path_) << "left by a dead daemon";
  {
    UnixListener listener(path_);
    EXPECT_TRUE(connect_client().valid());
  }
  EXPECT_FALSE(std::filesystem::exists(path_));
}

// The server must stop polling the listener then, not retry at once.
TEST_F(UnixListenerTest, OutOfDescriptorsIsNoResourceWithTheReason) {
  UnixListener listener(path_);
  UniqueFd client = connect_client();
  ASSERT_TRUE(client.valid());
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  // Every descriptor below the lowest free one is in use: with that as
  // the limit, the next one cannot be had.
  int lowest_free = ::dup(0);
  ASSERT_GE(lowest_free, 0);
  ::close(lowest_free);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(lowest_free);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  Accepted a = listener.accept();
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  EXPECT_FALSE(a.fd.valid());
  EXPECT_EQ(a.status, AcceptStatus::kNoResource);
  ASSERT_NE(a.reason, nullptr);
  EXPECT_STREQ(a.reason, std::strerror(EMFILE));
  // The client waited in the backlog and is taken once there is room.
  EXPECT_EQ(listener.accept().status, AcceptStatus::kAccepted);
}

TEST_F(UnixListenerTest, UnusablePathIsAStartUpError) {
  EXPECT_THROW(UnixListener(dir_ / "no/such/dir/socket"), std::runtime_error);
}

}  // namespace
}  // namespace cxs::transport

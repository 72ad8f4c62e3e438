// The listening socket: mode 0600 whatever the umask, nonblocking (the
// listener and every accepted socket), a stale file replaced, the file
// removed when the listener goes.
#include <fcntl.h>
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
  EXPECT_FALSE(listener.accept().valid());

  UniqueFd client = connect_client();
  ASSERT_TRUE(client.valid());
  UniqueFd accepted = listener.accept();
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

TEST_F(UnixListenerTest, UnusablePathIsAStartUpError) {
  EXPECT_THROW(UnixListener(dir_ / "no/such/dir/socket"), std::runtime_error);
}

}  // namespace
}  // namespace cxs::transport

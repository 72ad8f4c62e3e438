// The listening socket: mode 0600 whatever the umask, nonblocking (the
// listener and every accepted socket), a stale file replaced, the file
// removed when the listener goes, accept() saying why it found no client;
// the lock that keeps a second daemon off the path, and its hand-over.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
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

// Regression: a second daemon on the same path replaced the first one's
// socket, and deleted it on exit, leaving the first unreachable.
TEST_F(UnixListenerTest, ASecondListenerOnThePathIsRefusedAndTouchesNothing) {
  UnixListener first(path_);
  struct stat before {};
  ASSERT_EQ(::stat(path_.c_str(), &before), 0);
  try {
    UnixListener second(path_);
    ADD_FAILURE() << "a second listener was created";
  } catch (const std::runtime_error& e) {
    std::string why = e.what();
    EXPECT_NE(why.find("pid " + std::to_string(::getpid())), std::string::npos)
        << why;
    EXPECT_NE(why.find(path_), std::string::npos) << why;
  }
  struct stat after {};
  ASSERT_EQ(::stat(path_.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "the socket file was replaced";
  EXPECT_TRUE(connect_client().valid());
  EXPECT_EQ(first.accept().status, AcceptStatus::kAccepted);
}

// A daemon that takes no lock (the C xenstored) answering on the path.
TEST_F(UnixListenerTest, ASocketThatAnswersIsNotReplaced) {
  UniqueFd other(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(other.get(), reinterpret_cast<sockaddr*>(&addr),
                   sizeof addr),
            0);
  ASSERT_EQ(::listen(other.get(), 8), 0);
  EXPECT_THROW(UnixListener listener(path_), std::runtime_error);
  EXPECT_TRUE(connect_client().valid()) << "the other socket was removed";
}

TEST_F(UnixListenerTest, TheLockGoesWithTheListener) {
  { UnixListener first(path_); }
  UnixListener again(path_);
  EXPECT_TRUE(connect_client().valid());
}

// Live update: the daemon before leaves its lock fd open across exec; the
// new one finds it by the file's inode and owns it (close-on-exec again).
TEST_F(UnixListenerTest, AnInheritedLockIsAdoptedNotTakenAgain) {
  std::string lock = lock_path_for(path_);
  int inherited = ::open(lock.c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_GE(inherited, 0);
  ASSERT_EQ(::flock(inherited, LOCK_EX | LOCK_NB), 0);
  SocketLock adopted = SocketLock::adopt(path_);
  EXPECT_TRUE(adopted.held());
  EXPECT_EQ(adopted.fd(), inherited);
  EXPECT_TRUE(close_on_exec(inherited));
  EXPECT_THROW(SocketLock::acquire(path_), std::runtime_error);
}

TEST_F(UnixListenerTest, WithoutAnInheritedLockAdoptTakesAFreshOne) {
  SocketLock adopted = SocketLock::adopt(path_);
  EXPECT_TRUE(adopted.held());
  EXPECT_THROW(SocketLock::acquire(path_), std::runtime_error);
}

// Another process holds it: the live update goes on without the lock
// rather than leave the host with no xenstored.
TEST_F(UnixListenerTest, ALockHeldElsewhereIsNotFatalToALiveUpdate) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t holder = ::fork();
  ASSERT_GE(holder, 0);
  if (holder == 0) {
    try {
      SocketLock held = SocketLock::acquire(path_);
      [[maybe_unused]] ssize_t n = ::write(ready[1], "x", 1);
      ::pause();
    } catch (...) {
    }
    ::_exit(0);
  }
  ::close(ready[1]);
  char byte;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  SocketLock adopted = SocketLock::adopt(path_);
  EXPECT_FALSE(adopted.held());
  ::kill(holder, SIGKILL);
  ::waitpid(holder, nullptr, 0);
}

TEST_F(UnixListenerTest, UnusablePathIsAStartUpError) {
  EXPECT_THROW(UnixListener(dir_ / "no/such/dir/socket"), std::runtime_error);
}

}  // namespace
}  // namespace cxs::transport

#include "transport/socket/socket_lock.h"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace cxs::transport {
namespace {

UniqueFd open_lock_file(const std::string& path) {
  return UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
}

// The pid the holder wrote, if the file says one.
std::optional<long> holder_pid(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return std::nullopt;
  char* end = nullptr;
  long pid = std::strtol(buf, &end, 10);
  if (end == buf || pid <= 0) return std::nullopt;
  return pid;
}

std::string holder_text(int fd) {
  std::optional<long> pid = holder_pid(fd);
  return pid ? "pid " + std::to_string(*pid) : "another process";
}

void write_pid(int fd) noexcept {
  std::string text = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) !=
                                     static_cast<ssize_t>(text.size()))
    spdlog::warn("cannot write the pid into the socket lock: {}",
                 std::strerror(errno));
}

// An fd this process already has open on the file `want` describes, that
// holds (or can take) the lock: what the daemon before passed through exec.
UniqueFd inherited_lock(const struct stat& want) {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return UniqueFd();
  int found = -1;
  while (dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == ::dirfd(dir)) continue;
    struct stat st {};
    if (::fstat(static_cast<int>(fd), &st) != 0 || st.st_dev != want.st_dev ||
        st.st_ino != want.st_ino)
      continue;
    // Succeeds on the description that holds the lock already.
    if (::flock(static_cast<int>(fd), LOCK_EX | LOCK_NB) == 0) {
      found = static_cast<int>(fd);
      break;
    }
  }
  ::closedir(dir);
  if (found >= 0 && ::fcntl(found, F_SETFD, FD_CLOEXEC) != 0)
    spdlog::warn("socket lock fd {}: {}", found, std::strerror(errno));
  return UniqueFd(found);
}

}  // namespace

std::string lock_path_for(const std::string& socket_path) {
  return socket_path + ".lock";
}

SocketLock SocketLock::acquire(const std::string& socket_path) {
  std::string path = lock_path_for(socket_path);
  UniqueFd fd = open_lock_file(path);
  if (!fd.valid())
    throw std::runtime_error("cannot open the lock file " + path + ": " +
                             std::strerror(errno));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK)
      throw std::runtime_error("cannot lock " + path + ": " +
                               std::strerror(errno));
    throw std::runtime_error("another xenstored (" + holder_text(fd.get()) +
                             ") is serving on " + socket_path + " (" + path +
                             " is locked); not starting");
  }
  write_pid(fd.get());
  return SocketLock(std::move(fd));
}

SocketLock SocketLock::adopt(const std::string& socket_path) {
  std::string path = lock_path_for(socket_path);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    UniqueFd fd = inherited_lock(st);
    if (fd.valid()) return SocketLock(std::move(fd));
  }
  // The daemon before held none (the C xenstored does not lock): take it.
  UniqueFd fd = open_lock_file(path);
  if (fd.valid() && ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
    write_pid(fd.get());
    return SocketLock(std::move(fd));
  }
  spdlog::error(
      "live update: {} is held by {}: serving on the inherited socket "
      "without it, and leaving {} in place at exit",
      path, fd.valid() ? holder_text(fd.get()) : std::strerror(errno),
      socket_path);
  return SocketLock();
}

void SocketLock::note_owner() const noexcept {
  if (fd_.valid()) write_pid(fd_.get());
}

}  // namespace cxs::transport

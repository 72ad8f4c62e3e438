#include "boot_storm_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace cxs::bench::storm {

double us_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i =
      static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

const std::string kOk("OK\0", 3);

std::string dom_path(int d) { return "/local/domain/" + std::to_string(d); }
std::string uuid_of(int d) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", d);
  return buf;
}
std::string perms(std::initializer_list<std::string> ps) {
  std::string out;
  for (const auto& p : ps) out += p + '\0';
  return out;
}

// Splits "path\0token\0".
std::pair<std::string, std::string> split_event(const std::string& payload) {
  std::size_t z = payload.find('\0');
  if (z == std::string::npos) throw BenchError("malformed watch event");
  std::string path = payload.substr(0, z);
  std::string rest = payload.substr(z + 1);
  return {path, rest.substr(0, rest.find('\0'))};
}

std::vector<std::string> split_dir(const std::string& payload) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < payload.size()) {
    std::size_t z = payload.find('\0', at);
    if (z == std::string::npos) z = payload.size();
    if (z > at) out.push_back(payload.substr(at, z - at));
    at = z + 1;
  }
  return out;
}

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  std::size_t at = 1;
  while (at <= path.size()) {
    std::size_t s = path.find('/', at);
    if (s == std::string::npos) s = path.size();
    if (s > at) out.push_back(path.substr(at, s - at));
    at = s + 1;
  }
  return out;
}

void zero_ring(const std::string& dir, int d) {
  std::string ring = dir + "/ring-" + std::to_string(d);
  UniqueFd fd(::open(ring.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  const std::string zeros(4096, '\0');
  if (!fd.valid() || ::pwrite(fd.get(), zeros.data(), zeros.size(), 0) != 4096)
    throw BenchError("cannot create " + ring);
}

}  // namespace cxs::bench::storm

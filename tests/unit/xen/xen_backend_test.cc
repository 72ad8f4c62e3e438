// The real backend (open_xen, xen_present) on a host without Xen: it must
// say so, and refuse to start with a message that points at --standalone.
// On a Xen host these tests skip themselves.
#include <sys/stat.h>

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "xen/hypervisor.h"

namespace cxs::xen {
namespace {

bool exists(const char* path) {
  struct stat st;
  return ::stat(path, &st) == 0;
}

bool host_has_xen() {
  return exists("/dev/xen/evtchn") || exists("/proc/xen/xsd_kva");
}

TEST(XenBackend, NotPresentWithoutXenDevices) {
  if (host_has_xen()) GTEST_SKIP() << "this host runs on Xen";
  EXPECT_FALSE(xen_present());
}

TEST(XenBackend, OpenWithoutXenThrowsAndSuggestsStandalone) {
  if (host_has_xen()) GTEST_SKIP() << "this host runs on Xen";
  try {
    Hypervisor h = open_xen();
    FAIL() << "open_xen() succeeded on a host without Xen";
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("--standalone"), std::string::npos) << what;
    // The first handle opened is the event channel device: name it.
    EXPECT_NE(what.find("/dev/xen/evtchn"), std::string::npos) << what;
  }
}

TEST(XenBackend, OpenTwiceWithoutXenThrowsTwice) {
  // Nothing is left half-open by the first failure.
  if (host_has_xen()) GTEST_SKIP() << "this host runs on Xen";
  EXPECT_THROW(open_xen(), std::runtime_error);
  EXPECT_THROW(open_xen(), std::runtime_error);
}

}  // namespace
}  // namespace cxs::xen

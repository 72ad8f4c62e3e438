#include "security_helpers.h"

#include <gtest/gtest.h>

#include <iostream>

namespace cxs::test {

void report_peak_rss(const DaemonProcess& d, const std::string& what) {
  long peak = d.peak_rss_kib();
  std::cout << "[ peak RSS ] " << what << ": " << peak << " KiB (VmHWM)"
            << std::endl;
  ::testing::Test::RecordProperty("peak_rss_kib", std::to_string(peak));
}

}  // namespace cxs::test

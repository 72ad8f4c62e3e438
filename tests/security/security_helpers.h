// What the security tests add to tests/support: peak-RSS reporting for the
// floods, domain release checks and a node-quota filler.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "event_assertions.h"
#include "sim_host.h"
#include "test_util.h"
#include "wire/message_type.h"

namespace cxs::test {

// Prints the daemon's peak RSS (VmHWM) and records it as a test property.
void report_peak_rss(const DaemonProcess& d, const std::string& what);

// IS_DOMAIN_INTRODUCED over the socket; released() waits for "F".
inline bool introduced(RawClient& dom0, std::uint32_t dom) {
  Msg m = dom0.request(ty(wire::MsgType::XS_IS_DOMAIN_INTRODUCED),
                       with_nul(std::to_string(dom)));
  return m.payload.substr(0, 1) == "T";
}
inline bool released(RawClient& dom0, std::uint32_t dom) {
  return eventually([&] { return !introduced(dom0, dom); });
}

// Creates nodes DIR/n0, DIR/n1... until refused (or `limit`); returns how
// many were created and the refusal ("none" if none came).
inline std::pair<int, std::string> fill_nodes(SimGuest& g,
                                              const std::string& dir,
                                              int limit) {
  for (int i = 0; i < limit; ++i) {
    std::string r = g.outcome(ty(wire::MsgType::XS_WRITE),
                              dir + "/n" + std::to_string(i) + '\0' + "v");
    if (r != "XS_WRITE") return {i, r};
  }
  return {limit, "none"};
}

}  // namespace cxs::test

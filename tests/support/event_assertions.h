// Assertions that no watch event was sent, decided by an ordering barrier
// (RawClient::events_before_barrier, SimGuest::events_before_barrier), not
// by waiting for a quiet spell: call them after the reply to the request
// that could have caused the event. A failure lists the events.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "raw_client.h"
#include "sim_host.h"

namespace cxs::test {

inline ::testing::AssertionResult no_event_listed(
    const std::vector<std::string>& events) {
  if (events.empty()) return ::testing::AssertionSuccess();
  auto r = ::testing::AssertionFailure() << events.size() << " event(s):";
  for (const auto& e : events) r << " \"" << e << "\"";
  return r;
}

// EXPECT_TRUE(no_event_before_barrier(watcher)).
inline ::testing::AssertionResult no_event_before_barrier(RawClient& c) {
  std::vector<std::string> shown;
  for (const Msg& m : c.events_before_barrier()) shown.push_back(m.shown());
  return no_event_listed(shown);
}

inline ::testing::AssertionResult no_event_before_barrier(SimGuest& g) {
  return no_event_listed(g.events_before_barrier());
}

}  // namespace cxs::test

// Names of message types for logs and traces.
#include "wire/message_type.h"

#include <gtest/gtest.h>

namespace cxs::wire {
namespace {

TEST(MessageType, KnownTypesHaveUpstreamNames) {
  EXPECT_EQ(msg_type_name(0), "XS_CONTROL");
  EXPECT_EQ(msg_type_name(2), "XS_READ");
  EXPECT_EQ(msg_type_name(11), "XS_WRITE");
  EXPECT_EQ(msg_type_name(21), "XS_RESET_WATCHES");
  EXPECT_EQ(msg_type_name(22), "XS_DIRECTORY_PART");
  EXPECT_EQ(msg_type_name(26), "XS_SET_QUOTA");
  EXPECT_EQ(msg_type_name(0xffff), "XS_INVALID");
}

TEST(MessageType, EveryNumberedTypeBelowTheCountHasAName) {
  for (std::uint32_t t = 0; t < static_cast<std::uint32_t>(MsgType::XS_TYPE_COUNT);
       ++t) {
    if (t == 20) continue;  // XS_RESTRICT, removed upstream
    EXPECT_FALSE(msg_type_name(t).empty()) << t;
  }
}

TEST(MessageType, UnnamedTypesGiveAnEmptyName) {
  EXPECT_TRUE(msg_type_name(20).empty());
  EXPECT_TRUE(msg_type_name(27).empty());
  EXPECT_TRUE(msg_type_name(100).empty());
  EXPECT_TRUE(msg_type_name(0xfffe).empty());
}

}  // namespace
}  // namespace cxs::wire

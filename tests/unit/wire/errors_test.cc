// The error-name table and the protocol constants, checked against the
// installed xs_wire.h (included here only: code outside src/xen/ restates
// the values instead).
// clang-format off: <cerrno> (xs_wire.h keys its error table on EINVAL) and
// <cstdint> must come before xs_wire.h, which includes neither.
#include <cerrno>
#include <cstdint>
#include <xen/io/xs_wire.h>
// clang-format on

#include <gtest/gtest.h>

#include <cstring>
#include <iterator>
#include <string>

#include "cxenstored/errors.h"
#include "cxenstored/limits.h"
#include "wire/message_type.h"

namespace cxs {
namespace {

using wire::MsgType;

constexpr std::uint32_t v(MsgType t) { return static_cast<std::uint32_t>(t); }

static_assert(v(MsgType::XS_CONTROL) == XS_CONTROL);
static_assert(v(MsgType::XS_DIRECTORY) == XS_DIRECTORY);
static_assert(v(MsgType::XS_READ) == XS_READ);
static_assert(v(MsgType::XS_GET_PERMS) == XS_GET_PERMS);
static_assert(v(MsgType::XS_WATCH) == XS_WATCH);
static_assert(v(MsgType::XS_UNWATCH) == XS_UNWATCH);
static_assert(v(MsgType::XS_TRANSACTION_START) == XS_TRANSACTION_START);
static_assert(v(MsgType::XS_TRANSACTION_END) == XS_TRANSACTION_END);
static_assert(v(MsgType::XS_INTRODUCE) == XS_INTRODUCE);
static_assert(v(MsgType::XS_RELEASE) == XS_RELEASE);
static_assert(v(MsgType::XS_GET_DOMAIN_PATH) == XS_GET_DOMAIN_PATH);
static_assert(v(MsgType::XS_WRITE) == XS_WRITE);
static_assert(v(MsgType::XS_MKDIR) == XS_MKDIR);
static_assert(v(MsgType::XS_RM) == XS_RM);
static_assert(v(MsgType::XS_SET_PERMS) == XS_SET_PERMS);
static_assert(v(MsgType::XS_WATCH_EVENT) == XS_WATCH_EVENT);
static_assert(v(MsgType::XS_ERROR) == XS_ERROR);
static_assert(v(MsgType::XS_IS_DOMAIN_INTRODUCED) == XS_IS_DOMAIN_INTRODUCED);
static_assert(v(MsgType::XS_RESUME) == XS_RESUME);
static_assert(v(MsgType::XS_SET_TARGET) == XS_SET_TARGET);
static_assert(v(MsgType::XS_RESET_WATCHES) == XS_RESET_WATCHES);
static_assert(v(MsgType::XS_DIRECTORY_PART) == XS_DIRECTORY_PART);
static_assert(v(MsgType::XS_INVALID) == XS_INVALID);
// Types past DIRECTORY_PART are newer than the installed 4.17 header.
static_assert(v(MsgType::XS_TYPE_COUNT) >= XS_TYPE_COUNT);

static_assert(kPayloadMax == XENSTORE_PAYLOAD_MAX);
static_assert(kAbsPathMax == XENSTORE_ABS_PATH_MAX);
static_assert(kRelPathMax == XENSTORE_REL_PATH_MAX);
static_assert(kRingSize == XENSTORE_RING_SIZE);
static_assert(kHeaderSize == sizeof(xsd_sockmsg));

TEST(XsError, TableHasAsManyEntriesAsXsWire) {
  EXPECT_EQ(static_cast<std::size_t>(kXsErrCount), std::size(xsd_errors));
}

TEST(XsError, EveryNameMatchesXsWireInOrder) {
  for (int i = 0; i < kXsErrCount; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(xs_error_name(static_cast<XsErr>(i)),
              std::string(xsd_errors[i].errstring));
  }
}

TEST(XsError, EnumeratorsNameTheirOwnErrors) {
  EXPECT_EQ(xs_error_name(XsErr::kEINVAL), "EINVAL");
  EXPECT_EQ(xs_error_name(XsErr::kEACCES), "EACCES");
  EXPECT_EQ(xs_error_name(XsErr::kENOENT), "ENOENT");
  EXPECT_EQ(xs_error_name(XsErr::kEAGAIN), "EAGAIN");
  EXPECT_EQ(xs_error_name(XsErr::kE2BIG), "E2BIG");
  EXPECT_EQ(xs_error_name(XsErr::kEPERM), "EPERM");
}

TEST(XsError, FromNameInvertsEveryName) {
  for (int i = 0; i < kXsErrCount; ++i) {
    SCOPED_TRACE(i);
    auto e = xs_error_from_name(xsd_errors[i].errstring);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(*e, static_cast<XsErr>(i));
  }
}

TEST(XsError, FromNameRejectsUnknownNames) {
  EXPECT_FALSE(xs_error_from_name("EFOO").has_value());
  EXPECT_FALSE(xs_error_from_name("").has_value());
  EXPECT_FALSE(xs_error_from_name("einval").has_value());
}

}  // namespace
}  // namespace cxs

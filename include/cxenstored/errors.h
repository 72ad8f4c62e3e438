// The error vocabulary of the xenstore protocol: every refusal a request can
// get, named exactly as xs_wire.h spells it, and the one table that maps each
// to its wire string. Protocol faults (which close a connection and get no
// reply) are a different type: cxs::ConnFault in the transport layer.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace cxs {

// Order follows xs_wire.h's xsd_errors[] table; kEINVAL is sent as "EINVAL".
// (The k prefix keeps clear of the errno macros of the same names.)
enum class XsErr : std::uint8_t {
  kEINVAL,
  kEACCES,
  kEEXIST,
  kEISDIR,
  kENOENT,
  kENOMEM,
  kENOSPC,
  kEIO,
  kENOTEMPTY,
  kENOSYS,
  kEROFS,
  kEBUSY,
  kEAGAIN,
  kEISCONN,
  kE2BIG,
  kEPERM,
};

inline constexpr int kXsErrCount = 16;

// "EINVAL", "EACCES", ... (without the trailing NUL the wire adds).
std::string_view xs_error_name(XsErr err) noexcept;

// Inverse of xs_error_name, for clients and tests.
std::optional<XsErr> xs_error_from_name(std::string_view name) noexcept;

}  // namespace cxs

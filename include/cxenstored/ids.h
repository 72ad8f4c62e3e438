// Strong identifiers shared by every module: domains, connections and
// transactions are all small integers on the wire, and mixing them up is a
// classic bug, so each gets its own type.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>

namespace cxs {

template <typename Tag, typename Rep>
struct StrongId {
  Rep value{};
  constexpr StrongId() = default;
  constexpr explicit StrongId(Rep v) : value(v) {}
  constexpr auto operator<=>(const StrongId&) const = default;
};

struct DomIdTag {};
struct ConnIdTag {};
struct TxIdTag {};

// Xen domain ids are 16-bit; special values (DOMID_ANY...) fit too.
using DomId = StrongId<DomIdTag, std::uint32_t>;
// Daemon-wide connection id, never reused while the daemon runs.
using ConnId = StrongId<ConnIdTag, std::uint64_t>;
// Wire transaction id (header tx_id); 0 means "no transaction".
using TxId = StrongId<TxIdTag, std::uint32_t>;

inline constexpr DomId kDom0{0};
inline constexpr std::uint32_t kDomidFirstReserved = 0x7FF0;  // DOMID_FIRST_RESERVED
inline constexpr std::uint32_t kDomidAny = 0x7FF5;            // DOMID_ANY (Xen 4.22)
inline constexpr std::uint32_t kDomidInvalid = 0x7FF4;        // DOMID_INVALID

}  // namespace cxs

template <typename Tag, typename Rep>
struct std::hash<cxs::StrongId<Tag, Rep>> {
  std::size_t operator()(const cxs::StrongId<Tag, Rep>& id) const noexcept {
    return std::hash<Rep>{}(id.value);
  }
};

// The simulated hypervisor's list of domains, the text of DIR/domains:
// "0,3,5-9,-4" lists domains 0, 3 and 5 to 9 as alive and 4 as dying (a
// leading '-' marks dying; a domain not listed does not exist). Separators
// are ',' and whitespace. Parsing stops at the first malformed item, keeping
// what came before (the reference shim does the same). Shared by the sim
// backend (read on every query) and the cxs-guest tool (which rewrites it).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace cxs::xen {

enum class SimDomState { kAlive, kDying };

// Each listed domain and its state; for a domain listed twice the later
// item wins. Ranges wider than kMaxSimRange are clipped.
using SimDomainList = std::map<std::uint32_t, SimDomState>;
inline constexpr std::uint32_t kMaxSimRange = 0x7FF0;  // DOMID_FIRST_RESERVED

SimDomainList parse_domain_list(std::string_view text);
// "0,3,-4,5": one item per domain, ascending, no trailing newline.
std::string format_domain_list(const SimDomainList& list);

}  // namespace cxs::xen

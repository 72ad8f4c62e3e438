// A node's permission list, shared by the wire (parsing "r5" strings) and the
// store (checking access). The first entry names the owner; its access bits
// are also the default for domains without an entry of their own.
#pragma once

#include <cstdint>
#include <vector>

#include "cxenstored/ids.h"

namespace cxs {

enum PermBits : std::uint8_t {
  kPermNone = 0,   // 'n'
  kPermRead = 1,   // 'r'
  kPermWrite = 2,  // 'w'
  kPermBoth = 3,   // 'b'
  // Not on the wire: the entry named a domain that did not exist when it
  // was set, so it grants nothing (a later domain given that id must not
  // inherit it: XSA-322). GET_PERMS still lists it, as C does.
  kPermIgnored = 8,
};

struct Perm {
  DomId dom;
  std::uint8_t bits = kPermNone;
  bool operator==(const Perm&) const = default;
};

using PermList = std::vector<Perm>;

}  // namespace cxs

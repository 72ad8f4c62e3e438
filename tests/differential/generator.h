// The random side of a differential run: a seed gives a sequence of ops that
// mixes every request type (well-formed and malformed payloads), dom0 and
// guest actors, transactions, permission lists naming live, unknown, dying
// and absent domains, values and paths at the quota limits, and domain
// lifecycle events. The sequence depends on the seed alone (std::mt19937
// with its own draws, no distribution objects whose output varies between
// standard libraries), so a seed reproduces anywhere.
#pragma once

#include <cstdint>
#include <vector>

#include "op.h"

namespace cxs::diff {

std::vector<Op> generate(std::uint64_t seed, std::size_t count);

}  // namespace cxs::diff

// NodeRecord's pieces: the name and value sharing 16 bytes, and the slab
// that holds records by id and gives memory back.
#include "store/node_record.h"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "store/record_slab.h"

namespace cxs::store {
namespace {

TEST(NameValue, KeepsNameAndValueAroundTheInlineLimit) {
  for (std::size_t name_len : {1u, 4u, 13u, 14u, 15u, 200u}) {
    for (std::size_t value_len : {0u, 1u, 8u, 10u, 13u, 14u, 15u, 4096u}) {
      std::string name(name_len, 'n');
      std::string value(value_len, 'v');
      if (value_len > 2) value[1] = '\0';  // binary-safe
      NameValue nv(name, {});
      nv.set_value(value);
      EXPECT_EQ(nv.name(), name);
      EXPECT_EQ(nv.value(), value);
      NameValue moved(std::move(nv));
      EXPECT_EQ(moved.name(), name);
      EXPECT_EQ(moved.value(), value);
      moved.set_value("x");  // heap or not, back to one byte
      EXPECT_EQ(moved.name(), name);
      EXPECT_EQ(moved.value(), "x");
    }
  }
}

TEST(RecordSlab, IdsStayValidAndFreedIdsAreReused) {
  RecordSlab slab;
  std::vector<std::uint32_t> ids;
  for (int i = 0; i < 10000; ++i) {
    ids.push_back(slab.allocate());
    slab.get(ids.back())->name_value = NameValue(std::to_string(i), {});
  }
  for (int i = 0; i < 10000; ++i)
    EXPECT_EQ(slab.get(ids[i])->name(), std::to_string(i));
  slab.release(ids[5]);
  EXPECT_EQ(slab.allocate(), ids[5]);
  EXPECT_EQ(slab.live(), 10000u);
}

// Memory comes back when the records go, whatever mix of sizes they had,
// and churn at one size does not grow the slab.
TEST(RecordSlab, EmptyChunksGoBackAndChurnStaysBounded) {
  RecordSlab slab;
  std::vector<std::uint32_t> ids;
  for (std::uint32_t i = 0; i < 5 * RecordSlab::kChunkRecords; ++i) {
    ids.push_back(slab.allocate());
    // Long values go to the heap: destruction must free them.
    slab.get(ids.back())->name_value = NameValue("n", std::string(i % 64, 'v'));
  }
  EXPECT_EQ(slab.chunks_held(), 5u);
  for (auto id : ids) slab.release(id);
  EXPECT_EQ(slab.live(), 0u);
  EXPECT_EQ(slab.chunks_held(), 1u);  // one kept for the next node
  ids.clear();
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 3000; ++i) ids.push_back(slab.allocate());
    for (auto id : ids) slab.release(id);
    ids.clear();
  }
  EXPECT_EQ(slab.chunks_held(), 1u);
}

TEST(RecordSlab, ReleasingInTheMiddleLetsTheHighChunksDrain) {
  RecordSlab slab;
  std::vector<std::uint32_t> ids;
  for (std::uint32_t i = 0; i < 3 * RecordSlab::kChunkRecords; ++i)
    ids.push_back(slab.allocate());
  // Free half of the first chunk and all of the last: new records fill the
  // first chunk's holes, and the last chunk is not needed again.
  for (std::uint32_t i = 0; i < RecordSlab::kChunkRecords; i += 2)
    slab.release(ids[i]);
  for (std::uint32_t i = 2 * RecordSlab::kChunkRecords; i < ids.size(); ++i)
    slab.release(ids[i]);
  for (std::uint32_t i = 0; i < RecordSlab::kChunkRecords / 2; ++i)
    EXPECT_LT(slab.allocate() >> RecordSlab::kChunkBits, 1u);
  EXPECT_LE(slab.chunks_held(), 3u);
}

// The resident pages of [p, p + bytes), by mincore.
std::size_t resident_pages(const void* p, std::size_t bytes) {
  long page = ::sysconf(_SC_PAGESIZE);
  auto begin = reinterpret_cast<std::uintptr_t>(p) / page * page;
  std::size_t n = (reinterpret_cast<std::uintptr_t>(p) + bytes - begin +
                   page - 1) / page;
  std::vector<unsigned char> vec(n);
  if (::mincore(reinterpret_cast<void*>(begin), n * page, vec.data()) != 0)
    return 0;
  std::size_t resident = 0;
  for (unsigned char v : vec) resident += v & 1;
  return resident;
}

TEST(RecordSlab, ReservedChunksShareAHugePageMappingAndGiveBackTheirPages) {
  constexpr std::uint32_t K = RecordSlab::kChunkRecords;
  RecordSlab slab;
  slab.reserve(3 * K);  // too few for a mapping: heap chunks
  EXPECT_EQ(slab.regions_held(), 0u);
  slab.reserve(20 * K);
  EXPECT_EQ(slab.regions_held(), 1u);
  std::vector<std::uint32_t> ids;
  for (std::uint32_t i = 0; i < 30 * K; ++i) ids.push_back(slab.allocate());
  EXPECT_EQ(slab.chunks_held(), 30u);
  // The first chunks lie in one 2 MiB-aligned mapping, in order.
  auto first = reinterpret_cast<std::uintptr_t>(slab.get(ids[0]));
  EXPECT_LT(first % (std::uintptr_t{2} << 20), 64u);  // the chunk's header
  for (std::uint32_t c = 1; c < 20; ++c)
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(slab.get(ids[c * K])),
              reinterpret_cast<std::uintptr_t>(slab.get(ids[(c - 1) * K])) +
                  (reinterpret_cast<std::uintptr_t>(slab.get(ids[K])) - first));
  // A dropped chunk's pages go back to the system at once.
  const NodeRecord* fourth = slab.get(ids[3 * K]);
  std::size_t bytes = K * sizeof(NodeRecord);
  EXPECT_GT(resident_pages(fourth, bytes), 30u);
  for (std::uint32_t i = 2 * K; i < 4 * K; ++i) slab.release(ids[i]);
  EXPECT_EQ(slab.chunks_held(), 29u);  // chunk 2 kept empty, 3 dropped
  EXPECT_EQ(resident_pages(reinterpret_cast<const char*>(fourth) + 4096,
                           bytes - 8192),
            0u);
  // Everything released: one empty chunk kept (the lowest, in the
  // mapping), which keeps the mapping.
  for (std::uint32_t i = 0; i < ids.size(); ++i)
    if (i < 2 * K || i >= 4 * K) slab.release(ids[i]);
  EXPECT_EQ(slab.live(), 0u);
  EXPECT_EQ(slab.chunks_held(), 1u);
  EXPECT_EQ(slab.regions_held(), 1u);
}

}  // namespace
}  // namespace cxs::store

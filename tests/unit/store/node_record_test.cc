// NodeRecord's pieces: the name and value sharing 16 bytes, and the slab
// that holds records by id and gives memory back.
#include "store/node_record.h"

#include <gtest/gtest.h>

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

TEST(NodeRecord, IsFortyBytes) { EXPECT_EQ(sizeof(NodeRecord), 40u); }

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

}  // namespace
}  // namespace cxs::store

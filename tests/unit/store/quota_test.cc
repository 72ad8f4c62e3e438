// kQuotas, the one table every quota name goes through.
#include "store/quota.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace cxs::store {
namespace {

// Two rows on one field, or two on one name, would make a SET_QUOTA or a
// live update set the wrong quota.
TEST(QuotaTable, EveryRowHasItsOwnFieldAndNames) {
  Quota q;
  std::set<std::size_t*> fields;
  std::set<std::string_view> names;
  for (const QuotaSpec& spec : kQuotas) {
    EXPECT_TRUE(fields.insert(&(q.*spec.field)).second) << spec.name;
    EXPECT_TRUE(names.insert(spec.name).second) << spec.name;
    if (!spec.alias.empty()) {
      EXPECT_TRUE(names.insert(spec.alias).second) << spec.alias;
    }
    EXPECT_EQ(find_quota(spec.name), &spec);
    EXPECT_EQ(find_stream_quota(spec.stream), &spec);
  }
  // Every field of Quota is in the table.
  EXPECT_EQ(fields.size() * sizeof(std::size_t), sizeof(Quota));
}

TEST(QuotaTable, AQuotaIsFoundByNameAndAliasAndStartsAtItsDefault) {
  Quota q;
  for (const QuotaSpec& spec : kQuotas) {
    EXPECT_EQ(q.*spec.field, spec.default_value) << spec.name;
    if (!spec.hard) {
      EXPECT_EQ(q.field(spec.name), nullptr) << spec.name;
      continue;
    }
    ASSERT_EQ(q.field(spec.name), &(q.*spec.field)) << spec.name;
    if (!spec.alias.empty()) {
      EXPECT_EQ(q.field(spec.alias), &(q.*spec.field)) << spec.alias;
    }
  }
  EXPECT_EQ(q.field("no-such-quota"), nullptr);
  EXPECT_EQ(find_quota("no-such-quota"), nullptr);
}

TEST(QuotaTable, GetQuotaListsTheHardOnesInTableOrder) {
  std::string names;
  for_each_hard_quota(
      [&](const QuotaSpec& q) { names += std::string(q.name) + " "; });
  EXPECT_EQ(names,
            "nodes node-size permissions path-max transactions "
            "transaction-nodes watches outstanding memory ");
}

}  // namespace
}  // namespace cxs::store

// sim::ByRow (sim/by_row.h): an application server's per-row records, looked up by row id and
// iterated in id order whatever order the rows were first met in, as the std::map it replaced.
#include "sim/by_row.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rehearse::sim {
namespace {

TEST(ByRow, IteratesInIdOrderWhateverOrderRowsWereMet) {
  ByRow<std::string> rows;
  EXPECT_EQ(rows.find(3), nullptr);
  rows[40] = "forty";
  rows[3] = "three";
  rows[0] = "zero";
  rows[1000] = "thousand";  // past the slots so far: they grow
  rows[3] += "!";           // the same row again: no second entry
  EXPECT_EQ(rows.size(), 4u);
  ASSERT_NE(rows.find(3), nullptr);
  EXPECT_EQ(*rows.find(3), "three!");
  EXPECT_EQ(rows.find(4), nullptr);
  EXPECT_EQ(rows.find(-1), nullptr);
  EXPECT_EQ(rows.find(5000), nullptr);
  std::vector<std::pair<std::int64_t, std::string>> seen;
  rows.for_each([&seen](std::int64_t id, std::string& value) { seen.emplace_back(id, value); });
  const std::vector<std::pair<std::int64_t, std::string>> expected = {
      {0, "zero"}, {3, "three!"}, {40, "forty"}, {1000, "thousand"}};
  EXPECT_EQ(seen, expected);
  rows.clear();
  EXPECT_EQ(rows.size(), 0u);
  EXPECT_EQ(rows.find(40), nullptr);
}

TEST(ByRow, AFirstUseIsDefaultConstructed) {
  ByRow<std::uint64_t> orders;
  std::uint64_t& order = orders[7];
  EXPECT_EQ(order, 0u);
  order = std::max<std::uint64_t>(order, 12);
  EXPECT_EQ(*orders.find(7), 12u);
  const ByRow<std::uint64_t>& read_only = orders;
  std::vector<std::int64_t> ids;
  read_only.for_each([&ids](std::int64_t id, const std::uint64_t&) { ids.push_back(id); });
  EXPECT_EQ(ids, std::vector<std::int64_t>{7});
}

}  // namespace
}  // namespace rehearse::sim

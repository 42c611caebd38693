// Shared row versions (core/row.h), the compact Value (core/value.h) and the simulated table's
// copy-on-write sharing (sim/table.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>

#include "core/plan.h"
#include "core/row.h"
#include "core/value.h"
#include "sim/table.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

TEST(Row, CopiesShareAVersionUntilOneIsWritten) {
  Row original({Value::integer(1), Value::text("a@example.com")}, Writer::initial);
  Row copy = original;
  EXPECT_TRUE(copy.same_version(original));
  copy.set(0, Value::integer(2));
  EXPECT_FALSE(copy.same_version(original));
  EXPECT_EQ(original[0], Value::integer(1)) << "a write through one handle must not reach the other";
  EXPECT_EQ(copy[0], Value::integer(2));
  EXPECT_EQ(copy[1], Value::text("a@example.com"));
  EXPECT_EQ(copy.writer(), Writer::initial);
}

TEST(Row, SlotsPastTheEndReadNullAndAWriteThereGrowsTheRow) {
  Row row({Value::integer(1)}, Writer::old_code);
  EXPECT_TRUE(row[5].is_null());
  row.set(3, Value::boolean(true));
  EXPECT_EQ(row.size(), 4U);
  EXPECT_TRUE(row[1].is_null());
  EXPECT_EQ(row[3], Value::boolean(true));
  EXPECT_EQ(row.writer(), Writer::old_code);
}

TEST(Row, WriterChangeOnASharedVersionCopiesIt) {
  Row original({Value::integer(1)}, Writer::initial);
  Row copy = original;
  copy.set_writer(Writer::engine);
  EXPECT_EQ(original.writer(), Writer::initial);
  EXPECT_EQ(copy.writer(), Writer::engine);
  Row empty;
  EXPECT_EQ(empty.writer(), Writer::initial);
  EXPECT_TRUE(empty[0].is_null());
}

TEST(Value, WideNumericsTextAndMovesKeepTheirValue) {
  const Int128 wide = static_cast<Int128>(std::numeric_limits<std::int64_t>::max()) * 1000 + 7;
  const Value big = Value::numeric(Decimal{wide, 3});
  const Value copy = big;  // NOLINT(performance-unnecessary-copy-initialization): the copy is the test
  EXPECT_EQ(copy.as_decimal().mantissa, wide);
  EXPECT_EQ(copy.as_decimal().scale, 3);
  EXPECT_EQ(Value::numeric(Decimal{-1234, 2}).as_decimal().mantissa, -1234);
  Value text = Value::text("User1@MAIL.test");
  Value moved = std::move(text);
  EXPECT_EQ(moved.as_text(), "User1@MAIL.test");
  EXPECT_TRUE(text.is_null());  // NOLINT(bugprone-use-after-move): a moved-from value is NULL
  moved = big;
  EXPECT_EQ(moved, big);
  EXPECT_EQ(Value::text("").as_text(), "");
}

TEST(Value, AnArenasTextsCompareHashAndCopyAsBoxedTextsDo) {
  std::vector<Value> kept;
  {
    TextArena arena;
    const std::string long_text(100 * 1024, 'x');  // past a chunk: a block of its own
    for (const std::string& text : {std::string("User12@example.com"), std::string(), long_text}) {
      const Value boxed = Value::text(text);
      Value made = arena.text(text);
      EXPECT_EQ(made.kind(), Value::Kind::text);
      EXPECT_EQ(made.as_text(), text);
      EXPECT_EQ(made, boxed);
      EXPECT_EQ(made.hash(), boxed.hash());
      Value copy = made;  // NOLINT(performance-unnecessary-copy-initialization): the copy is the test
      const Value moved = std::move(made);
      EXPECT_EQ(copy, moved);
      copy = Value::integer(1);  // dropping a handle leaves the text alone
      EXPECT_EQ(moved.as_text(), text);
    }
    // Thousands of texts over several chunks, each intact after the others were made.
    for (int i = 0; i < 20000; ++i) kept.push_back(arena.text("User" + std::to_string(i) + "@MAIL.test"));
    for (int i = 0; i < 20000; i += 997) EXPECT_EQ(kept[static_cast<std::size_t>(i)].as_text(), "User" + std::to_string(i) + "@MAIL.test");
    EXPECT_NE(kept[0], kept[1]);
  }
  kept.clear();  // handles of a gone arena may still be dropped: they do not touch their text
}

TEST(Value, ASimulatedRunsObservationsKeepItsTextsAlive) {
  const Scenario scenario = testing::builtin("three-regions-clean");
  Observations kept;
  {
    sim::World world(scenario, 1, compile_plan(scenario).value());
    ASSERT_EQ(world.run().outcome, "completed");
    kept = world.observations();
    ASSERT_NE(kept.texts, nullptr) << "the run's generated texts live in its arena";
  }
  // The world is gone; the copy's snapshots still read their texts (ASan: no use after free).
  std::size_t texts = 0;
  for (const TableSnapshot& snapshot : kept.snapshots) {
    const int email = snapshot.table.column_index("email");
    if (email < 0) continue;
    for (std::size_t row = 0; row < snapshot.table.row_count(); row += 500) {
      const Value value = snapshot.table.at(row, email);
      if (value.kind() == Value::Kind::text) texts += value.as_text().find('@') != std::string_view::npos ? 1 : 0;
    }
  }
  EXPECT_GT(texts, 0U);
}

TEST(SimTable, CopiesShareRowsAndDroppedColumnsAreUnreadable) {
  TableSpec spec;
  spec.columns = {ColumnSpec{.name = "amount", .type = ColumnType::integer}};
  sim::Table primary(spec);
  for (int i = 1; i <= 3; ++i) primary.insert(Row({Value::integer(i * 10)}, Writer::initial));
  const sim::Table replica = primary;
  const int amount = primary.column_index("amount");
  primary.set_cell(2, amount, Value::integer(99));
  EXPECT_TRUE(primary.version(1).same_version(replica.version(1)));
  EXPECT_FALSE(primary.version(2).same_version(replica.version(2)));
  EXPECT_EQ(replica.cell(2, amount), Value::integer(20));
  EXPECT_EQ(primary.cell(2, 0), Value::integer(2)) << "column 0 is the implicit id";

  primary.apply(DdlStatement{.kind = DdlStatement::Kind::add_column, .column = "cents", .type = ColumnType::bigint});
  EXPECT_TRUE(primary.cell(3, primary.column_index("cents")).is_null());
  EXPECT_TRUE(primary.version(3).same_version(replica.version(3))) << "adding a column touches no row";
  primary.apply(DdlStatement{.kind = DdlStatement::Kind::drop_column, .column = "amount"});
  const TableImage image = primary.image();
  EXPECT_EQ(image.columns, (std::vector<std::string>{"id", "cents"}));
  EXPECT_EQ(image.at(1, 0), Value::integer(2));
  EXPECT_TRUE(image.at(1, 1).is_null());
  EXPECT_TRUE(image.rows[0].same_version(replica.version(1))) << "a snapshot shares the table's rows";
}

TEST(SimTable, ReplicasShareThePrimarysRowVersionsAfterAMigration) {
  // Replication hands the primary's new row version to a replica that held the old one, so
  // after the whole migration under traffic a replica shares (not copies) its rows.
  Scenario scenario = testing::builtin("three-regions-clean");
  scenario.table.rows = 2000;
  sim::World world(scenario, 1, compile_plan(scenario).value());
  ASSERT_EQ(world.run().outcome, "completed");
  int compared = 0;
  for (const TableSnapshot& replica : world.observations().snapshots) {
    if (replica.moment != "end" || replica.node == "db:" + replica.region) continue;
    for (const TableSnapshot& primary : world.observations().snapshots) {
      if (primary.moment != "end" || primary.node != "db:" + replica.region) continue;
      // Traffic runs to the end, so the replica may still lack the last few changes.
      const std::size_t rows = std::min(primary.table.row_count(), replica.table.row_count());
      std::size_t shared = 0;
      for (std::size_t row = 0; row < rows; ++row) shared += primary.table.rows[row].same_version(replica.table.rows[row]) ? 1 : 0;
      EXPECT_GE(shared * 10, rows * 9) << replica.node << ": " << shared << " of " << rows << " rows shared";
      ++compared;
    }
  }
  EXPECT_EQ(compared, 3);
}

}  // namespace
}  // namespace rehearse

// Shared row versions (core/row.h), the compact Value (core/value.h) and the simulated table's
// copy-on-write sharing (sim/table.h).
#include <gtest/gtest.h>

#include <limits>

#include "core/row.h"
#include "core/value.h"
#include "sim/table.h"

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

}  // namespace
}  // namespace rehearse

// What an application write reports it wrote (AppWriteResult::written, the no-lost-writes
// checker's input) is read back from the row version it committed through the cells it set.
// These tests drive one SimDatabase on a bare kernel and check that the report is the values
// as written: the dual-write trigger's cell is not among them, new code writes the new column
// in place of the old, and where the same statement set a written cell again (the trigger, an
// insert's DEFAULT over a written NULL) the report keeps the written value, not the cell's.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "sim/database.h"
#include "sim/kernel.h"
#include "tests/test_support.h"

namespace rehearse::sim {
namespace {

using testing::parsed;

constexpr std::int64_t kRows = 50;

class WrittenCellsTest : public ::testing::Test {
 protected:
  WrittenCellsTest() {
    database = std::make_unique<SimDatabase>(kernel, node, "eu", generate_table(testing::orders_with_amount(kRows), 7), 1,
                                             DurationRange{700, 700}, [](Event) {}, 7);
  }

  void wait_for(const bool& done) {
    for (int step = 0; step < 10'000 && !done; ++step) kernel.run_until(kernel.now() + kMs);
    ASSERT_TRUE(done);
  }

  // ALTER TABLE orders ADD COLUMN `column` bigint [DEFAULT default_sql].
  void add_column(const std::string& column, const std::string& default_sql = "") {
    DdlStatement add;
    add.kind = DdlStatement::Kind::add_column;
    add.table = "orders";
    add.column = column;
    add.type = ColumnType::bigint;
    add.default_sql = default_sql;
    bool done = false;
    database->ddl(add, DdlLimits{}, Fence{}, "test", [&](Status answer) {
      EXPECT_TRUE(answer.is_ok()) << answer.to_string();
      done = true;
    });
    wait_for(done);
  }

  // amount_cents = amount * 100, kept by the dual-write trigger (down: amount = amount_cents / 100
  // when `with_source`, which makes amount the column new code no longer writes).
  void dual_write_amount_cents(bool with_source) {
    add_column("amount_cents");
    database->set_derived({DerivedColumn{"amount_cents", "amount_cents", with_source ? "amount" : "",
                                         parsed("amount * 100"), with_source ? parsed("amount_cents / 100") : Expr{}}});
    bool done = false;
    database->set_dual_write(true, Fence{}, "test", [&](Status answer) {
      EXPECT_TRUE(answer.is_ok()) << answer.to_string();
      done = true;
    });
    wait_for(done);
  }

  AppWriteResult write(std::int64_t row_id, ColumnValues logical, bool new_code = false) {
    auto request = std::make_shared<AppWrite>();
    request->row_id = row_id;
    request->new_code = new_code;
    request->logical = std::move(logical);
    std::optional<AppWriteResult> answer;
    bool done = false;
    database->app_write(request, [&](AppWriteResult result) {
      answer = std::move(result);
      done = true;
    });
    wait_for(done);
    EXPECT_TRUE(answer.has_value() && answer->status.is_ok());
    return answer.value_or(AppWriteResult{});
  }

  Value cell(std::int64_t row_id, const std::string& column) const {
    const Table& table = database->table();
    return table.cell(row_id, table.column_index(column));
  }

  Kernel kernel{7};
  Node& node = kernel.add_node("db:eu", "eu");
  std::unique_ptr<SimDatabase> database;
};

TEST_F(WrittenCellsTest, AWriteReportsTheCellsItSetNotTheTriggers) {
  dual_write_amount_cents(false);
  const AppWriteResult result = write(5, {{"amount", Value::integer(7)}});
  EXPECT_EQ(result.written.values(), (ColumnValues{{"amount", Value::integer(7)}}));
  EXPECT_EQ(cell(5, "amount_cents"), Value::integer(700));  // the trigger's, not the write's
  EXPECT_FALSE(result.written.has_fallback);
}

TEST_F(WrittenCellsTest, NewCodeReportsTheNewColumnInPlaceOfTheOld) {
  dual_write_amount_cents(true);
  const AppWriteResult result = write(5, {{"amount", Value::integer(7)}}, /*new_code=*/true);
  EXPECT_EQ(result.written.values(), (ColumnValues{{"amount_cents", Value::integer(700)}}));
  EXPECT_EQ(cell(5, "amount"), Value::integer(7));  // down, through the trigger
}

TEST_F(WrittenCellsTest, ACellTheTriggerSetsAgainIsReportedAsWritten) {
  dual_write_amount_cents(false);
  // Old code writing the new column itself: the trigger then overwrites it from amount.
  const AppWriteResult result = write(5, {{"amount", Value::integer(7)}, {"amount_cents", Value::integer(1)}});
  EXPECT_EQ(cell(5, "amount_cents"), Value::integer(700));
  EXPECT_EQ(result.written.values(), (ColumnValues{{"amount", Value::integer(7)}, {"amount_cents", Value::integer(1)}}));
  EXPECT_TRUE(result.written.has_fallback);
}

TEST_F(WrittenCellsTest, AWrittenNullADefaultFillsIsReportedAsNull) {
  add_column("status", "3");
  const AppWriteResult inserted = write(0, {{"amount", Value::integer(7)}, {"status", Value()}});
  EXPECT_EQ(cell(inserted.row_id, "status"), Value::integer(3));
  EXPECT_EQ(inserted.written.values(), (ColumnValues{{"amount", Value::integer(7)}, {"status", Value()}}));
}

TEST_F(WrittenCellsTest, WritesUnderOneLayoutShareTheirListOfCells) {
  const AppWriteResult first = write(5, {{"amount", Value::integer(7)}});
  const AppWriteResult second = write(6, {{"amount", Value::integer(8)}});
  ASSERT_NE(first.written.columns, nullptr);
  EXPECT_EQ(first.written.columns, second.written.columns);
  add_column("amount_cents");
  const AppWriteResult wider = write(5, {{"amount", Value::integer(9)}, {"amount_cents", Value::integer(2)}});
  EXPECT_NE(wider.written.columns, first.written.columns);
  EXPECT_EQ(wider.written.values(), (ColumnValues{{"amount", Value::integer(9)}, {"amount_cents", Value::integer(2)}}));
  EXPECT_EQ(first.written.values(), (ColumnValues{{"amount", Value::integer(7)}}));  // its own version, kept
}

// The database binds a write's columns once per layout (SimDatabase::WriteBinding): a write with
// the same names after a DDL must see the new layout, and after the derived columns change,
// the new ones.
TEST_F(WrittenCellsTest, AWriteMeetsTheLayoutOfItsTimeNotOfAnEarlierWrite) {
  write(5, {{"amount", Value::integer(7)}, {"amount_cents", Value::integer(1)}});  // no such column yet
  add_column("amount_cents");
  const AppWriteResult later = write(5, {{"amount", Value::integer(8)}, {"amount_cents", Value::integer(2)}});
  EXPECT_EQ(cell(5, "amount_cents"), Value::integer(2));
  EXPECT_EQ(later.written.values(), (ColumnValues{{"amount", Value::integer(8)}, {"amount_cents", Value::integer(2)}}));
}

TEST_F(WrittenCellsTest, AWriteMeetsTheDerivedColumnsOfItsTime) {
  dual_write_amount_cents(false);
  write(5, {{"amount", Value::integer(7)}});
  EXPECT_EQ(cell(5, "amount_cents"), Value::integer(700));
  database->set_derived({});  // the trigger derives nothing now
  write(6, {{"amount", Value::integer(8)}});
  EXPECT_EQ(cell(6, "amount_cents"), Value());
}

}  // namespace
}  // namespace rehearse::sim

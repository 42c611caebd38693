// Tests of the statistics half of reading a schema from a database (real_backends/catalog_import.h,
// apply_statistics) with hand-made shapes, no database: a table as read_schema_sql gives it takes
// its row count and each column's gen, nullable and scale from the table's pg_stats rows, for the
// types the shape mapping knows and for those it maps through a stand-in (enum, date, double
// precision), and says what it had to guess.
#include "real_backends/catalog_import.h"

#include <gtest/gtest.h>

#include "core/gen.h"

namespace rehearse {
namespace {

ColumnShape column(const std::string& name, const std::string& type, std::optional<ColumnStats> stats) {
  ColumnShape shape;
  shape.name = name;
  shape.type = type;
  shape.stats = std::move(stats);
  return shape;
}

ColumnStats stats(double null_frac, std::vector<std::string> values, std::vector<double> freqs, std::vector<std::string> bounds) {
  ColumnStats s;
  s.null_frac = null_frac;
  s.avg_width = 8;
  s.n_distinct = values.empty() ? -1 : static_cast<double>(values.size());
  s.most_common_values = std::move(values);
  s.most_common_freqs = std::move(freqs);
  s.histogram_bounds = std::move(bounds);
  return s;
}

const ColumnSpec& find(const TableSpec& table, const std::string& name) {
  for (const ColumnSpec& c : table.columns) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no column " << name;
  static const ColumnSpec kNone;
  return kNone;
}

TableSpec read_table(const std::string& sql) {
  SchemaSql schema = read_schema_sql(sql, "test.sql");
  EXPECT_TRUE(schema.errors.empty()) << schema.errors.front().message;
  EXPECT_FALSE(schema.tables.empty());
  return schema.tables.empty() ? TableSpec{} : schema.tables.back();
}

constexpr const char* kSchema = R"(
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE public.orders (
    id bigint NOT NULL,
    order_no integer NOT NULL,
    status text,
    qty integer,
    price numeric(10,2),
    feeling public.mood,
    shipped date,
    weight double precision,
    created timestamp with time zone,
    code character varying(5),
    token uuid
);
ALTER TABLE ONLY public.orders ADD CONSTRAINT orders_pkey PRIMARY KEY (order_no);
)";

TEST(CatalogImportTest, ColumnsTakeTheirStatistics) {
  TableSpec table = read_table(kSchema);
  TableShape shape;
  shape.name = {"public", "orders"};
  shape.rows_estimate = 1234.4;
  shape.columns = {
      column("id", "bigint", stats(0, {}, {}, {"1", "1234"})),
      column("order_no", "integer", stats(0, {}, {}, {"100", "5000"})),
      column("status", "text", stats(0.25, {"new", "paid"}, {0.45, 0.3}, {})),
      column("qty", "integer", stats(0.1, {}, {}, {"1", "7", "99"})),
      column("price", "numeric(10,2)", stats(0, {}, {}, {"0.50", "250.25"})),
      column("feeling", "mood", stats(0.5, {"happy", "sad"}, {0.4, 0.1}, {})),
      column("shipped", "date", stats(0, {}, {}, {"2024-01-01", "2024-12-31"})),
      column("weight", "double precision", stats(0, {}, {}, {"0.5", "12.25"})),
      column("created", "timestamp with time zone", stats(0.05, {}, {}, {"2024-01-01 00:00:00+00", "2024-01-02 00:00:00+00"})),
      column("code", "character varying(5)", std::nullopt),
      column("token", "uuid", stats(0, {}, {}, {"00000000-0000-4000-a000-000000000000", "ffffffff-0000-4000-a000-000000000000"})),
  };
  std::vector<std::string> warnings;
  live::apply_statistics(table, shape, 0, &warnings);
  EXPECT_EQ(table.rows, 1234);
  EXPECT_EQ(table.primary_key, std::vector<std::string>{"order_no"});
  // A key column other than `id` is drawn from its values like any column.
  EXPECT_EQ(find(table, "order_no").gen, "100..5000");
  // Common values covering every non-null row: one_of weighted by repetition; NULLs kept.
  EXPECT_EQ(find(table, "status").gen, "one_of(new,new,new,paid,paid)");
  EXPECT_DOUBLE_EQ(find(table, "status").nullable, 0.25);
  EXPECT_EQ(find(table, "qty").gen, "1..99");
  EXPECT_DOUBLE_EQ(find(table, "qty").nullable, 0.1);
  EXPECT_EQ(find(table, "price").gen, "0..251");
  EXPECT_EQ(find(table, "price").scale, 2);
  // An enum through the stand-in text: its common values, weighted.
  EXPECT_EQ(find(table, "feeling").gen, "one_of(happy,happy,happy,happy,sad)");
  EXPECT_DOUBLE_EQ(find(table, "feeling").nullable, 0.5);
  // date through timestamp: seconds since 1970; double precision through numeric: the scale seen.
  EXPECT_EQ(find(table, "shipped").type, ColumnType::timestamp);
  EXPECT_EQ(find(table, "shipped").gen, "1704067200..1735603200");
  EXPECT_EQ(find(table, "weight").gen, "0..13");
  EXPECT_EQ(find(table, "weight").scale, 2);
  EXPECT_EQ(find(table, "created").gen, "1704067200..1704153600");
  EXPECT_EQ(find(table, "token").gen, "uuid");
  // No statistics: read_schema_sql's default draw (digits that fit varchar(5)), no NULLs, said so.
  EXPECT_EQ(find(table, "code").gen, "0..99999");
  EXPECT_EQ(find(table, "code").nullable, 0);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("no row for column(s) code"), std::string::npos) << warnings[0];
  for (const ColumnSpec& c : table.columns) EXPECT_NE(parse_gen(c.gen).kind, GenForm::Kind::invalid) << c.name << ": " << c.gen;
}

TEST(CatalogImportTest, EnumWithoutCommonValuesKeepsItsLabels) {
  TableSpec table = read_table(kSchema);
  TableShape shape;
  shape.name = {"public", "orders"};
  shape.rows_estimate = 10;
  // Rare values only (no common values cover the rows): the enum's own labels are drawn.
  shape.columns = {column("feeling", "mood", stats(0.2, {}, {}, {"sad", "happy"}))};
  std::vector<std::string> warnings;
  live::apply_statistics(table, shape, 0, &warnings);
  EXPECT_EQ(find(table, "feeling").gen, "one_of(sad,ok,happy)");
  EXPECT_DOUBLE_EQ(find(table, "feeling").nullable, 0.2);
}

TEST(CatalogImportTest, NeverAnalyzedTableIsSizedByTheGuessAndSaysSo) {
  TableSpec table = read_table(kSchema);
  TableShape shape;
  shape.name = {"public", "orders"};
  shape.columns = {column("qty", "integer", std::nullopt)};
  std::vector<std::string> warnings;
  live::apply_statistics(table, shape, 777, &warnings);
  EXPECT_EQ(table.rows, 777);
  EXPECT_EQ(find(table, "qty").gen, "");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("never analyzed"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("about 777 rows"), std::string::npos) << warnings[0];
}

TEST(CatalogImportTest, UnreachableServerIsAnEnvironmentErrorWithoutThePassword) {
  // Port 1 on loopback: refused at once.
  for (const std::string dsn : {"host=127.0.0.1 port=1 dbname=app user=u password=sekrit", "postgresql://u:sekrit@127.0.0.1:1/app"}) {
    const Result<live::DbSchema> read = live::read_schema_from_db(dsn);
    ASSERT_FALSE(read.is_ok());
    EXPECT_TRUE(read.status().is_unavailable()) << read.status().message();
    EXPECT_EQ(read.status().message().find("sekrit"), std::string::npos) << read.status().message();
    EXPECT_NE(read.status().message().find("127.0.0.1"), std::string::npos) << read.status().message();
  }
}

}  // namespace
}  // namespace rehearse

// Tests of the table-shape mapping (core/table_shape.h, scenarios/table_shape.h) with hand-made
// shapes, no database: names as PostgreSQL reads them, the types the scenario model supports,
// each column kind's gen from its pg_stats row (checked by drawing from it with the simulator's
// own generator), the messages for what the model cannot hold, and apply_table_shape.
#include "core/table_shape.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "core/gen.h"
#include "core/random.h"
#include "real_backends/calibrate.h"
#include "scenarios/loader.h"
#include "scenarios/table_shape.h"
#include "sim/database.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

ColumnShape column(const std::string& name, const std::string& type, std::optional<ColumnStats> stats = std::nullopt) {
  ColumnShape shape;
  shape.name = name;
  shape.type = type;
  shape.stats = std::move(stats);
  return shape;
}

ColumnStats common(std::vector<std::string> values, std::vector<double> freqs, double null_frac = 0) {
  ColumnStats stats;
  stats.null_frac = null_frac;
  stats.avg_width = 5;
  stats.most_common_values = std::move(values);
  stats.most_common_freqs = std::move(freqs);
  return stats;
}

ColumnStats histogram(std::vector<std::string> bounds, double null_frac = 0) {
  ColumnStats stats;
  stats.null_frac = null_frac;
  stats.avg_width = 8;
  stats.n_distinct = -1;
  stats.histogram_bounds = std::move(bounds);
  return stats;
}

// A table with an `id bigint` primary key and `columns`.
TableShape table(std::vector<ColumnShape> columns, std::optional<double> rows = 5000) {
  TableShape shape;
  shape.name = {"public", "orders"};
  shape.rows_estimate = rows;
  ColumnShape id = column("id", "bigint", histogram({"1", "5000"}));
  id.primary_key = true;
  id.not_null = true;
  shape.columns.push_back(id);
  for (auto& c : columns) shape.columns.push_back(std::move(c));
  return shape;
}

// The one mapped column of a table made of `shape` (and the key).
MappedColumn map_one(const ColumnShape& shape) {
  static TableShape kept;  // the mapping points into it
  kept = table({shape});
  Result<TableMapping> mapping = map_table_shape(kept);
  EXPECT_TRUE(mapping.is_ok()) << mapping.status().to_string();
  if (!mapping.is_ok() || mapping.value().columns.size() != 1) return {};
  return mapping.value().columns.front();
}

// Shares of each drawn value (NULL as "NULL") over `draws` draws of the simulator's generator.
std::map<std::string, double> drawn_shares(const ColumnSpec& spec, int draws = 20000) {
  Rng rng(7, "test");
  std::map<std::string, double> shares;
  const GenForm form = parse_gen(spec.gen);
  for (int i = 0; i < draws; ++i) shares[sim::generate_value(spec, form, rng).to_string()] += 1.0 / draws;
  return shares;
}

// --- names -----------------------------------------------------------------------------------

TEST(TableShapeName, ParsesAsPostgresReadsIt) {
  std::string why;
  EXPECT_EQ(parse_qualified_name("public.orders", &why), (QualifiedName{"public", "orders"}));
  EXPECT_EQ(parse_qualified_name("Sales.Orders", &why), (QualifiedName{"sales", "orders"}));  // folded, as unquoted
  EXPECT_EQ(parse_qualified_name(R"("My Schema"."Order ""Items""")", &why), (QualifiedName{"My Schema", R"(Order "Items")"}));
  EXPECT_EQ(parse_qualified_name(R"(s."a.b")", &why), (QualifiedName{"s", "a.b"}));
}

TEST(TableShapeName, RefusesWhatIsNotSchemaDotTable) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"orders", "the schema is required"},
      {"a.b.c", "more after the table's name"},
      {R"("open.t)", "not closed"},
      {"my schema.t", "cannot be in an unquoted name"},
      {".t", "a name is empty"},
      {R"(s."")", "a quoted name is empty"},
  };
  for (const auto& [text, expected] : cases) {
    std::string why;
    EXPECT_FALSE(parse_qualified_name(text, &why)) << text;
    EXPECT_NE(why.find(expected), std::string::npos) << text << ": " << why;
  }
}

TEST(TableShapeName, SqlSpellingQuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(to_sql({"public", "orders"}), "public.orders");
  EXPECT_EQ(to_sql({"My Schema", R"(Order "Items")"}), R"("My Schema"."Order ""Items""")");
  EXPECT_EQ(to_sql({"s", "Orders"}), R"(s."Orders")");
  std::string why;
  const QualifiedName awkward{"Sales 2", R"(a"b.c)"};
  EXPECT_EQ(parse_qualified_name(to_sql(awkward), &why), awkward);  // round trip
}

// --- types -----------------------------------------------------------------------------------

TEST(TableShapeType, MapsWhatTheModelHasAndSaysWhatItDrops) {
  EXPECT_EQ(scenario_type("bigint")->type, ColumnType::bigint);
  EXPECT_EQ(scenario_type("integer")->type, ColumnType::integer);
  EXPECT_EQ(scenario_type("numeric(12,2)")->scale, 2);
  EXPECT_TRUE(scenario_type("numeric(12,2)")->approximation.empty());
  EXPECT_EQ(scenario_type("boolean")->type, ColumnType::boolean);
  EXPECT_EQ(scenario_type("timestamp without time zone")->type, ColumnType::timestamp);
  EXPECT_TRUE(scenario_type("timestamp without time zone")->approximation.empty());
  EXPECT_EQ(scenario_type("timestamp with time zone")->type, ColumnType::timestamp);
  EXPECT_NE(scenario_type("timestamp with time zone")->approximation.find("UTC"), std::string::npos);
  EXPECT_NE(scenario_type("smallint")->approximation.find("as integer"), std::string::npos);
  EXPECT_NE(scenario_type("character varying(40)")->approximation.find("no length limit"), std::string::npos);
  EXPECT_EQ(scenario_type("character(3)")->type, ColumnType::text);
  EXPECT_EQ(scenario_type("uuid")->type, ColumnType::text);
  for (const char* unsupported : {"jsonb", "double precision", "real", "date", "integer[]", "bytea", "mood", "numeric(12,2)[]"}) {
    EXPECT_FALSE(scenario_type(unsupported)) << unsupported;
  }
}

TEST(TableShapeMap, UnsupportedTypesNameEveryColumnAndType) {
  const Result<TableMapping> mapping =
      map_table_shape(table({column("doc", "jsonb"), column("ok", "text"), column("Ratio", "double precision")}));
  ASSERT_FALSE(mapping.is_ok());
  EXPECT_EQ(mapping.status().code(), Status::Code::invalid);
  const std::string& message = mapping.status().message();
  EXPECT_NE(message.find("public.orders"), std::string::npos) << message;
  EXPECT_NE(message.find("column \"doc\" has type jsonb"), std::string::npos) << message;
  EXPECT_NE(message.find("column \"Ratio\" has type double precision"), std::string::npos) << message;
  EXPECT_EQ(message.find("\"ok\""), std::string::npos) << message;
}

// --- gens ------------------------------------------------------------------------------------

// Skewed common values: one_of with weights by repetition, reduced to the fewest repetitions;
// the simulator then draws them at their shares.
TEST(TableShapeMap, CommonValuesBecomeAWeightedOneOf) {
  ColumnShape status = column("status", "text", common({"new", "paid", "shipped"}, {0.48, 0.24, 0.08}, 0.2));
  const MappedColumn mapped = map_one(status);
  EXPECT_EQ(mapped.column.gen, "one_of(new,new,new,new,new,new,paid,paid,paid,shipped)");
  EXPECT_DOUBLE_EQ(mapped.column.nullable, 0.2);
  EXPECT_EQ(mapped.approximation, "") << "the common values are all the values: nothing approximated";
  auto shares = drawn_shares(mapped.column);
  EXPECT_NEAR(shares["NULL"], 0.2, 0.015);
  EXPECT_NEAR(shares["new"], 0.48, 0.015);
  EXPECT_NEAR(shares["paid"], 0.24, 0.015);
  EXPECT_NEAR(shares["shipped"], 0.08, 0.015);
}

TEST(TableShapeMap, IntegerCommonValuesAndTheRestTheyLeaveOut) {
  const MappedColumn mapped = map_one(column("tier", "integer", common({"1", "2", "-3"}, {0.7, 0.2, 0.05})));
  EXPECT_EQ(mapped.column.type, ColumnType::integer);
  EXPECT_EQ(parse_gen(mapped.column.gen).choices.size(), 100u);  // 74/21/5 of 100 slots: no common divisor
  EXPECT_NE(mapped.approximation.find("the 3 most common values hold 95.0% of the non-null rows"), std::string::npos)
      << mapped.approximation;
  auto shares = drawn_shares(mapped.column);
  EXPECT_NEAR(shares["1"], 0.7 / 0.95, 0.02);
  EXPECT_NEAR(shares["-3"], 0.05 / 0.95, 0.01);
}

TEST(TableShapeMap, ManySmallCommonValuesAreRoundedAndSaidSo) {
  std::vector<std::string> values;
  std::vector<double> freqs;
  for (int i = 0; i < 30; ++i) {
    values.push_back("v" + std::to_string(i));
    freqs.push_back(i == 0 ? 0.5 + 0.0037 : (0.5 - 0.0037) / 29);
  }
  const MappedColumn mapped = map_one(column("code", "text", common(values, freqs)));
  const GenForm form = parse_gen(mapped.column.gen);
  ASSERT_EQ(form.kind, GenForm::Kind::one_of);
  EXPECT_LE(form.choices.size(), 100u);
  EXPECT_NE(mapped.approximation.find("weights rounded to 1/"), std::string::npos) << mapped.approximation;
}

// One dominant value and many rare ones (ANALYZE lists them all when every value repeats): the
// rare ones share what their weights round to, the dominant one keeps its share.
TEST(TableShapeMap, RareCommonValuesAreLeftOutNotInflated) {
  std::vector<std::string> values{"1"};
  std::vector<double> freqs{0.95};
  for (int i = 2; i < 99; ++i) {
    values.push_back(std::to_string(i));
    freqs.push_back(0.05 / 97);
  }
  const MappedColumn mapped = map_one(column("qty", "integer", common(values, freqs)));
  const GenForm form = parse_gen(mapped.column.gen);
  ASSERT_EQ(form.kind, GenForm::Kind::one_of);
  ASSERT_EQ(form.choices.size(), 100u);
  EXPECT_EQ(std::count(form.choices.begin(), form.choices.end(), "1"), 95);
  EXPECT_NE(mapped.approximation.find("92 common values too rare for weights of 1/100"), std::string::npos)
      << mapped.approximation;
  EXPECT_NEAR(drawn_shares(mapped.column)["1"], 0.95, 0.01);
}

// Every integer of 5..50 about evenly (ANALYZE lists them all as common): a range draws them
// closer than one_of's weights rounded to 1/100 would; skewed ones stay a one_of.
TEST(TableShapeMap, EvenCommonIntegersOfARangeAreARange) {
  std::vector<std::string> values;
  std::vector<double> freqs;
  for (int v = 5; v <= 50; ++v) {
    values.push_back(std::to_string(v));
    freqs.push_back((v % 2 == 0 ? 1.03 : 0.97) / 46);
  }
  const MappedColumn even = map_one(column("qty", "integer", common(values, freqs)));
  EXPECT_EQ(even.column.gen, "5..50");
  EXPECT_EQ(even.approximation, "");
  const MappedColumn gappy = map_one(column("qty", "integer", common({"1", "1000"}, {0.5, 0.5})));
  EXPECT_EQ(gappy.column.gen, "one_of(1,1000)");
}

TEST(TableShapeMap, ValuesOneOfCannotWriteFallBack) {
  // A comma, a space or ".." cannot be a one_of choice (core/gen.cc).
  for (const char* awkward : {"a,b", "two words", "x..y"}) {
    const MappedColumn mapped = map_one(column("label", "text", common({"plain", awkward}, {0.5, 0.5})));
    EXPECT_NE(parse_gen(mapped.column.gen).kind, GenForm::Kind::one_of) << awkward;
    EXPECT_NE(mapped.approximation.find("drawn as 'item-<N>'"), std::string::npos) << mapped.approximation;
  }
}

TEST(TableShapeMap, IntegerHistogramBecomesARangeAndSkewIsSaid) {
  const MappedColumn even = map_one(column("qty", "bigint", histogram({"-5", "20", "45", "70", "95"})));
  EXPECT_EQ(even.column.gen, "-5..95");
  EXPECT_EQ(even.approximation, "");
  const MappedColumn skewed = map_one(column("qty", "bigint", histogram({"1", "2", "3", "4", "1000"})));
  EXPECT_EQ(skewed.column.gen, "1..1000");
  EXPECT_NE(skewed.approximation.find("skewed"), std::string::npos) << skewed.approximation;
  // Common values beside the histogram widen the range and are said not to be weighted.
  ColumnStats both = histogram({"10", "20", "30"});
  both.most_common_values = {"500"};
  both.most_common_freqs = {0.3};
  const MappedColumn mixed = map_one(column("qty", "integer", both));
  EXPECT_EQ(mixed.column.gen, "10..500");
  EXPECT_NE(mixed.approximation.find("not weighted"), std::string::npos) << mixed.approximation;
}

// Bigint bounds past 2^53 stay exact; a numeric's bounds are cut to what a 64-bit mantissa at
// its scale holds (and said); infinities are no values.
TEST(TableShapeMap, RangesAreExactAndWithinWhatTheSimulatorDraws) {
  EXPECT_EQ(map_one(column("snowflake", "bigint", histogram({"9007199254740993", "9007199254740999"}))).column.gen,
            "9007199254740993..9007199254740999");
  const MappedColumn hashes = map_one(column("hash", "bigint", histogram({"-9223372036854775808", "9223372036854775807"})));
  EXPECT_EQ(hashes.column.gen, "-4611686018427387904..4611686018427387904");
  EXPECT_NE(hashes.approximation.find("cut to it"), std::string::npos) << hashes.approximation;
  const MappedColumn wide = map_one(column("total", "numeric(30,2)", histogram({"-1e25", "5", "1e25"})));
  EXPECT_EQ(wide.column.gen, "-46116860184273879..46116860184273879");
  EXPECT_NE(wide.approximation.find("cut to it"), std::string::npos) << wide.approximation;
  // The simulator draws from what was mapped without overflowing.
  EXPECT_EQ(drawn_shares(hashes.column, 100).size(), 100u);
  EXPECT_EQ(drawn_shares(wide.column, 100).size(), 100u);
  const MappedColumn endless = map_one(column("at", "timestamp without time zone", histogram({"-infinity", "infinity"})));
  EXPECT_EQ(endless.column.gen, "");
  EXPECT_NE(endless.approximation.find("the type's default draw"), std::string::npos);
}

TEST(TableShapeMap, NumericRangeKeepsTheScale) {
  const MappedColumn declared = map_one(column("amount", "numeric(12,2)", histogram({"0.50", "50.00", "99.99"}, 0.05)));
  EXPECT_EQ(declared.column.type, ColumnType::numeric);
  EXPECT_EQ(declared.column.scale, 2);
  EXPECT_EQ(declared.column.gen, "0..100");
  EXPECT_DOUBLE_EQ(declared.column.nullable, 0.05);
  const MappedColumn free = map_one(column("ratio", "numeric", histogram({"0.125", "0.5", "2"})));
  EXPECT_EQ(free.column.scale, 3);  // the most fractional digits seen
  EXPECT_NE(free.approximation.find("numeric without a scale"), std::string::npos);
}

TEST(TableShapeMap, TimestampsBecomeARangeOfSeconds) {
  const MappedColumn plain = map_one(column("at", "timestamp without time zone",
                                            histogram({"2024-01-01 00:00:00", "2024-01-01 12:00:00.5", "2024-01-02 00:00:00"})));
  EXPECT_EQ(plain.column.gen, "1704067200..1704153600");
  const MappedColumn zoned =
      map_one(column("at", "timestamp with time zone", histogram({"2024-01-01 00:00:00+00", "2024-01-02 00:00:00+00"})));
  EXPECT_EQ(zoned.column.gen, "1704067200..1704153600");
  EXPECT_EQ(zoned.column.type, ColumnType::timestamp);
}

TEST(TableShapeMap, TextThatLooksLikeEmailsUuidsOrNumbers) {
  EXPECT_EQ(map_one(column("mail", "text", histogram({"a@x.org", "b@y.com"}))).column.gen, "email");
  EXPECT_EQ(
      map_one(column("ref", "text", histogram({"0b9f3c1e-7a4d-4c2b-9e8f-1a2b3c4d5e6f", "ffffffff-7a4d-4c2b-9e8f-1a2b3c4d5e6f"})))
          .column.gen,
      "uuid");
  const MappedColumn numbers = map_one(column("zip", "character varying(5)", histogram({"01000", "99999"})));
  EXPECT_EQ(numbers.column.gen, "1000..99999");
  EXPECT_NE(numbers.approximation.find("no length limit"), std::string::npos);
  EXPECT_NE(numbers.approximation.find("integers as text"), std::string::npos);
  EXPECT_EQ(map_one(column("id2", "uuid", histogram({}))).column.gen, "uuid");
  const MappedColumn words = map_one(column("name", "text", histogram({"alice", "bob"})));
  EXPECT_EQ(words.column.gen, "");
  EXPECT_NE(words.approximation.find("average width 8 bytes"), std::string::npos);
}

TEST(TableShapeMap, BooleanSkewIsSaidNotDrawn) {
  const MappedColumn mapped = map_one(column("paid", "boolean", common({"true", "false"}, {0.9, 0.1})));
  EXPECT_EQ(mapped.column.gen, "");
  EXPECT_NE(mapped.approximation.find("true in 90.0% of the non-null rows, drawn 50/50"), std::string::npos);
  EXPECT_EQ(map_one(column("paid", "boolean", common({"false", "true"}, {0.5, 0.5}))).approximation, "");
}

TEST(TableShapeMap, NoStatisticsIsTheDefaultDrawThatFitsTheType) {
  const MappedColumn text = map_one(column("note", "text"));
  EXPECT_EQ(text.column.gen, "");
  EXPECT_NE(text.approximation.find("no statistics"), std::string::npos);
  EXPECT_EQ(map_one(column("small", "smallint")).column.gen, "0..32767");
  EXPECT_EQ(map_one(column("tiny", "numeric(3,1)")).column.gen, "0..99");
  ColumnShape required = column("n", "integer", histogram({"1", "9"}, 0.0));
  required.not_null = true;
  EXPECT_DOUBLE_EQ(map_one(required).column.nullable, 0.0);
}

// --- the table -------------------------------------------------------------------------------

TEST(TableShapeMap, KeyRowsAndNeverAnalyzed) {
  TableShape shape = table({column("note", "text")}, 12345.4);
  Result<TableMapping> mapping = map_table_shape(shape);
  ASSERT_TRUE(mapping.is_ok());
  EXPECT_EQ(mapping.value().key, "id");
  EXPECT_EQ(mapping.value().rows, 12345);
  ASSERT_EQ(mapping.value().columns.size(), 1u);
  EXPECT_EQ(mapping.value().columns[0].shape, &shape.columns[1]);

  shape.rows_estimate = std::nullopt;
  mapping = map_table_shape(shape);
  EXPECT_FALSE(mapping.value().rows);
  const std::vector<std::string> lines = describe_approximations(shape, mapping.value());
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("public.orders was never analyzed (pg_class.reltuples is -1)"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1].rfind("note: no statistics", 0), 0u) << lines[1];

  // A composite key is no key: its columns are ordinary columns.
  shape.columns[1].primary_key = true;
  mapping = map_table_shape(shape);
  EXPECT_EQ(mapping.value().key, "");
  EXPECT_EQ(mapping.value().columns.size(), 2u);
}

// What the mapping writes loads as a scenario's table (the loader's own checks of gens).
TEST(TableShapeMap, MappedGensLoadAsAScenarioTable) {
  const TableShape shape = table(
      {column("status", "text", common({"new", "paid"}, {0.75, 0.25})), column("tier", "integer", common({"1", "2"}, {0.5, 0.5})),
       column("amount", "numeric(12,2)", histogram({"0.50", "99.99"}, 0.1)),
       column("at", "timestamp with time zone", histogram({"2024-01-01 00:00:00+00", "2024-03-01 00:00:00+00"})),
       column("mail", "text", histogram({"a@x.org", "b@y.com"})), column("paid", "boolean"), column("small", "smallint")});
  const Result<TableMapping> mapping = map_table_shape(shape);
  ASSERT_TRUE(mapping.is_ok());
  std::string yaml = "name: t\ndescription: a test\ntable:\n  name: orders\n  columns:\n";
  for (const MappedColumn& c : mapping.value().columns) {
    yaml +=
        fmt::format("    {}: {{type: {}, gen: '{}', nullable: {}{}}}\n", c.column.name, to_string(c.column.type), c.column.gen,
                    c.column.nullable, c.column.type == ColumnType::numeric ? fmt::format(", scale: {}", c.column.scale) : "");
  }
  const LoadResult loaded = load_scenario_text(yaml, "mapped.yaml");
  EXPECT_TRUE(loaded.ok()) << yaml << (loaded.errors.empty() ? "" : loaded.errors.front().to_string());
}

// --- apply_table_shape -----------------------------------------------------------------------

Scenario scenario_with(std::vector<ColumnSpec> columns) {
  Scenario scenario;
  scenario.topology.regions = {RegionSpec{"us-east-1", 1}};
  scenario.table.name = "orders";
  scenario.table.rows = 100;
  scenario.table.columns = std::move(columns);
  return scenario;
}

TEST(TableShapeApply, TheScenarioTakesTheShapesColumnsAndRows) {
  Scenario scenario = scenario_with({ColumnSpec{"amount", ColumnType::numeric, "0..100", 2, 0}});
  const TableShape shape = table({column("amount", "numeric(12,2)", histogram({"5.00", "7.00"}, 0.25)),
                                  column("status", "text", common({"a", "b"}, {0.5, 0.5}))},
                                 4321);
  const Status status = apply_table_shape(scenario, shape);
  ASSERT_TRUE(status.is_ok()) << status.to_string();
  EXPECT_EQ(scenario.table.name, "orders");
  EXPECT_EQ(scenario.table.rows, 4321);
  ASSERT_EQ(scenario.table.columns.size(), 2u);
  EXPECT_EQ(scenario.table.columns[0].gen, "5..7");
  EXPECT_DOUBLE_EQ(scenario.table.columns[0].nullable, 0.25);
  EXPECT_EQ(scenario.table.columns[1].gen, "one_of(a,b)");

  // Never analyzed: the scenario's rows stay, and so do its columns' gens.
  TableShape unanalyzed = shape;
  unanalyzed.rows_estimate = std::nullopt;
  for (ColumnShape& c : unanalyzed.columns) c.stats = std::nullopt;
  scenario.table.rows = 77;
  scenario.table.columns[0].gen = "1..9";
  ASSERT_TRUE(apply_table_shape(scenario, unanalyzed).is_ok());
  EXPECT_EQ(scenario.table.rows, 77);
  EXPECT_EQ(scenario.table.columns[0].gen, "1..9");
  EXPECT_EQ(scenario.table.columns[1].gen, "one_of(a,b)");
}

TEST(TableShapeApply, RefusesWhatTheScenarioCannotHoldAndChangesNothing) {
  const Scenario before =
      scenario_with({ColumnSpec{"amount", ColumnType::numeric, "0..100", 2, 0}, ColumnSpec{"gone", ColumnType::text, "", 0, 0}});
  TableShape shape = table({column("amount", "integer", histogram({"1", "2"})), column("Order Total", "text")});
  shape.columns[0].name = "order_id";  // the key is not `id`
  Scenario scenario = before;
  const Status status = apply_table_shape(scenario, shape);
  ASSERT_FALSE(status.is_ok());
  const std::string& message = status.message();
  EXPECT_NE(message.find("primary key is \"order_id\""), std::string::npos) << message;
  EXPECT_NE(message.find("column \"Order Total\" of public.orders is not a scenario column name"), std::string::npos) << message;
  EXPECT_NE(message.find("the scenario's column amount is numeric, but in public.orders it is integer"), std::string::npos)
      << message;
  EXPECT_NE(message.find("the scenario's column gone is not in public.orders"), std::string::npos) << message;
  EXPECT_EQ(scenario.table.columns.size(), 2u);
  EXPECT_EQ(scenario.table.columns[0].gen, "0..100");
  EXPECT_EQ(scenario.table.rows, 100);

  // A table too large to simulate: above the rows limit, or above the memory limit.
  const Status huge = apply_table_shape(scenario, table({column("amount", "numeric(12,2)"), column("gone", "text")}, 2e8));
  EXPECT_NE(huge.message().find("has about 200000000 rows, above the simulated table's limit of 100000000"), std::string::npos)
      << huge.message();
  const Status big = apply_table_shape(scenario, table({column("amount", "numeric(12,2)"), column("gone", "text")}, 9e7));
  EXPECT_NE(big.message().find("a run is estimated to need"), std::string::npos) << big.message();
  EXPECT_EQ(scenario.table.rows, 100);

  const Status unsupported = apply_table_shape(scenario, table({column("doc", "jsonb")}));
  EXPECT_NE(unsupported.message().find("column \"doc\" has type jsonb"), std::string::npos);
}

// --- calibrate --table, without a database ----------------------------------------------------

TEST(TableShapeCalibrate, ANameThatDoesNotParseIsBadInputBeforeConnecting) {
  const testing::CommandResult result = testing::run_rehearse(
      "calibrate --primary 'host=127.0.0.1 port=1 user=nobody' --table orders --out " + testing::temp_dir() + "never.yaml");
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("--table: expected SCHEMA.TABLE (the schema is required), got 'orders'"), std::string::npos)
      << result.err;
}

// The profile's header names the shape's table and lists what was approximated, one comment
// line each, even when a name holds a line break.
TEST(TableShapeCalibrate, TheProfileHeaderRecordsTheShapesSource) {
  live::CalibrationResult result;
  result.table = live::CalibrationTable{R"("Sales"."Order Items")", 5000, 48, 8, {"status: weights rounded", "odd\nname: x"}};
  const std::string text = live::calibration_profile_yaml(result);
  EXPECT_NE(text.find("\n# table shape: \"Sales\".\"Order Items\" (about 5000 rows, 48 pages, 8 columns): "), std::string::npos)
      << text;
  EXPECT_NE(text.find("\n#   approximated: status: weights rounded\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n#   approximated: odd name: x\n"), std::string::npos) << text;
  result.table->rows_estimate = std::nullopt;
  EXPECT_NE(live::calibration_profile_yaml(result).find("(never analyzed, 48 pages"), std::string::npos);
  result.table = std::nullopt;
  EXPECT_EQ(live::calibration_profile_yaml(result).find("table shape"), std::string::npos);
}

}  // namespace
}  // namespace rehearse

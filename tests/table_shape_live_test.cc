// Live tests of reading a table's shape (real_backends/table_shape.h) and of `rehearse calibrate
// --table`, against a running PostgreSQL (scripts/live-up's us-east-1 primary on this checkout's port, tests/live_ports.h, or
// REHEARSE_SHAPE_SERVER: a libpq connection string without dbname). Everything happens in the
// database rehearse_shape_test, created when missing; each test makes its own schema. When no
// server answers, the suite starts live-up's servers (in LiveTest's directory, on its ports) and stops them at
// its end; skipped with a message only when they cannot be started.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "core/gen.h"
#include "core/table_shape.h"
#include "real_backends/table_shape.h"
#include "scenarios/table_shape.h"
#include "tests/live_ports.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

const char* kDatabase = "rehearse_shape_test";

std::string server() {
  const char* text = std::getenv("REHEARSE_SHAPE_SERVER");
  return text != nullptr && *text != '\0' ? text : testing::live_pg_dsn("PG_US_EAST_1", "");
}

std::string dsn() { return server() + " dbname=" + kDatabase; }

void exec(pqxx::connection& connection, const std::string& sql) { pqxx::nontransaction(connection).exec(sql); }

std::string scalar(pqxx::connection& connection, const std::string& sql) {
  pqxx::nontransaction tx(connection);
  const pqxx::row row = tx.exec1(sql);
  return row[0].is_null() ? "NULL" : row[0].c_str();
}

const ColumnShape* find_column(const TableShape& shape, const std::string& name) {
  for (const ColumnShape& column : shape.columns) {
    if (column.name == name) return &column;
  }
  ADD_FAILURE() << "no column " << name;
  return nullptr;
}

double common_freq(const ColumnStats& stats, const std::string& value) {
  for (std::size_t i = 0; i < stats.most_common_values.size(); ++i) {
    if (stats.most_common_values[i] == value) return stats.most_common_freqs[i];
  }
  return 0;
}

// The awkward table: quoted schema and table names, capitals, spaces and a quote in column
// names, a column named like calibrate's own (`a`), NULLs, skewed values, an identity key.
const QualifiedName kAwkward{"Shape Schema", R"(Order "Items")"};
constexpr int kAwkwardRows = 5000;

class LiveShapeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Without a server of the caller's (REHEARSE_SHAPE_SERVER) or one already up, start live-up's
    // servers, and stop them again at the end: a ctest run is never left without these tests.
    if (std::getenv("REHEARSE_SHAPE_SERVER") == nullptr && !answers()) {
      started_servers_ = testing::run_live_script("live-up");
    }
    try {
      pqxx::connection admin(server() + " dbname=postgres");
      if (scalar(admin, fmt::format("SELECT count(*) FROM pg_database WHERE datname = '{}'", kDatabase)) == "0") {
        exec(admin, fmt::format("CREATE DATABASE {}", kDatabase));
      }
    } catch (const std::exception& error) {
      skip_reason_ = new std::string(std::string("no PostgreSQL to read shapes from (") + error.what() + ")");
    }
  }
  static void TearDownTestSuite() {
    if (started_servers_) {
      testing::run_live_script("live-down");
      started_servers_ = false;
    }
    delete skip_reason_;
    skip_reason_ = nullptr;
  }
  void SetUp() override {
    if (skip_reason_ != nullptr) GTEST_SKIP() << *skip_reason_;
    connection_ = std::make_unique<pqxx::connection>(dsn());
  }

  // A fresh schema named `schema` (dropped first with what it holds).
  void fresh_schema(const std::string& schema) {
    exec(*connection_, fmt::format("DROP SCHEMA IF EXISTS {0} CASCADE; CREATE SCHEMA {0}", connection_->quote_name(schema)));
  }

  void create_awkward_table() {
    fresh_schema(kAwkward.schema);
    const std::string table = to_sql(kAwkward);
    exec(*connection_, fmt::format(R"(CREATE TABLE {} (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        "Status" text NOT NULL DEFAULT 'new',
        "unit price" numeric(10,2),
        qty integer,
        "the ""note""" character varying(40),
        created timestamp with time zone,
        a integer,
        ref uuid,
        CONSTRAINT "price positive" CHECK ("unit price" >= 0)))",
                                   table));
    exec(*connection_, fmt::format("CREATE INDEX qty_idx ON {} (qty)", table));
    // Deterministic rows: Status new/paid/shipped 60/30/10 %, qty 1 in 95 %, the note NULL in 30 %.
    exec(*connection_, fmt::format(R"(INSERT INTO {} ("Status", "unit price", qty, "the ""note""", created, a, ref)
        SELECT CASE WHEN g % 10 < 6 THEN 'new' WHEN g % 10 < 9 THEN 'paid' ELSE 'shipped' END,
               (g % 1000) * 0.25 + 0.5,
               CASE WHEN g % 20 = 0 THEN 2 + g % 97 ELSE 1 END,
               CASE WHEN g % 10 < 3 THEN NULL ELSE 'note number ' || g END,
               timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute',
               g,
               md5(g::text)::uuid
        FROM generate_series(1, {}) g)",
                                   table, kAwkwardRows));
    // Added NOT VALID after the rows: the parent is empty and the rows are not checked.
    exec(*connection_, R"(CREATE TABLE "Shape Schema"."Parent Table" ("Key" integer PRIMARY KEY))");
    exec(*connection_, fmt::format(R"(ALTER TABLE {} ADD CONSTRAINT "a refs" FOREIGN KEY (a)
        REFERENCES "Shape Schema"."Parent Table" ("Key") NOT VALID)",
                                   table));
  }

  std::unique_ptr<pqxx::connection> connection_;
  static bool answers() {
    try {
      pqxx::connection probe(server() + " dbname=postgres connect_timeout=2");
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }
  static std::string* skip_reason_;
  static bool started_servers_;
};

std::string* LiveShapeTest::skip_reason_ = nullptr;
bool LiveShapeTest::started_servers_ = false;

// Columns in order with their types, NOT NULL, default, identity and key; the size from
// pg_class; null shares, common values and histograms from pg_stats; the indexes and the
// constraints (a key, a CHECK, a foreign key added NOT VALID).
TEST_F(LiveShapeTest, ShapeReadsColumnsSizesAndDistributions) {
  create_awkward_table();
  const Result<TableShape> read = live::read_table_shape(*connection_, kAwkward, {.analyze = true});
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  const TableShape& shape = read.value();
  EXPECT_EQ(shape.name, kAwkward);
  ASSERT_TRUE(shape.rows_estimate);
  EXPECT_EQ(*shape.rows_estimate, kAwkwardRows);
  EXPECT_GT(shape.pages, 0);
  std::vector<std::string> names, types;
  for (const ColumnShape& column : shape.columns) {
    names.push_back(column.name);
    types.push_back(column.type);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"id", "Status", "unit price", "qty", R"(the "note")", "created", "a", "ref"}));
  EXPECT_EQ(types, (std::vector<std::string>{"bigint", "text", "numeric(10,2)", "integer", "character varying(40)",
                                             "timestamp with time zone", "integer", "uuid"}));
  const ColumnShape& id = shape.columns[0];
  EXPECT_TRUE(id.primary_key && id.not_null);
  EXPECT_EQ(id.identity, 'a');
  const ColumnShape& status = shape.columns[1];
  EXPECT_TRUE(status.not_null);
  EXPECT_FALSE(status.primary_key);
  EXPECT_EQ(status.default_sql, "'new'::text");
  ASSERT_TRUE(status.stats);
  EXPECT_NEAR(common_freq(*status.stats, "new"), 0.6, 0.001);
  EXPECT_NEAR(common_freq(*status.stats, "paid"), 0.3, 0.001);
  EXPECT_NEAR(common_freq(*status.stats, "shipped"), 0.1, 0.001);
  const ColumnShape* note = find_column(shape, R"(the "note")");
  ASSERT_TRUE(note != nullptr && note->stats);
  EXPECT_NEAR(note->stats->null_frac, 0.3, 0.001);
  EXPECT_GT(note->stats->avg_width, 10);
  const ColumnShape* qty = find_column(shape, "qty");
  ASSERT_TRUE(qty != nullptr && qty->stats);
  EXPECT_NEAR(common_freq(*qty->stats, "1"), 0.95, 0.001);
  const ColumnShape* price = find_column(shape, "unit price");
  ASSERT_TRUE(price != nullptr && price->stats);
  // Every value repeats 5 times: ANALYZE lists 100 as common and bounds the others' histogram.
  EXPECT_EQ(price->stats->most_common_values.size(), 100u);
  ASSERT_FALSE(price->stats->histogram_bounds.empty());
  EXPECT_EQ(price->stats->histogram_bounds.back(), "250.25");
  EXPECT_TRUE(price->stats->correlation);
  const ColumnShape* created = find_column(shape, "created");
  ASSERT_TRUE(created != nullptr && created->stats);
  EXPECT_EQ(created->stats->histogram_bounds.front(), "2024-01-01 00:01:00+00");  // read in UTC
  ASSERT_EQ(shape.indexes.size(), 2u);
  EXPECT_EQ(shape.indexes[0].name, R"(Order "Items"_pkey)");
  EXPECT_TRUE(shape.indexes[0].primary && shape.indexes[0].unique);
  EXPECT_EQ(shape.indexes[1].name, "qty_idx");
  EXPECT_EQ(shape.indexes[1].columns, std::vector<std::string>{"qty"});
  EXPECT_NE(shape.indexes[1].definition.find("USING btree (qty)"), std::string::npos) << shape.indexes[1].definition;

  std::map<std::string, const ConstraintShape*> constraints;
  for (const ConstraintShape& constraint : shape.constraints) constraints[constraint.name] = &constraint;
  ASSERT_EQ(constraints.size(), 3u);
  EXPECT_EQ(constraints[R"(Order "Items"_pkey)"]->kind, ConstraintShape::Kind::primary_key);
  EXPECT_EQ(constraints[R"(Order "Items"_pkey)"]->columns, std::vector<std::string>{"id"});
  const ConstraintShape& check = *constraints["price positive"];
  EXPECT_EQ(check.kind, ConstraintShape::Kind::check);
  EXPECT_EQ(check.columns, std::vector<std::string>{"unit price"});
  EXPECT_EQ(check.definition, R"(CHECK (("unit price" >= (0)::numeric)))");
  EXPECT_TRUE(check.validated);
  const ConstraintShape& reference = *constraints["a refs"];
  EXPECT_EQ(reference.kind, ConstraintShape::Kind::foreign_key);
  EXPECT_EQ(reference.columns, std::vector<std::string>{"a"});
  EXPECT_EQ(reference.references, (QualifiedName{"Shape Schema", "Parent Table"}));
  EXPECT_EQ(reference.referenced_columns, std::vector<std::string>{"Key"});
  EXPECT_FALSE(reference.validated);

  // The mapping of what was read.
  const Result<TableMapping> mapping = map_table_shape(shape);
  ASSERT_TRUE(mapping.is_ok()) << mapping.status().to_string();
  EXPECT_EQ(mapping.value().key, "id");
  EXPECT_EQ(mapping.value().rows, kAwkwardRows);
  std::map<std::string, ColumnSpec> mapped;
  for (const MappedColumn& column : mapping.value().columns) mapped[column.column.name] = column.column;
  EXPECT_EQ(mapped["Status"].gen, "one_of(new,new,new,new,new,new,paid,paid,paid,shipped)");
  EXPECT_EQ(mapped["unit price"].gen, "0..251");
  EXPECT_EQ(mapped["unit price"].scale, 2);
  const GenForm qty_gen = parse_gen(mapped["qty"].gen);  // ANALYZE may count a few rarer values common too
  ASSERT_EQ(qty_gen.kind, GenForm::Kind::one_of) << mapped["qty"].gen;
  EXPECT_EQ(qty_gen.choices.front(), "1");
  EXPECT_NEAR(mapped[R"(the "note")"].nullable, 0.3, 0.001);
  EXPECT_EQ(mapped["created"].gen, fmt::format("1704067260..{}", 1704067200 + kAwkwardRows * 60));
  EXPECT_EQ(mapped["ref"].gen, "uuid");
}

// Never analyzed: no row estimate and no statistics, said so; nothing is analyzed behind the
// user's back.
TEST_F(LiveShapeTest, ShapeOfANeverAnalyzedTable) {
  fresh_schema("shape_fresh");
  exec(*connection_, "CREATE TABLE shape_fresh.t (id bigint PRIMARY KEY, v text) WITH (autovacuum_enabled = false)");
  exec(*connection_, "INSERT INTO shape_fresh.t SELECT g, 'x' FROM generate_series(1, 100) g");
  const Result<TableShape> read = live::read_table_shape(*connection_, {"shape_fresh", "t"});
  ASSERT_TRUE(read.is_ok()) << read.status().to_string();
  EXPECT_FALSE(read.value().rows_estimate);
  EXPECT_FALSE(read.value().columns[1].stats);
  EXPECT_EQ(scalar(*connection_,
                   "SELECT coalesce(last_analyze::text, 'never') FROM pg_stat_user_tables WHERE relid = "
                   "'shape_fresh.t'::regclass"),
            "never");
  const Result<TableMapping> mapping = map_table_shape(read.value());
  ASSERT_TRUE(mapping.is_ok());
  EXPECT_NE(describe_approximations(read.value(), mapping.value()).front().find("was never analyzed"), std::string::npos);
}

TEST_F(LiveShapeTest, ShapeRefusesWhatIsNotATable) {
  fresh_schema("shape_kinds");
  exec(*connection_,
       "CREATE TABLE shape_kinds.t (id bigint PRIMARY KEY); CREATE VIEW shape_kinds.v AS SELECT * FROM shape_kinds.t");
  const Result<TableShape> missing = live::read_table_shape(*connection_, {"shape_kinds", "T"});  // names are exact
  EXPECT_EQ(missing.status().code(), Status::Code::invalid);
  EXPECT_NE(missing.status().message().find(R"(no table shape_kinds."T")"), std::string::npos) << missing.status().message();
  const Result<TableShape> view = live::read_table_shape(*connection_, {"shape_kinds", "v"});
  EXPECT_NE(view.status().message().find("shape_kinds.v is a view"), std::string::npos) << view.status().message();
  // An unqualified name, as the live runner has it, in the current schema of the search_path.
  exec(*connection_, "SET search_path = shape_kinds, public");
  EXPECT_EQ(live::in_current_schema(*connection_, "t"), (QualifiedName{"shape_kinds", "t"}));
  // A reserved word as a table's name, analyzed first.
  exec(*connection_,
       R"(CREATE TABLE shape_kinds."order" (id bigint PRIMARY KEY, v integer); INSERT INTO shape_kinds."order" VALUES (1, 7))");
  const Result<TableShape> reserved = live::read_table_shape(*connection_, {"shape_kinds", "order"}, {.analyze = true});
  ASSERT_TRUE(reserved.is_ok()) << reserved.status().to_string();
  EXPECT_EQ(reserved.value().rows_estimate, 1);
}

// What calibrate draws into its scratch table from a mapped shape reads back as the same shape:
// the same column types, null shares and common values, values within the same range.
TEST_F(LiveShapeTest, ShapeDrawnIntoAScratchTableReadsBackAlike) {
  create_awkward_table();
  const Result<TableShape> read = live::read_table_shape(*connection_, kAwkward, {.analyze = true});
  ASSERT_TRUE(read.is_ok());
  const Result<TableMapping> mapping = map_table_shape(read.value());
  ASSERT_TRUE(mapping.is_ok());
  fresh_schema("shape_copy");
  std::vector<std::string> definitions, names, values;
  for (const MappedColumn& column : mapping.value().columns) {
    definitions.push_back(connection_->quote_name(column.column.name) + " " + column.shape->type);
    names.push_back(connection_->quote_name(column.column.name));
    values.push_back(live::shaped_value_sql(*connection_, column));
  }
  exec(*connection_, fmt::format("SET TimeZone = 'UTC'; SELECT setseed(0.25); CREATE TABLE shape_copy.t ({}); "
                                 "INSERT INTO shape_copy.t ({}) SELECT {} FROM generate_series(1, {}) g",
                                 fmt::join(definitions, ", "), fmt::join(names, ", "), fmt::join(values, ", "), kAwkwardRows));
  const Result<TableShape> copy = live::read_table_shape(*connection_, {"shape_copy", "t"}, {.analyze = true});
  ASSERT_TRUE(copy.is_ok());
  for (const ColumnShape& column : copy.value().columns) {
    const ColumnShape* original = find_column(read.value(), column.name);
    ASSERT_TRUE(original != nullptr && original->stats && column.stats) << column.name;
    EXPECT_EQ(column.type, original->type);
    EXPECT_NEAR(column.stats->null_frac, original->stats->null_frac, 0.03) << column.name;
    if (!original->stats->most_common_values.empty() && original->stats->most_common_freqs[0] > 0.5) {
      EXPECT_EQ(column.stats->most_common_values.at(0), original->stats->most_common_values[0]) << column.name;
      EXPECT_NEAR(column.stats->most_common_freqs.at(0), original->stats->most_common_freqs[0], 0.03) << column.name;
    }
  }
  // Text is padded to the average width the language cannot say.
  const double original_width = find_column(read.value(), R"(the "note")")->stats->avg_width;
  EXPECT_NEAR(find_column(copy.value(), R"(the "note")")->stats->avg_width, original_width, 2);
  EXPECT_EQ(scalar(*connection_, R"(SELECT min("unit price") >= 0 AND max("unit price") <= 251 FROM shape_copy.t)"), "t");
}

// The conform path: a table prepared from a scenario (live --prepare), read back from the
// catalog and applied to the scenario, gives the scenario the same columns and gens.
TEST_F(LiveShapeTest, ShapeOfAPreparedTableGivesTheScenarioItsOwnGensBack) {
  fresh_schema("shape_conform");
  exec(*connection_, "SET search_path = shape_conform");
  Scenario scenario = testing::from_text(R"yaml(name: t
description: a test
topology: {regions: [{name: us-east-1}]}
table:
  name: orders
  rows: 3000
  columns:
    amount: {type: numeric, gen: "0..100", scale: 2, nullable: 0.1}
    status: {type: text, gen: "one_of(new,new,new,paid)"}
    qty: {type: integer, gen: "5..50"}
)yaml");
  const TableSpec prepared = scenario.table;
  live::prepare_table(*connection_, prepared);
  const Result<TableShape> shape =
      live::read_table_shape(*connection_, live::in_current_schema(*connection_, "orders"), {.analyze = true});
  ASSERT_TRUE(shape.is_ok()) << shape.status().to_string();
  scenario.table.columns.clear();  // as a scenario that says nothing of its columns
  const Status applied = apply_table_shape(scenario, shape.value());
  ASSERT_TRUE(applied.is_ok()) << applied.to_string();
  EXPECT_EQ(scenario.table.rows, 3000);
  ASSERT_EQ(scenario.table.columns.size(), 3u);
  const ColumnSpec& amount = scenario.table.columns[0];
  EXPECT_EQ(amount.type, ColumnType::numeric);
  EXPECT_EQ(amount.scale, 2) << "prepare_table makes a numeric without a scale: the digits seen";
  EXPECT_NEAR(amount.nullable, 0.1, 0.02);
  const GenForm amount_gen = parse_gen(amount.gen);
  ASSERT_EQ(amount_gen.kind, GenForm::Kind::range) << amount.gen;
  EXPECT_LE(amount_gen.high - amount_gen.low, 101);
  EXPECT_GE(amount_gen.high - amount_gen.low, 98);
  const GenForm status = parse_gen(scenario.table.columns[1].gen);
  ASSERT_EQ(status.kind, GenForm::Kind::one_of) << scenario.table.columns[1].gen;
  EXPECT_NEAR(std::count(status.choices.begin(), status.choices.end(), "new") / static_cast<double>(status.choices.size()), 0.75,
              0.05);
  EXPECT_EQ(scenario.table.columns[2].gen, "5..50");
}

// calibrate --table: the scratch table has the table's shape, the profile's header names the
// table and what was approximated, no row of the table is read (its scan counters do not move)
// and nothing is left behind.
TEST_F(LiveShapeTest, ShapeCalibrateTableLeavesNothingBehind) {
  create_awkward_table();
  exec(*connection_, "ANALYZE " + to_sql(kAwkward));
  const std::string scans_sql =
      fmt::format("SELECT seq_scan + coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relid = {}::regclass",
                  connection_->quote(to_sql(kAwkward)));
  exec(*connection_, "SELECT pg_stat_force_next_flush()");
  const std::string scans_before = scalar(*connection_, scans_sql);
  const std::string out = testing::temp_dir() + "shaped.yaml";
  const testing::CommandResult result = testing::run_rehearse(fmt::format(
      R"(calibrate --primary '{}' --table '"Shape Schema"."Order ""Items"""' --rows 2000 --budget 20s --out {} --json)", dsn(),
      out));
  ASSERT_EQ(result.exit_code, 0) << result.err << result.out;
  std::this_thread::sleep_for(std::chrono::seconds(1));  // calibrate's sessions flush their statistics as they end
  const nlohmann::json json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["table"]["name"], R"("Shape Schema"."Order ""Items""")");
  EXPECT_EQ(json["table"]["rows_estimate"], kAwkwardRows);
  EXPECT_EQ(json["table"]["columns"], 8);
  const std::string text = testing::read_whole_file(out);
  EXPECT_NE(text.find(R"(# table shape: "Shape Schema"."Order ""Items""" (about 5000 rows, )"), std::string::npos) << text;
  EXPECT_NE(text.find("#   approximated: created: timestamp with time zone simulated as timestamp"), std::string::npos) << text;
  EXPECT_NE(text.find("\nupdate_per_row_us:"), std::string::npos) << text;
  EXPECT_EQ(scalar(*connection_, "SELECT count(*) FROM pg_namespace WHERE nspname = 'rehearse_calibration'"), "0");
  EXPECT_EQ(scalar(*connection_, scans_sql), scans_before) << "calibrate read rows of the user's table";
  EXPECT_EQ(scalar(*connection_, "SELECT count(*) FROM " + to_sql(kAwkward)), std::to_string(kAwkwardRows));
}

TEST_F(LiveShapeTest, ShapeCalibrateRefusesUnsupportedTypesAndMissingTables) {
  fresh_schema("shape_bad");
  exec(*connection_, "CREATE TABLE shape_bad.t (id bigint PRIMARY KEY, doc jsonb, score double precision)");
  const testing::CommandResult unsupported = testing::run_rehearse(
      fmt::format("calibrate --primary '{}' --table shape_bad.t --rows 1000 --out {}never.yaml", dsn(), testing::temp_dir()));
  EXPECT_EQ(unsupported.exit_code, 2) << unsupported.err;
  EXPECT_NE(unsupported.err.find(R"(column "doc" has type jsonb; column "score" has type double precision)"), std::string::npos)
      << unsupported.err;
  const testing::CommandResult missing = testing::run_rehearse(fmt::format(
      "calibrate --primary '{}' --table shape_bad.nothing --rows 1000 --out {}never.yaml", dsn(), testing::temp_dir()));
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("--table: no table shape_bad.nothing"), std::string::npos) << missing.err;
  EXPECT_EQ(scalar(*connection_, "SELECT count(*) FROM pg_namespace WHERE nspname = 'rehearse_calibration'"), "0");
}

}  // namespace
}  // namespace rehearse

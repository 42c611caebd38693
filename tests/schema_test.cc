// Tests of many tables (real-migrations.md, "Schema: many tables"): a pg_dump --schema-only file
// read by PostgreSQL's parser (core/schema_sql.h) through `schema:`, tables declared under
// `tables:`, per-table workload and an operation's `table:`, every error they report (with the
// file, line and key, or the schema file's line and column), the PostgreSQL types and how they are
// simulated, and the round trip through the scenario writer (scenarios/scenario_yaml.h).
#include "core/schema_sql.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "scenarios/loader.h"
#include "sim/database.h"
#include "sim/table.h"
#include "scenarios/scenario_yaml.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

const std::string kDataDir = std::string(REHEARSE_SOURCE_DIR) + "/tests/data/schema";

std::string all_errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

// The first error whose text holds `text`, or an empty error (line -1).
ScenarioError error_with(const LoadResult& r, const std::string& text) {
  for (const auto& e : r.errors) {
    if (e.to_string().find(text) != std::string::npos) return e;
  }
  ADD_FAILURE() << "no error with '" << text << "'; errors:\n" << all_errors(r);
  return ScenarioError{"", -1, "", ""};
}

const TableSpec& table(const Scenario& s, const std::string& name) {
  const TableSpec* t = find_table(s, name);
  EXPECT_NE(t, nullptr) << name;
  static const TableSpec kNone;
  return t != nullptr ? *t : kNone;
}

const ColumnSpec& column(const TableSpec& t, const std::string& name) {
  const auto it = std::find_if(t.columns.begin(), t.columns.end(), [&](const ColumnSpec& c) { return c.name == name; });
  EXPECT_NE(it, t.columns.end()) << t.name << "." << name;
  static const ColumnSpec kNone;
  return it != t.columns.end() ? *it : kNone;
}

const ConstraintSpec& constraint(const TableSpec& t, const std::string& name) {
  const auto it = std::find_if(t.constraints.begin(), t.constraints.end(), [&](const ConstraintSpec& c) { return c.name == name; });
  EXPECT_NE(it, t.constraints.end()) << t.name << " " << name;
  static const ConstraintSpec kNone;
  return it != t.constraints.end() ? *it : kNone;
}

// A scenario file written into a fresh directory with the schema file beside it.
class ScenarioDir {
 public:
  explicit ScenarioDir(const std::string& test) : dir_(std::filesystem::temp_directory_path() / ("rehearse-schema-" + test)) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~ScenarioDir() { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }

 private:
  std::filesystem::path dir_;
};

const std::string kHeader = "name: t\ndescription: a test\n";

// -- the pg_dump file ---------------------------------------------------------------------------

// Loads tests/data/schema/shop.yaml: eleven tables of shop.sql, sized by `tables:`, and checks
// what each kind of statement in the file became.
TEST(SchemaTest, ReadsAPgDumpSchemaFile) {
  const LoadResult r = load_scenario_file(kDataDir + "/shop.yaml");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Scenario& s = *r.scenario;
  EXPECT_EQ(s.schema_path, kDataDir + "/shop.sql");
  // The first table is the first of `tables:`; the rest in the file's order.
  EXPECT_EQ(s.table.name, "orders");
  EXPECT_EQ(s.table.rows, 2000);
  ASSERT_EQ(all_tables(s).size(), 11u);
  EXPECT_EQ(s.more_tables.front().name, "customers");
  EXPECT_EQ(s.more_tables.front().rows, 300);
  EXPECT_EQ(s.more_tables.back().name, "audit.events");  // another schema stays qualified
  EXPECT_EQ(table(s, "products").rows, 1000);             // not sized: the default
  EXPECT_EQ(table(s, "Order Notes").columns.back().name, "Body");  // quoted identifiers as written

  // Columns: type as PostgreSQL spells it, the simulated type, NOT NULL, DEFAULT.
  const TableSpec& orders = s.table;
  EXPECT_EQ(orders.primary_key, std::vector<std::string>{"id"});
  EXPECT_EQ(column(orders, "status").sql_type, "order_status");
  EXPECT_EQ(column(orders, "status").gen, "one_of(new,paid,shipped,cancelled)");
  EXPECT_EQ(column(orders, "status").default_sql, "'new'::public.order_status");
  EXPECT_TRUE(column(orders, "status").not_null);
  EXPECT_EQ(column(orders, "total").type, ColumnType::numeric);
  EXPECT_EQ(column(orders, "total").scale, 2);
  EXPECT_EQ(column(orders, "total").gen, "0..500");  // from `tables:`
  EXPECT_DOUBLE_EQ(column(orders, "total").nullable, 0.1);
  EXPECT_EQ(column(orders, "public_id").gen, "uuid");
  EXPECT_EQ(column(orders, "public_id").default_sql, "gen_random_uuid()");
  EXPECT_EQ(column(orders, "placed_on").type, ColumnType::timestamp);
  EXPECT_FALSE(column(orders, "placed_on").not_null);
  const TableSpec& customers = table(s, "customers");
  EXPECT_EQ(column(customers, "email").sql_type, "character varying(255)");
  EXPECT_EQ(column(customers, "country").sql_type, "character(2)");
  EXPECT_EQ(column(customers, "country").gen, "0..99");  // digits that fit two characters
  EXPECT_EQ(column(customers, "country").default_sql, "'US'::bpchar");
  EXPECT_EQ(column(customers, "created_at").sql_type, "timestamp with time zone");
  EXPECT_EQ(column(customers, "created_at").line, 81);
  const TableSpec& products = table(s, "products");
  EXPECT_EQ(column(products, "stock").sql_type, "smallint");
  EXPECT_EQ(column(products, "stock").type, ColumnType::integer);
  EXPECT_EQ(column(products, "rating").sql_type, "double precision");
  EXPECT_EQ(column(products, "attributes").type, ColumnType::text);
  EXPECT_EQ(column(products, "attributes").default_sql, "'{}'::jsonb");

  // Keys, indexes, constraints.
  EXPECT_EQ(table(s, "order_items").primary_key, (std::vector<std::string>{"order_id", "product_id"}));
  EXPECT_EQ(table(s, "coupons").primary_key, std::vector<std::string>{"code"});
  EXPECT_TRUE(table(s, "audit.events").primary_key.empty());
  ASSERT_EQ(orders.indexes.size(), 3u);
  EXPECT_TRUE(orders.indexes[1].unique);
  EXPECT_EQ(orders.indexes[2].predicate,
            "(status <> ALL (ARRAY['shipped'::public.order_status, 'cancelled'::public.order_status]))");
  EXPECT_EQ(products.indexes.at(0).method, "gin");
  EXPECT_EQ(customers.indexes.at(0).columns, std::vector<std::string>{"lower(name)"});
  EXPECT_EQ(table(s, "reviews").indexes.at(0).name, "reviews_product_id_idx");  // CONCURRENTLY IF NOT EXISTS
  EXPECT_EQ(constraint(customers, "customers_email_lower").check, "((email)::text = lower((email)::text))");
  EXPECT_EQ(constraint(customers, "customers_email_key").kind, ConstraintKind::unique);
  const ConstraintSpec& cascade = constraint(table(s, "addresses"), "addresses_customer_id_fkey");
  EXPECT_EQ(cascade.kind, ConstraintKind::foreign_key);
  EXPECT_EQ(cascade.ref_table, "customers");
  EXPECT_EQ(cascade.ref_columns, std::vector<std::string>{"id"});
  EXPECT_EQ(cascade.on_delete, "cascade");
  // NOT VALID, then VALIDATE CONSTRAINT; and NOT VALID left so.
  EXPECT_TRUE(constraint(table(s, "payments"), "payments_order_id_fkey").validated);
  EXPECT_FALSE(constraint(table(s, "shipments"), "shipments_address_id_fkey").validated);
  EXPECT_EQ(constraint(table(s, "shipments"), "shipments_address_id_fkey").on_delete, "set null");

  ASSERT_EQ(s.enum_types.size(), 1u);
  EXPECT_EQ(s.enum_types[0].labels.size(), 4u);
  // What shapes no table is counted per kind.
  for (const char* kind : {"SET (11)", "SELECT (1)", "CREATE EXTENSION (1)", "CREATE SEQUENCE (1)", "ALTER SEQUENCE (1)",
                           "COMMENT (2)", "GRANT (2)", "REVOKE (1)", "CREATE FUNCTION (1)", "CREATE TRIGGER (1)",
                           "CREATE VIEW (1)", "CREATE SCHEMA (1)", "ALTER TABLE ... OWNER TO (2)"}) {
    EXPECT_NE(std::find(s.schema_skipped.begin(), s.schema_skipped.end(), kind), s.schema_skipped.end()) << kind;
  }

  // Operations on other tables and the workload per table.
  ASSERT_EQ(s.migration.operations.size(), 2u);
  EXPECT_EQ(s.migration.operations[1].table, "customers");
  EXPECT_EQ(operation_table(s, s.migration.operations[1]), "customers");
  ASSERT_EQ(s.workload.tables.size(), 2u);
  EXPECT_EQ(s.workload.tables[1].table, "customers");
  EXPECT_DOUBLE_EQ(s.workload.tables[1].reads_per_s, 10);
}

TEST(SchemaTest, SchemaWithoutTablesTakesTheFilesFirstTable) {
  ScenarioDir dir("first");
  dir.write("s.sql", "CREATE TABLE b (x integer); CREATE TABLE a (y text);");
  const LoadResult r = load_scenario_file(dir.write("s.yaml", kHeader + "schema: s.sql\n"));
  ASSERT_TRUE(r.ok()) << all_errors(r);
  EXPECT_EQ(r.scenario->table.name, "b");
  EXPECT_EQ(r.scenario->table.rows, 1000);
  EXPECT_EQ(r.scenario->more_tables.at(0).name, "a");
}

TEST(SchemaTest, ColumnConstraintsAndSerialTypes) {
  const SchemaSql s = read_schema_sql(
      "CREATE TABLE p (id serial PRIMARY KEY, code text UNIQUE);\n"
      "CREATE TABLE c (n bigserial, p_id int REFERENCES p ON DELETE RESTRICT, v varchar(20) NOT NULL DEFAULT 'x' "
      "CHECK (v <> ''), CONSTRAINT two UNIQUE (n, v));\n"
      "ALTER TABLE c ADD CONSTRAINT positive CHECK (n > 0) NOT VALID, ALTER COLUMN p_id SET NOT NULL;",
      "x.sql");
  ASSERT_TRUE(s.errors.empty()) << s.errors.front().message;
  ASSERT_EQ(s.tables.size(), 2u);
  EXPECT_EQ(s.tables[0].primary_key, std::vector<std::string>{"id"});
  EXPECT_TRUE(s.tables[0].columns.size() == 1 && s.tables[0].columns[0].name == "code");  // id is the implicit key
  EXPECT_EQ(s.tables[0].constraints.at(0).name, "p_code_key");
  const TableSpec& c = s.tables[1];
  EXPECT_EQ(c.columns[0].sql_type, "bigint");
  EXPECT_EQ(c.columns[0].default_sql, "nextval('c_n_seq'::regclass)");
  EXPECT_TRUE(c.columns[1].not_null);  // SET NOT NULL
  EXPECT_EQ(c.columns[2].default_sql, "'x'");
  ASSERT_EQ(c.constraints.size(), 4u);
  EXPECT_EQ(c.constraints[0].name, "c_p_id_fkey");
  EXPECT_TRUE(c.constraints[0].ref_columns.empty());  // the referenced table's primary key
  EXPECT_EQ(c.constraints[0].on_delete, "restrict");
  EXPECT_EQ(c.constraints[1].check, "v <> ''");
  EXPECT_EQ(c.constraints[2].columns, (std::vector<std::string>{"n", "v"}));
  EXPECT_EQ(c.constraints[3].check, "n > 0");
  EXPECT_FALSE(c.constraints[3].validated);
}

// -- errors of a schema file --------------------------------------------------------------------

TEST(SchemaTest, AFileThatDoesNotParseIsReportedAtItsLineAndColumn) {
  ScenarioDir dir("parse");
  const std::string sql = dir.write("s.sql", "CREATE TABLE a (x integer);\n\nCREATE TABEL b (y text);\n");
  const LoadResult r = load_scenario_file(dir.write("s.yaml", kHeader + "schema: s.sql\n"));
  ASSERT_FALSE(r.ok());
  const ScenarioError e = error_with(r, "syntax error");
  EXPECT_EQ(e.file, sql);
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.to_string(), sql + ":3: column 8: syntax error at or near \"TABEL\"");
}

TEST(SchemaTest, ATypeTheSimulatorCannotDrawIsAnErrorAtItsLine) {
  ScenarioDir dir("type");
  const std::string sql = dir.write("s.sql", "CREATE TABLE a (\n  x integer,\n  span interval,\n  tags text[]\n);\n");
  const LoadResult r = load_scenario_file(dir.write("s.yaml", kHeader + "schema: s.sql\n"));
  ASSERT_FALSE(r.ok());
  const ScenarioError interval = error_with(r, "type interval cannot be simulated");
  EXPECT_EQ(interval.file, sql);
  EXPECT_EQ(interval.line, 3);
  EXPECT_EQ(error_with(r, "type text[] cannot be simulated").line, 4);
}

TEST(SchemaTest, NamesAreCheckedAgainstTheFile) {
  ScenarioDir dir("names");
  dir.write("s.sql",
            "CREATE TABLE a (x integer);\n"
            "ALTER TABLE a ADD CONSTRAINT a_y FOREIGN KEY (x) REFERENCES missing(id);\n"
            "CREATE INDEX ON a (nope);\n"
            "CREATE INDEX ON b (x);\n");
  const LoadResult r = load_scenario_file(dir.write("s.yaml", kHeader + "schema: s.sql\n"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(error_with(r, "references table missing").line, 2);
  EXPECT_EQ(error_with(r, "names column nope").line, 3);
  EXPECT_EQ(error_with(r, "names table b").line, 4);
}

TEST(SchemaTest, TablesWithASchemaOnlySizeAndDrawItsTables) {
  ScenarioDir dir("sizes");
  dir.write("s.sql", "CREATE TABLE a (x integer);");
  const LoadResult r = load_scenario_file(dir.write("s.yaml", kHeader +
                                                                  "schema: s.sql\n"
                                                                  "tables:\n"
                                                                  "  - {name: b, rows: 5}\n"
                                                                  "  - name: a\n"
                                                                  "    primary_key: [x]\n"
                                                                  "    columns: {y: {gen: \"1..2\"}}\n"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(error_with(r, "no table 'b' in the schema file").line, 5);
  EXPECT_EQ(error_with(r, "tables[1].primary_key: unknown key").line, 7);
  EXPECT_EQ(error_with(r, "no column 'y' in table a").line, 8);
  const LoadResult missing = load_scenario_file(dir.write("m.yaml", kHeader + "schema: none.sql\n"));
  EXPECT_EQ(error_with(missing, "cannot read schema file").key, "schema");
}

// -- `tables:` ----------------------------------------------------------------------------------

const std::string kTables = kHeader + R"yaml(tables:
  - name: orders
    rows: 200
    columns:
      amount: {type: numeric, gen: "0..100000", scale: 2}
      email: {type: varchar(40), not_null: true}
      customer_id: {type: bigint}
      placed: {type: timestamptz, default: "now()"}
    primary_key: [id]
    indexes: [{name: orders_email_idx, columns: [email], unique: true, where: "amount > 0"}]
    constraints: [{name: amount_positive, check: "amount >= 0"}, {name: one_email, unique: [email]}]
    references: [{columns: [customer_id], table: customers, to: [id], on_delete: cascade}]
  - name: customers
    rows: 50
    columns:
      code: {type: char(3)}
      ref: {type: uuid}
migration:
  operations:
    - add_column: {column: note, type: text, table: customers}
    - drop_column: {column: amount}
workload:
  tables: [{table: customers, writes_per_s: 1, reads_per_s: 2}]
)yaml";

TEST(SchemaTest, TablesDeclaresTablesKeysIndexesAndReferences) {
  const LoadResult r = load_scenario_text(kTables, "my.yaml");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Scenario& s = *r.scenario;
  EXPECT_EQ(s.table.name, "orders");
  ASSERT_EQ(s.more_tables.size(), 1u);
  EXPECT_EQ(s.more_tables[0].rows, 50);
  const ColumnSpec& email = column(s.table, "email");
  EXPECT_EQ(email.type, ColumnType::text);
  EXPECT_EQ(email.sql_type, "character varying(40)");
  EXPECT_TRUE(email.not_null);
  EXPECT_EQ(email.line, 8);
  EXPECT_EQ(column(s.table, "placed").default_sql, "now()");
  EXPECT_EQ(column(s.more_tables[0], "code").gen, "0..999");
  EXPECT_EQ(column(s.more_tables[0], "ref").gen, "uuid");
  EXPECT_EQ(s.table.indexes.at(0).predicate, "amount > 0");
  EXPECT_EQ(constraint(s.table, "amount_positive").check, "amount >= 0");
  const ConstraintSpec& fk = constraint(s.table, "orders_customer_id_fkey");
  EXPECT_EQ(fk.ref_table, "customers");
  EXPECT_EQ(fk.on_delete, "cascade");
  EXPECT_EQ(s.migration.operations[0].table, "customers");
  EXPECT_EQ(s.migration.operations[1].table, "");
  EXPECT_EQ(operation_table(s, s.migration.operations[1]), "orders");
}

TEST(SchemaTest, TableAndTablesTogetherIsAnError) {
  const LoadResult r = load_scenario_text(kHeader + "table: {name: a}\ntables: [{name: b}]\n", "my.yaml");
  ASSERT_FALSE(r.ok());
  const ScenarioError e = error_with(r, "cannot both be given");
  EXPECT_EQ(e.key, "tables");
  EXPECT_EQ(e.line, 4);
}

TEST(SchemaTest, UnknownNamesInTablesAreErrorsAtTheirKeys) {
  std::string text = kTables;
  text.replace(text.find("table: customers, to"), 16, "table: customer");
  text.replace(text.find("columns: [email], unique"), 16, "columns: [emial]");
  text.replace(text.find("table: customers, writes"), 16, "table: shipments");
  text.replace(text.find("table: customers}"), 16, "table: nowhere");
  text.replace(text.find("type: uuid"), 10, "type: inet");
  const LoadResult r = load_scenario_text(text, "my.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(error_with(r, "no table 'customer' to reference (did you mean 'customers'?)").line, 14);
  EXPECT_EQ(error_with(r, "no column 'emial' in table orders (did you mean 'email'?)").line, 12);
  const ScenarioError workload = error_with(r, "no table 'shipments'");
  EXPECT_EQ(workload.key, "workload.tables[0].table");
  EXPECT_EQ(workload.line, 25);
  const ScenarioError op = error_with(r, "no table 'nowhere'");
  EXPECT_EQ(op.key, "migration.operations[0].add_column.table");
  EXPECT_EQ(op.line, 22);
  const ScenarioError type = error_with(r, "type inet cannot be simulated");
  EXPECT_EQ(type.key, "tables[1].columns.ref.type");
  EXPECT_EQ(type.line, 19);
}

TEST(SchemaTest, OperationsAreCheckedAgainstTheirOwnTable) {
  std::string text = kTables;
  text.replace(text.find("drop_column: {column: amount}"), 29, "drop_column: {column: amount, table: customers}");
  const LoadResult r = load_scenario_text(text, "my.yaml");
  EXPECT_EQ(error_with(r, "no column 'amount' at this point").line, 23);
}

// -- types --------------------------------------------------------------------------------------

TEST(SchemaTest, PostgresTypesMapToTheNearestSimulatedType) {
  std::string why;
  const std::vector<EnumTypeSpec> enums = {{"mood", {"sad", "ok"}}, {"spaced", {"a b"}}, {"LinksRouteTo", {"PDF"}}};
  struct Case {
    const char* written;
    const char* spelling;
    ColumnType type;
    const char* gen;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"smallint", "smallint", ColumnType::integer, "0..32767"},
           {"int4", "integer", ColumnType::integer, ""},
           {"real", "real", ColumnType::numeric, ""},
           {"float8", "double precision", ColumnType::numeric, ""},
           {"numeric(4,2)", "numeric(4,2)", ColumnType::numeric, "0..99"},
           {"varchar(20)", "character varying(20)", ColumnType::text, ""},
           {"char(2)", "character(2)", ColumnType::text, "0..99"},
           {"uuid", "uuid", ColumnType::text, "uuid"},
           {"jsonb", "jsonb", ColumnType::text, ""},
           {"bytea", "bytea", ColumnType::text, ""},
           {"date", "date", ColumnType::timestamp, ""},
           {"timestamptz", "timestamp with time zone", ColumnType::timestamp, ""},
           {"timestamp(3)", "timestamp(3) without time zone", ColumnType::timestamp, ""},
           {"mood", "mood", ColumnType::text, "one_of(sad,ok)"},
           {"spaced", "spaced", ColumnType::text, ""},
           // Prisma's quoted enum names keep their capitals, and format_type() quotes them.
           {"\"LinksRouteTo\"", "\"LinksRouteTo\"", ColumnType::text, "one_of(PDF)"},
       }) {
    const auto t = simulated_type(c.written, enums, &why);
    ASSERT_TRUE(t.has_value()) << c.written << ": " << why;
    EXPECT_EQ(t->sql_type, c.spelling) << c.written;
    EXPECT_EQ(t->type, c.type) << c.written;
    EXPECT_EQ(t->default_gen, c.gen) << c.written;
  }
  EXPECT_EQ(simulated_type("numeric(12,2)", enums, &why)->scale, 2);
  for (const char* refused : {"interval", "inet", "int[]", "point", "text); DROP TABLE x; --", "integer NOT NULL"}) {
    EXPECT_FALSE(simulated_type(refused, enums, &why).has_value()) << refused;
  }
}

// -- the writer ---------------------------------------------------------------------------------

// Loads, writes, loads the written text again: the same tables, and the same text when written
// a second time.
void expect_round_trip(const Scenario& original) {
  const std::string written = scenario_yaml_with_header(original, original.seed, "");
  const LoadResult again = load_scenario_text(written, "written.yaml");
  ASSERT_TRUE(again.ok()) << all_errors(again) << written;
  const Scenario& s = *again.scenario;
  EXPECT_EQ(scenario_yaml_with_header(s, s.seed, ""), written);
  ASSERT_EQ(all_tables(s).size(), all_tables(original).size());
  for (std::size_t i = 0; i < all_tables(s).size(); ++i) {
    const TableSpec& a = *all_tables(original)[i];
    const TableSpec& b = *all_tables(s)[i];
    EXPECT_EQ(b.name, a.name);
    EXPECT_EQ(b.rows, a.rows);
    EXPECT_EQ(b.primary_key, a.primary_key);
    ASSERT_EQ(b.columns.size(), a.columns.size()) << a.name;
    for (std::size_t k = 0; k < a.columns.size(); ++k) {
      EXPECT_EQ(b.columns[k].sql_type, a.columns[k].sql_type);
      EXPECT_EQ(b.columns[k].gen, a.columns[k].gen);
      EXPECT_EQ(b.columns[k].not_null, a.columns[k].not_null);
      EXPECT_EQ(b.columns[k].default_sql, a.columns[k].default_sql);
    }
    ASSERT_EQ(b.indexes.size(), a.indexes.size());
    for (std::size_t k = 0; k < a.indexes.size(); ++k) EXPECT_EQ(b.indexes[k].predicate, a.indexes[k].predicate);
    ASSERT_EQ(b.constraints.size(), a.constraints.size());
    for (std::size_t k = 0; k < a.constraints.size(); ++k) {
      EXPECT_EQ(b.constraints[k].name, a.constraints[k].name);
      EXPECT_EQ(b.constraints[k].ref_table, a.constraints[k].ref_table);
      EXPECT_EQ(b.constraints[k].check, a.constraints[k].check);
    }
  }
  EXPECT_EQ(s.migration.operations.size(), original.migration.operations.size());
  EXPECT_EQ(s.migration.operations.at(0).table, original.migration.operations.at(0).table);
  EXPECT_EQ(s.workload.tables.size(), original.workload.tables.size());
}

TEST(SchemaTest, TablesRoundTripThroughTheWriter) {
  const LoadResult r = load_scenario_text(kTables, "my.yaml");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  expect_round_trip(*r.scenario);
  const std::string written = scenario_yaml_with_header(*r.scenario, 1, "");
  EXPECT_NE(written.find("tables:"), std::string::npos);
  EXPECT_EQ(written.find("\ntable:"), std::string::npos);
}

TEST(SchemaTest, SchemaRoundTripsThroughTheWriter) {
  const LoadResult r = load_scenario_file(kDataDir + "/shop.yaml");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  expect_round_trip(*r.scenario);
  // The schema is named by its absolute path, so the written scenario loads from anywhere.
  EXPECT_NE(scenario_yaml_with_header(*r.scenario, 1, "").find("schema: " + kDataDir + "/shop.sql"),
            std::string::npos);
}

// Real migration files (LemmyNet/lemmy's) comment their columns and order their index
// expressions: what the writer writes from them parses again and keeps the expressions.
TEST(SchemaTest, CommentsInAClauseAndAnIndexElementsOrderingAreNotPartOfTheExpression) {
  const SchemaSql read = read_schema_sql(
      "CREATE TABLE t (id serial PRIMARY KEY, score int, published timestamp, name text);\n"
      "ALTER TABLE t\n"
      "  ADD COLUMN a timestamp NOT NULL DEFAULT now(), -- refreshed, periodically\n"
      "  ADD COLUMN b int DEFAULT 1 /* one, /* nested */ default */;\n"
      "CREATE INDEX t_rank ON t (abs(score) DESC NULLS LAST, published DESC);\n"
      "CREATE INDEX t_name ON t (lower(name) text_pattern_ops);\n"
      "CREATE INDEX t_coll ON t ((name || 'x') COLLATE \"C\" ASC);\n",
      "m.sql");
  ASSERT_TRUE(read.errors.empty()) << read.errors.front().message;
  const std::string written = schema_sql_text(read);
  const SchemaSql again = read_schema_sql(written, "written.sql");
  ASSERT_TRUE(again.errors.empty()) << again.errors.front().message << "\n" << written;
  ASSERT_EQ(again.tables.size(), 1u);
  const TableSpec& t = again.tables.front();
  const auto column = [&t](const std::string& name) {
    return *std::find_if(t.columns.begin(), t.columns.end(), [&](const ColumnSpec& c) { return c.name == name; });
  };
  EXPECT_EQ(column("a").default_sql, "now()");
  EXPECT_EQ(column("b").default_sql, "1");
  ASSERT_EQ(t.indexes.size(), 3u);
  EXPECT_EQ(t.indexes[0].columns, (std::vector<std::string>{"abs(score)", "published"}));
  EXPECT_EQ(t.indexes[1].columns, (std::vector<std::string>{"lower(name)"}));
  EXPECT_EQ(t.indexes[2].columns, (std::vector<std::string>{"name || 'x'"}));  // written back in parentheses
}

// Prisma quotes its enum types ("LinksRouteTo", linkwarden's migrations): the schema file the
// writer writes names the type as format_type() prints it, quoted, so a column of it reads back
// as the enum, not as an unknown type folded to lower case.
TEST(SchemaTest, AnEnumTypeWithCapitalsIsWrittenQuotedAndReadsBack) {
  const SchemaSql read = read_schema_sql(
      "CREATE TYPE \"LinksRouteTo\" AS ENUM ('ORIGINAL', 'PDF');\n"
      "CREATE TABLE \"User\" (id serial PRIMARY KEY, \"linksRouteTo\" \"LinksRouteTo\" NOT NULL DEFAULT 'ORIGINAL');\n",
      "m.sql");
  ASSERT_TRUE(read.errors.empty()) << read.errors.front().message;
  const std::string written = schema_sql_text(read);
  EXPECT_NE(written.find("\"linksRouteTo\" \"LinksRouteTo\" NOT NULL"), std::string::npos) << written;
  const SchemaSql again = read_schema_sql(written, "written.sql");
  ASSERT_TRUE(again.errors.empty()) << again.errors.front().message << "\n" << written;
  ASSERT_EQ(again.tables.size(), 1u);
  ASSERT_EQ(again.tables[0].columns.size(), 1u);
  EXPECT_EQ(again.tables[0].columns[0].sql_type, "\"LinksRouteTo\"");
}

// PostgreSQL names an unnamed UNIQUE or FOREIGN KEY after every column (lemmy's migrations rename
// `comment_like_comment_id_user_id_key`), clipped to 63 bytes as makeObjectName clips it.
TEST(SchemaTest, AnUnnamedConstraintIsNamedAsPostgresNamesIt) {
  const std::string long_table(40, 't');
  const SchemaSql read = read_schema_sql(
      "CREATE TABLE p (a int, b int, PRIMARY KEY (a, b));\n"
      "CREATE TABLE c (id serial PRIMARY KEY, comment_id int, user_id int CHECK (user_id > 0), UNIQUE (comment_id, user_id),\n"
      "  FOREIGN KEY (comment_id, user_id) REFERENCES p (a, b));\n"
      "CREATE TABLE " + long_table + " (id int PRIMARY KEY, " + std::string(30, 'x') + " int UNIQUE);\n",
      "m.sql");
  ASSERT_TRUE(read.errors.empty()) << read.errors.front().message;
  std::set<std::string> names;
  for (const TableSpec& t : read.tables) {
    for (const ConstraintSpec& c : t.constraints) names.insert(c.name);
  }
  EXPECT_EQ(names, (std::set<std::string>{"c_comment_id_user_id_key", "c_comment_id_user_id_fkey", "c_user_id_check",
                                          std::string(29, 't') + "_" + std::string(29, 'x') + "_key"}));
}

// A table's rename keeps its primary key's name (lemmy's split_user_table_2 renames
// community_user_ban, then its constraint community_user_ban_pkey): the reader and writer keep it,
// and the simulated table knows the key by that name.
TEST(SchemaTest, ThePrimaryKeyKeepsItsNameAcrossATableRename) {
  const SchemaSql read = read_schema_sql(
      "CREATE TABLE ban (id serial PRIMARY KEY, who int);\n"
      "CREATE TABLE named (k int, CONSTRAINT named_key_here PRIMARY KEY (k));\n"
      "ALTER TABLE ban RENAME TO person_ban;\n",
      "m.sql");
  ASSERT_TRUE(read.errors.empty()) << read.errors.front().message;
  ASSERT_EQ(read.tables.size(), 2u);
  EXPECT_EQ(primary_key_name(read.tables[0]), "ban_pkey");
  EXPECT_EQ(primary_key_name(read.tables[1]), "named_key_here");
  const std::string written = schema_sql_text(read);
  EXPECT_NE(written.find("CONSTRAINT \"ban_pkey\" PRIMARY KEY"), std::string::npos) << written;
  const SchemaSql again = read_schema_sql(written + "ALTER TABLE person_ban RENAME CONSTRAINT ban_pkey TO person_ban_pkey;\n", "w.sql");
  ASSERT_TRUE(again.errors.empty()) << again.errors.front().message;
  EXPECT_EQ(primary_key_name(again.tables[0]), "person_ban_pkey");
  EXPECT_EQ(schema_sql_text(again).find("CONSTRAINT \"person_ban_pkey\""), std::string::npos);  // the default name again

  sim::Table table(read.tables[0]);
  DdlStatement rename;
  rename.kind = DdlStatement::Kind::rename_constraint;
  rename.table = "person_ban";
  rename.constraint = "ban_pkey";
  rename.to = "person_ban_pkey";
  rename.as_written = true;
  EXPECT_EQ(table.as_written_error(rename), "");
  table.apply(rename);
  EXPECT_NE(table.as_written_error(rename), "");  // ban_pkey is gone
  DdlStatement drop;
  drop.kind = DdlStatement::Kind::drop_constraint;
  drop.table = "person_ban";
  drop.constraint = "person_ban_pkey";
  drop.as_written = true;
  EXPECT_EQ(table.as_written_error(drop), "");
}

TEST(SchemaTest, TheOneTableFormIsWrittenAsBefore) {
  const LoadResult r = load_scenario_text(kHeader + "table: {name: t, rows: 5, columns: {a: {type: integer}}}\n", "my.yaml");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const std::string written = scenario_yaml_with_header(*r.scenario, 1, "");
  EXPECT_NE(written.find("table:\n  name: t\n  rows: 5\n  columns:\n    a: {type: integer}\n"), std::string::npos) << written;
  EXPECT_EQ(written.find("tables:"), std::string::npos);
}

// -- the command line ---------------------------------------------------------------------------

TEST(SchemaTest, PlanListsTheTablesAndTheSkippedStatements) {
  // `plan` on the pg_dump scenario lists eleven tables with their keys, indexes and constraints,
  // and says what the schema file held that is not simulated; --json has the same.
  const auto text = testing::run_rehearse("plan " + kDataDir + "/shop.yaml");
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("tables (11, from "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("  order_items: 1000 rows, primary key (order_id, product_id)\n"), std::string::npos);
  EXPECT_NE(text.out.find("constraint shipments_address_id_fkey FOREIGN KEY (address_id) REFERENCES addresses(id) "
                          "ON DELETE SET NULL NOT VALID"),
            std::string::npos);
  EXPECT_NE(text.out.find("schema statements read and not simulated: SET (11), "), std::string::npos);
  const auto json = testing::run_rehearse("plan " + kDataDir + "/shop.yaml --json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json plan = nlohmann::json::parse(json.out);
  EXPECT_EQ(plan["tables"].size(), 11u);
  EXPECT_EQ(plan["tables"][0]["name"], "orders");
  EXPECT_EQ(plan["schema"]["skipped"][0], "SET (11)");
  // A one-table plan has no tables in its JSON, as before.
  const auto one = testing::run_rehearse("plan batched-backfill --json");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  EXPECT_FALSE(nlohmann::json::parse(one.out).contains("tables"));
}

TEST(SchemaTest, ASchemaFileThatDoesNotParseExitsTwo) {
  ScenarioDir dir("cli");
  dir.write("s.sql", "CREATE TABLE a (\n  x integer,\n  y integr text\n);\n");
  const auto result = testing::run_rehearse("plan " + dir.write("s.yaml", kHeader + "schema: s.sql\n"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("s.sql:3: column 12: syntax error at or near \"text\""), std::string::npos) << result.err;
}

// Bytes that are not UTF-8 (in a string constant, which PostgreSQL's parser hands on as it is)
// are refused at their line with PostgreSQL's message, not an internal error.
TEST(SchemaTest, ASchemaFileThatIsNotUtf8ExitsTwoAtItsLine) {
  ScenarioDir dir("utf8");
  dir.write("s.sql", "CREATE TABLE a (\n  x integer,\n  y text DEFAULT '\x93x'\n);\n");
  const auto result = testing::run_rehearse("plan " + dir.write("s.yaml", kHeader + "schema: s.sql\n"));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("s.sql:3: invalid byte sequence for encoding \"UTF8\": 0x93"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("internal error"), std::string::npos) << result.err;
}

// A table PostgreSQL holds never breaks its unique indexes, so neither does the simulated one's
// initial data (rallly's migrations rebuild users_email_key and links_poll_id_role_key): a unique
// text column drawn as `item-N` from a million values, and a unique (reference, enum) pair whose
// reference is drawn among the parent's rows, hold no duplicate; without the indexes the same
// draws do (so the test can fail).
TEST(SchemaTest, InitialRowsKeepTheirUniqueKeys) {
  const auto scenario_with = [](bool unique) {
    Scenario s;
    s.table = TableSpec{.name = "polls", .rows = 300, .columns = {ColumnSpec{.name = "url_id", .type = ColumnType::text}}};
    TableSpec users{.name = "users", .rows = 3000, .columns = {ColumnSpec{.name = "email", .type = ColumnType::text}}};
    TableSpec links{.name = "links", .rows = 500,
                    .columns = {ColumnSpec{.name = "poll_id", .type = ColumnType::text},
                                ColumnSpec{.name = "role", .type = ColumnType::text, .gen = "one_of(admin,participant)"}}};
    links.constraints.push_back(ConstraintSpec{.kind = ConstraintKind::foreign_key, .name = "links_poll_id_fkey", .columns = {"poll_id"},
                                               .ref_table = "polls", .ref_columns = {"url_id"}});
    s.table.indexes.push_back(IndexSpec{.name = "polls_url_id_key", .columns = {"url_id"}, .unique = true});
    if (unique) {
      users.indexes.push_back(IndexSpec{.name = "users_email_key", .columns = {"email"}, .unique = true});
      links.constraints.push_back(ConstraintSpec{.kind = ConstraintKind::unique, .name = "links_poll_id_role_key", .columns = {"poll_id", "role"}});
    }
    s.more_tables = {users, links};
    return s;
  };
  const auto duplicates = [](const sim::Table& table, const std::vector<std::string>& columns) {
    std::set<std::string> seen;
    int count = 0;
    for (std::int64_t id = 1; id <= table.row_count(); ++id) {
      std::string key;
      for (const std::string& column : columns) key += table.cell(id, table.column_index(column)).to_string() + "|";
      count += seen.insert(key).second ? 0 : 1;
    }
    return count;
  };
  for (const bool unique : {true, false}) {
    const Scenario scenario = scenario_with(unique);
    const std::vector<sim::Table> tables = sim::generate_tables(scenario, 7);
    ASSERT_EQ(tables.size(), 3u);
    EXPECT_EQ(duplicates(tables[0], {"url_id"}), 0);
    if (unique) {
      EXPECT_EQ(duplicates(tables[1], {"email"}), 0);
      EXPECT_EQ(duplicates(tables[2], {"poll_id", "role"}), 0);
    } else {
      EXPECT_GT(duplicates(tables[1], {"email"}), 0);
      EXPECT_GT(duplicates(tables[2], {"poll_id", "role"}), 0);
    }
    // Every link still references a poll.
    std::set<std::string> polls;
    for (std::int64_t id = 1; id <= tables[0].row_count(); ++id) polls.insert(tables[0].cell(id, 1).to_string());
    for (std::int64_t id = 1; id <= tables[2].row_count(); ++id) {
      EXPECT_EQ(polls.count(tables[2].cell(id, tables[2].column_index("poll_id")).to_string()), 1u) << id;
    }
  }
}

}  // namespace
}  // namespace rehearse

// pgroll's operations inline under `migration.operations:` (issue 13): what the loader reads
// from each form and the errors it gives; the statements each operation compiles to, in which
// phase, with which lock mode from the statement model; that today's forms compile exactly as
// before; and what the simulated table does with the new statement kinds, including a CHECK,
// UNIQUE or FOREIGN KEY validation that fails on the rows present.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/plan.h"
#include "core/statements.h"
#include "scenarios/loader.h"
#include "sim/table.h"

namespace rehearse {
namespace {

const std::string kScenario = R"yaml(name: t
description: pgroll operations
table:
  name: orders
  rows: 100
  columns:
    amount: {type: integer, gen: "0..100"}
    email: {type: text, gen: email}
migration:
  operations:
)yaml";

LoadResult load(const std::string& operations) { return load_scenario_text(kScenario + operations, "ops.yaml"); }

std::string all_errors(const LoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) out += e.to_string() + "\n";
  return out;
}

const ScenarioError* error_on(const LoadResult& r, const std::string& key) {
  for (const auto& e : r.errors) {
    if (e.key == key) return &e;
  }
  ADD_FAILURE() << "no error on key '" << key << "'; errors:\n" << all_errors(r);
  return nullptr;
}

bool error_says(const LoadResult& r, const std::string& key, const std::string& text) {
  const ScenarioError* e = error_on(r, key);
  return e != nullptr && e->message.find(text) != std::string::npos;
}

std::string plain(const std::string& name) { return name; }

// "SQL [MODE on the table]" for every statement of `statements`.
std::vector<std::string> rendered(const std::vector<DdlStatement>& statements) {
  std::vector<std::string> out;
  for (const DdlStatement& s : statements) {
    const StatementModel& model = statement_model(statement_kind(s));
    out.push_back(fmt::format("{} [{}]", statement_sql(s, plain), sql_name(*lock_on(model, RelationRole::table))));
  }
  return out;
}

MigrationPlan compiled(const std::string& operations) {
  const LoadResult loaded = load(operations);
  EXPECT_TRUE(loaded.ok()) << all_errors(loaded);
  if (!loaded.ok()) return {};
  Result<MigrationPlan> plan = compile_plan(*loaded.scenario);
  EXPECT_TRUE(plan.is_ok()) << plan.status().message();
  return plan.is_ok() ? plan.value() : MigrationPlan{};
}

using Lines = std::vector<std::string>;

TEST(PgrollOperations, TodaysFormsCompileAsBefore) {
  // The spec's example, compiled as before issue 13: shadow column for alter_column, a copy for
  // rename_column, SET NOT NULL with its scan, CREATE INDEX CONCURRENTLY named after the columns.
  const MigrationPlan plan = compiled(
      "    - add_column: {column: amount_cents, type: bigint, up: \"amount * 100\"}\n"
      "    - alter_column: {column: email, type: text, up: \"lower(email)\", down: \"email\"}\n"
      "    - rename_column: {column: amount, to: total}\n"
      "    - add_not_null: {column: amount_cents}\n"
      "    - create_index: {columns: [email]}\n");
  EXPECT_EQ(rendered(plan.expand), (Lines{"ALTER TABLE orders ADD COLUMN IF NOT EXISTS amount_cents bigint [ACCESS EXCLUSIVE]",
                                          "ALTER TABLE orders ADD COLUMN IF NOT EXISTS email__new text [ACCESS EXCLUSIVE]",
                                          "ALTER TABLE orders ADD COLUMN IF NOT EXISTS total integer [ACCESS EXCLUSIVE]",
                                          "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_email_idx ON orders (email) [SHARE UPDATE EXCLUSIVE]"}));
  EXPECT_EQ(rendered(plan.contract), (Lines{"ALTER TABLE orders DROP COLUMN IF EXISTS email [ACCESS EXCLUSIVE]",
                                            "ALTER TABLE orders RENAME COLUMN email__new TO email [ACCESS EXCLUSIVE]",
                                            "ALTER TABLE orders DROP COLUMN IF EXISTS amount [ACCESS EXCLUSIVE]",
                                            "ALTER TABLE orders ALTER COLUMN amount_cents SET NOT NULL [ACCESS EXCLUSIVE]"}));
  EXPECT_EQ(statement_kind(plan.contract.back()), StatementKind::set_not_null) << "today's add_not_null still scans";
  EXPECT_EQ(plan.not_null, (Lines{"amount_cents"}));
}

TEST(PgrollOperations, RenameColumnInPgrollsFormIsTodaysRename) {
  const MigrationPlan today = compiled("    - rename_column: {column: amount, to: total}\n");
  const MigrationPlan pgroll = compiled("    - rename_column: {table: orders, from: amount, to: total}\n");
  EXPECT_EQ(plan_digest(today), plan_digest(pgroll));
  EXPECT_EQ(rendered(pgroll.contract), (Lines{"ALTER TABLE orders DROP COLUMN IF EXISTS amount [ACCESS EXCLUSIVE]"}));
}

TEST(PgrollOperations, AddColumnWithConstraintsTheSafeWay) {
  const MigrationPlan plan = compiled(
      "    - add_column:\n"
      "        table: orders\n"
      "        column: {name: sku, type: text, nullable: false, default: \"'none'\", unique: true,\n"
      "                 check: {name: sku_length, constraint: \"length(sku) > 0\"}, comment: \"stock unit\"}\n"
      "        up: \"lower(email)\"\n");
  EXPECT_EQ(rendered(plan.expand),
            (Lines{"ALTER TABLE orders ADD COLUMN IF NOT EXISTS sku text DEFAULT 'none' [ACCESS EXCLUSIVE]",
                   "COMMENT ON COLUMN orders.sku IS 'stock unit' [SHARE UPDATE EXCLUSIVE]",
                   "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_sku_key ON orders (sku) [SHARE UPDATE EXCLUSIVE]",
                   "ALTER TABLE orders ADD CONSTRAINT sku_length CHECK (length(sku) > 0) NOT VALID [ACCESS EXCLUSIVE]",
                   "ALTER TABLE orders ADD CONSTRAINT orders_sku_not_null CHECK (sku IS NOT NULL) NOT VALID [ACCESS EXCLUSIVE]"}));
  EXPECT_EQ(rendered(plan.contract),
            (Lines{"ALTER TABLE orders ADD CONSTRAINT orders_sku_key UNIQUE USING INDEX orders_sku_key [ACCESS EXCLUSIVE]",
                   "ALTER TABLE orders VALIDATE CONSTRAINT sku_length [SHARE UPDATE EXCLUSIVE]",
                   "ALTER TABLE orders VALIDATE CONSTRAINT orders_sku_not_null [SHARE UPDATE EXCLUSIVE]",
                   "ALTER TABLE orders ALTER COLUMN sku SET NOT NULL [ACCESS EXCLUSIVE]",
                   "ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_sku_not_null [ACCESS EXCLUSIVE]"}));
  EXPECT_EQ(rendered(plan.rollback), (Lines{"ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_sku_not_null [ACCESS EXCLUSIVE]",
                                            "ALTER TABLE orders DROP CONSTRAINT IF EXISTS sku_length [ACCESS EXCLUSIVE]",
                                            "DROP INDEX CONCURRENTLY IF EXISTS orders_sku_key [SHARE UPDATE EXCLUSIVE]",
                                            "ALTER TABLE orders DROP COLUMN IF EXISTS sku [ACCESS EXCLUSIVE]"}));
  // The statement model's view of the safe forms: no scan under ACCESS EXCLUSIVE anywhere.
  EXPECT_EQ(statement_kind(plan.expand[0]), StatementKind::add_column_constant_default);
  EXPECT_EQ(statement_kind(plan.contract[3]), StatementKind::set_not_null_with_valid_check);
  for (const DdlStatement& s : plan.expand) {
    const StatementModel& model = statement_model(statement_kind(s));
    EXPECT_FALSE(model.work == TableWork::scan || model.work == TableWork::rewrite) << statement_sql(s, plain);
  }
  EXPECT_EQ(plan.not_null, (Lines{"sku"}));
  ASSERT_EQ(plan.fills.size(), 1u);
  EXPECT_EQ(plan.fills[0].column, "sku");
}

TEST(PgrollOperations, VolatileDefaultIsARewrite) {
  const MigrationPlan plan = compiled("    - add_column: {column: {name: r, type: bigint, nullable: true, default: \"nextval('s')\"}}\n");
  ASSERT_EQ(plan.expand.size(), 1u);
  EXPECT_EQ(statement_kind(plan.expand[0]), StatementKind::add_column_volatile_default);
  EXPECT_EQ(statement_model(statement_kind(plan.expand[0])).work, TableWork::rewrite);
}

TEST(PgrollOperations, AlterColumnInPlace) {
  const MigrationPlan plan = compiled(
      "    - alter_column: {table: orders, column: email, nullable: false, default: \"'x'\", comment: c,\n"
      "                     unique: {name: orders_email_key}}\n");
  EXPECT_EQ(rendered(plan.expand),
            (Lines{"ALTER TABLE orders ALTER COLUMN email SET DEFAULT 'x' [ACCESS EXCLUSIVE]",
                   "COMMENT ON COLUMN orders.email IS 'c' [SHARE UPDATE EXCLUSIVE]",
                   "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_email_key ON orders (email) [SHARE UPDATE EXCLUSIVE]",
                   "ALTER TABLE orders ADD CONSTRAINT orders_email_not_null CHECK (email IS NOT NULL) NOT VALID [ACCESS EXCLUSIVE]"}));
  EXPECT_EQ(rendered(plan.contract),
            (Lines{"ALTER TABLE orders ADD CONSTRAINT orders_email_key UNIQUE USING INDEX orders_email_key [ACCESS EXCLUSIVE]",
                   "ALTER TABLE orders VALIDATE CONSTRAINT orders_email_not_null [SHARE UPDATE EXCLUSIVE]",
                   "ALTER TABLE orders ALTER COLUMN email SET NOT NULL [ACCESS EXCLUSIVE]",
                   "ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_email_not_null [ACCESS EXCLUSIVE]"}));
  EXPECT_TRUE(plan.fills.empty()) << "nothing to backfill in place";
}

TEST(PgrollOperations, AlterColumnTypeAndNameThroughAShadow) {
  // The constraint is added after the rename, in contract, so it names the final column.
  const MigrationPlan plan = compiled(
      "    - alter_column: {column: amount, type: bigint, up: \"amount * 2\", name: amount_twice, nullable: false}\n");
  EXPECT_EQ(rendered(plan.expand), (Lines{"ALTER TABLE orders ADD COLUMN IF NOT EXISTS amount__new bigint [ACCESS EXCLUSIVE]"}));
  EXPECT_EQ(rendered(plan.contract),
            (Lines{"ALTER TABLE orders DROP COLUMN IF EXISTS amount [ACCESS EXCLUSIVE]",
                   "ALTER TABLE orders RENAME COLUMN amount__new TO amount_twice [ACCESS EXCLUSIVE]",
                   "ALTER TABLE orders ADD CONSTRAINT orders_amount_twice_not_null CHECK (amount_twice IS NOT NULL) NOT VALID "
                   "[ACCESS EXCLUSIVE]",
                   "ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_twice_not_null [SHARE UPDATE EXCLUSIVE]",
                   "ALTER TABLE orders ALTER COLUMN amount_twice SET NOT NULL [ACCESS EXCLUSIVE]",
                   "ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_amount_twice_not_null [ACCESS EXCLUSIVE]"}));
  EXPECT_EQ(plan.not_null, (Lines{"amount__new"})) << "validation reads the shadow, before the rename";
}

TEST(PgrollOperations, CreateIndexWithPgrollsFields) {
  const MigrationPlan plan = compiled(
      "    - create_index: {name: orders_email_positive, table: orders, columns: [email], unique: true, method: btree,\n"
      "                     predicate: \"amount > 0\", storage_parameters: \"fillfactor=70\"}\n");
  EXPECT_EQ(rendered(plan.expand), (Lines{"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_email_positive ON orders USING btree "
                                          "(email) WITH (fillfactor=70) WHERE amount > 0 [SHARE UPDATE EXCLUSIVE]"}));
  EXPECT_EQ(rendered(plan.rollback), (Lines{"DROP INDEX CONCURRENTLY IF EXISTS orders_email_positive [SHARE UPDATE EXCLUSIVE]"}));
  EXPECT_EQ(plan.contracted_schema.indexes, (Lines{"orders_email_positive"}));
}

TEST(PgrollOperations, TablesConstraintsAndTheRest) {
  const MigrationPlan plan = compiled(
      "    - create_table:\n"
      "        name: customers\n"
      "        comment: buyers\n"
      "        columns:\n"
      "          - {name: id, type: bigint, pk: true}\n"
      "          - {name: email, type: text, nullable: true}\n"
      "          - {name: tier, type: integer, default: \"0\"}\n"
      "    - add_column: {column: customer_id, type: bigint}\n"
      "    - create_constraint: {name: orders_customer_fk, table: orders, type: foreign_key, columns: [customer_id],\n"
      "                          references: {table: customers, columns: [id], on_delete: cascade}}\n"
      "    - create_constraint: {name: amount_positive, type: check, columns: [amount], check: \"amount > 0\"}\n"
      "    - set_replica_identity: {table: orders, identity: {type: full}}\n"
      "    - sql: {up: \"ANALYZE orders\", down: \"SELECT 1\"}\n"
      "    - sql: {up: \"VACUUM orders\", on_complete: true}\n"
      "    - rename_constraint: {table: orders, from: amount_positive, to: amount_above_zero}\n"
      "    - drop_multicolumn_constraint: {table: orders, name: orders_customer_fk, up: {customer_id: customer_id}}\n"
      "    - drop_constraint: {table: orders, column: amount, name: amount_above_zero, up: amount, down: amount}\n"
      "    - drop_index: {name: orders_old_idx}\n"
      "    - rename_table: {from: customers, to: clients}\n"
      "    - drop_table: {name: clients}\n");
  EXPECT_EQ(rendered(plan.expand),
            (Lines{"CREATE TABLE IF NOT EXISTS customers (id bigint PRIMARY KEY, email text, tier integer NOT NULL DEFAULT 0) "
                   "[ACCESS EXCLUSIVE]",
                   "COMMENT ON TABLE customers IS 'buyers' [SHARE UPDATE EXCLUSIVE]",
                   "ALTER TABLE orders ADD COLUMN IF NOT EXISTS customer_id bigint [ACCESS EXCLUSIVE]",
                   "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) ON "
                   "DELETE CASCADE NOT VALID [SHARE ROW EXCLUSIVE]",
                   "ALTER TABLE orders ADD CONSTRAINT amount_positive CHECK (amount > 0) NOT VALID [ACCESS EXCLUSIVE]",
                   "ALTER TABLE orders REPLICA IDENTITY FULL [ACCESS EXCLUSIVE]", "ANALYZE orders [ACCESS EXCLUSIVE]"}));
  EXPECT_EQ(rendered(plan.contract),
            (Lines{"ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk [SHARE UPDATE EXCLUSIVE]",
                   "ALTER TABLE orders VALIDATE CONSTRAINT amount_positive [SHARE UPDATE EXCLUSIVE]",
                   "VACUUM orders [ACCESS EXCLUSIVE]",
                   "ALTER TABLE orders RENAME CONSTRAINT amount_positive TO amount_above_zero [ACCESS EXCLUSIVE]",
                   "ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_customer_fk [ACCESS EXCLUSIVE]",
                   "ALTER TABLE orders DROP CONSTRAINT IF EXISTS amount_above_zero [ACCESS EXCLUSIVE]",
                   "DROP INDEX CONCURRENTLY IF EXISTS orders_old_idx [SHARE UPDATE EXCLUSIVE]",
                   "ALTER TABLE customers RENAME TO clients [ACCESS EXCLUSIVE]", "DROP TABLE IF EXISTS clients [ACCESS EXCLUSIVE]"}));
  EXPECT_EQ(rendered(plan.rollback), (Lines{"SELECT 1 [ACCESS EXCLUSIVE]",
                                            "ALTER TABLE orders DROP CONSTRAINT IF EXISTS amount_positive [ACCESS EXCLUSIVE]",
                                            "ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_customer_fk [ACCESS EXCLUSIVE]",
                                            "ALTER TABLE orders DROP COLUMN IF EXISTS customer_id [ACCESS EXCLUSIVE]",
                                            "DROP TABLE IF EXISTS customers [ACCESS EXCLUSIVE]"}));
  // Every statement names its table; the foreign key's validation locks the referenced one too.
  EXPECT_EQ(plan.expand[0].table, "customers");
  EXPECT_EQ(plan.contract.back().table, "clients");
  const StatementModel& validate = statement_model(statement_kind(plan.contract[0]));
  EXPECT_EQ(lock_on(validate, RelationRole::referenced_table), LockMode::row_share);
  EXPECT_EQ(plan.contract[0].constraint_kind, ConstraintKind::foreign_key);
  EXPECT_EQ(plan.contracted_schema.absent_indexes, (Lines{"orders_old_idx"}));
  // The pgroll fields enter the digest: another check is another plan.
  const MigrationPlan other = compiled("    - create_constraint: {name: amount_positive, type: check, columns: [amount], check: \"amount > 1\"}\n");
  const MigrationPlan same = compiled("    - create_constraint: {name: amount_positive, type: check, columns: [amount], check: \"amount > 0\"}\n");
  const MigrationPlan again = compiled("    - create_constraint: {name: amount_positive, type: check, columns: [amount], check: \"amount > 0\"}\n");
  EXPECT_NE(plan_digest(other), plan_digest(same));
  EXPECT_EQ(plan_digest(same), plan_digest(again));
}

TEST(PgrollOperations, LoaderErrorsNameTheKeyAndWhatWasExpected) {
  {
    const LoadResult r = load("    - add_column: {column: {name: sku, type: text, nulable: true}, up: \"email\"}\n");
    EXPECT_TRUE(error_says(r, "migration.operations[0].add_column.column.nulable", "unknown key"));
    const ScenarioError* e = error_on(r, "migration.operations[0].add_column.column.nulable");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->line, 11);
    EXPECT_EQ(e->file, "ops.yaml");
  }
  EXPECT_TRUE(error_says(load("    - create_index: {name: i}\n"), "migration.operations[0].create_index.columns", "required key missing"));
  EXPECT_TRUE(error_says(load("    - alter_column: {column: email, nullable: maybe}\n"), "migration.operations[0].alter_column.nullable",
                         "expected true or false"));
  EXPECT_TRUE(error_says(load("    - add_column: {column: {name: sku, type: text}}\n"), "migration.operations[0].add_column.column",
                         "needs `up` or `default`"));
  EXPECT_TRUE(error_says(load("    - add_column: {column: {name: sku, type: money, nullable: true}}\n"),
                         "migration.operations[0].add_column.column.type", "expected one of"));
  EXPECT_TRUE(error_says(load("    - create_constraint: {name: k, type: unique, columns: [email], up: {email: lower(email), nope: email}}\n"),
                         "migration.operations[0].create_constraint.up.nope", "no column 'nope'"));
  EXPECT_TRUE(error_says(load("    - create_constraint: {name: k, type: check, columns: [email]}\n"),
                         "migration.operations[0].create_constraint", "check is required"));
  EXPECT_TRUE(error_says(load("    - drop_index: {name: i, table: nowhere}\n"), "migration.operations[0].drop_index.table", "no table 'nowhere'"));
  EXPECT_TRUE(error_says(load("    - create_index: {columns: [email], method: btre}\n"), "migration.operations[0].create_index.method",
                         "expected one of btree"));
  EXPECT_TRUE(error_says(load("    - set_replica_identity: {identity: {type: index}}\n"),
                         "migration.operations[0].set_replica_identity.identity.index", "required key missing"));
  EXPECT_TRUE(error_says(load("    - sql: {up: \"SELECT 1\", down: \"SELECT 2\", on_complete: true}\n"), "migration.operations[0].sql.down",
                         "on_complete"));
  EXPECT_TRUE(error_says(load("    - rename_column: {from: nothing, to: x}\n"), "migration.operations[0].rename_column.from",
                         "no column 'nothing'"));
  EXPECT_TRUE(error_says(load("    - create_table: {name: orders, columns: []}\n"), "migration.operations[0].create_table.name",
                         "already exists"));
  EXPECT_TRUE(error_says(load("    - create_table: {name: c, columns: [{name: id, type: text}]}\n"),
                         "migration.operations[0].create_table.columns[0]", "integer type"));
}

TEST(PgrollOperations, LoaderReadsPgrollsAddColumn) {
  const LoadResult r = load(
      "    - add_column: {table: orders, column: {name: note, type: text, default: \"'n'\", comment: hi,\n"
      "                   check: {name: note_short, constraint: \"length(note) < 10\"}}}\n");
  ASSERT_TRUE(r.ok()) << all_errors(r);
  const Operation& op = r.scenario->migration.operations.at(0);
  EXPECT_EQ(op.kind, OperationKind::add_column);
  EXPECT_EQ(op.column, "note");
  EXPECT_EQ(op.table, "orders");
  EXPECT_EQ(op.nullable, false) << "pgroll's default";
  EXPECT_EQ(op.default_sql, "'n'");
  EXPECT_EQ(op.comment, "hi");
  ASSERT_EQ(op.constraints.size(), 1u);
  EXPECT_EQ(op.constraints[0].kind, ConstraintKind::check);
  EXPECT_EQ(op.constraints[0].name, "note_short");
  EXPECT_EQ(op.constraints[0].check, "length(note) < 10");
}

// A table of orders: (amount, email) = (10, a), (-5, b), (NULL, a).
sim::Table orders() {
  TableSpec spec;
  spec.columns = {ColumnSpec{.name = "amount", .type = ColumnType::integer}, ColumnSpec{.name = "email", .type = ColumnType::text}};
  sim::Table table(spec);
  table.insert(Row({Value::integer(10), Value::text("a")}, Writer::initial));
  table.insert(Row({Value::integer(-5), Value::text("b")}, Writer::initial));
  table.insert(Row({Value::null(), Value::text("a")}, Writer::initial));
  return table;
}

DdlStatement statement(DdlStatement::Kind kind) {
  DdlStatement s;
  s.kind = kind;
  s.table = "orders";
  return s;
}

// pgroll's `default` on an added NOT NULL column (examples/03_add_column.yaml's stock): a row the
// application inserts without the column gets the DEFAULT, as PostgreSQL fills it, so the NOT
// NULL check the contract validates holds. The compiled plan used to leave it NULL (seed 4 of
// that example halted at VALIDATE CONSTRAINT).
TEST(PgrollTable, ARowInsertedWithoutAnAddedColumnGetsItsDefault) {
  sim::Table table = orders();
  DdlStatement add = statement(DdlStatement::Kind::add_column);
  add.column = "stock";
  add.type = ColumnType::integer;
  add.default_sql = "100";
  table.apply(add);
  const int stock = table.column_index("stock");
  EXPECT_EQ(table.cell(1, stock), Value::integer(100)) << "the rows already there";
  const std::int64_t id = table.insert(Row({Value::integer(7), Value::text("c")}, Writer::old_code));
  table.fill_defaults(id);
  EXPECT_EQ(table.cell(id, stock), Value::integer(100));
}

TEST(PgrollTable, CheckAddedNotValidThenValidateFailsOnAViolatingRow) {
  sim::Table table = orders();
  DdlStatement add = statement(DdlStatement::Kind::add_check);
  add.constraint = "amount_positive";
  add.columns = {"amount"};
  add.check = "amount >= 0";
  EXPECT_EQ(table.rewrite_error(add), "") << "NOT VALID reads no row";
  table.apply(add);
  ASSERT_NE(table.constraint("amount_positive"), nullptr);
  EXPECT_FALSE(table.constraint("amount_positive")->validated);
  EXPECT_EQ(table.catalog().constraints, (Lines{"amount_positive"}));

  DdlStatement validate = statement(DdlStatement::Kind::validate_constraint);
  validate.constraint = "amount_positive";
  const std::string error = table.rewrite_error(validate);
  EXPECT_NE(error.find("row 2"), std::string::npos) << error;
  EXPECT_NE(error.find("violated"), std::string::npos) << error;
  DdlStatement valid = add;
  valid.not_valid = false;
  EXPECT_EQ(table.rewrite_error(valid), error) << "ADD CHECK without NOT VALID scans the same rows";

  table.set_cell(2, table.column_index("amount"), Value::integer(5));
  EXPECT_EQ(table.rewrite_error(validate), "") << "a NULL satisfies a CHECK";
  table.apply(validate);
  EXPECT_TRUE(table.constraint("amount_positive")->validated);
}

TEST(PgrollTable, UniqueIndexOverDuplicatesFailsAndUsingIndexAttachesIt) {
  sim::Table table = orders();
  DdlStatement index = statement(DdlStatement::Kind::create_index);
  index.column = "orders_email_key";
  index.columns = {"email"};
  index.unique = true;
  const std::string error = table.rewrite_error(index);
  EXPECT_NE(error.find("rows 1 and 3"), std::string::npos) << error;
  DdlStatement partial = index;
  partial.predicate = "amount > 0";
  EXPECT_EQ(table.rewrite_error(partial), "") << "row 3's NULL amount leaves it out of the partial index";

  DdlStatement attach = statement(DdlStatement::Kind::add_unique_using_index);
  attach.constraint = "orders_email_unique";
  attach.index = "orders_email_key";
  EXPECT_NE(table.rewrite_error(attach).find("does not exist"), std::string::npos);
  DdlStatement plain_index = index;
  plain_index.unique = false;
  table.apply(plain_index);
  EXPECT_NE(table.rewrite_error(attach).find("is not a unique index"), std::string::npos);
  table.apply(statement(DdlStatement::Kind::drop_index));  // names no index: nothing happens
  DdlStatement drop = statement(DdlStatement::Kind::drop_index);
  drop.column = "orders_email_key";
  table.apply(drop);

  table.set_cell(3, table.column_index("email"), Value::text("c"));
  ASSERT_EQ(table.rewrite_error(index), "");
  table.apply(index);
  ASSERT_EQ(table.rewrite_error(attach), "");
  table.apply(attach);
  EXPECT_TRUE(table.has_index("orders_email_unique")) << "the index takes the constraint's name";
  EXPECT_FALSE(table.has_index("orders_email_key"));
  ASSERT_NE(table.constraint("orders_email_unique"), nullptr);
  EXPECT_EQ(table.constraint("orders_email_unique")->columns, (Lines{"email"}));

  DdlStatement drop_constraint = statement(DdlStatement::Kind::drop_constraint);
  drop_constraint.constraint = "orders_email_unique";
  table.apply(drop_constraint);
  EXPECT_EQ(table.constraint("orders_email_unique"), nullptr);
  EXPECT_FALSE(table.has_index("orders_email_unique")) << "a UNIQUE constraint's index goes with it";
}

TEST(PgrollTable, ConstraintsFollowRenamesAndGoWithTheirColumn) {
  sim::Table table = orders();
  DdlStatement add = statement(DdlStatement::Kind::add_check);
  add.constraint = "email_set";
  add.columns = {"email"};
  add.check = "length(email) > 0";
  table.apply(add);
  DdlStatement rename = statement(DdlStatement::Kind::rename_column);
  rename.column = "email";
  rename.to = "mail";
  table.apply(rename);
  EXPECT_EQ(table.constraint("email_set")->columns, (Lines{"mail"}));
  DdlStatement validate = statement(DdlStatement::Kind::validate_constraint);
  validate.constraint = "email_set";
  EXPECT_EQ(table.rewrite_error(validate), "") << "the check reads the renamed column: " << table.constraint("email_set")->check;

  DdlStatement rename_constraint = statement(DdlStatement::Kind::rename_constraint);
  rename_constraint.constraint = "email_set";
  rename_constraint.to = "mail_set";
  table.apply(rename_constraint);
  EXPECT_NE(table.constraint("mail_set"), nullptr);

  DdlStatement drop = statement(DdlStatement::Kind::drop_column);
  drop.column = "mail";
  table.apply(drop);
  EXPECT_TRUE(table.constraints().empty());
}

TEST(PgrollTable, DefaultsNullabilityCommentsAndReplicaIdentity) {
  sim::Table table = orders();
  DdlStatement add = statement(DdlStatement::Kind::add_column);
  add.column = "tier";
  add.type = ColumnType::integer;
  add.default_sql = "7";
  table.apply(add);
  for (std::int64_t id = 1; id <= 3; ++id) EXPECT_EQ(table.cell(id, table.column_index("tier")), Value::integer(7)) << id;

  DdlStatement set_not_null = statement(DdlStatement::Kind::set_not_null);
  set_not_null.column = "tier";
  set_not_null.with_valid_check = true;
  table.apply(set_not_null);
  EXPECT_TRUE(table.catalog().column("tier")->not_null);
  DdlStatement drop_not_null = set_not_null;
  drop_not_null.kind = DdlStatement::Kind::drop_not_null;
  table.apply(drop_not_null);
  EXPECT_FALSE(table.catalog().column("tier")->not_null);

  DdlStatement drop_default = statement(DdlStatement::Kind::drop_default);
  drop_default.column = "tier";
  table.apply(drop_default);
  EXPECT_EQ(table.columns().back().default_sql, "");

  DdlStatement comment = statement(DdlStatement::Kind::comment);
  comment.column = "tier";
  comment.comment = "loyalty";
  table.apply(comment);
  EXPECT_EQ(table.comment("tier"), "loyalty");
  DdlStatement identity = statement(DdlStatement::Kind::set_replica_identity);
  identity.identity = "full";
  table.apply(identity);
  EXPECT_EQ(table.replica_identity(), "full");
}

TEST(PgrollTable, CreatedFromACreateTableAndForeignKeyValidation) {
  DdlStatement create = statement(DdlStatement::Kind::create_table);
  create.table = "customers";
  create.table_columns = {ColumnSpec{.name = "email", .type = ColumnType::text, .not_null = true, .default_sql = "''"}};
  sim::Table customers = sim::Table::created(create);
  EXPECT_EQ(customers.live_column_names(), (Lines{"id", "email"}));
  EXPECT_EQ(customers.row_count(), 0);
  EXPECT_TRUE(customers.catalog().column("email")->not_null);

  // orders.amount as a key into customers.id: 10 and -5 have no customer; NULL is not checked.
  sim::Table table = orders();
  DdlStatement add = statement(DdlStatement::Kind::add_foreign_key);
  add.constraint = "orders_customer_fk";
  add.columns = {"amount"};
  add.ref_table = "customers";
  add.ref_columns = {"id"};
  EXPECT_EQ(table.foreign_key_error(add, customers), "") << "NOT VALID reads no row";
  table.apply(add);
  DdlStatement validate = statement(DdlStatement::Kind::validate_constraint);
  validate.constraint = "orders_customer_fk";
  validate.constraint_kind = ConstraintKind::foreign_key;
  EXPECT_EQ(table.rewrite_error(validate), "") << "a foreign key is checked against its referenced table";
  const std::string error = table.foreign_key_error(validate, customers);
  EXPECT_NE(error.find("row 1"), std::string::npos) << error;
  for (int i = 0; i < 10; ++i) customers.insert(Row({Value::text("c")}, Writer::initial));
  EXPECT_NE(table.foreign_key_error(validate, customers).find("row 2"), std::string::npos) << "-5 still has no customer";
  table.set_cell(2, table.column_index("amount"), Value::integer(3));
  EXPECT_EQ(table.foreign_key_error(validate, customers), "");
}

TEST(PgrollStatements, NewKindsTakeTheirPostgresModes) {
  DdlStatement unique = statement(DdlStatement::Kind::add_unique_using_index);
  EXPECT_EQ(statement_kind(unique), StatementKind::add_constraint_using_index);
  EXPECT_EQ(lock_on(statement_model(StatementKind::add_constraint_using_index), RelationRole::table), LockMode::access_exclusive);
  EXPECT_EQ(statement_model(StatementKind::add_constraint_using_index).work, TableWork::catalog_only);
  DdlStatement check = statement(DdlStatement::Kind::add_check);
  EXPECT_EQ(statement_kind(check), StatementKind::add_check_not_valid);
  check.not_valid = false;
  EXPECT_EQ(statement_kind(check), StatementKind::add_check);
  DdlStatement fk = statement(DdlStatement::Kind::add_foreign_key);
  EXPECT_EQ(lock_on(statement_model(statement_kind(fk)), RelationRole::referenced_table), LockMode::share_row_exclusive);
  DdlStatement comment = statement(DdlStatement::Kind::comment);
  EXPECT_EQ(statement_kind(comment), StatementKind::comment_on_table);
  comment.column = "amount";
  EXPECT_EQ(statement_kind(comment), StatementKind::comment_on_column);
  comment.comment = "it's";
  EXPECT_EQ(statement_sql(comment, plain), "COMMENT ON COLUMN orders.amount IS 'it''s'");
  DdlStatement opaque = statement(DdlStatement::Kind::opaque_sql);
  opaque.sql = "DO $$ BEGIN END $$";
  EXPECT_EQ(statement_sql(opaque, plain), opaque.sql);
  EXPECT_EQ(lock_on(statement_model(statement_kind(opaque)), RelationRole::table), LockMode::access_exclusive);
  DdlStatement identity = statement(DdlStatement::Kind::set_replica_identity);
  identity.identity = "index";
  identity.index = "orders_pkey";
  EXPECT_EQ(statement_sql(identity, plain), "ALTER TABLE orders REPLICA IDENTITY USING INDEX orders_pkey");
}

}  // namespace
}  // namespace rehearse

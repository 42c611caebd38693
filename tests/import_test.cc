// `rehearse import` (cli/import.cc, docs/import.md): a directory of migrations becomes one
// scenario per migration, each against the schema the earlier ones built, and `check` rehearses
// them; a migration rehearse cannot take is refused with its file and line while the others are
// written.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "core/schema_sql.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

namespace fs = std::filesystem;

const std::string kPgrollDir = std::string(REHEARSE_SOURCE_DIR) + "/tests/data/import/pgroll";

std::string fresh_dir(const std::string& name) {
  const std::string dir = testing::temp_dir() + name;
  fs::remove_all(dir);
  return dir;
}

TEST(Import, PgrollDirectoryBecomesScenariosThatPassCheck) {
  const std::string out = fresh_dir("import-pgroll");
  const testing::CommandResult imported = testing::run_rehearse("import --format pgroll " + kPgrollDir + " --out " + out);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.err.find("8 of 8 migrations written"), std::string::npos) << imported.err;
  for (const char* name : {"01-create-shop", "02-order-size", "03-pad-names", "04-order-store", "05-reservations", "06-phone-check",
                           "07-mood", "08-sample"}) {
    EXPECT_TRUE(fs::exists(out + "/" + name + ".yaml")) << name;
  }
  // The first migration meets no table; every later one meets the schema the earlier ones built.
  EXPECT_FALSE(fs::exists(out + "/schemas/01-create-shop.sql"));
  const std::string last = testing::read_whole_file(out + "/schemas/08-sample.sql");
  const SchemaSql schema = read_schema_sql(last, "08-sample.sql");
  ASSERT_TRUE(schema.errors.empty()) << schema.errors.front().message;
  std::vector<std::string> names;
  for (const TableSpec& t : schema.tables) names.push_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"customers", "stores", "orders", "reservations"}));
  const TableSpec& orders = schema.tables[2];
  std::vector<std::string> columns;
  for (const ColumnSpec& c : orders.columns) columns.push_back(c.name);
  EXPECT_EQ(columns, (std::vector<std::string>{"customer_id", "total", "placed_at", "size", "store_code", "store_region"}));
  EXPECT_EQ(schema.enum_types.size(), 1u);

  const testing::CommandResult checked = testing::run_rehearse("check " + out);
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  EXPECT_NE(checked.out.find("all 8 expectations met"), std::string::npos) << checked.out;
}

// golang-migrate's layout: `.up.sql` in order (000010 after 000004), `.down.sql` left out; a
// DO block, a function and its trigger, an enum type, IF [NOT] EXISTS, a transaction block.
TEST(Import, SqlDirectoryRunsAsWrittenAndPlansPerStatement) {
  const std::string out = fresh_dir("import-sql");
  const testing::CommandResult imported =
      testing::run_rehearse("import " + std::string(REHEARSE_SOURCE_DIR) + "/tests/data/import/sql --format sql --out " + out);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.err.find("5 of 5 migrations written"), std::string::npos) << imported.err;
  EXPECT_FALSE(fs::exists(out + "/000001-init-down.yaml"));
  EXPECT_LT(imported.out.find("000004-account-lookup.yaml"), imported.out.find("000010-invoice-due.yaml"));
  // The schema the last one meets: what the earlier files built, the enum's added value included.
  const SchemaSql schema = read_schema_sql(testing::read_whole_file(out + "/schemas/000010-invoice-due.sql"), "schema.sql");
  ASSERT_TRUE(schema.errors.empty()) << schema.errors.front().message;
  ASSERT_EQ(schema.tables.size(), 2u);
  ASSERT_EQ(schema.enum_types.size(), 1u);
  EXPECT_EQ(schema.enum_types[0].labels, (std::vector<std::string>{"active", "suspended", "closed"}));
  const testing::CommandResult plan = testing::run_rehearse("plan " + out + "/000004-account-lookup.yaml");
  EXPECT_EQ(plan.exit_code, 0) << plan.err;
  EXPECT_NE(plan.out.find("000004_account_lookup.up.sql:3"), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("sql-opaque"), std::string::npos) << plan.out;
  const testing::CommandResult checked = testing::run_rehearse("check " + out);
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
}

TEST(Import, ARefusedMigrationNamesItsFileAndLineAndTheOthersAreWritten) {
  const std::string in = fresh_dir("import-refusal-in");
  fs::create_directories(in);
  fs::copy_file(kPgrollDir + "/01_create_shop.yaml", in + "/1_create.yaml");
  testing::write_temp_file("import-refusal-in/2_exists.yaml",
                           "operations:\n"
                           "  - add_column:\n"
                           "      table: orders\n"
                           "      up: SELECT CASE WHEN EXISTS (SELECT 1 FROM customers WHERE customers.id = customer_id) THEN 1 ELSE 0 END\n"
                           "      column: {name: known, type: integer}\n");
  testing::write_temp_file("import-refusal-in/10_index.yaml",
                           "operations:\n  - create_index: {name: orders_total_idx, table: orders, columns: [total]}\n");
  const std::string out = fresh_dir("import-refusal-out");
  const testing::CommandResult imported = testing::run_rehearse("import " + in + " --out " + out);
  EXPECT_EQ(imported.exit_code, 2);
  EXPECT_NE(imported.err.find("2_exists.yaml: refused"), std::string::npos) << imported.err;
  EXPECT_NE(imported.err.find("2_exists.yaml:4: operations[0].add_column.up"), std::string::npos) << imported.err;
  EXPECT_NE(imported.err.find("a subquery is not part of the expression language"), std::string::npos) << imported.err;
  EXPECT_NE(imported.err.find("2 of 3 migrations written"), std::string::npos) << imported.err;
  EXPECT_TRUE(fs::exists(out + "/1-create.yaml"));
  EXPECT_FALSE(fs::exists(out + "/2-exists.yaml"));
  // 10 comes after 2: digit runs are ordered by value.
  EXPECT_LT(imported.out.find("1-create.yaml"), imported.out.find("10-index.yaml")) << imported.out;
  EXPECT_EQ(testing::run_rehearse("check " + out).exit_code, 0);
}

void write_text(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

// diesel (DIR/<version>_<name>/up.sql beside down.sql) and Prisma (DIR/<name>/migration.sql):
// a directory per migration, ordered by its name; goose's down section is not applied.
TEST(Import, ADirectoryPerMigrationAndAToolsDownSection) {
  const std::string in = fresh_dir("import-layouts-in");
  write_text(in + "/2019-02-26-002946_create_user/up.sql", "CREATE TABLE user_ (id serial PRIMARY KEY, name text NOT NULL);\n");
  write_text(in + "/2019-02-26-002946_create_user/down.sql", "DROP TABLE user_;\n");
  write_text(in + "/2019-03-10-000000_add_bio/migration.sql", "ALTER TABLE user_ ADD COLUMN bio text; -- optional, for now\n");
  write_text(in + "/2019-03-09-000000_add_email.sql",
             "-- +goose Up\nALTER TABLE user_ ADD COLUMN email text;\n-- +goose Down\nALTER TABLE user_ DROP COLUMN email;\n");
  write_text(in + "/README/notes.txt", "not a migration\n");
  const std::string out = fresh_dir("import-layouts");
  const testing::CommandResult imported = testing::run_rehearse("import " + in + " --out " + out);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.err.find("3 of 3 migrations written"), std::string::npos) << imported.err;
  // Files and directories ordered together by name.
  EXPECT_LT(imported.out.find("2019-02-26-002946-create-user.yaml"), imported.out.find("2019-03-09-000000-add-email.yaml")) << imported.out;
  EXPECT_LT(imported.out.find("2019-03-09-000000-add-email.yaml"), imported.out.find("2019-03-10-000000-add-bio.yaml")) << imported.out;
  EXPECT_TRUE(fs::exists(out + "/migrations/2019-02-26-002946_create_user.sql"));
  EXPECT_TRUE(fs::exists(out + "/migrations/2019-03-10-000000_add_bio.sql"));
  // The email column the goose file adds is there for the next migration: its down section was not applied.
  const SchemaSql schema = read_schema_sql(testing::read_whole_file(out + "/schemas/2019-03-10-000000-add-bio.sql"), "add-bio.sql");
  ASSERT_TRUE(schema.errors.empty()) << schema.errors.front().message;
  ASSERT_EQ(schema.tables.size(), 1u);
  const auto& columns = schema.tables.front().columns;
  EXPECT_TRUE(std::any_of(columns.begin(), columns.end(), [](const ColumnSpec& c) { return c.name == "email"; }));
  EXPECT_EQ(testing::run_rehearse("check " + out).exit_code, 0);
}

// Flyway runs its versioned migrations by version (1 < 1.1, where the names sort 1.1 first), then
// its repeatable ones (R__), whatever their names.
TEST(Import, FlywaysRepeatableMigrationsComeAfterTheVersionedOnes) {
  const std::string in = fresh_dir("import-flyway-in");
  write_text(in + "/R__orders_view.sql", "CREATE OR REPLACE VIEW orders_view AS SELECT id FROM orders;\n");
  write_text(in + "/V1__create.sql", "CREATE TABLE orders (id bigserial PRIMARY KEY, amount int);\n");
  write_text(in + "/V1.1__amount_cents.sql", "ALTER TABLE orders ADD COLUMN amount_cents bigint;\n");
  write_text(in + "/U1.1__amount_cents.sql", "ALTER TABLE orders DROP COLUMN amount_cents;\n");
  const std::string out = fresh_dir("import-flyway");
  const testing::CommandResult imported = testing::run_rehearse("import " + in + " --out " + out);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.err.find("3 of 3 migrations written"), std::string::npos) << imported.err;
  const std::size_t create = imported.out.find("v1--create.yaml");
  const std::size_t cents = imported.out.find("v1-1--amount-cents.yaml");
  const std::size_t view = imported.out.find("r--orders-view.yaml");
  ASSERT_TRUE(create != std::string::npos && cents != std::string::npos && view != std::string::npos) << imported.out;
  EXPECT_LT(create, cents) << imported.out;
  EXPECT_LT(cents, view) << imported.out;
}

// pop / fizz (ory's kratos) keep one file per database in one directory: only PostgreSQL's and
// the files for every database are migrations of a PostgreSQL rehearsal. Kratos' directory gave
// 1,744 "migrations" (245 refused: MySQL's and SQLite's syntax) before; now 351, all written.
TEST(Import, AnotherDatabasesVersionOfAMigrationIsLeftOut) {
  const std::string in = fresh_dir("import-dialects-in");
  write_text(in + "/20200101000000_users.postgres.up.sql", "CREATE TABLE users (id uuid PRIMARY KEY, email text NOT NULL);\n");
  write_text(in + "/20200101000000_users.mysql.up.sql", "CREATE TABLE users (id CHAR(36) NOT NULL, email VARCHAR(255), PRIMARY KEY(id)) ENGINE=InnoDB;\n");
  write_text(in + "/20200101000000_users.sqlite3.up.sql", "CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL);\n");
  write_text(in + "/20200101000000_users.cockroach.up.sql", "CREATE TABLE users (id UUID PRIMARY KEY, email STRING NOT NULL);\n");
  write_text(in + "/20200101000000_users.postgres.down.sql", "DROP TABLE users;\n");
  write_text(in + "/20200202000000_name.up.sql", "ALTER TABLE users ADD COLUMN name text;\n");
  write_text(in + "/V3.MySQLNotes.up.sql", "ALTER TABLE users ADD COLUMN mysql_notes text;\n");  // a word, not a dialect part
  const std::string out = fresh_dir("import-dialects");
  const testing::CommandResult imported = testing::run_rehearse("import " + in + " --out " + out);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.err.find("3 of 3 migrations written"), std::string::npos) << imported.err;
  EXPECT_NE(imported.out.find("20200101000000-users-postgres.yaml"), std::string::npos) << imported.out;
  EXPECT_EQ(imported.out.find("mysql.yaml"), std::string::npos) << imported.out;
  EXPECT_EQ(imported.out.find("sqlite3"), std::string::npos) << imported.out;
}

// Sqitch: the changes in sqitch.plan's order (not the scripts' names), each deploy/CHANGE.sql; a
// change reworked after a tag ran first as deploy/CHANGE@TAG.sql. revert/ and verify/ are not
// migrations. A change without its script is exit 2 naming it.
TEST(Import, ASqitchProjectInItsPlansOrder) {
  const std::string in = fresh_dir("import-sqitch-in");
  write_text(in + "/sqitch.plan",
             "%syntax-version=1.0.0\n%project=shop\n\n"
             "users 2020-01-01T00:00:00Z A <a@x> # users\n"
             "orders [users] 2020-01-02T00:00:00Z A <a@x> # orders\n"
             "@v1.0 2020-01-03T00:00:00Z A <a@x> # release\n\n"
             "add_email [users] 2020-01-04T00:00:00Z A <a@x> # email\n"
             "orders [orders@v1.0] 2020-01-05T00:00:00Z A <a@x> # orders reworked\n");
  write_text(in + "/deploy/users.sql", "BEGIN;\nCREATE TABLE users (id bigserial PRIMARY KEY);\nCOMMIT;\n");
  write_text(in + "/deploy/orders@v1.0.sql", "BEGIN;\nCREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint);\nCOMMIT;\n");
  write_text(in + "/deploy/orders.sql", "BEGIN;\nALTER TABLE orders ADD COLUMN amount int;\nCOMMIT;\n");
  write_text(in + "/deploy/add_email.sql", "BEGIN;\nALTER TABLE users ADD COLUMN email text;\nCOMMIT;\n");
  write_text(in + "/revert/users.sql", "BEGIN;\nDROP TABLE users;\nCOMMIT;\n");
  write_text(in + "/verify/users.sql", "SELECT id FROM users WHERE false;\n");
  const std::string out = fresh_dir("import-sqitch");
  const testing::CommandResult imported = testing::run_rehearse("import " + in + " --out " + out);
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_NE(imported.err.find("4 of 4 migrations written"), std::string::npos) << imported.err;
  const std::size_t users = imported.out.find("/users.yaml");
  const std::size_t first_orders = imported.out.find("/orders-v1-0.yaml");
  const std::size_t email = imported.out.find("/add-email.yaml");
  const std::size_t orders = imported.out.find("/orders.yaml");
  ASSERT_TRUE(users != std::string::npos && first_orders != std::string::npos && email != std::string::npos && orders != std::string::npos)
      << imported.out;
  EXPECT_LT(users, first_orders);
  EXPECT_LT(first_orders, email);
  EXPECT_LT(email, orders);
  EXPECT_EQ(testing::run_rehearse("check " + out).exit_code, 0);

  fs::remove(in + "/deploy/add_email.sql");
  const testing::CommandResult missing = testing::run_rehearse("import " + in + " --out " + fresh_dir("import-sqitch-missing"));
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("change add_email has no deploy script"), std::string::npos) << missing.err;
}

TEST(Import, BadArgumentsAreExitTwoAndAnUnreachableDatabaseExitThree) {
  const std::string out = fresh_dir("import-bad");
  EXPECT_EQ(testing::run_rehearse("import /no/such/dir --out " + out).exit_code, 2);
  EXPECT_EQ(testing::run_rehearse("import " + kPgrollDir + " --format yaml --out " + out).exit_code, 2);
  const testing::CommandResult both =
      testing::run_rehearse("import " + kPgrollDir + " --schema x.sql --from-db 'host=127.0.0.1 port=1' --out " + out);
  EXPECT_EQ(both.exit_code, 2);
  const testing::CommandResult unreachable = testing::run_rehearse(
      "import " + kPgrollDir + " --from-db 'host=127.0.0.1 port=1 dbname=x user=u password=hunter2 connect_timeout=2' --out " + out);
  EXPECT_EQ(unreachable.exit_code, 3) << unreachable.err;
  EXPECT_EQ(unreachable.err.find("hunter2"), std::string::npos) << unreachable.err;
}

// pgroll's own examples (xataio/pgroll's examples/, 56 migrations applied in order in its CI):
// REHEARSE_PGROLL_EXAMPLES names a checkout's directory (not vendored here).
TEST(Import, PgrollsOwnExamples) {
  const char* examples = std::getenv("REHEARSE_PGROLL_EXAMPLES");
  if (examples == nullptr) GTEST_SKIP() << "REHEARSE_PGROLL_EXAMPLES is not set";
  const std::string out = fresh_dir("import-pgroll-examples");
  const testing::CommandResult imported = testing::run_rehearse(std::string("import --format pgroll ") + examples + " --out " + out);
  EXPECT_NE(imported.err.find("53 of 56 migrations written"), std::string::npos) << imported.err;
  const testing::CommandResult checked = testing::run_rehearse("check " + out);
  EXPECT_EQ(checked.exit_code, 0) << checked.out;
  EXPECT_NE(checked.out.find("all 53 expectations met"), std::string::npos) << checked.out;
}

}  // namespace
}  // namespace rehearse

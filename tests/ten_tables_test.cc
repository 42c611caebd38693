// Issue 13, acceptance 3: the ten-table schema of tests/data/ten-tables/schema.sql (foreign keys
// between its tables) rehearses one migration per operation kind with traffic on every table,
// every invariant holding over seeds 1..20; and what each migration did is in every region's
// tables at the end, so a pass is not the pass of a migration that did nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "core/invariants.h"
#include "core/plan.h"
#include "scenarios/loader.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

const std::string kDir = std::string(REHEARSE_SOURCE_DIR) + "/tests/data/ten-tables";

Scenario load(const std::string& name) {
  LoadResult loaded = load_scenario_file(kDir + "/" + name + ".yaml");
  EXPECT_TRUE(loaded.ok()) << name << (loaded.errors.empty() ? "" : ": " + loaded.errors.front().to_string());
  return loaded.ok() ? *loaded.scenario : Scenario{};
}

// The end snapshot of `table` on the primary of `region` ("" = the first table), or nullptr.
const TableSnapshot* end_table(const Observations& observations, const std::string& region, const std::string& table) {
  for (const TableSnapshot& snapshot : observations.snapshots) {
    if (snapshot.moment == "end" && snapshot.node == "db:" + region && snapshot.table_name == table) return &snapshot;
  }
  return nullptr;
}

bool has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST(TenTables, OneScenarioPerOperationKindWithTrafficOnEveryTable) {
  std::set<OperationKind> kinds;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kDir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    const Scenario scenario = load(entry.path().stem().string());
    EXPECT_EQ(all_tables(scenario).size(), 10u) << entry.path();
    EXPECT_EQ(scenario.workload.tables.size(), 10u) << entry.path();
    for (const TableWorkload& traffic : scenario.workload.tables) EXPECT_GT(traffic.writes_per_s, 0) << traffic.table;
    for (const Operation& op : scenario.migration.operations) kinds.insert(op.kind);
  }
  EXPECT_EQ(files, 16);
  EXPECT_EQ(kinds.size(), static_cast<std::size_t>(OperationKind::sql) + 1) << "an operation kind has no scenario";
}

TEST(TenTables, EveryScenarioPassesOverSeeds1To20) {
  const testing::CommandResult result = testing::run_rehearse("check " + kDir + " --jobs 2");
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("check: all 16 expectations met"), std::string::npos) << result.out;
}

// Runs a scenario to its end and returns the world for inspection.
struct Ran {
  explicit Ran(const std::string& name, std::uint64_t seed = 7)
      : scenario(load(name)), world(scenario, seed, compile_plan(scenario).value()), result(world.run()) {}
  Scenario scenario;
  sim::World world;
  RunResult result;
};

TEST(TenTables, TableLevelOperationsChangeEveryRegionsSetOfTables) {
  for (const char* region : {"us-east-1", "eu-west-1"}) {
    {
      Ran ran("rename-table");
      ASSERT_FALSE(ran.result.violated()) << ran.result.violations.front().detail;
      const sim::SimDatabase& db = *ran.world.database(region);
      EXPECT_TRUE(db.has_table("payment_records"));
      EXPECT_FALSE(db.has_table("payments"));
      const TableSnapshot* renamed = end_table(ran.world.observations(), region, "payment_records");
      ASSERT_NE(renamed, nullptr);
      EXPECT_EQ(renamed->table.row_count(), db.table("payment_records").row_count());
      EXPECT_GT(renamed->table.row_count(), 300u) << "the new code kept writing to it under its new name";
    }
    {
      Ran ran("drop-table");
      ASSERT_FALSE(ran.result.violated()) << ran.result.violations.front().detail;
      EXPECT_FALSE(ran.world.database(region)->has_table("audit_log"));
      EXPECT_EQ(end_table(ran.world.observations(), region, "audit_log"), nullptr);
      EXPECT_EQ(ran.world.database(region)->table_names().size(), 9u);
    }
    {
      Ran ran("create-table");
      ASSERT_FALSE(ran.result.violated()) << ran.result.violations.front().detail;
      EXPECT_EQ(ran.world.database(region)->table("coupons").live_column_names(),
                (std::vector<std::string>{"id", "code", "percent"}));
    }
  }
}

TEST(TenTables, OperationsOnOtherTablesReachTheirCatalogs) {
  {
    Ran ran("drop-column");
    ASSERT_FALSE(ran.result.violated());
    EXPECT_FALSE(has(ran.world.database("eu-west-1")->column_names("shipments"), "tracking"));
    EXPECT_TRUE(has(ran.world.database("eu-west-1")->column_names("shipments"), "carrier"));
  }
  {
    Ran ran("create-index");
    ASSERT_FALSE(ran.result.violated());
    const TableSnapshot* reviews = end_table(ran.world.observations(), "eu-west-1", "reviews");
    ASSERT_NE(reviews, nullptr);
    EXPECT_TRUE(has(reviews->catalog.indexes, "reviews_customer_rating_idx"));
  }
  {
    Ran ran("drop-index");
    ASSERT_FALSE(ran.result.violated());
    const TableSnapshot* before = nullptr;
    for (const TableSnapshot& snapshot : ran.world.observations().snapshots) {
      if (snapshot.table_name == "shipments" && before == nullptr) before = &snapshot;
    }
    ASSERT_NE(before, nullptr);
    EXPECT_TRUE(has(before->catalog.indexes, "shipments_order_id_idx")) << "the schema file's index, at " << before->moment;
    EXPECT_FALSE(has(end_table(ran.world.observations(), "us-east-1", "shipments")->catalog.indexes, "shipments_order_id_idx"));
  }
  {
    Ran ran("drop-constraint");
    ASSERT_FALSE(ran.result.violated());
    EXPECT_FALSE(has(end_table(ran.world.observations(), "eu-west-1", "products")->catalog.constraints, "products_stock_check"));
  }
  {
    Ran ran("rename-constraint");
    ASSERT_FALSE(ran.result.violated());
    const TableSnapshot* accounts = end_table(ran.world.observations(), "us-east-1", "accounts");
    ASSERT_NE(accounts, nullptr);
    EXPECT_TRUE(has(accounts->catalog.constraints, "accounts_email_unique"));
    EXPECT_FALSE(has(accounts->catalog.constraints, "accounts_email_key"));
  }
}

// The foreign key is validated against the referenced table's rows: reviews that name
// customers who do not exist make VALIDATE CONSTRAINT fail, and the rehearsal says so.
TEST(TenTables, AForeignKeyTheRowsBreakFailsItsValidation) {
  Scenario scenario = load("create-constraint");
  bool changed = false;
  for (TableSpec& table : scenario.more_tables) {
    if (table.name != "reviews") continue;
    for (ColumnSpec& column : table.columns) {
      if (column.name != "customer_id") continue;
      column.gen = "1..5000";  // customers has 300 rows
      column.gen_written = true;
      changed = true;
    }
  }
  ASSERT_TRUE(changed);
  sim::World world(scenario, 3, compile_plan(scenario).value());
  const RunResult result = world.run();
  EXPECT_TRUE(result.violated());
  EXPECT_NE(result.outcome, "completed");
  EXPECT_GT(testing::count_events(result, [](const Event& event) {
              return event.detail.find("violates foreign key constraint \"reviews_customer_id_fkey\"") != std::string::npos;
            }),
            0);
  EXPECT_TRUE(world.database("us-east-1")->table("reviews").catalog().constraints.size() >= 1);
}

// A region whose copy of another table ended differently from the other region's is a
// schema-convergence violation (the checker compares every table, not only the first).
TEST(TenTables, SchemaConvergenceComparesEveryTable) {
  Ran ran("create-index");
  Observations observations = ran.world.observations();
  for (TableSnapshot& snapshot : observations.snapshots) {
    if (snapshot.moment == "end" && snapshot.node == "db:eu-west-1" && snapshot.table_name == "reviews") {
      snapshot.catalog.indexes.clear();  // as if eu-west-1 never built the index
    }
  }
  const std::vector<Violation> violations = check_schema_convergence(observations);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_NE(violations.front().detail.find("table reviews"), std::string::npos) << violations.front().detail;
}

// A write acknowledged on another table and missing from its final state is a lost write.
TEST(TenTables, NoLostWritesJudgesEveryTable) {
  Ran ran("drop-constraint");
  Observations observations = ran.world.observations();
  const auto write = std::find_if(observations.acknowledged.begin(), observations.acknowledged.end(),
                                  [](const AcknowledgedWrite& w) { return w.table == "inventory_events"; });
  ASSERT_NE(write, observations.acknowledged.end());
  EXPECT_TRUE(check_no_lost_writes(observations).empty());
  for (auto& [column, value] : write->values) {
    if (column != "id") value = Value::text("never-written");
  }
  const std::vector<Violation> violations = check_no_lost_writes(observations);
  ASSERT_FALSE(violations.empty());
  EXPECT_NE(violations.front().detail.find("table inventory_events"), std::string::npos) << violations.front().detail;
}

}  // namespace
}  // namespace rehearse

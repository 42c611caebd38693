// `migration.from`: a migration read from pgroll files (real-migrations.md, "Migration
// sources"), its operations as they would be inline, its errors at the pgroll file's line.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "core/plan.h"
#include "scenarios/loader.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

const std::string kDir = std::string(REHEARSE_SOURCE_DIR) + "/tests/data/pgroll";

// A scenario file in a temporary directory, with the pgroll file `name` next to it.
LoadResult load_with(const std::string& migration, const std::string& name, const std::string& pgroll) {
  const std::string dir = testing::temp_dir();
  std::ofstream(dir + name) << pgroll;
  std::ofstream(dir + "scenario.yaml") << "name: t\ndescription: d\n"
                                           "tables:\n"
                                           "  - name: products\n"
                                           "    rows: 100\n"
                                           "    columns:\n"
                                           "      title: {type: text}\n"
                                           "migration:\n"
                                        << migration;
  return load_scenario_file(dir + "scenario.yaml");
}

std::string first_error(const LoadResult& loaded) {
  return loaded.errors.empty() ? "(no error)" : loaded.errors.front().to_string();
}

TEST(PgrollFiles, OperationsComeFromTheFilesInOrder) {
  const LoadResult loaded = load_scenario_file(kDir + "/shop.yaml");
  ASSERT_TRUE(loaded.ok()) << first_error(loaded);
  const MigrationSpec& m = loaded.scenario->migration;
  ASSERT_EQ(m.operations.size(), 4u);
  EXPECT_EQ(m.operations[0].kind, OperationKind::add_column);
  EXPECT_EQ(m.operations[0].table, "products");
  EXPECT_EQ(m.operations[1].kind, OperationKind::create_index);
  EXPECT_EQ(m.operations[2].kind, OperationKind::create_constraint);
  EXPECT_EQ(m.operations[3].kind, OperationKind::rename_constraint);
  ASSERT_EQ(m.from.size(), 2u);
  EXPECT_NE(m.from[0].find("01_add_description.json"), std::string::npos);
  EXPECT_EQ(m.name, "02_reviews_rating");  // pgroll names a migration after its (last) file
  // The same operations written inline compile to the same plan.
  EXPECT_TRUE(compile_plan(*loaded.scenario).is_ok());
}

TEST(PgrollFiles, TheMigrationRunsAndPasses) {
  const LoadResult loaded = load_scenario_file(kDir + "/shop.yaml");
  ASSERT_TRUE(loaded.ok()) << first_error(loaded);
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    sim::World world(*loaded.scenario, seed, compile_plan(*loaded.scenario).value());
    const RunResult result = world.run();
    EXPECT_FALSE(result.violated()) << result.violations.front().detail;
    EXPECT_EQ(result.outcome, "completed");
    EXPECT_TRUE(world.database("eu-west-1")->table("reviews").catalog().constraints.size() >= 2);
    const std::vector<std::string> columns = world.database("eu-west-1")->column_names("products");
    EXPECT_NE(std::find(columns.begin(), columns.end(), "description"), columns.end());
  }
}

TEST(PgrollFiles, ErrorsNameThePgrollFileAndLine) {
  const LoadResult loaded = load_with("  from: bad.yaml\n", "bad.yaml",
                                      "operations:\n"
                                      "  - add_column:\n"
                                      "      table: products\n"
                                      "      colum: {name: x, type: text}\n");
  ASSERT_FALSE(loaded.ok());
  for (const ScenarioError& error : loaded.errors) EXPECT_NE(error.file.find("bad.yaml"), std::string::npos) << error.to_string();
  const auto unknown = std::find_if(loaded.errors.begin(), loaded.errors.end(),
                                    [](const ScenarioError& e) { return e.message.find("unknown key") != std::string::npos; });
  ASSERT_NE(unknown, loaded.errors.end()) << first_error(loaded);
  EXPECT_EQ(unknown->line, 4) << unknown->to_string();
  EXPECT_EQ(unknown->key, "operations[0].add_column.colum") << unknown->to_string();
  EXPECT_NE(unknown->message.find("did you mean 'column'"), std::string::npos) << unknown->to_string();
}

TEST(PgrollFiles, ATableTheSchemaLacksIsAnErrorInTheFile) {
  const LoadResult loaded =
      load_with("  from: [m.json]\n", "m.json", "{\"operations\": [{\"drop_column\": {\"table\": \"orders\", \"column\": \"x\"}}]}");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(first_error(loaded).find("m.json:1"), std::string::npos) << first_error(loaded);
  EXPECT_NE(first_error(loaded).find("no table 'orders'"), std::string::npos) << first_error(loaded);
}

TEST(PgrollFiles, RefusedSourcesAndModes) {
  // SQL files load now (tests/sql_migration_test.cc); one that does not parse is refused at its line.
  EXPECT_TRUE(load_with("  from: up.sql\n", "up.sql", "ALTER TABLE products ADD COLUMN x text;\n").ok());
  EXPECT_NE(first_error(load_with("  from: up.sql\n", "up.sql", "ALTER TABLE products ADD COLUM x text;\n")).find("up.sql:1"),
            std::string::npos);
  EXPECT_NE(first_error(load_with("  from: m.yaml\n  mode: as-written\n", "m.yaml", "operations: []\n"))
                .find("pgroll migrations run expand-contract"),
            std::string::npos);
  EXPECT_NE(first_error(load_with("  from: missing.yaml\n", "m.yaml", "operations: []\n")).find("cannot read"),
            std::string::npos);
  EXPECT_NE(first_error(load_with("  from: m.yaml\n  operations: []\n", "m.yaml", "operations: []\n")).find("not both"),
            std::string::npos);
  EXPECT_NE(first_error(load_with("  from: m.yaml\n", "m.yaml", "operations: [\n")).find("m.yaml"), std::string::npos);
}

TEST(PgrollFiles, TheCliRunsTheFilesAndExitsTwoOnABadOne) {
  const testing::CommandResult ok = testing::run_rehearse("check " + kDir + "/shop.yaml");
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  load_with("  from: bad.json\n", "bad.json", "{\"operations\": [{\"create_index\": {\"table\": \"products\"}}]}");
  const testing::CommandResult bad = testing::run_rehearse("run " + testing::temp_dir() + "scenario.yaml");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("bad.json:1"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace rehearse

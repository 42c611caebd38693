// The as-written crash sweep in the simulator (tests/crash_sweep.h): for every crash point the
// table ends as PostgreSQL leaves it -- the statements before the crash applied, a block the
// engine died inside rolled back, an interrupted CREATE INDEX CONCURRENTLY's index INVALID, the
// re-run failing on what the first run left -- and each run is reproducible from its seed. The
// live suite runs the cases it can time exactly against PostgreSQL
// (LiveTest.CrashSweepEndsAsTheSimulatorSays).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "core/plan.h"
#include "scenarios/loader.h"
#include "scenarios/scenario_yaml.h"
#include "sim/world.h"
#include "tests/crash_sweep.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

using crash_sweep::State;

Scenario load_case(const crash_sweep::Case& c) {
  const std::string dir = testing::temp_dir();
  std::ofstream(dir + "crash-sweep.sql") << c.file;
  std::ofstream(dir + "crash-sweep.yaml") << crash_sweep::scenario_yaml(c);
  const LoadResult loaded = load_scenario_file(dir + "crash-sweep.yaml");
  EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors.front().to_string());
  return loaded.ok() ? *loaded.scenario : Scenario{};
}

std::string index_state(const sim::Table& table, const std::string& name) {
  if (!table.has_index(name)) return "absent";
  return table.index_valid(name) ? "valid" : "invalid";
}

State simulated_state(const Scenario& scenario, std::uint64_t seed, std::string* trace_hash = nullptr) {
  sim::World world(scenario, seed, compile_plan(scenario).value());
  const RunResult result = world.run();
  if (trace_hash != nullptr) *trace_hash = result.trace_hash;
  const sim::Table& table = world.database("us-east-1")->table("orders");
  State state;
  const std::vector<std::string> columns = table.live_column_names();
  for (const char* column : {"note", "status"}) {
    if (std::find(columns.begin(), columns.end(), column) != columns.end()) state.columns.push_back(column);
  }
  state.status_index = index_state(table, "orders_status_idx");
  state.note_index = index_state(table, "orders_note_idx");
  state.check = table.constraint("orders_amount_check") != nullptr;
  state.completed = result.outcome == "completed";
  return state;
}

TEST(CrashSweep, EveryCrashPointEndsAsPostgresLeavesIt) {
  for (const crash_sweep::Case& c : crash_sweep::cases()) {
    SCOPED_TRACE(c.name);
    const Scenario scenario = load_case(c);
    for (std::uint64_t seed : {1, 2, 3}) {
      std::string first, second;
      const State state = simulated_state(scenario, seed, &first);
      EXPECT_EQ(state, c.expected) << "seed " << seed << ": " << crash_sweep::to_string(state) << "\n  expected "
                                   << crash_sweep::to_string(c.expected);
      simulated_state(scenario, seed, &second);
      EXPECT_EQ(first, second) << "seed " << seed << " is not reproducible";
    }
  }
}

// The model's rule that makes "inside the block" right: a statement whose engine is gone before
// COMMIT is rolled back. The same file without the crash commits the block.
TEST(CrashSweep, WithoutTheCrashTheBlockCommits) {
  const std::vector<crash_sweep::Case> cases = crash_sweep::cases();
  crash_sweep::Case c = *std::find_if(cases.begin(), cases.end(), [](const crash_sweep::Case& x) { return std::string(x.name) == "inside the block"; });
  c.crash_at = "{phase: contract, after: 1s}";  // a phase the file's run reaches after the block
  const State state = simulated_state(load_case(c), 1);
  EXPECT_EQ(state.columns, (std::vector<std::string>{"note", "status"}));
  EXPECT_EQ(state.status_index, "valid");
}

// `statement:` is checked: a number, a SQL file run as written, phase expand.
TEST(CrashSweep, StatementTriggersAreChecked) {
  const std::string dir = testing::temp_dir();
  std::ofstream(dir + "crash-sweep.sql") << crash_sweep::kMixedFile;
  crash_sweep::Case c = crash_sweep::cases()[0];
  for (const auto& [at, message] : std::vector<std::pair<std::string, std::string>>{
           {"{phase: expand, statement: 0}", "expected a statement number"},
           {"{phase: expand, statement: two}", "expected a statement number"},
           {"{phase: backfill, statement: 1}", "run in phase expand, not backfill"}}) {
    c.crash_at = at.c_str();
    std::ofstream(dir + "bad-trigger.yaml") << crash_sweep::scenario_yaml(c);
    const LoadResult loaded = load_scenario_file(dir + "bad-trigger.yaml");
    ASSERT_FALSE(loaded.ok()) << at;
    EXPECT_NE(loaded.errors.front().to_string().find(message), std::string::npos) << loaded.errors.front().to_string();
    EXPECT_NE(loaded.errors.front().to_string().find("bad-trigger.yaml:"), std::string::npos) << loaded.errors.front().to_string();
  }
  std::ofstream(dir + "no-sql.yaml") << "name: t\ndescription: d\ntable: {name: orders, rows: 10}\n"
                                        "migration: {operations: [{add_column: {column: {name: x, type: integer, nullable: true}}}]}\n"
                                        "faults:\n  - {at: {phase: expand, statement: 1}, crash: engine-1}\n";
  const LoadResult loaded = load_scenario_file(dir + "no-sql.yaml");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.errors.front().to_string().find("SQL file run as written"), std::string::npos) << loaded.errors.front().to_string();
}

// The scenario written out (a live run's engine processes, shrink --out, a report's
// scenario.yaml) keeps the SQL file and the statement trigger: it plans the same statements.
TEST(CrashSweep, TheWrittenScenarioKeepsTheFileAndTheTrigger) {
  const Scenario scenario = load_case(crash_sweep::cases()[2]);
  const std::string yaml = scenario_yaml(scenario, scenario.seed, History());
  const LoadResult again = load_scenario_text(yaml, "/nowhere/written.yaml");  // the files' paths are absolute
  ASSERT_TRUE(again.ok()) << (again.errors.empty() ? "" : again.errors.front().to_string()) << "\n" << yaml;
  EXPECT_EQ(again.scenario->migration.mode, MigrationMode::as_written);
  const MigrationPlan before = compile_plan(scenario).value();
  const MigrationPlan after = compile_plan(*again.scenario).value();
  EXPECT_EQ(after.expand.size(), 5u);
  EXPECT_EQ(plan_digest(after), plan_digest(before));
  ASSERT_EQ(again.scenario->faults.size(), 1u);
  ASSERT_TRUE(again.scenario->faults[0].at_phase.has_value());
  EXPECT_EQ(again.scenario->faults[0].at_phase->statement, 3);
  const auto body = [](const std::string& text) { return text.substr(text.find('\n') + 1); };  // past the header naming the source
  EXPECT_EQ(body(scenario_yaml(*again.scenario, scenario.seed, History())), body(yaml));
}

}  // namespace
}  // namespace rehearse

// Absurd inputs (issue 11, "Inputs"): each is refused with exit 2 and a message naming the
// limit, never a hang, an abort or swap. The small ones are files in tests/fixtures/absurd/;
// the large ones are generated here. Also the live config's parsing, merge's inputs and the
// numeric flags of the command line.
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "scenarios/limits.h"
#include "scenarios/live_config.h"
#include "scenarios/loader.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

using testing::run_rehearse;
using testing::write_temp_file;

std::string fixture(const std::string& name) { return std::string(REHEARSE_SOURCE_DIR) + "/tests/fixtures/absurd/" + name; }

std::string all_errors(const std::vector<ScenarioError>& errors) {
  std::string text;
  for (const ScenarioError& error : errors) text += error.to_string() + "\n";
  return text;
}

// Loads `text` and expects it refused with an error holding `expected`.
void expect_refused(const std::string& text, const std::string& expected) {
  const LoadResult loaded = load_scenario_text(text, "absurd.yaml");
  EXPECT_FALSE(loaded.ok());
  EXPECT_NE(all_errors(loaded.errors).find(expected), std::string::npos) << all_errors(loaded.errors).substr(0, 2000);
}

constexpr const char* kHeader = "name: absurd\ndescription: an absurd scenario\n";

std::string regions(int count, int replicas) {
  std::string text = "topology:\n  regions:\n";
  for (int i = 0; i < count; ++i) text += fmt::format("    - {{name: r{}, replicas: {}}}\n", i, replicas);
  return text;
}

std::string columns(int count, std::int64_t rows) {
  std::string text = fmt::format("table:\n  name: t\n  rows: {}\n  columns:\n", rows);
  for (int i = 0; i < count; ++i) text += fmt::format("    c{}: {{type: bigint}}\n", i);
  return text;
}

TEST(AbsurdInputs, FixturesExitTwoNamingTheLimit) {
  // yaml-cpp 0.7 loops without end on `,` and `, -` (4 GB in 20 s): the libfyaml pre-parse
  // refuses them; the rest name the limit they pass.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"comma.yaml", "comma.yaml:1: YAML syntax error"},
      {"comma-dash.yaml", "comma-dash.yaml:1: YAML syntax error"},
      // Forms libfyaml lets through and yaml-cpp loops on (found by fuzz/loader_fuzz): a comma
      // after a tag that ends at it, a NUL byte (libfyaml stops reading there) then `, -`.
      {"comma-after-tag.yaml", "yaml-cpp, the YAML library, would read such a file without end"},
      {"comma-after-nul.yaml", "comma-after-nul.yaml:1: a NUL byte in the text"},
      {"global-home-no-region.yaml", "global-home-no-region.yaml:8: topology.home: no region 'nowhere'"},
      {"rows-billion.yaml", "table.rows: 1000000000 rows is above the limit of 100000000"},
      {"writes-per-s-max.yaml", "workload.writes_per_s: a run of this scenario is estimated to need"},
      {"duration-year.yaml", "duration: 8760h is above the limit of 168h"},
      {"million-faults.yaml", "more than 100000 values"},
      {"deep-nesting.yaml", "more than 64 levels of lists and mappings"},
  };
  for (const auto& [file, expected] : cases) {
    SCOPED_TRACE(file);
    const auto result = run_rehearse("run " + fixture(file));
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_NE(result.err.find(expected), std::string::npos) << result.err;
    EXPECT_LT(result.err.size(), 1000u);
  }
}

TEST(AbsurdInputs, GlobalHomeThatNamesNoRegionWithAPhaseFaultIsALoadError) {
  // It aborted `run` on an assertion in core/topology.cc (exit 134): the phase trigger asked
  // for the migrated regions of a global topology without a home.
  const LoadResult loaded = load_scenario_file(fixture("global-home-no-region.yaml"));
  ASSERT_EQ(loaded.errors.size(), 1u) << all_errors(loaded.errors);
  EXPECT_EQ(loaded.errors[0].key, "topology.home");
}

TEST(AbsurdInputs, TopologyLimits) {
  expect_refused(kHeader + regions(1000, 0), "1000 regions is above the limit of 64");
  expect_refused(kHeader + regions(1000, 100), "1000 regions is above the limit of 64");
  expect_refused(kHeader + regions(60, 100), "6000 replicas in all is above the limit of 256");
  const LoadResult fine = load_scenario_text(kHeader + regions(64, 4), "fine.yaml");
  EXPECT_TRUE(fine.ok()) << all_errors(fine.errors);
}

TEST(AbsurdInputs, TableLimits) {
  expect_refused(kHeader + columns(2000, 10), "2000 columns is above the limit of 1600");
  // 50,000 columns (quadratic loading, 5.3 GB) pass the YAML value limit first.
  expect_refused(kHeader + columns(50'000, 10), "more than 100000 values");
  // 1,500 columns by a million rows: within each limit, refused by the memory estimate.
  expect_refused(kHeader + columns(1500, 1'000'000), "table.rows: a run of this scenario is estimated to need");
  const LoadResult fine = load_scenario_text(kHeader + columns(1600, 1000), "fine.yaml");
  EXPECT_TRUE(fine.ok()) << all_errors(fine.errors);
}

TEST(AbsurdInputs, MemoryEstimateNamesTheKeyThatContributesMost) {
  expect_refused(std::string(kHeader) + "workload: {reads_per_s: 1000000}\n",
                 "workload.reads_per_s: a run of this scenario is estimated to need");
  expect_refused(std::string(kHeader) + "random_faults: {rate: 100000/s, kinds: [pause], targets: [engine-*]}\n",
                 "random_faults.rate: a run of this scenario is estimated to need");
}

TEST(AbsurdInputs, FaultLimitsAndAliases) {
  std::string aliased = std::string(kHeader) + "x: &f {at: 1s, pause: engine-1, for: 1s}\nfaults:\n";
  for (int i = 0; i < 10'001; ++i) aliased += "  - *f\n";
  expect_refused(aliased, "10001 faults is above the limit of 10000");
}

TEST(AbsurdInputs, ErrorsAndListsInMessagesAreCapped) {
  // 40,000 unknown keys: the duplicate check was quadratic (100,000 took 18 s) and every one
  // was printed (21 MB); now 20 are, and a last line counts the rest.
  std::string unknown = kHeader;
  for (int i = 0; i < 40'000; ++i) unknown += fmt::format("k{}: 1\n", i);
  const LoadResult loaded = load_scenario_text(unknown, "unknown.yaml");
  ASSERT_EQ(loaded.errors.size(), kMaxErrorsShown + 1);
  EXPECT_EQ(loaded.errors.back().message, "... and 39980 more error(s); the first 20 are shown");
  // One bad fault repeated over 64 regions: every message listed every region (840 MB over
  // 5,000 regions); the list is cut at 20 names and the errors at 20.
  std::string repeated = kHeader + regions(64, 0) + "faults:\n  - &f {at: 1s, pause: nowhere, for: 1s}\n";
  for (int i = 0; i < 5000; ++i) repeated += "  - *f\n";
  const LoadResult bad = load_scenario_text(repeated, "repeated.yaml");
  EXPECT_EQ(bad.errors.size(), kMaxErrorsShown + 1);
  EXPECT_LT(all_errors(bad.errors).size(), 20'000u);
  EXPECT_NE(all_errors(bad.errors).find("r19, ... (64 in all)"), std::string::npos) << bad.errors[0].to_string();
}

TEST(AbsurdInputs, FileSize) {
  const std::string path = write_temp_file("absurd-big.yaml", std::string(kHeader) + "# " + std::string(3 << 20, 'x') + "\n");
  const LoadResult loaded = load_scenario_file(path);
  ASSERT_EQ(loaded.errors.size(), 1u);
  EXPECT_EQ(loaded.errors[0].message, "larger than 2 MiB; not a scenario file");
}

TEST(AbsurdInputs, MemoryLimitFlag) {
  // 100,000 rows of two columns: about 41 MiB estimated. Refused under a 32 MiB limit (given
  // before or after the subcommand), run under the default.
  const std::string path = write_temp_file("absurd-memory.yaml", std::string(kHeader) + columns(2, 100'000));
  const auto refused = run_rehearse("run " + path + " --memory-limit 32MiB");
  EXPECT_EQ(refused.exit_code, 2) << refused.err;
  EXPECT_NE(refused.err.find("table.rows: a run of this scenario is estimated to need"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("above the limit of 32 MiB"), std::string::npos) << refused.err;
  EXPECT_EQ(run_rehearse("--memory-limit 32MiB run " + path).exit_code, 2);
  EXPECT_EQ(run_rehearse("run " + path).exit_code, 0);
  EXPECT_EQ(run_rehearse("run " + path + " --memory-limit 2x").exit_code, 2);
}

TEST(AbsurdInputs, NumericFlagsRefuseWhatDoesNotFit) {
  // CLI11 clamped 2^64 and beyond to 2^64-1 and ran that seed.
  for (const char* seed : {"18446744073709551616", "99999999999999999999999", "-1", "1e3"}) {
    SCOPED_TRACE(seed);
    const auto result = run_rehearse(fmt::format("run batched-backfill --seed {}", seed));
    EXPECT_EQ(result.exit_code, 2);
    EXPECT_NE(result.err.find("a seed is an integer from 0 to 18446744073709551615"), std::string::npos) << result.err;
    EXPECT_EQ(run_rehearse(fmt::format("replay batched-backfill --seed {}", seed)).exit_code, 2);
  }
  const auto count = run_rehearse("sweep batched-backfill --count 18446744073709551616");
  EXPECT_EQ(count.exit_code, 2);
  EXPECT_NE(count.err.find("--count: expected an integer from 1 to 10000000"), std::string::npos) << count.err;
  EXPECT_EQ(run_rehearse("sweep batched-backfill --seeds 1..18446744073709551616").exit_code, 2);
  EXPECT_EQ(run_rehearse("sweep batched-backfill --shard 1/18446744073709551617").exit_code, 2);
  EXPECT_EQ(run_rehearse("sweep batched-backfill --jobs 4294967297").exit_code, 2);
}

// -- merge -----------------------------------------------------------------------------------

std::string sweep_summary(const std::string& extra) {
  return R"({"scenario": "s", "seeds_run": 1, "violating_seeds": [], "by_invariant": {}, "wall_ms": 9223372036854775807)" +
         extra + "}";
}

TEST(AbsurdInputs, MergeRefusesDeepJsonAndCountsThatDoNotFit) {
  // A `seeds` nested a million '[' deep was a SIGSEGV (recursive copies).
  const std::string deep = write_temp_file(
      "merge-deep.json", sweep_summary(", \"seeds\": " + std::string(1'000'000, '[') + std::string(1'000'000, ']')));
  const auto nested = run_rehearse("merge " + deep);
  EXPECT_EQ(nested.exit_code, 2);
  EXPECT_NE(nested.err.find("JSON nested 1000001 levels deep, above the limit of 64"), std::string::npos) << nested.err;
  // A probe's hits of 2^64-1 printed -1.
  const std::string hits = write_temp_file(
      "merge-hits.json", sweep_summary(R"(, "probes": {"rollback-executed": {"seeds": 1, "hits": 18446744073709551615}})"));
  const auto negative = run_rehearse("merge --json " + hits);
  EXPECT_EQ(negative.exit_code, 2) << negative.out;
  EXPECT_NE(negative.err.find("hits below 2^63"), std::string::npos) << negative.err;
  // Two wall_ms of 2^63-1 wrapped.
  const std::string first = write_temp_file("merge-wall-1.json", sweep_summary(R"(, "seeds": {"first": 1, "last": 2}, "shard": {"index": 1, "count": 2})"));
  const std::string second = write_temp_file("merge-wall-2.json", sweep_summary(R"(, "seeds": {"first": 1, "last": 2}, "shard": {"index": 2, "count": 2})"));
  const auto wrapped = run_rehearse("merge --json " + first + " " + second);
  EXPECT_EQ(wrapped.exit_code, 2) << wrapped.out;
  EXPECT_NE(wrapped.err.find("the merged \"wall_ms\" does not fit"), std::string::npos) << wrapped.err;
}

TEST(AbsurdInputs, MergePrintsTextOrTheSweepJsonObject) {
  const std::string one = write_temp_file("merge-one.json",
                                          R"({"scenario": "s", "seeds_run": 2, "violating_seeds": [7], "by_invariant": {"liveness": [7]}, "wall_ms": 5})");
  const auto text = run_rehearse("merge " + one);
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("merge s (1 file): 2 seeds run, 1 violating, 5 ms wall (summed)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("  rehearse run s --seed 7\n"), std::string::npos) << text.out;
  const auto json = run_rehearse("merge --json " + one);
  EXPECT_EQ(json.exit_code, 1);
  const nlohmann::json parsed = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << json.out;
  EXPECT_EQ(parsed["violating_seeds"], nlohmann::json::array({7}));
  EXPECT_EQ(parsed["by_invariant"]["liveness"], nlohmann::json::array({7}));
  EXPECT_EQ(parsed["seeds_run"], 2);
}

// -- live configs ------------------------------------------------------------------------------

constexpr const char* kLiveBase =
    "name: live-limits\n"
    "description: a live config\n"
    "table: {name: orders, rows: 100, columns: {amount: {type: bigint}}}\n"
    "migration: {name: m, operations: [{add_column: {column: n, type: bigint, up: \"amount + 1\"}}]}\n";

std::string live_errors(const std::string& tail) {
  const LiveConfigResult loaded = load_live_config_text(kLiveBase + tail, "live.yaml");
  EXPECT_FALSE(loaded.ok());
  return all_errors(loaded.errors);
}

TEST(LiveConfigInputs, NonStringValuesAreErrorsWithFileLineKey) {
  // These aborted `rehearse live` on an uncaught YAML::TypedBadConversion (exit 134).
  const std::string errors = live_errors(
      "regions:\n"
      "  - {name: us-east-1, primary: \"host=a\", replicas: [[1]]}\n"
      "  - {? [k] : 1, name: eu-west-1, primary: {a: 1}}\n"
      "lock: {backend: redis, endpoints: [{}]}\n");
  EXPECT_NE(errors.find("live.yaml:6: regions[0].replicas[0]: expected a libpq connection string, got a list"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("live.yaml:7: regions[1]: keys must be plain names, got a list"), std::string::npos) << errors;
  EXPECT_NE(errors.find("live.yaml:7: regions[1].primary: expected a libpq connection string, got a mapping"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("live.yaml:8: lock.endpoints[0]: expected HOST:PORT, got a mapping"), std::string::npos) << errors;
  const auto cli = run_rehearse("live " + write_temp_file("live-bad.yaml", std::string(kLiveBase) +
                                                                               "regions: [{name: a, primary: x, replicas: [[1]]}]\n"
                                                                               "lock: {backend: redis, endpoints: [{}]}\n"));
  EXPECT_EQ(cli.exit_code, 2) << cli.err;
}

TEST(LiveConfigInputs, RegionNamesCannotInjectYaml) {
  // The topology was pasted into the text: this name added a region `zz`, and a newline in a
  // name injected keys.
  const std::string errors = live_errors(
      "regions:\n"
      "  - {name: \"eu-west-1, replicas: 0}, {name: zz\", primary: \"host=a\"}\n"
      "  - {name: \"a\\nduration: 1s\", primary: \"host=b\"}\n"
      "lock: {backend: redis, endpoints: [\"127.0.0.1:6379\"]}\n");
  EXPECT_NE(errors.find("live.yaml:6: regions[0].name: expected a region name of a-z, 0-9, '-' and '_'"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("live.yaml:7: regions[1].name: expected a region name of a-z, 0-9, '-' and '_', got 'a\\nduration: 1s'\n"),
            std::string::npos)
      << errors;
  EXPECT_EQ(errors.find("zz'"), errors.find("zz")) << errors;  // no error about a region zz of its own
}

TEST(LiveConfigInputs, ErrorsAreCappedAcrossTheConfigAndTheScenario) {
  std::string text = std::string(kLiveBase) + "regions: [{name: \"a b\", primary: x}]\nlock: {backend: redis, endpoints: [1]}\n";
  for (int i = 0; i < 30; ++i) text += fmt::format("k{}: 1\n", i);
  const LiveConfigResult loaded = load_live_config_text(text, "live.yaml");
  ASSERT_EQ(loaded.errors.size(), kMaxErrorsShown + 1) << all_errors(loaded.errors);
  EXPECT_EQ(loaded.errors.front().key, "regions[0].name");
  EXPECT_EQ(loaded.errors.back().message, "... and 11 more error(s); the first 20 are shown");  // 1 + 30 - 20
}

TEST(LiveConfigInputs, TopologyComesFromTheParsedRegions) {
  const LiveConfigResult loaded = load_live_config_text(
      std::string(kLiveBase) +
          "regions:\n"
          "  - {name: us-east-1, primary: \"host=a\", replicas: [\"host=b\", \"host=c\"]}\n"
          "  - name: eu-west-1\n"
          "    primary: \"host=d\"\n"
          "lock: {backend: redis, endpoints: [\"127.0.0.1:6379\"], ttl: 10s}\n"
          "engine: {instances: 2, order: [eu-west-1, us-east-1]}\n",
      "live.yaml");
  ASSERT_TRUE(loaded.ok()) << all_errors(loaded.errors);
  const Topology& topology = loaded.config->scenario.topology;
  ASSERT_EQ(topology.regions.size(), 2u);
  EXPECT_EQ(topology.regions[0].name, "us-east-1");
  EXPECT_EQ(topology.regions[0].replicas, 2);
  EXPECT_EQ(topology.regions[1].name, "eu-west-1");
  EXPECT_EQ(topology.regions[1].replicas, 0);
  EXPECT_EQ(loaded.config->lock_endpoints, std::vector<std::string>{"127.0.0.1:6379"});
  EXPECT_EQ(loaded.config->scenario.engine.order, (std::vector<std::string>{"eu-west-1", "us-east-1"}));
  // The scenario loader's messages keep the file's lines.
  const std::string errors = live_errors(
      "regions: [{name: us-east-1, primary: \"host=a\"}]\n"
      "lock: {backend: redis, endpoints: [\"h:1\"]}\n"
      "engine: {region: nowhere}\n");
  EXPECT_NE(errors.find("live.yaml:7: engine.region: no region 'nowhere' in the topology (regions: us-east-1)"), std::string::npos)
      << errors;
  const LiveConfigResult comma = load_live_config_text(",", "live.yaml");
  ASSERT_EQ(comma.errors.size(), 1u);
  EXPECT_EQ(comma.errors[0].to_string(), "live.yaml:1: YAML syntax error: did not find expected node content (column 1)");
}

}  // namespace
}  // namespace rehearse

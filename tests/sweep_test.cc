// The many-seed subcommands as users and CI see them: `sweep` (parallel equals serial, shards,
// JUnit), `merge`, `replay` and `check`. Few seeds each, so the suite stays fast under ASan.
#include <filesystem>
#include <regex>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/commands_internal.h"
#include "reports/text.h"
#include "tests/test_support.h"

namespace rehearse {
namespace {

using testing::read_whole_file;
using testing::run_rehearse;
using testing::write_temp_file;

const char* kPassingScenario = R"yaml(name: check-passing
description: One engine, no faults.
duration: 5m
topology:
  regions:
    - {name: us-east-1}
lock: {backend: redis, ttl: 10s, fencing: storage}
engine: {instances: 1, batch_size: 100}
table:
  rows: 300
  columns:
    amount: {type: numeric, gen: "0..1000", scale: 2}
migration:
  operations:
    - add_column: {column: amount_cents, type: bigint, up: "round(amount * 100)"}
expect:
  verdict: pass
  within_seeds: 2
)yaml";

// The built-in gc-pause-no-fencing scenario with a 4,000-row table (backfilled in batches of
// 100, so the backfill lasts as long and the pause still lands in it): the same violation at a
// fifth of the cost, which matters under ASan.
std::string small_no_fencing_text() {
  std::string text = read_whole_file(std::string(REHEARSE_SOURCE_DIR) + "/scenarios/library/gc-pause-no-fencing.yaml");
  text = std::regex_replace(text, std::regex("rows: 20000"), "rows: 4000");
  text = std::regex_replace(text, std::regex("batch_size: 500"), "batch_size: 100");
  return text;
}

std::string small_no_fencing_path() { return write_temp_file("gc-pause-no-fencing-small.yaml", small_no_fencing_text()); }

// The small gc-pause-no-fencing renamed, with a budget of 2 seeds.
std::string violating_scenario_text() {
  std::string text = small_no_fencing_text();
  text = std::regex_replace(text, std::regex("name: gc-pause-no-fencing"), "name: check-violating");
  text = std::regex_replace(text, std::regex("within_seeds: [0-9]+"), "within_seeds: 2");
  return text;
}

// A fresh directory under the test temporary directory.
std::string fresh_directory(const std::string& name) {
  const std::filesystem::path path = std::filesystem::path(testing::temp_dir()) / name;
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path.string();
}

void write_file(const std::string& path, const std::string& text) {
  std::FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr) << path;
  std::fputs(text.c_str(), file);
  std::fclose(file);
}

nlohmann::json parse_json(const testing::CommandResult& result) {
  const nlohmann::json json = nlohmann::json::parse(result.out, nullptr, false);
  EXPECT_FALSE(json.is_discarded()) << result.out << result.err;
  return json;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++count;
  return count;
}

// True when every element is closed in order (the structure a JUnit reader relies on).
bool tags_balanced(const std::string& xml) {
  const std::regex tag("<(/?)([A-Za-z]+)[^>]*?(/?)>");
  std::vector<std::string> open;
  for (std::sregex_iterator it(xml.begin(), xml.end(), tag), end; it != end; ++it) {
    const std::string name = (*it)[2];
    if ((*it)[1] == "/") {
      if (open.empty() || open.back() != name) return false;
      open.pop_back();
    } else if ((*it)[3] != "/") {
      open.push_back(name);
    }
  }
  return open.empty();
}

// The JUnit file without its wall-time attributes, which differ between two sweeps.
std::string junit_without_times(const std::string& path) {
  return std::regex_replace(read_whole_file(path), std::regex(" time=\"[0-9.]+\""), "");
}

TEST(Sweep, ParallelEqualsSerial) {
  // --jobs 2 finds exactly the violating seeds, grouped the same way and with the same
  // violation of each seed (compared through the JUnit file), as a serial sweep.
  const std::string scenario = small_no_fencing_path();
  const std::string serial_junit = testing::temp_dir() + "sweep-serial.xml";
  const std::string parallel_junit = testing::temp_dir() + "sweep-parallel.xml";
  const auto serial = run_rehearse("sweep " + scenario + " --seeds 1..10 --json --junit " + serial_junit);
  const auto parallel = run_rehearse("sweep " + scenario + " --seeds 1..10 --jobs 2 --json --junit " + parallel_junit);
  ASSERT_EQ(serial.exit_code, 1) << serial.err;
  ASSERT_EQ(parallel.exit_code, 1) << parallel.err;
  const auto a = parse_json(serial);
  const auto b = parse_json(parallel);
  EXPECT_EQ(a["scenario"], "gc-pause-no-fencing");
  EXPECT_EQ(a["seeds_run"], 10);
  EXPECT_EQ(b["seeds_run"], 10);
  EXPECT_FALSE(a["violating_seeds"].empty());
  EXPECT_EQ(a["violating_seeds"], b["violating_seeds"]);
  EXPECT_EQ(a["by_invariant"], b["by_invariant"]);
  EXPECT_TRUE(a["wall_ms"].is_number_integer());
  EXPECT_EQ(junit_without_times(serial_junit), junit_without_times(parallel_junit));
}

TEST(Sweep, ShardsMergeToTheWhole) {
  // Shards 1/2 and 2/2 split the seed list; merged they equal the sweep of the whole list.
  const auto whole = run_rehearse("sweep all-at-once-bad-up --count 3 --json");
  const auto first = run_rehearse("sweep all-at-once-bad-up --count 3 --shard 1/2 --json");
  const auto second = run_rehearse("sweep all-at-once-bad-up --count 3 --shard 2/2 --json");
  ASSERT_EQ(whole.exit_code, 1) << whole.err;
  EXPECT_EQ(parse_json(first)["seeds_run"], 2);
  EXPECT_EQ(parse_json(first)["violating_seeds"], nlohmann::json::array({1, 3}));
  EXPECT_EQ(parse_json(second)["seeds_run"], 1);
  const std::string first_path = write_temp_file("sweep-shard-1.json", first.out);
  const std::string second_path = write_temp_file("sweep-shard-2.json", second.out);
  const auto merged = run_rehearse("merge --json " + first_path + " " + second_path);
  ASSERT_EQ(merged.exit_code, 1) << merged.err;
  const auto expected = parse_json(whole);
  const auto actual = parse_json(merged);
  EXPECT_EQ(actual["scenario"], expected["scenario"]);
  EXPECT_EQ(actual["seeds_run"], expected["seeds_run"]);
  EXPECT_EQ(actual["violating_seeds"], expected["violating_seeds"]);
  EXPECT_EQ(actual["by_invariant"], expected["by_invariant"]);
  EXPECT_EQ(actual["by_invariant"].size(), expected["by_invariant"].size());
}

TEST(Sweep, MergeRejectsBadAndDuplicateInputs) {
  // Merging a shard with itself, an invalid file or a missing file is bad input (exit 2).
  const auto shard = run_rehearse("sweep rollback-with-down --count 2 --shard 1/2 --json");
  ASSERT_EQ(shard.exit_code, 0) << shard.err;
  const std::string path = write_temp_file("sweep-merge-shard.json", shard.out);
  EXPECT_EQ(run_rehearse("merge " + path).exit_code, 0);
  EXPECT_EQ(run_rehearse("merge " + path + " " + path).exit_code, 2);
  EXPECT_EQ(run_rehearse("merge " + write_temp_file("sweep-merge-bad.json", "{\"scenario\": 3}")).exit_code, 2);
  EXPECT_EQ(run_rehearse("merge " + testing::temp_dir() + "no-such-sweep.json").exit_code, 2);
}

TEST(Sweep, JunitIsWellFormed) {
  // One <testcase> per seed, one <failure> per violating seed, the counts in the attributes.
  const std::string path = testing::temp_dir() + "sweep-junit.xml";
  const auto result = run_rehearse("sweep all-at-once-bad-up --count 3 --junit " + path);
  ASSERT_EQ(result.exit_code, 1) << result.err;
  const std::string xml = read_whole_file(path);
  EXPECT_EQ(xml.rfind("<?xml", 0), 0u) << xml;
  EXPECT_TRUE(tags_balanced(xml)) << xml;
  EXPECT_EQ(count_of(xml, "<testsuites"), 1u);
  EXPECT_EQ(count_of(xml, "<testsuite "), 1u);
  EXPECT_EQ(count_of(xml, "<testcase "), 3u);
  EXPECT_EQ(count_of(xml, "<failure "), 3u);
  EXPECT_NE(xml.find("<testsuite name=\"all-at-once-bad-up\" tests=\"3\" failures=\"3\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("classname=\"rehearse.all-at-once-bad-up\" name=\"seed 2\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("type=\""), std::string::npos) << xml;
  EXPECT_NE(xml.find("rehearse run all-at-once-bad-up --seed 3"), std::string::npos) << xml;
}

TEST(Sweep, JunitOfPassingSeedsHasNoFailure) {
  const std::string path = testing::temp_dir() + "sweep-junit-pass.xml";
  const auto result = run_rehearse("sweep rollback-with-down --count 2 --junit " + path);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string xml = read_whole_file(path);
  EXPECT_TRUE(tags_balanced(xml)) << xml;
  EXPECT_EQ(count_of(xml, "<testcase "), 2u);
  EXPECT_EQ(count_of(xml, "<failure"), 0u);
}

TEST(Sweep, XmlEscapeCoversMarkupAndControlCharacters) {
  // One escape for JUnit, SVG and the HTML report (reports/text.h).
  EXPECT_EQ(reports::xml_escape("a<b> & \"c\" 'd'"), "a&lt;b&gt; &amp; &quot;c&quot; &#39;d&#39;");
  EXPECT_EQ(reports::xml_escape(std::string("x\x01y\tz\n\x7f")), "x?y\tz\n?");
}

TEST(Sweep, BadSeedSelectionOrOutputPath) {
  // A reversed range, a zero count or an impossible shard is bad input; an unwritable JUnit
  // path is the environment.
  EXPECT_EQ(run_rehearse("sweep rollback-with-down --seeds 5..3").exit_code, 2);
  EXPECT_EQ(run_rehearse("sweep rollback-with-down --count 0").exit_code, 2);
  EXPECT_EQ(run_rehearse("sweep rollback-with-down --shard 3/2").exit_code, 2);
  EXPECT_EQ(run_rehearse("sweep rollback-with-down --seeds 1..2 --count 2").exit_code, 2);
  EXPECT_EQ(run_rehearse("sweep rollback-with-down --count 1 --junit /nonexistent-directory/junit.xml").exit_code, 3);
}

TEST(Sweep, TextListsReplayCommandsByInvariant) {
  const auto result = run_rehearse("sweep rollback-without-down --seeds 2..3");
  ASSERT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.out.find("no-lost-writes (2 seeds)"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("rehearse run rollback-without-down --seed 2"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("rehearse run rollback-without-down --seed 3"), std::string::npos) << result.out;
}

TEST(Replay, BuiltinIsDeterministic) {
  // Two runs of the same seed give the same history: exit 0, the timeline and the hash.
  const auto result = run_rehearse("replay rollback-without-down --seed 1");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("deterministic: both runs gave the same"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("trace_hash"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("lock_acquire"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("backfill and checkpoint writes not shown"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("verdict: VIOLATION"), std::string::npos) << result.out;
  EXPECT_EQ(run_rehearse("replay rollback-without-down").exit_code, 2);  // --seed is required
}

TEST(Check, DirectoryWithRightExpectationsPasses) {
  const std::string directory = fresh_directory("check-right");
  write_file(directory + "/a-passing.yaml", kPassingScenario);
  write_file(directory + "/b-violating.yaml", violating_scenario_text());
  const auto result = run_rehearse("check " + directory + " --jobs 2");
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("PASS  check-passing"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("PASS  check-violating"), std::string::npos) << result.out;
  const auto json = parse_json(run_rehearse("check " + directory + " --json"));
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0]["name"], "check-passing");
  EXPECT_EQ(json[0]["expected"], "pass");
  EXPECT_EQ(json[0]["met"], true);
  EXPECT_EQ(json[0]["seeds_run"], 2);
  EXPECT_EQ(json[1]["name"], "check-violating");
  EXPECT_EQ(json[1]["met"], true);
  EXPECT_EQ(json[1]["invariants_seen"], nlohmann::json::array({"mutual-exclusion"}));
}

TEST(Check, FlippedExpectationFails) {
  // A violating scenario that claims to pass does not meet its expectation: exit 1.
  std::string text = violating_scenario_text();
  text = std::regex_replace(text, std::regex("verdict: violation"), "verdict: pass");
  text = std::regex_replace(text, std::regex("  invariants: \\[mutual-exclusion\\]\n"), "");
  const std::string directory = fresh_directory("check-flipped");
  write_file(directory + "/violating.yaml", text);
  const auto result = run_rehearse("check " + directory);
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("FAIL  check-violating"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("rehearse run " + directory + "/violating.yaml --seed 1"), std::string::npos) << result.out;
}

TEST(Check, MissingExpectedInvariantFails) {
  // Violations of another invariant do not meet `invariants: [no-lost-writes]`.
  std::string text = violating_scenario_text();
  text = std::regex_replace(text, std::regex("\\[mutual-exclusion\\]"), "[no-lost-writes]");
  const std::string path = write_temp_file("check-missing.yaml", text);
  const auto result = run_rehearse("check " + path);
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("missing no-lost-writes"), std::string::npos) << result.out;
}

TEST(Check, UnloadableScenarioExitsTwo) {
  const std::string directory = fresh_directory("check-broken");
  write_file(directory + "/good.yaml", kPassingScenario);
  write_file(directory + "/broken.yaml", "name: broken\n");
  EXPECT_EQ(run_rehearse("check " + directory).exit_code, 2);
  EXPECT_EQ(run_rehearse("check " + fresh_directory("check-empty")).exit_code, 2);
  EXPECT_EQ(run_rehearse("check no-such-scenario").exit_code, 2);
}

}  // namespace
}  // namespace rehearse

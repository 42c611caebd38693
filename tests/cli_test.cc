// The `rehearse` command line as users and scripts see it: exit codes, the JSON object of
// cli.md, errors that name file, line and key, `list`, and `--trace`.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/test_support.h"

namespace rehearse {
namespace {

using testing::run_rehearse;
using testing::write_temp_file;

const char* kMinimalScenario = R"yaml(name: cli-minimal
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
)yaml";

TEST(Cli, RunJsonHasTheFieldsOfTheSpec) {
  // `run --json` prints one object with verdict, migration, stats and a 16-digit trace hash.
  const std::string path = write_temp_file("cli-minimal.yaml", kMinimalScenario);
  const auto result = run_rehearse("run " + path + " --seed 3 --json");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["scenario"], "cli-minimal");
  EXPECT_EQ(json["seed"], 3);
  EXPECT_EQ(json["verdict"], "pass");
  EXPECT_TRUE(json["violations"].empty());
  EXPECT_EQ(json["migration"]["outcome"], "completed");
  EXPECT_EQ(json["migration"]["regions"]["us-east-1"], "contracted");
  EXPECT_EQ(json["stats"]["rows_backfilled"], 300);
  EXPECT_EQ(json["trace_hash"].get<std::string>().size(), 16u);
}

TEST(Cli, ViolationExitsOneAndNamesTheInvariant) {
  // A violating built-in run exits 1 and its JSON lists the invariant with proving events.
  const auto result = run_rehearse("run gc-pause-no-fencing --seed 1 --json");
  ASSERT_EQ(result.exit_code, 1) << result.err;
  const auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["verdict"], "violation");
  EXPECT_EQ(json["violations"][0]["invariant"], "mutual-exclusion");
  EXPECT_EQ(json["violations"][0]["events"].size(), 2u);
}

TEST(Cli, UnknownKeyExitsTwoNamingFileLineAndKey) {
  // A misspelt nested key is an error with the file, its line (8) and the dotted key.
  std::string text = kMinimalScenario;
  text.replace(text.find("batch_size"), 10, "batch_sise");
  const std::string path = write_temp_file("cli-unknown-key.yaml", text);
  const auto result = run_rehearse("run " + path);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("cli-unknown-key.yaml:8"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("engine.batch_sise"), std::string::npos) << result.err;
}

TEST(Cli, BadDurationExitsTwoNamingTheKey) {
  // `duration: 5 minutes` is not a duration: exit 2, line 3, key duration.
  std::string text = kMinimalScenario;
  text.replace(text.find("duration: 5m"), 12, "duration: 5 minutes");
  const std::string path = write_temp_file("cli-bad-duration.yaml", text);
  const auto result = run_rehearse("run " + path);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("cli-bad-duration.yaml:3"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("duration"), std::string::npos) << result.err;
}

TEST(Cli, NegativeSeedExitsTwo) {
  // CLI11 alone would wrap -1 into 2^64-1 and run it.
  for (const char* command : {"run gc-pause-fenced --seed -1", "replay gc-pause-fenced --seed -2"}) {
    const auto result = run_rehearse(command);
    EXPECT_EQ(result.exit_code, 2) << command << "\n" << result.out;
    EXPECT_NE(result.err.find("a seed is an integer from 0 to"), std::string::npos) << result.err;
  }
}

TEST(Cli, MissingRequiredFieldExitsTwo) {
  // Without `description:` the scenario is rejected and the message names the key.
  std::string text = kMinimalScenario;
  text.erase(text.find("description: One engine, no faults.\n"), 37);
  const std::string path = write_temp_file("cli-missing.yaml", text);
  const auto result = run_rehearse("run " + path);
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("cli-missing.yaml"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("description"), std::string::npos) << result.err;
}

TEST(Cli, UnknownFlagOrScenarioExitsTwo) {
  // Bad command lines are bad input too.
  EXPECT_EQ(run_rehearse("run gc-pause-fenced --no-such-flag").exit_code, 2);
  EXPECT_EQ(run_rehearse("run no-such-scenario").exit_code, 2);
  EXPECT_EQ(run_rehearse("run gc-pause-fenced --seed banana").exit_code, 2);
  EXPECT_EQ(run_rehearse("").exit_code, 2);
}

TEST(Cli, ListShowsEveryBuiltinWithItsDescription) {
  // `list` prints one line per built-in scenario.
  const auto result = run_rehearse("list");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("gc-pause-no-fencing"), std::string::npos);
  EXPECT_NE(result.out.find("gc-pause-fenced"), std::string::npos);
  EXPECT_NE(result.out.find("lock holder"), std::string::npos);
}

TEST(Cli, VersionIsTheProjectVersionAndTheReportHeaderShowsIt) {
  // `--version` prints the CMake project version and, in a git checkout, the commit built
  // (cli/version.h); the report header's Build row shows the same text instead of "unknown".
  const auto version = run_rehearse("--version");
  ASSERT_EQ(version.exit_code, 0) << version.err;
  const std::string expected = std::string("rehearse ") + REHEARSE_PROJECT_VERSION;
  ASSERT_EQ(version.out.rfind(expected, 0), 0u) << version.out;
  std::string text = version.out.substr(std::string("rehearse ").size());
  while (!text.empty() && text.back() == '\n') text.pop_back();
  const bool bare = text == REHEARSE_PROJECT_VERSION;
  const bool with_commit = text.size() > expected.size() && text.find(" (") != std::string::npos && text.back() == ')';
  EXPECT_TRUE(bare || with_commit) << text;

  const std::string directory = testing::temp_dir() + "cli-version-report";
  const auto report = run_rehearse("report gc-pause-no-fencing --seed 1 --out " + directory);
  ASSERT_EQ(report.exit_code, 1) << report.err;
  const std::string markdown = testing::read_whole_file(directory + "/report.md");
  EXPECT_NE(markdown.find("| Build | " + text + " |"), std::string::npos) << markdown.substr(0, 600);
  EXPECT_EQ(markdown.find("| Build | unknown |"), std::string::npos);
}

TEST(Cli, TraceWritesOneJsonEventPerLine) {
  // `--trace FILE` writes the history; an unwritable path is an environment error (3).
  const std::string path = testing::temp_dir() + "cli-trace.jsonl";
  ASSERT_EQ(run_rehearse("run gc-pause-fenced --trace " + path).exit_code, 0);
  std::ifstream in(path);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) {
    const auto event = nlohmann::json::parse(line);
    EXPECT_TRUE(event.contains("time_us") && event.contains("node") && event.contains("kind"));
    ++lines;
  }
  EXPECT_GT(lines, 10);
  EXPECT_EQ(run_rehearse("run gc-pause-fenced --trace /nonexistent-dir/trace.jsonl").exit_code, 3);
}

}  // namespace
}  // namespace rehearse
